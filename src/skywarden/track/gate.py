"""Gating: a grid prefilter on positions, then a chi-square test on the innovation.

Returns candidate (track, detection) pairs as flat arrays; never a dense tracks x detections
matrix. Positions in site ENU metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skywarden.row_select import select_rows
from skywarden.track import kalman
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
    S_inv, det_S = kalman.inverse_3x3(select_rows(P_pos, ti) + select_rows(R, dj))
    d2 = kalman.quadratic_form(y, S_inv)
    return GatedPairs(ti, dj, d2, det_S).take(d2 < threshold)
