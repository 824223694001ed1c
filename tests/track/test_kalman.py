"""Batched Kalman predict/update and the motion models equal the per-track oracle."""

from __future__ import annotations

import numpy as np
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


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_batched_update_equals_oracle(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, P = random_tracks(rng, 9)
    z = x[:, :3] + rng.normal(0, 10, (9, 3))
    R = random_spd(rng, 9, 3, 4.0)
    xb, Pb, llb = kalman.update(x, P, z, R)
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
