"""Batched Kalman predict/update and the motion models equal the per-track oracle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.track import constant_velocity, coordinated_turn, kalman
from tests import oracle
from tests.track.strategies import random_spd, random_tracks


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dt=st.floats(0.01, 20.0), w=st.floats(-0.5, 0.5))
def test_batched_predict_equals_oracle(seed: int, dt: float, w: float) -> None:
    rng = np.random.default_rng(seed)
    x, P = random_tracks(rng, 7)
    F = coordinated_turn.transition(np.array([dt]), w)[0]
    Q = constant_velocity.process_noise(np.array([dt]), 1.5)[0]
    xb, Pb = kalman.predict(x, P, F, Q)
    for i in range(len(x)):
        xo, Po = oracle.kf_predict(x[i], P[i], oracle.ct_F(dt, w), oracle.white_accel_Q(dt, 1.5))
        np.testing.assert_allclose(xb[i], xo, rtol=1e-9, atol=1e-8)
        np.testing.assert_allclose(Pb[i], Po, rtol=1e-9, atol=1e-8)


@pytest.mark.parametrize(
    "update", [kalman.update, kalman.update_joseph], ids=["standard", "joseph"]
)
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_batched_update_equals_oracle(update, seed: int) -> None:
    """Both covariance forms (the standard one the tracker uses, and Joseph's, its fallback
    where rounding loses a positive variance) give the oracle's update."""
    rng = np.random.default_rng(seed)
    x, P = random_tracks(rng, 9)
    z = x[:, :3] + rng.normal(0, 10, (9, 3))
    R = random_spd(rng, 9, 3, 4.0)
    xb, Pb, llb = update(x, P, z, R)
    for i in range(len(x)):
        xo, Po, llo = oracle.kf_update(x[i], P[i], z[i], R[i])
        np.testing.assert_allclose(xb[i], xo, rtol=1e-8, atol=1e-7)
        np.testing.assert_allclose(Pb[i], Po, rtol=1e-8, atol=1e-7)
        np.testing.assert_allclose(llb[i], llo, rtol=1e-9, atol=1e-9)


def test_coordinated_turn_keeps_speed_and_zero_rate_is_cv() -> None:
    dt = np.array([0.5, 1.0, 4.0])
    F = coordinated_turn.transition(dt, 0.2)
    x = np.array([10.0, -5.0, 100.0, 30.0, 40.0, 1.0])
    moved = F @ x
    np.testing.assert_allclose(np.hypot(moved[:, 3], moved[:, 4]), 50.0, rtol=1e-12)
    np.testing.assert_array_equal(
        coordinated_turn.transition(dt, 0.0), constant_velocity.transition(dt)
    )
    # a quarter turn at 0.2 rad/s takes pi/0.4 s and rotates the velocity by 90 degrees
    q = coordinated_turn.transition(np.array([np.pi / 0.4]), 0.2)[0] @ x
    np.testing.assert_allclose(q[3:5], [-40.0, 30.0], atol=1e-9)


def test_inverse_3x3_matches_numpy() -> None:
    rng = np.random.default_rng(3)
    S = random_spd(rng, 50, 3, 7.0)
    inv, det = kalman.inverse_3x3(S)
    np.testing.assert_allclose(inv, np.linalg.inv(S), rtol=1e-9)
    np.testing.assert_allclose(det, np.linalg.det(S), rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_standard_form_equals_joseph_form_and_is_exactly_symmetric(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, P = random_tracks(rng, 9)
    z = x[:, :3] + rng.normal(0, 10, (9, 3))
    R = random_spd(rng, 9, 3, 4.0)
    _, Pj, _ = kalman.update_joseph(x, P, z, R)
    _, Ps, _ = kalman.update(x, P, z, R)
    np.testing.assert_allclose(Ps, Pj, rtol=1e-8, atol=1e-7)
    assert np.array_equal(Ps, np.swapaxes(Ps, 1, 2))  # mirrored: exactly symmetric


def test_a_row_whose_standard_form_loses_a_variance_takes_the_joseph_form() -> None:
    """A measurement 10^14 times more precise than the track: P - K B^T leaves the position
    variances to rounding (some come out <= 0); those rows get the Joseph form's."""
    rng = np.random.default_rng(5)
    x, P = random_tracks(rng, 40)
    P = P * 1e10
    R = np.broadcast_to(np.eye(3) * 1e-4, (40, 3, 3))
    z = x[:, :3] + 1.0
    y, S = kalman.innovation(x, P, z, R)
    S_inv, _ = kalman.inverse_symmetric_3x3(S)
    K = P[:, :, :3] @ S_inv
    standard = P - K @ np.swapaxes(P[:, :, :3], 1, 2)
    lost = ~(np.diagonal(standard, axis1=1, axis2=2) > 0).all(axis=1)
    assert lost.any() and not lost.all()  # the case is there, in some rows only
    _, got, _ = kalman.update(x, P, z, R)
    _, joseph, _ = kalman.update_joseph(x, P, z, R)
    assert np.array_equal(got[lost], joseph[lost])
    assert (np.diagonal(got, axis1=1, axis2=2) > 0).all()


def test_symmetric_inverse_and_quadratic_form_match_the_general_ones() -> None:
    rng = np.random.default_rng(4)
    S = random_spd(rng, 200, 3, 7.0)
    y = rng.normal(0, 20, (200, 3))
    inv, det = kalman.inverse_symmetric_3x3(S)
    want_inv, want_det = kalman.inverse_3x3(S)
    np.testing.assert_allclose(inv, want_inv, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(det, want_det, rtol=1e-12)
    assert np.array_equal(inv, np.swapaxes(inv, 1, 2))
    np.testing.assert_allclose(
        kalman.quadratic_form_symmetric(y, inv), kalman.quadratic_form(y, want_inv), rtol=1e-12
    )


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dt=st.floats(0.01, 20.0), w=st.floats(-0.5, 0.5))
def test_predict_with_one_transition_is_exactly_symmetric(seed: int, dt: float, w: float) -> None:
    """Only the upper triangle is computed, then mirrored: mirror elements agree exactly
    (the IMM's update leaves the modes' P symmetric up to rounding; predict restores it)."""
    rng = np.random.default_rng(seed)
    x, P = random_tracks(rng, 50)
    P[:, 0, 1] += 1e-9  # not exactly symmetric on input
    F = coordinated_turn.transition(np.array([dt]), w)[0]
    Q = constant_velocity.process_noise(np.array([dt]), 1.5)[0]
    _, Pp = kalman.predict(x, P, F, Q)
    assert np.array_equal(Pp, np.swapaxes(Pp, 1, 2))
