"""Batched IMM interaction, prediction and combination equal the per-track oracle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.track import imm
from skywarden.track.params import MotionModel, default_models
from tests import oracle
from tests.track.strategies import random_spd

MODELS = (MotionModel(0.0, 1.0), MotionModel(0.15, 2.0), MotionModel(-0.15, 2.0))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dt=st.floats(0.1, 10.0))
def test_imm_predict_and_combine_equal_oracle(seed: int, dt: float) -> None:
    rng = np.random.default_rng(seed)
    n, m = 5, len(MODELS)
    xm = np.concatenate([rng.uniform(-1e4, 1e4, (n, m, 3)), rng.normal(0, 30, (n, m, 3))], axis=2)
    Pm = random_spd(rng, n * m, 6, 4.0).reshape(n, m, 6, 6)
    mu = rng.dirichlet(np.ones(m), n)
    Pi = imm.transition_matrix(m, 0.05, dt)
    x0, P0, c = imm.mix(xm, Pm, mu, Pi)
    xp, Pp = imm.predict_models(x0, P0, dt, MODELS)
    x, P = imm.combine(xp, Pp, c)
    Fs = [oracle.ct_F(dt, mdl.turn_rate) for mdl in MODELS]
    Qs = [oracle.white_accel_Q(dt, mdl.accel_sigma) for mdl in MODELS]
    for i in range(n):
        xo, Po, co = oracle.imm_predict(xm[i], Pm[i], mu[i], Pi, Fs, Qs)
        np.testing.assert_allclose(c[i], co, rtol=1e-12)
        np.testing.assert_allclose(xp[i], xo, rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(Pp[i], Po, rtol=1e-7, atol=1e-5)
        xc, Pc = oracle.imm_combine(xo, Po, co)
        np.testing.assert_allclose(x[i], xc, rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(P[i], Pc, rtol=1e-7, atol=1e-5)


def test_transition_matrix_rows_sum_to_one() -> None:
    for dt in (0.0, 0.5, 1.0, 30.0):
        Pi = imm.transition_matrix(3, 0.05, dt)
        np.testing.assert_allclose(Pi.sum(axis=1), 1.0)
        assert (Pi >= 0).all()


def test_mode_probabilities_follow_likelihood() -> None:
    c = np.array([[0.5, 0.25, 0.25]])
    mu = imm.update_probabilities(c, np.array([[-10.0, -1.0, -30.0]]))
    assert mu.argmax() == 1
    np.testing.assert_allclose(mu.sum(), 1.0)


def test_mode_chain_moves_per_second_up_to_one_second_then_once_per_update() -> None:
    """Leaving a mode: 1 - (1 - rate)^dt up to dt = 1 s; a 4 s scan leaks no more than 1 s."""
    stay = [imm.transition_matrix(4, 0.05, dt)[0, 0] for dt in (0.0, 0.5, 1.0, 4.0, 30.0)]
    assert stay[0] == 1.0
    assert stay[1] == pytest.approx(0.95**0.5)
    assert stay[2] == pytest.approx(0.95) == stay[3] == stay[4]


def test_combine_position_is_combine_on_the_position_block() -> None:
    rng = np.random.default_rng(8)
    n, m = 20, len(MODELS)
    xm = np.concatenate([rng.uniform(-1e4, 1e4, (n, m, 3)), rng.normal(0, 30, (n, m, 3))], axis=2)
    Pm = random_spd(rng, n * m, 6, 4.0).reshape(n, m, 6, 6)
    mu = rng.dirichlet(np.ones(m), n)
    x, P = imm.combine(xm, Pm, mu)
    x_pos, P_pos = imm.combine_position(xm, Pm, mu)
    np.testing.assert_array_equal(x_pos, x)
    np.testing.assert_allclose(P_pos, P[:, :3, :3], rtol=1e-12)


def test_quiet_mode_is_entered_from_the_nominal_cv_mode_only() -> None:
    """Default models (CV 1, turn left, turn right, quiet CV 0.1): nothing flows from a turn
    mode into the quiet mode; the quiet mode still leaves to every mode, each mode leaves
    with the same probability, and "uniform" links every mode to every other."""
    models = default_models()
    links = imm.mode_links(models, "quiet_from_cv")
    Pi = imm.transition_matrix(4, 0.05, 1.0, links)
    assert Pi[1, 3] == Pi[2, 3] == 0.0
    assert Pi[0, 3] > 0.0
    assert (Pi[3, :3] > 0.0).all()
    np.testing.assert_allclose(np.diag(Pi), 0.95)
    np.testing.assert_allclose(Pi[1], [0.025, 0.95, 0.025, 0.0])
    uniform = imm.transition_matrix(4, 0.05, 1.0, imm.mode_links(models, "uniform"))
    assert np.array_equal(uniform, imm.transition_matrix(4, 0.05, 1.0))
    assert np.array_equal(imm.mode_links(MODELS, "quiet_from_cv"), ~np.eye(len(MODELS), dtype=bool))
    with pytest.raises(ValueError, match="topology"):
        imm.mode_links(models, "ring")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0.0, 0.1, -0.2]), st.floats(0.05, 5.0)), min_size=1, max_size=6
    ),
    st.floats(0.0, 0.5),
    st.floats(0.0, 10.0),
    st.sampled_from(["uniform", "quiet_from_cv"]),
)
def test_transition_matrix_is_stochastic_for_any_models(rows, rate, dt, topology) -> None:
    models = tuple(MotionModel(w, a) for w, a in rows)
    Pi = imm.transition_matrix(len(models), rate, dt, imm.mode_links(models, topology))
    assert (Pi >= 0.0).all()
    np.testing.assert_allclose(Pi.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.diag(Pi), imm.transition_matrix(len(models), rate, dt).diagonal())


def test_birth_prior_gives_the_quiet_mode_its_share_and_the_rest_alike() -> None:
    """Default models (CV 1, turn left, turn right, quiet CV 0.1) at 0.85: the quiet mode
    0.85, the other three 0.05 each; models without a quiet mode start uniform."""
    np.testing.assert_allclose(
        imm.birth_mode_probabilities(default_models(), 0.85), [0.05, 0.05, 0.05, 0.85]
    )
    np.testing.assert_allclose(imm.birth_mode_probabilities(MODELS, 0.85), [1 / 3] * 3)
    np.testing.assert_allclose(imm.birth_mode_probabilities(MODELS[:1], 0.85), [1.0])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0.0, 0.1, -0.2]), st.floats(0.05, 5.0)), min_size=1, max_size=6
    ),
    st.floats(0.01, 0.99),
)
def test_birth_prior_is_a_distribution_for_any_models(rows, quiet_probability) -> None:
    models = tuple(MotionModel(w, a) for w, a in rows)
    mu = imm.birth_mode_probabilities(models, quiet_probability)
    quiet = imm.quiet_modes(models)
    assert mu.shape == (len(models),) and (mu > 0.0).all()
    np.testing.assert_allclose(mu.sum(), 1.0)
    if 0 < quiet.sum() < len(models):
        np.testing.assert_allclose(mu[quiet].sum(), quiet_probability)
        assert np.ptp(mu[quiet]) < 1e-15 and np.ptp(mu[~quiet]) < 1e-15
    else:
        np.testing.assert_allclose(mu, 1.0 / len(models))
    assert not quiet[0]  # the nominal mode is never a quiet one
