"""Gating: a KD-tree prefilter on positions, then a chi-square test on the innovation.

Returns candidate (track, detection) pairs as flat arrays; never a dense tracks x detections
matrix. Positions in site ENU metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from skywarden.track import kalman
from skywarden.units import FloatArray, IntArray

_FIRST_K = 2  # most gates hold 0-1 detections; the doubling loop covers the rest


@dataclass(frozen=True, slots=True)
class GatedPairs:
    """Pairs inside the gate: track index, detection index, d2 = y^T S^-1 y and det S."""

    track: IntArray
    detection: IntArray
    d2: FloatArray
    det_S: FloatArray

    def __len__(self) -> int:
        return int(self.track.shape[0])

    def take(self, index: np.ndarray) -> GatedPairs:
        return GatedPairs(
            self.track[index], self.detection[index], self.d2[index], self.det_S[index]
        )


def candidate_pairs(
    centres: FloatArray, radii: FloatArray, tree: cKDTree
) -> tuple[IntArray, IntArray]:
    """All (centre, point) index pairs with |point - centre| <= radius (per centre).

    Uses k-nearest queries with k doubled for the few centres whose k-th neighbour is still
    inside their radius, so the Python work does not grow with the number of centres.
    """
    n_points = tree.n
    if centres.shape[0] == 0 or n_points == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rows, cols = [], []
    todo = np.arange(centres.shape[0])
    k = min(_FIRST_K, n_points)
    while todo.size:
        r = radii[todo]
        dist, idx = tree.query(centres[todo], k=k, distance_upper_bound=float(r.max()))
        dist = dist.reshape(todo.size, k)
        idx = idx.reshape(todo.size, k)
        inside = dist <= r[:, None]
        full = inside[:, -1] & (k < n_points)
        done = ~full
        t_i, k_i = np.nonzero(inside & done[:, None])
        rows.append(todo[t_i])
        cols.append(idx[t_i, k_i])
        todo = todo[full]
        k = min(2 * k, n_points)
    return np.concatenate(rows), np.concatenate(cols)


def gate(
    pos: FloatArray,
    P_pos: FloatArray,
    z: FloatArray,
    R: FloatArray,
    threshold: float,
    tree: cKDTree | None = None,
) -> GatedPairs:
    """Pairs of predicted positions (pos (N, 3), covariance P_pos (N, 3, 3)) and detections
    (z (D, 3), R (D, 3, 3)) whose squared Mahalanobis distance is below ``threshold``.

    The KD-tree radius for track i is sqrt(threshold * (tr P_pos,i + max_j tr R_j)), which
    bounds the largest eigenvalue of every S_ij, so no pair inside the gate is missed.
    """
    if pos.shape[0] == 0 or z.shape[0] == 0:
        empty = np.zeros(0, np.int64)
        return GatedPairs(empty, empty, np.zeros(0), np.zeros(0))
    if tree is None:
        tree = cKDTree(z)
    trace_P = np.trace(P_pos, axis1=1, axis2=2)
    trace_R_max = float(np.trace(R, axis1=1, axis2=2).max())
    radii = np.sqrt(threshold * (trace_P + trace_R_max))
    ti, dj = candidate_pairs(pos, radii, tree)
    y = z[dj] - pos[ti]
    S_inv, det_S = kalman.inverse_3x3(P_pos[ti] + R[dj])
    d2 = kalman.quadratic_form(y, S_inv)
    keep = d2 < threshold
    return GatedPairs(ti[keep], dj[keep], d2[keep], det_S[keep])
