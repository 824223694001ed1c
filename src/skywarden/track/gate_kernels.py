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
``STRIP_READS_PER_ROW``, e.g. 10^4 targets over a wide area), :func:`_grid_pairs` finds the
same pairs through a uniform horizontal grid of the detections, also in one compiled call
(it replaced the NumPy grid of :func:`skywarden.track.neighbours.pairs_within` and a
compiled test of its pairs: ~40 NumPy calls and their temporaries at 10^5 centres).
"""

from __future__ import annotations

import math

import numpy as np

from skywarden.track.compiled_kernel import kernel
from skywarden.track.gate import GatedPairs
from skywarden.track.neighbours import (
    GRID_COLUMN_COST,
    GRID_COST_SAMPLE,
    MAX_HALF_SPAN,
    STRIP_READS_PER_ROW,
)
from skywarden.units import FloatArray, IntArray

_RADIUS_CAP = 1e12  # metres, as neighbours: an infinite radius reaches every detection


@kernel()
def _centres(
    x: FloatArray, P: FloatArray, cand_pos: FloatArray, cand_P: FloatArray
) -> FloatArray:  # pragma: no cover - compiled
    """(N + K, 9): each centre's position and position-covariance upper triangle (00 01 02
    11 12 22), the tracks' rows first, then the candidates'. Gathered once, so that the
    loops below read plain rows (a helper called with the four arrays per centre cost a
    reference count up and down per array, even inlined)."""
    n, k = x.shape[0], cand_pos.shape[0]
    out = np.empty((n + k, 9))
    for i in range(n):
        out[i, 0], out[i, 1], out[i, 2] = x[i, 0], x[i, 1], x[i, 2]
        out[i, 3], out[i, 4], out[i, 5] = P[i, 0, 0], P[i, 0, 1], P[i, 0, 2]
        out[i, 6], out[i, 7], out[i, 8] = P[i, 1, 1], P[i, 1, 2], P[i, 2, 2]
    for q in range(k):
        i = n + q
        out[i, 0], out[i, 1], out[i, 2] = cand_pos[q, 0], cand_pos[q, 1], cand_pos[q, 2]
        out[i, 3], out[i, 4], out[i, 5] = cand_P[q, 0, 0], cand_P[q, 0, 1], cand_P[q, 0, 2]
        out[i, 6], out[i, 7], out[i, 8] = cand_P[q, 1, 1], cand_P[q, 1, 2], cand_P[q, 2, 2]
    return out


@kernel()
def _radii(cen: FloatArray, R: FloatArray, threshold: float) -> FloatArray:  # pragma: no cover
    """Each centre's (cen (N + K, 9), :func:`_centres`) search radius sqrt(threshold
    (tr P_pos + max_j tr R_j)) (which bounds the largest eigenvalue of every S), capped; -1
    where it is NaN (reaches nothing)."""
    trace_r = -np.inf
    for j in range(R.shape[0]):
        trace_r = max(trace_r, R[j, 0, 0] + R[j, 1, 1] + R[j, 2, 2])
    total = cen.shape[0]
    r = np.empty(total)
    for i in range(total):
        radius = math.sqrt(threshold * ((cen[i, 3] + cen[i, 6] + cen[i, 8]) + trace_r))
        r[i] = -1.0 if math.isnan(radius) else min(radius, _RADIUS_CAP)
    return r


@kernel(inline="always")
def _chi_square_of(
    c0: float,
    c1: float,
    c2: float,
    p00: float,
    p01: float,
    p02: float,
    p11: float,
    p12: float,
    p22: float,
    z0: float,
    z1: float,
    z2: float,
    r00: float,
    r01: float,
    r02: float,
    r11: float,
    r12: float,
    r22: float,
) -> tuple[float, float]:  # pragma: no cover - compiled
    """d2 and det S of a centre (position c, position covariance upper triangle p) and a
    detection (z, R upper triangle), from the six cofactors of S: scalars only (no array
    reference counts), the expression of :func:`skywarden.track.gate.mahalanobis_upper`."""
    y0, y1, y2 = z0 - c0, z1 - c1, z2 - c2
    a, b, cc = p00 + r00, p01 + r01, p02 + r02
    d, e, f = p11 + r11, p12 + r12, p22 + r22
    c00, c01, c02 = d * f - e * e, cc * e - b * f, b * e - cc * d
    det = a * c00 + b * c01 + cc * c02
    cross = y1 * c01 + y2 * c02
    first = y0 * (y0 * c00 + 2.0 * cross)
    second = y1 * (y1 * (a * f - cc * cc) + 2.0 * y2 * (b * cc - a * e))
    d2 = first + second + y2 * y2 * (a * d - b * b)
    return d2 / det, det


@kernel()
def _gate(
    x: FloatArray,
    P: FloatArray,
    cand_pos: FloatArray,
    cand_P: FloatArray,
    z: FloatArray,
    R: FloatArray,
    threshold: float,
    max_reads: float,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:  # pragma: no cover - compiled
    """Gated pairs (centre, detection, d2, det S), by centre then detection: through east
    strips (:func:`_strip_pairs`) unless they would read more than ``max_reads`` points or
    the detections are not in east order, else through the grid (:func:`_grid_pairs`);
    the same pairs either way. The radii are computed once for both."""
    cen = _centres(x, P, cand_pos, cand_P)
    r = _radii(cen, R, threshold)
    ti, dj, d2, det_S, ok = _strip_pairs(cen, z, R, threshold, r, max_reads)
    if ok:
        return ti, dj, d2, det_S
    return _grid_pairs(cen, z, R, threshold, r)


@kernel()
def _strip_pairs(
    cen: FloatArray,
    z: FloatArray,
    R: FloatArray,
    threshold: float,
    r: FloatArray,
    max_reads: float,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, bool]:  # pragma: no cover - compiled
    """Gated pairs (centre, detection, d2, det S) through east strips of the detections
    (z in non-decreasing east order) for search radii r (:func:`_radii`), or ok = False
    (nothing done) when the strips would read more than ``max_reads`` points (estimated
    first on an even sample of ~256 centres: large spread-out problems skip the binary
    searches of every centre; either way the pairs are the same) or z is not in east
    order."""
    total, d = cen.shape[0], z.shape[0]
    empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
    for j in range(1, d):
        if not z[j, 0] >= z[j - 1, 0]:
            return empty_i, empty_i, empty_f, empty_f, False
    stride = max(1, total // 256)
    if stride > 1:
        sampled = 0.0
        for i in range(0, total, stride):
            if r[i] >= 0.0:
                east = cen[i, 0]
                width = r[i] + 1e-12 * (abs(east) + r[i])
                lo = np.searchsorted(z[:, 0], east - width, side="left")
                sampled += max(np.searchsorted(z[:, 0], east + width, side="right") - lo, 0)
        if sampled * stride > max_reads:
            return empty_i, empty_i, empty_f, empty_f, False
    start = np.empty(total, np.int64)
    stop = np.empty(total, np.int64)
    reads = 0.0
    for i in range(total):
        if r[i] < 0.0:
            start[i] = stop[i] = 0
            continue
        east = cen[i, 0]
        width = r[i] + 1e-12 * (abs(east) + r[i])
        start[i] = np.searchsorted(z[:, 0], east - width, side="left")
        stop[i] = max(np.searchsorted(z[:, 0], east + width, side="right"), start[i])
        reads += stop[i] - start[i]
        if reads > max_reads:  # the total only grows: decline as soon as it is over
            return empty_i, empty_i, empty_f, empty_f, False
    cap = 64 + 2 * total
    ti, dj = np.empty(cap, np.int64), np.empty(cap, np.int64)
    d2s, dets = np.empty(cap), np.empty(cap)
    k = 0
    for i in range(total):
        if start[i] == stop[i]:
            continue
        c0, c1, c2 = cen[i, 0], cen[i, 1], cen[i, 2]
        r2 = r[i] * r[i]
        for j in range(start[i], stop[i]):
            dx, dy, dz = z[j, 0] - c0, z[j, 1] - c1, z[j, 2] - c2
            if not (dx * dx + dy * dy) + dz * dz <= r2:
                continue
            d2, det = _chi_square_of(
                c0, c1, c2, cen[i, 3], cen[i, 4], cen[i, 5], cen[i, 6], cen[i, 7], cen[i, 8],
                z[j, 0], z[j, 1], z[j, 2], R[j, 0, 0], R[j, 0, 1], R[j, 0, 2], R[j, 1, 1],
                R[j, 1, 2], R[j, 2, 2],
            )  # fmt: skip
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
def _grid_side(r: FloatArray, density: float) -> float:  # pragma: no cover - compiled
    """Grid side (m) for the search radii r (>= 0 where a centre reaches; at least one):
    neighbours._cell_side's choice, on at most ``GRID_COST_SAMPLE`` of the radii (an even
    sample), with the median taken as the upper middle of the sorted sample. The side only
    sets how fast the search is, never which pairs it finds."""
    n_reach = 0
    r_max = 0.0
    for i in range(r.shape[0]):
        if r[i] >= 0.0:
            n_reach += 1
            r_max = max(r_max, r[i])
    stride = max(1, n_reach // GRID_COST_SAMPLE)
    sample = np.empty((n_reach + stride - 1) // stride)
    k = seen = 0
    for i in range(r.shape[0]):
        if r[i] >= 0.0:
            if seen % stride == 0:
                sample[k] = r[i]
                k += 1
            seen += 1
    sample = np.sort(sample[:k])
    floor = max(r_max / MAX_HALF_SPAN, 1e-9)
    h = max(sample[k // 2], floor)
    best_h, best_cost = h, np.inf
    while True:
        cost = 0.0
        for a in range(k):
            cols = 2.0 * math.ceil(sample[a] / h) + 1.0
            cost += cols * (GRID_COLUMN_COST + cols * (density * h * h))
        if cost < best_cost:
            best_h, best_cost = h, cost
        if not h < r_max:
            return best_h
        h = min(2.0 * h, r_max)


@kernel()
def _grid_pairs(
    cen: FloatArray,
    z: FloatArray,
    R: FloatArray,
    threshold: float,
    r: FloatArray,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:  # pragma: no cover - compiled
    """Gated pairs (centre, detection, d2, det S) through a uniform horizontal grid of the
    detections (any order), for problems too spread out for the east strips: the same pairs
    in the same order (by centre, then detection) with the same d2 and det S as
    :func:`_strip_pairs` (each point of a centre's cells passes the same exact 3-D radius
    test, then the same chi-square test). The detections are counted into cells of side h
    (:func:`_grid_side`; at most ~4 (N + D) cells), copied in cell order so that a cell's
    points are contiguous; each centre reads the cells its radius (widened by a relative
    1e-12, as the strips) can reach, and its pairs are sorted by detection."""
    total, d = cen.shape[0], z.shape[0]
    empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
    reach = False
    for i in range(total):
        if r[i] >= 0.0:
            reach = True
            break
    lo_e = lo_n = np.inf
    hi_e = hi_n = -np.inf
    for j in range(d):  # extent of the finite detections (others are in no cell)
        e, nn = z[j, 0], z[j, 1]
        if math.isfinite(e) and math.isfinite(nn):
            lo_e, hi_e = min(lo_e, e), max(hi_e, e)
            lo_n, hi_n = min(lo_n, nn), max(hi_n, nn)
    if not reach or not lo_e <= hi_e:
        return empty_i, empty_i.copy(), empty_f, empty_f.copy()
    span_e, span_n = hi_e - lo_e, hi_n - lo_n
    h = _grid_side(r, d / max(span_e * span_n, 1.0))
    max_cells = 4 * (total + d) + 1024
    while (span_e / h + 1.0) * (span_n / h + 1.0) > max_cells:
        h *= 2.0
    nx, ny = int(span_e / h) + 1, int(span_n / h) + 1
    cell = np.empty(d, np.int64)
    start = np.zeros(nx * ny + 1, np.int64)
    for j in range(d):
        e, nn = z[j, 0], z[j, 1]
        if math.isfinite(e) and math.isfinite(nn):
            ix = min(int((e - lo_e) / h), nx - 1)
            iy = min(int((nn - lo_n) / h), ny - 1)
            cell[j] = ix * ny + iy
            start[cell[j] + 1] += 1
        else:
            cell[j] = -1
    for k in range(nx * ny):
        start[k + 1] += start[k]
    fill = start[:-1].copy()
    order = np.empty(start[nx * ny], np.int64)  # detection indices by cell, then index
    for j in range(d):
        if cell[j] >= 0:
            order[fill[cell[j]]] = j
            fill[cell[j]] += 1
    zc, Rc = np.empty((order.shape[0], 3)), np.empty((order.shape[0], 3, 3))
    for p in range(order.shape[0]):  # element by element: no array view per row
        j = order[p]
        for a in range(3):
            zc[p, a] = z[j, a]
            for b in range(3):
                Rc[p, a, b] = R[j, a, b]
    cap = 64 + 2 * total
    ti, dj = np.empty(cap, np.int64), np.empty(cap, np.int64)
    d2s, dets = np.empty(cap), np.empty(cap)
    k = 0
    for i in range(total):
        if r[i] < 0.0:
            continue
        c0, c1, c2 = cen[i, 0], cen[i, 1], cen[i, 2]
        width = r[i] + 1e-12 * (max(abs(c0), abs(c1)) + r[i])
        x0, x1 = (c0 - width - lo_e) / h, (c0 + width - lo_e) / h
        y0, y1 = (c1 - width - lo_n) / h, (c1 + width - lo_n) / h
        if not (x1 >= 0.0 and x0 < nx and y1 >= 0.0 and y0 < ny):
            continue  # outside the detections' cells (or not finite)
        ix0, ix1 = int(max(x0, 0.0)), int(min(x1, nx - 1.0))
        iy0, iy1 = int(max(y0, 0.0)), int(min(y1, ny - 1.0))
        r2 = r[i] * r[i]
        first = k
        for ix in range(ix0, ix1 + 1):
            for p in range(start[ix * ny + iy0], start[ix * ny + iy1 + 1]):
                dx, dy, dz = zc[p, 0] - c0, zc[p, 1] - c1, zc[p, 2] - c2
                if not (dx * dx + dy * dy) + dz * dz <= r2:
                    continue
                d2, det = _chi_square_of(
                    c0, c1, c2, cen[i, 3], cen[i, 4], cen[i, 5], cen[i, 6], cen[i, 7],
                    cen[i, 8], zc[p, 0], zc[p, 1], zc[p, 2], Rc[p, 0, 0], Rc[p, 0, 1],
                    Rc[p, 0, 2], Rc[p, 1, 1], Rc[p, 1, 2], Rc[p, 2, 2],
                )  # fmt: skip
                if not d2 < threshold:
                    continue
                if k == cap:
                    cap *= 2
                    ti, dj = _grown(ti, cap), _grown(dj, cap)
                    d2s, dets = _grown(d2s, cap), _grown(dets, cap)
                # insertion by detection index among this centre's pairs so far
                j = order[p]
                q = k
                while q > first and dj[q - 1] > j:
                    dj[q], d2s[q], dets[q] = dj[q - 1], d2s[q - 1], dets[q - 1]
                    q -= 1
                ti[k], dj[q], d2s[q], dets[q] = i, j, d2, det
                k += 1
    return ti[:k].copy(), dj[:k].copy(), d2s[:k].copy(), dets[:k].copy()


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
    max_reads = STRIP_READS_PER_ROW * (total + d)
    ti, dj, d2, det_S = _gate(*args, float(threshold), max_reads)
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
    _gate(x, P, cand_pos, cand_P, z, R, 10.0, 100.0)
