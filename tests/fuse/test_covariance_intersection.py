"""Covariance intersection: consistent for any cross-correlation, symmetric positive definite,
no worse than either input, exact at the ends and for one input."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skywarden.fuse.covariance_intersection import (
    ci_weight,
    covariance_intersection,
    repair_covariance,
)

N = 6
TOL = 1e-7


def _spd(a: np.ndarray, scale: float) -> np.ndarray:
    m = a.reshape(N, N)
    return scale * (m @ m.T) + scale * 0.05 * np.eye(N)


entries = arrays(np.float64, (N * N,), elements=st.floats(-3, 3))
scales = st.floats(1e-2, 1e4)


def _min_eig(P: np.ndarray) -> float:
    return float(np.linalg.eigvalsh(0.5 * (P + P.T)).min())


@settings(max_examples=200, deadline=None)
@given(a=entries, b=entries, sa=scales, sb=scales)
def test_fused_covariance_is_symmetric_pd_and_no_worse_than_either(a, b, sa, sb) -> None:
    P1, P2 = _spd(a, sa), _spd(b, sb)
    x, P, w = covariance_intersection(np.zeros((1, N)), P1[None], np.ones((1, N)), P2[None])
    P = P[0]
    assert 0.0 <= w[0] <= 1.0
    np.testing.assert_allclose(P, P.T, rtol=0, atol=1e-9 * np.abs(P).max())
    assert _min_eig(P) > 0
    # w minimises det P over [0, 1], whose ends are P1 and P2
    logdet = np.linalg.slogdet(P)[1]
    assert logdet <= min(np.linalg.slogdet(P1)[1], np.linalg.slogdet(P2)[1]) + 1e-6
    for v in np.linspace(0, 1, 11):
        other = np.linalg.inv(v * np.linalg.inv(P1) + (1 - v) * np.linalg.inv(P2))
        assert logdet <= np.linalg.slogdet(other)[1] + 1e-6
    # never more confident than the Kalman fusion of independent estimates
    kalman = np.linalg.inv(np.linalg.inv(P1) + np.linalg.inv(P2))
    assert _min_eig(P - kalman) >= -TOL * np.abs(P).max()


@settings(max_examples=200, deadline=None)
@given(joint=arrays(np.float64, (2 * N * 2 * N,), elements=st.floats(-3, 3)),
       w=st.floats(0, 1))  # fmt: skip
def test_ci_bound_holds_for_any_cross_correlation_and_any_weight(joint, w) -> None:
    """P_ci >= the true error covariance of the CI estimate, whatever the correlation of the
    two inputs' errors (Julier & Uhlmann), for every w in [0, 1]."""
    A = joint.reshape(2 * N, 2 * N)
    J = A @ A.T + 0.1 * np.eye(2 * N)  # joint error covariance of (e1, e2)
    P1, P2, P12 = J[:N, :N], J[N:, N:], J[:N, N:]
    I1, I2 = np.linalg.inv(P1), np.linalg.inv(P2)
    P = np.linalg.inv(w * I1 + (1 - w) * I2)
    K1, K2 = P @ (w * I1), P @ ((1 - w) * I2)
    true = K1 @ P1 @ K1.T + K1 @ P12 @ K2.T + K2 @ P12.T @ K1.T + K2 @ P2 @ K2.T
    assert _min_eig(P - true) >= -1e-7 * np.abs(P).max()


@settings(max_examples=100, deadline=None)
@given(a=entries, sa=scales, x=arrays(np.float64, (N,), elements=st.floats(-1e4, 1e4)))
def test_one_estimate_with_itself_is_itself(a, sa, x) -> None:
    P1 = _spd(a, sa)
    xf, Pf, _ = covariance_intersection(x[None], P1[None], x[None], P1[None])
    np.testing.assert_allclose(Pf[0], P1, rtol=1e-8, atol=1e-9 * sa)
    np.testing.assert_allclose(xf[0], x, rtol=1e-8, atol=1e-6)


def test_a_much_better_input_takes_all_the_weight_and_comes_back_exactly() -> None:
    P1 = np.eye(N)[None]
    P2 = 1e4 * np.eye(N)[None]
    x1, x2 = np.full((1, N), 3.0), np.zeros((1, N))
    x, P, w = covariance_intersection(x1, P1, x2, P2)
    assert w[0] == 1.0
    np.testing.assert_array_equal(x, x1)
    np.testing.assert_array_equal(P, P1)


def test_complementary_inputs_fuse_to_a_smaller_ellipse_than_either() -> None:
    """A long-range radar (poor across) and a crossing one: CI takes the best of both."""
    P1 = np.diag([100.0, 1e4, 100.0, 1, 1, 1])[None]
    P2 = np.diag([1e4, 100.0, 100.0, 1, 1, 1])[None]
    _, P, w = covariance_intersection(np.zeros((1, N)), P1, np.zeros((1, N)), P2)
    assert 0.4 < w[0] < 0.6
    assert P[0, 0, 0] < 300 and P[0, 1, 1] < 300  # vs 1e4 across in either alone


def test_equal_covariances_give_the_mean() -> None:
    P = np.diag([4.0, 9.0, 1.0, 1.0, 1.0, 1.0])[None]
    x, Pf, w = covariance_intersection(np.zeros((1, N)), P, np.full((1, N), 2.0), P)
    assert w[0] == 0.5
    np.testing.assert_allclose(x, np.ones((1, N)))
    np.testing.assert_allclose(Pf, P)


def test_weights_are_vectorised_over_pairs() -> None:
    rng = np.random.default_rng(3)
    A = rng.normal(size=(50, N, N))
    P1 = A @ np.swapaxes(A, 1, 2) + np.eye(N)
    B = rng.normal(size=(50, N, N))
    P2 = B @ np.swapaxes(B, 1, 2) + np.eye(N)
    w = ci_weight(P1, P2)
    one_by_one = [ci_weight(P1[i : i + 1], P2[i : i + 1])[0] for i in range(50)]
    np.testing.assert_allclose(w, one_by_one, atol=1e-12)


def test_repair_makes_rounded_or_broken_covariances_positive_definite() -> None:
    P = np.array([[[1.0, 1.0001], [1.0001, 1.0]], [[np.nan, 0.0], [0.0, 4.0]]])
    fixed = repair_covariance(P)
    assert np.isfinite(fixed).all()
    assert (np.linalg.eigvalsh(fixed) > 0).all()
    np.testing.assert_array_equal(fixed[1], np.diag([4.0, 4.0]))
    good = np.diag([2.0, 3.0])[None]
    np.testing.assert_array_equal(repair_covariance(good), good)
