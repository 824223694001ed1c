"""Compiled gating of tracks and candidates against a batch of detections: the neighbour
search and the chi-square test of every pair in one call (numba, float64, no fastmath).

:func:`skywarden.track.gate.gate` (NumPy) finds the pairs within each centre's search radius
(:func:`skywarden.track.neighbours.pairs_within`), then computes the innovations, their
covariances and the Mahalanobis distances: about 30 NumPy calls per step, which at tens to
hundreds of tracks cost more than the arithmetic. :func:`gate_tracks_and_candidates` does the
same in one compiled loop over east strips: the detections come in east order (the step
sorts them), so each centre's candidates are one run found by two binary searches; every
point of the run passes the same exact 3-D radius test, then the chi-square test, as in
:mod:`skywarden.track.gate` (the same pairs, in the same order: by centre, then detection).
Where the strips would read many more points than a grid (large, spread-out problems:
``STRIP_READS_PER_ROW``), the NumPy grid finds the pairs and one compiled call tests them.
"""

from __future__ import annotations

import math

import numpy as np

from skywarden.track.compiled_kernel import kernel
from skywarden.track.gate import GatedPairs
from skywarden.track.neighbours import STRIP_READS_PER_ROW, pairs_within
from skywarden.units import FloatArray, IntArray

_RADIUS_CAP = 1e12  # metres, as neighbours: an infinite radius reaches every detection


@kernel()
def _centre(
    i: int, x: FloatArray, P: FloatArray, cand_pos: FloatArray, cand_P: FloatArray
) -> tuple[float, float, float, float, float, float, float, float, float]:  # pragma: no cover
    """Position and position-covariance upper triangle (00 01 02 11 12 22) of centre i: the
    tracks' rows first, then the candidates'."""
    n = x.shape[0]
    if i < n:
        return (x[i, 0], x[i, 1], x[i, 2], P[i, 0, 0], P[i, 0, 1], P[i, 0, 2],
                P[i, 1, 1], P[i, 1, 2], P[i, 2, 2])  # fmt: skip
    k = i - n
    return (cand_pos[k, 0], cand_pos[k, 1], cand_pos[k, 2], cand_P[k, 0, 0], cand_P[k, 0, 1],
            cand_P[k, 0, 2], cand_P[k, 1, 1], cand_P[k, 1, 2], cand_P[k, 2, 2])  # fmt: skip


@kernel()
def _radii(
    x: FloatArray,
    P: FloatArray,
    cand_pos: FloatArray,
    cand_P: FloatArray,
    R: FloatArray,
    threshold: float,
) -> FloatArray:  # pragma: no cover - compiled
    """Each centre's search radius sqrt(threshold (tr P_pos + max_j tr R_j)) (which bounds
    the largest eigenvalue of every S), capped; -1 where it is NaN (reaches nothing)."""
    trace_r = -np.inf
    for j in range(R.shape[0]):
        trace_r = max(trace_r, R[j, 0, 0] + R[j, 1, 1] + R[j, 2, 2])
    total = x.shape[0] + cand_pos.shape[0]
    r = np.empty(total)
    for i in range(total):
        c = _centre(i, x, P, cand_pos, cand_P)
        radius = math.sqrt(threshold * ((c[3] + c[6] + c[8]) + trace_r))
        r[i] = -1.0 if math.isnan(radius) else min(radius, _RADIUS_CAP)
    return r


@kernel()
def _chi_square(
    c: tuple[float, float, float, float, float, float, float, float, float],
    z: FloatArray,
    R: FloatArray,
    j: int,
) -> tuple[float, float]:  # pragma: no cover - compiled
    """d2 = y^T S^-1 y and det S of centre c and detection j, from the six cofactors of S,
    the same expression as :func:`skywarden.track.gate.mahalanobis_upper`."""
    y0, y1, y2 = z[j, 0] - c[0], z[j, 1] - c[1], z[j, 2] - c[2]
    a, b, cc = c[3] + R[j, 0, 0], c[4] + R[j, 0, 1], c[5] + R[j, 0, 2]
    d, e, f = c[6] + R[j, 1, 1], c[7] + R[j, 1, 2], c[8] + R[j, 2, 2]
    c00, c01, c02 = d * f - e * e, cc * e - b * f, b * e - cc * d
    det = a * c00 + b * c01 + cc * c02
    cross = y1 * c01 + y2 * c02
    first = y0 * (y0 * c00 + 2.0 * cross)
    second = y1 * (y1 * (a * f - cc * cc) + 2.0 * y2 * (b * cc - a * e))
    d2 = first + second + y2 * y2 * (a * d - b * b)
    return d2 / det, det


@kernel()
def _strip_gate(
    x: FloatArray,
    P: FloatArray,
    cand_pos: FloatArray,
    cand_P: FloatArray,
    z: FloatArray,
    R: FloatArray,
    threshold: float,
    max_reads: float,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, bool]:  # pragma: no cover - compiled
    """Gated pairs (centre, detection, d2, det S) through east strips of the detections
    (z in non-decreasing east order), or ok = False (nothing done) when the strips would read
    more than ``max_reads`` points or z is not in east order."""
    total, d = x.shape[0] + cand_pos.shape[0], z.shape[0]
    empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
    for j in range(1, d):
        if not z[j, 0] >= z[j - 1, 0]:
            return empty_i, empty_i, empty_f, empty_f, False
    r = _radii(x, P, cand_pos, cand_P, R, threshold)
    start = np.empty(total, np.int64)
    stop = np.empty(total, np.int64)
    reads = 0.0
    for i in range(total):
        if r[i] < 0.0:
            start[i] = stop[i] = 0
            continue
        east = x[i, 0] if i < x.shape[0] else cand_pos[i - x.shape[0], 0]
        width = r[i] + 1e-12 * (abs(east) + r[i])
        start[i] = np.searchsorted(z[:, 0], east - width, side="left")
        stop[i] = max(np.searchsorted(z[:, 0], east + width, side="right"), start[i])
        reads += stop[i] - start[i]
    if reads > max_reads:
        return empty_i, empty_i, empty_f, empty_f, False
    cap = 64 + 2 * total
    ti, dj = np.empty(cap, np.int64), np.empty(cap, np.int64)
    d2s, dets = np.empty(cap), np.empty(cap)
    k = 0
    for i in range(total):
        if start[i] == stop[i]:
            continue
        c = _centre(i, x, P, cand_pos, cand_P)
        r2 = r[i] * r[i]
        for j in range(start[i], stop[i]):
            dx, dy, dz = z[j, 0] - c[0], z[j, 1] - c[1], z[j, 2] - c[2]
            if not (dx * dx + dy * dy) + dz * dz <= r2:
                continue
            d2, det = _chi_square(c, z, R, j)
            if not d2 < threshold:
                continue
            if k == cap:
                cap *= 2
                ti, dj = _grown(ti, cap), _grown(dj, cap)
                d2s, dets = _grown(d2s, cap), _grown(dets, cap)
            ti[k], dj[k], d2s[k], dets[k] = i, j, d2, det
            k += 1
    return ti[:k].copy(), dj[:k].copy(), d2s[:k].copy(), dets[:k].copy(), True


@kernel()
def _grown(a: np.ndarray, cap: int) -> np.ndarray:  # pragma: no cover - compiled
    out = np.empty(cap, a.dtype)
    out[: a.shape[0]] = a
    return out


@kernel()
def _test_pairs(
    ti: IntArray,
    dj: IntArray,
    x: FloatArray,
    P: FloatArray,
    cand_pos: FloatArray,
    cand_P: FloatArray,
    z: FloatArray,
    R: FloatArray,
    threshold: float,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:  # pragma: no cover - compiled
    """The chi-square test of given (centre, detection) pairs: those inside the gate."""
    cap = ti.shape[0]
    to, do = np.empty(cap, np.int64), np.empty(cap, np.int64)
    d2s, dets = np.empty(cap), np.empty(cap)
    k = 0
    for p in range(cap):
        d2, det = _chi_square(_centre(ti[p], x, P, cand_pos, cand_P), z, R, dj[p])
        if d2 < threshold:
            to[k], do[k], d2s[k], dets[k] = ti[p], dj[p], d2, det
            k += 1
    return to[:k].copy(), do[:k].copy(), d2s[:k].copy(), dets[:k].copy()


def gate_tracks_and_candidates(
    x: FloatArray,
    P: FloatArray,
    cand_pos: FloatArray,
    cand_P: FloatArray,
    z: FloatArray,
    R: FloatArray,
    threshold: float,
) -> tuple[GatedPairs, GatedPairs]:
    """Gate N tracks (predicted x (N, 6), P (N, 6, 6); only the position parts are read) and
    K candidates (predicted positions cand_pos (K, 3), covariances cand_P (K, 3, 3)) against
    detections z (D, 3), R (D, 3, 3) (east order expected, else the grid is used): the pairs
    with y^T S^-1 y < threshold, as :func:`skywarden.track.gate.gate` finds them, split into
    track pairs and candidate pairs (candidate indices), each by centre, then detection."""
    args = (
        np.ascontiguousarray(x), np.ascontiguousarray(P), np.ascontiguousarray(cand_pos),
        np.ascontiguousarray(cand_P), np.ascontiguousarray(z), np.ascontiguousarray(R),
    )  # fmt: skip
    n, total, d = x.shape[0], x.shape[0] + cand_pos.shape[0], z.shape[0]
    ti, dj, d2, det_S, ok = _strip_gate(*args, float(threshold), STRIP_READS_PER_ROW * (total + d))
    if not ok:  # spread out: the grid finds the pairs in the radii, one call tests them
        centres = np.concatenate([x[:, :3], cand_pos])
        radii = _radii(*args[:4], args[5], float(threshold))
        ci, cj = pairs_within(centres, np.where(radii < 0.0, np.nan, radii), z)
        ti, dj, d2, det_S = _test_pairs(ci, cj, *args, float(threshold))
    split = int(np.searchsorted(ti, n))
    return (
        GatedPairs(ti[:split], dj[:split], d2[:split], det_S[:split]),
        GatedPairs(ti[split:] - n, dj[split:], d2[split:], det_S[split:]),
    )


def warm() -> None:
    """Compile or load the gating kernels with the tracker's argument types."""
    x, P = np.zeros((2, 6)), np.tile(np.eye(6), (2, 1, 1))
    cand_pos, cand_P = np.zeros((1, 3)), np.eye(3)[None]
    z, R = np.zeros((2, 3)), np.tile(np.eye(3), (2, 1, 1))
    ti = np.zeros(1, np.int64)
    _test_pairs(ti, ti, x, P, cand_pos, cand_P, z, R, 10.0)
    _strip_gate(x, P, cand_pos, cand_P, z, R, 10.0, 100.0)
    _radii(x, P, cand_pos, cand_P, R, 10.0)  # the grid path's (large, spread-out problems)
