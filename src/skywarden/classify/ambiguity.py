"""Tracks whose identities the tracker cannot keep apart: tracks inside each other's gates.

Two confirmed tracks whose positions differ by less than their combined uncertainty can each
take the other's detections: in a dense bird flock (birds a few metres to tens of metres
apart, closer than the radar's noise) the tracker's associations swap between birds from scan
to scan, so each track's history is a patchwork of several birds and its kinematics look
fast and erratic, like a drone's. Issue 11 traced most of the bird false alerts on ``mixed``
to such tracks. This module measures that ambiguity from the tracks alone (no tracker
internals): for every pair of tracks, the squared Mahalanobis distance of their position
difference d (3,) m under the sum of their position covariances and two measurement
covariances, ``d^T (P_i + P_j + 2 R)^-1 d``, against a chi-square gate.

Inputs are site ENU: positions (N, 3) m, position covariances (N, 3, 3) m^2; ``sigma_m`` is
the nominal measurement noise per axis (m) that R = sigma_m^2 I stands for.
"""

from __future__ import annotations

import numpy as np

from skywarden.units import FloatArray, IntArray

GATE_CHI2 = 11.345  # chi-square, 3 degrees of freedom, 0.99
MAX_PAIR_RANGE_M = 300.0  # pairs farther apart than this are never counted (bounds the search)
# A track is in a dense group (TrainedClassifier withholds 'drone') with at least
# AMBIGUOUS_MIN_TRACKS other tracks inside its pair gate at AMBIGUITY_SIGMA_M of plot noise.
# Measured per scan from 5 s of track age (issue 11, round 6): mixed seeds 25-34 (sigma 10 m),
# bird-flock tracks 0.986 of scans (0.998 with one neighbour), every drone, gull, aircraft 0,
# thermalling birds 0, cars/trucks 0.001; swarm seeds 0-9 (sigma 5 m, drones 30-60 m apart
# line abreast) 0.008-0.016 of drone scans (0.06-0.11 with one neighbour; 0.06-0.10 at 10 m).
AMBIGUITY_SIGMA_M = 5.0
AMBIGUOUS_MIN_TRACKS = 2


def ambiguous_neighbours(
    pos: FloatArray,
    P_pos: FloatArray,
    sigma_m: float = AMBIGUITY_SIGMA_M,
    gate: float = GATE_CHI2,
    max_range_m: float = MAX_PAIR_RANGE_M,
) -> IntArray:
    """(N,) int64: for each track, how many other tracks lie inside the pair's gate
    ``d^T (P_i + P_j + 2 sigma_m^2 I)^-1 d <= gate`` (module docstring); pos (N, 3) m,
    P_pos (N, 3, 3) m^2. Pairs more than ``max_range_m`` apart are not tested. Non-finite
    positions or covariances count as no neighbour."""
    from scipy.spatial import cKDTree

    pos = np.asarray(pos, dtype=np.float64).reshape(-1, 3)
    n = pos.shape[0]
    out = np.zeros(n, np.int64)
    P_pos = np.asarray(P_pos, dtype=np.float64).reshape(n, 3, 3)
    ok = np.isfinite(pos).all(axis=1) & np.isfinite(P_pos).all(axis=(1, 2))
    rows = np.flatnonzero(ok)
    if rows.size < 2:
        return out
    pairs = cKDTree(pos[rows]).query_pairs(max_range_m, output_type="ndarray")
    if pairs.size == 0:
        return out
    a, b = rows[pairs[:, 0]], rows[pairs[:, 1]]
    d = pos[a] - pos[b]
    S = P_pos[a] + P_pos[b] + 2.0 * sigma_m**2 * np.eye(3)
    m2 = np.einsum("ki,ki->k", d, np.linalg.solve(S, d[:, :, None])[:, :, 0])
    inside = m2 <= gate
    return out + np.bincount(a[inside], minlength=n) + np.bincount(b[inside], minlength=n)


__all__ = [
    "AMBIGUITY_SIGMA_M",
    "AMBIGUOUS_MIN_TRACKS",
    "GATE_CHI2",
    "MAX_PAIR_RANGE_M",
    "ambiguous_neighbours",
]
