"""Gating's Mahalanobis distance from the upper triangle, and the candidates' closed-form
one-point prior, equal the general formulas up to rounding."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.track import kalman
from skywarden.track.candidates import _prior_at
from skywarden.track.filtering import initiation_model, one_point_prior, predict_one_model
from skywarden.track.gate import mahalanobis_upper
from skywarden.track.params import TrackerParams
from skywarden.track.tracks import Candidates
from tests.track.strategies import random_spd


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 40), scale=st.sampled_from([1.0, 1e3]))
def test_mahalanobis_upper_equals_the_inverse_and_quadratic_form(seed, k, scale) -> None:
    rng = np.random.default_rng(seed)
    S = random_spd(rng, k, 3, scale)
    y = rng.normal(0.0, scale, (k, 3))
    S_inv, det = kalman.inverse_3x3(S)
    upper = S.reshape(k, 9)[:, [0, 1, 2, 4, 5, 8]]
    d2, det_S = mahalanobis_upper(y, upper)
    np.testing.assert_allclose(det_S, det, rtol=1e-9)
    np.testing.assert_allclose(d2, kalman.quadratic_form(y, S_inv), rtol=1e-8, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 30), dt_max=st.sampled_from([0.5, 4.0]))
def test_closed_form_prior_equals_the_predicted_one_point_prior(seed, k, dt_max) -> None:
    rng = np.random.default_rng(seed)
    params = TrackerParams()
    cands = Candidates(
        rng.uniform(0.0, dt_max, k), rng.normal(0, 5000, (k, 3)), random_spd(rng, k, 3, 10.0),
        np.zeros(k, np.int32),
    )  # fmt: skip
    t = dt_max
    x0, P0 = one_point_prior(cands.z, cands.R, np.full((k, 3), np.nan), params)
    want_x, want_P = predict_one_model(x0, P0, t - cands.t, initiation_model(params))
    x, P = _prior_at(cands, t, params)
    np.testing.assert_array_equal(x, want_x)
    scale = np.sqrt(np.einsum("kii->ki", want_P))
    norm = scale[:, :, None] * scale[:, None, :]  # compare as correlations: every entry O(1)
    np.testing.assert_allclose(P / norm, want_P / norm, atol=1e-13)
    assert np.array_equal(P, P.swapaxes(1, 2))
