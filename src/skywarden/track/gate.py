"""Gating: a grid prefilter on positions, then a chi-square test on the innovation.

Returns candidate (track, detection) pairs as flat arrays; never a dense tracks x detections
matrix. Positions in site ENU metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skywarden.row_select import select_rows
from skywarden.track.neighbours import pairs_within
from skywarden.units import FloatArray, IntArray


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
            select_rows(self.track, index),
            select_rows(self.detection, index),
            select_rows(self.d2, index),
            select_rows(self.det_S, index),
        )


def gate(
    pos: FloatArray,
    P_pos: FloatArray,
    z: FloatArray,
    R: FloatArray,
    threshold: float,
) -> GatedPairs:
    """Pairs of predicted positions (pos (N, 3), covariance P_pos (N, 3, 3)) and detections
    (z (D, 3), R (D, 3, 3)) whose squared Mahalanobis distance is below ``threshold``.

    The search radius for track i is sqrt(threshold * (tr P_pos,i + max_j tr R_j)), which
    bounds the largest eigenvalue of every S_ij, so no pair inside the gate is missed.
    """
    if pos.shape[0] == 0 or z.shape[0] == 0:
        empty = np.zeros(0, np.int64)
        return GatedPairs(empty, empty, np.zeros(0), np.zeros(0))
    trace_P = P_pos[:, 0, 0] + P_pos[:, 1, 1] + P_pos[:, 2, 2]
    trace_R_max = float((R[:, 0, 0] + R[:, 1, 1] + R[:, 2, 2]).max())
    radii = np.sqrt(threshold * (trace_P + trace_R_max))
    ti, dj = pairs_within(pos, radii, z)
    y = select_rows(z, dj) - select_rows(pos, ti)
    S = _upper_3x3(P_pos).take(ti, axis=0)
    S += _upper_3x3(R).take(dj, axis=0)
    d2, det_S = mahalanobis_upper(y, S)
    return GatedPairs(ti, dj, d2, det_S).take(d2 < threshold)


_UPPER3 = np.array([0, 1, 2, 4, 5, 8])  # flat indices of (0,0) (0,1) (0,2) (1,1) (1,2) (2,2)


def _upper_3x3(A: FloatArray) -> FloatArray:
    """(N, 6) the upper triangles of a stack of 3x3 matrices A (N, 3, 3) (any strides)."""
    return A.reshape(A.shape[0], 9).take(_UPPER3, axis=1)


def mahalanobis_upper(y: FloatArray, S: FloatArray) -> tuple[FloatArray, FloatArray]:
    """d2 = y^T S^-1 y (K,) and det S (K,) for innovations y (K, 3) and symmetric S given by
    their upper triangles (K, 6) in the order (00, 01, 02, 11, 12, 22).

    From the six cofactors and the determinant, without forming S^-1: about 40 array
    operations, where the inverse (9 cofactors written into a (K, 3, 3) stack) and the
    nine-term quadratic form took about 90 (gating's share of a step at tens to hundreds of
    tracks). Equal to ``quadratic_form(y, inverse_3x3(S))`` up to rounding."""
    a, b, c, d, e, f = S.T
    c00, c01, c02 = d * f - e * e, c * e - b * f, b * e - c * d
    det = a * c00 + b * c01 + c * c02
    y0, y1, y2 = y.T
    cross = y1 * c01 + y2 * c02
    first = y0 * (y0 * c00 + 2.0 * cross)
    second = y1 * (y1 * (a * f - c * c) + 2.0 * y2 * (b * c - a * e))
    d2 = first + second + y2 * y2 * (a * d - b * b)
    d2 /= det
    return d2, det
