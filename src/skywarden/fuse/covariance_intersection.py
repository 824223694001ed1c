"""Covariance intersection (CI) of two estimates whose errors are correlated by an unknown
amount, vectorised over K pairs.

Two sites' tracks of one object share the object's process noise (and often a sensor or
a cooperative report), so their errors are correlated and a Kalman-style fusion
``(P1^-1 + P2^-1)^-1`` would be overconfident. CI (Julier & Uhlmann 1997) is consistent for
any cross-correlation:

    P^-1 = w P1^-1 + (1 - w) P2^-1,        x = P (w P1^-1 x1 + (1 - w) P2^-1 x2),

with w in [0, 1] chosen here to minimise det P. With the generalised eigenvalues l_k of
(P2, P1) (P2 v = l P1 v), det(P^-1) = det(P2^-1) * prod_k (1 + w (l_k - 1)), so the objective
-sum_k log(1 + w (l_k - 1)) is convex in w: its derivative is monotone and the minimiser is
found by bisection on (K, n) arrays (no per-pair Python loop). w = 1 returns input 1 exactly,
w = 0 input 2; equal covariances (a flat objective) take w = 0.5, the mean of the estimates.

Shapes: x (K, n), P (K, n, n); any consistent units (metres and m/s in the region ENU frame
for the region node).
"""

from __future__ import annotations

import numpy as np

from skywarden.units import FloatArray

VARIANCE_FLOOR = 1e-6  # smallest eigenvalue a covariance keeps (m^2 or m^2/s^2)
_BISECTIONS = 48


def repair_covariance(P: FloatArray, floor: float = VARIANCE_FLOOR) -> FloatArray:
    """(K, n, n) symmetric positive-definite copies of P: symmetrised, eigenvalues clipped
    to at least ``floor`` (rounded or hand-made covariances can be slightly indefinite).
    Non-finite entries become the largest finite variance of that matrix (or 1e12)."""
    P = np.array(P, dtype=np.float64, copy=True)
    bad = ~np.isfinite(P)
    if bad.any():
        diag = np.diagonal(P, axis1=-2, axis2=-1)
        big = np.where(np.isfinite(diag), diag, -np.inf).max(axis=-1)
        big = np.where(np.isfinite(big) & (big > 0), big, 1e12)
        eye = np.broadcast_to(np.eye(P.shape[-1], dtype=bool), P.shape)
        P = np.where(bad & eye, big[..., None, None], np.where(bad, 0.0, P))
    P = 0.5 * (P + np.swapaxes(P, -1, -2))
    w, V = np.linalg.eigh(P)
    if (w >= floor).all():
        return P
    w = np.maximum(w, floor)
    return np.einsum("...ij,...j,...kj->...ik", V, w, V)


def ci_weight(P1: FloatArray, P2: FloatArray) -> FloatArray:
    """(K,) w in [0, 1] minimising det of the CI fusion of P1 (weight w) and P2 (1 - w)."""
    L = np.linalg.cholesky(P1)
    Linv = np.linalg.inv(L)
    lam = np.linalg.eigvalsh(Linv @ P2 @ np.swapaxes(Linv, -1, -2))  # (K, n) > 0
    d = lam - 1.0

    def slope(w: FloatArray) -> FloatArray:  # d/dw of -sum log(1 + w d)
        return -(d / (1.0 + w[:, None] * d)).sum(axis=1)

    k = lam.shape[0]
    lo, hi = np.zeros(k), np.ones(k)
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        rising = slope(mid) > 0.0
        hi = np.where(rising, mid, hi)
        lo = np.where(rising, lo, mid)
    w = 0.5 * (lo + hi)
    w = np.where(slope(np.zeros(k)) >= 0.0, 0.0, w)
    w = np.where(slope(np.ones(k)) <= 0.0, 1.0, w)
    flat = np.abs(d).max(axis=1, initial=0.0) < 1e-9  # equal covariances: any w; the mean
    return np.where(flat, 0.5, w)


def covariance_intersection(
    x1: FloatArray, P1: FloatArray, x2: FloatArray, P2: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """CI fusion of K pairs of estimates (see the module docstring).

    Args:
        x1, x2: (K, n) estimates. P1, P2: (K, n, n) their covariances (symmetric positive
            definite; pass them through :func:`repair_covariance` when unsure).

    Returns:
        x (K, n), P (K, n, n) and the weights w (K,) of input 1.
    """
    x1, x2 = np.asarray(x1, float), np.asarray(x2, float)
    P1, P2 = np.asarray(P1, float), np.asarray(P2, float)
    w = ci_weight(P1, P2)
    I1, I2 = np.linalg.inv(P1), np.linalg.inv(P2)
    info = w[:, None, None] * I1 + (1.0 - w)[:, None, None] * I2
    P = np.linalg.inv(info)
    P = 0.5 * (P + np.swapaxes(P, -1, -2))
    y = (
        w[:, None] * (I1 @ x1[..., None])[..., 0]
        + (1.0 - w)[:, None] * (I2 @ x2[..., None])[..., 0]
    )
    x = (P @ y[..., None])[..., 0]
    one, zero = w == 1.0, w == 0.0  # exact inputs at the ends (no round-off)
    x = np.where(one[:, None], x1, np.where(zero[:, None], x2, x))
    P = np.where(one[:, None, None], P1, np.where(zero[:, None, None], P2, P))
    return x, P, w
