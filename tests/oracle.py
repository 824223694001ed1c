"""Slow, obvious per-track reference implementations of the tracker's maths.

One Python object at a time, textbook formulas, dense matrices: the batched core in
skywarden.track must give the same numbers.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def cv_F(dt: float) -> np.ndarray:
    F = np.eye(6)
    for i in range(3):
        F[i, i + 3] = dt
    return F


def ct_F(dt: float, w: float) -> np.ndarray:
    """Coordinated turn written out from the continuous-time solution, one track."""
    F = cv_F(dt)
    if w == 0.0:
        return F
    F[0, 3] = np.sin(w * dt) / w
    F[0, 4] = -(1 - np.cos(w * dt)) / w
    F[1, 3] = (1 - np.cos(w * dt)) / w
    F[1, 4] = np.sin(w * dt) / w
    F[3, 3] = np.cos(w * dt)
    F[3, 4] = -np.sin(w * dt)
    F[4, 3] = np.sin(w * dt)
    F[4, 4] = np.cos(w * dt)
    return F


def white_accel_Q(dt: float, sigma: float) -> np.ndarray:
    q = sigma**2
    Q = np.zeros((6, 6))
    for i in range(3):
        Q[i, i] = q * dt**3 / 3
        Q[i, i + 3] = Q[i + 3, i] = q * dt**2 / 2
        Q[i + 3, i + 3] = q * dt
    return Q


H = np.hstack([np.eye(3), np.zeros((3, 3))])


def kf_predict(x, P, F, Q):
    return F @ x, F @ P @ F.T + Q


def kf_update(x, P, z, R):
    """Textbook update of one track; returns x, P (Joseph) and the Gaussian log-likelihood."""
    y = z - H @ x
    S = H @ P @ H.T + R
    K = P @ H.T @ np.linalg.inv(S)
    I_KH = np.eye(6) - K @ H
    P_new = I_KH @ P @ I_KH.T + K @ R @ K.T
    ll = -0.5 * (y @ np.linalg.inv(S) @ y + np.log(np.linalg.det(S)) + 3 * np.log(2 * np.pi))
    return x + K @ y, P_new, ll


def imm_predict(xm, Pm, mu, Pi, Fs, Qs):
    """One track's IMM interaction + per-model prediction (Bar-Shalom)."""
    M = len(mu)
    c = np.array([sum(Pi[i, j] * mu[i] for i in range(M)) for j in range(M)])
    x_out, P_out = [], []
    for j in range(M):
        w = [Pi[i, j] * mu[i] / c[j] for i in range(M)]
        x0 = sum(w[i] * xm[i] for i in range(M))
        P0 = sum(w[i] * (Pm[i] + np.outer(xm[i] - x0, xm[i] - x0)) for i in range(M))
        xp, Pp = kf_predict(x0, P0, Fs[j], Qs[j])
        x_out.append(xp)
        P_out.append(Pp)
    return np.array(x_out), np.array(P_out), c


def imm_combine(xm, Pm, mu):
    x = sum(mu[j] * xm[j] for j in range(len(mu)))
    P = sum(mu[j] * (Pm[j] + np.outer(xm[j] - x, xm[j] - x)) for j in range(len(mu)))
    return x, P


def gate_all(x, P, z, R, threshold):
    """Every (track, detection) pair with Mahalanobis^2 below threshold, double loop."""
    pairs = {}
    for i in range(len(x)):
        for j in range(len(z)):
            y = z[j] - x[i][:3]
            S = P[i][:3, :3] + R[j]
            d2 = float(y @ np.linalg.inv(S) @ y)
            if d2 < threshold:
                pairs[(i, j)] = (d2, float(np.linalg.det(S)))
    return pairs


def gnn_dense(pairs, n_tracks, n_dets, pd, clutter_density):
    """Global nearest neighbour with one dense matrix over all tracks and detections."""
    C = np.zeros((n_tracks, n_dets))
    for (i, j), (d2, det_S) in pairs.items():
        net = 0.5 * (d2 + np.log(det_S) + 3 * np.log(2 * np.pi))
        net += np.log(clutter_density) - np.log(pd / (1 - pd))
        C[i, j] = min(net, 0.0)
    rows, cols = linear_sum_assignment(C)
    chosen = {(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if C[r, c] < 0}
    return chosen, float(C[rows, cols].sum())
