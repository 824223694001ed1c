"""Fixed-radius neighbours on a uniform grid, in plain NumPy (no KD-tree, no scipy import).

    rows, cols = pairs_within(centres, radii, points)

gives every (centre, point) pair with ``|point - centre| <= radius[centre]`` (Euclidean, in
whatever units the positions are in; site ENU metres in the tracker). It replaces
``scipy.spatial.cKDTree`` in gating: importing ``scipy.spatial`` costs 0.3-0.5 s (it pulls in
``scipy.sparse`` and ``scipy.linalg``), more than a whole ``skywarden track`` run of a
hundred scans.

How: the points are binned on a square grid of side h in the horizontal plane (east, north)
and sorted by cell key ``ix * W + iy``. A centre with radius r looks at the 2k + 1 grid
columns ix - k .. ix + k (k = ceil(r / h)); in each the cells iy - k .. iy + k are one
contiguous run of keys, found with two ``searchsorted`` calls. All centres and columns are
done at once; the runs are expanded with ``repeat`` and filtered on the exact 3-D distance.
h is the side with the least expected work between the median radius and the largest (at
least 1/32 of the largest, so no centre looks at more than 65 columns): with sparse points
(a few per gate, the tracker's case) cells as big as most gates, so a centre reads 3 x 3
cells; with dense points smaller cells, so it reads fewer points. The work is
O((N + D) log D) plus the points in those cells; nothing loops in Python over centres or points.

Few centres and points (N x D <= ``DENSE_MAX_PAIRS``, e.g. 60 tracks and 65 detections) skip
the grid: every distance is computed (one (N, D) array per axis), a dozen NumPy calls instead
of the grid's ~50 (measured 35 against 150 us per search on issue 12's manoeuvring scenario).
A few hundred of each (``STRIP_MAX_ROWS``) whose gates are narrow against the points' east
extent use one east strip per centre instead: the points sorted by east (detections come so
from the tracker), two binary searches per centre, and the exact test on the strips' points;
~20 calls, a third of the grid's.
"""

from __future__ import annotations

import numpy as np

from skywarden.row_select import select_rows
from skywarden.units import FloatArray, IntArray

MAX_HALF_SPAN = 32  # grid columns each side of a centre, at most (h >= max radius / 32)
_RADIUS_CAP = 1e12  # metres: an infinite radius means "every point", which this still gives


GRID_COLUMN_COST = 3.0  # two binary searches per grid column, against one point read: measured
GRID_COST_SAMPLE = 2048  # radii the grid side is chosen on (an even sample of them)
DENSE_MAX_PAIRS = 8192  # at most this many centre x point distances: all of them, no grid
STRIP_MAX_ROWS = 4096  # centres + points up to this: east strips instead of the grid ...
STRIP_READS_PER_ROW = 32.0  # ... when the strips hold at most this many points per row


def _cell_side(r: FloatArray, density: float) -> float:
    """Grid side h (same units as r) with the least expected work for radii r (> 0 values).

    Each centre reads 2k + 1 columns (k = ceil(r / h)) of 2k + 1 cells, each holding about
    density * h^2 points: the work is ~ GRID_COLUMN_COST * columns + points read. Sparse points
    (few per gate) favour big cells, dense ones small; tried from the median radius up to
    the largest, doubling, and never below max radius / MAX_HALF_SPAN.

    The costs are estimated on an even sample of at most ``GRID_COST_SAMPLE`` radii, for all the
    tried sides in one broadcast: h only sets how fast the search is, never which pairs it
    finds (so the median is the upper middle element, without np.median's overhead).
    """
    r_max = float(r.max())
    r = r[:: max(1, r.size // GRID_COST_SAMPLE)]
    floor = max(r_max / MAX_HALF_SPAN, 1e-9)
    h = max(float(np.partition(r, r.size // 2)[r.size // 2]), floor)
    sides = [h]
    while h < r_max:
        h = min(2.0 * h, r_max)
        sides.append(h)
    h_all = np.array(sides)[:, None]  # (H, 1)
    cols = 2.0 * np.ceil(r / h_all) + 1.0  # (H, n)
    cost = (cols * (GRID_COLUMN_COST + cols * (density * h_all * h_all))).sum(axis=1)
    return sides[int(np.argmin(cost))]  # the first of equal costs, as the loop chose


def _runs(sorted_key: IntArray, lo: IntArray, hi: IntArray) -> tuple[IntArray, IntArray]:
    """For each key range [lo, hi], the run start:stop of the keys inside it in sorted_key.

    Keys are small non-negative cell numbers: when there are not many more cells than
    queries, a table of cell starts (a cumulative count) answers each query with one read
    instead of two binary searches; otherwise ``searchsorted``.
    """
    total = int(sorted_key[-1]) + 1
    if total > 4 * (lo.size + sorted_key.size):
        return (
            np.searchsorted(sorted_key, lo, side="left"),
            np.searchsorted(sorted_key, hi, side="right"),
        )
    cell_start = np.zeros(total + 1, np.int64)  # cell_start[k] = number of keys < k
    np.cumsum(np.bincount(sorted_key, minlength=total), out=cell_start[1:])
    # bounds with minimum / maximum: np.clip's Python wrapper costs more than the work here
    return (
        cell_start.take(np.minimum(np.maximum(lo, 0), total)),
        cell_start.take(np.minimum(np.maximum(hi + 1, 0), total)),
    )


def _uniform_window_runs(
    sorted_key: IntArray, c_cell: IntArray, width: int, k: int
) -> tuple[IntArray, IntArray]:
    """:func:`_runs` of the 2k + 1 grid columns of every centre when all read the same
    window (the usual case: the grid side is the largest radius, so k = 1 for all): the
    column keys come from one broadcast, (N, 2k + 1) in centre then column order, without
    expanding per-centre column counts (the general path's repeats and gathers)."""
    offsets = np.arange(-k, k + 1) * width
    base = (c_cell[:, :1] * width + c_cell[:, 1:2]) + offsets  # (N, 2k + 1)
    base = base.ravel()
    return _runs(sorted_key, base - k, base + k)


def pairs_within(
    centres: FloatArray, radii: FloatArray, points: FloatArray
) -> tuple[IntArray, IntArray]:
    """All (centre, point) index pairs with |point - centre| <= radius of the centre.

    Args:
        centres: (N, 3) positions. radii: (N,) search radii (>= 0; NaN finds nothing).
        points: (D, 3) positions, same frame and units.

    Returns:
        (rows, cols): int64 (K,) centre and point indices, sorted by centre then point.
    """
    n, d = centres.shape[0], points.shape[0]
    empty = np.zeros(0, np.int64)
    if n == 0 or d == 0:
        return empty, empty
    r = np.asarray(radii, dtype=np.float64)
    r = np.minimum(np.where(np.isnan(r), -1.0, r), _RADIUS_CAP)
    reach = r >= 0.0
    if not reach.any():
        return empty, empty
    if n * d <= DENSE_MAX_PAIRS:
        return _all_pairs_within(centres, np.where(reach, r * r, -np.inf), points)
    # per-column reductions: min/max over axis 0 of an (N, 2) view is ~10x slower
    east, north = points[:, 0], points[:, 1]
    lo = np.array([east.min(), north.min()])
    span = np.array([east.max(), north.max()]) - lo
    # few centres and points, and east strips of gate width hold few points: one strip each
    strip_reads = n * d * min(1.0, 2.0 * float(r.max()) / max(float(span[0]), 1e-9))
    if n + d <= STRIP_MAX_ROWS and strip_reads <= STRIP_READS_PER_ROW * (n + d):
        return _strip_pairs_within(centres, r, reach, points)
    h = _cell_side(np.compress(reach, r), d / max(float(np.prod(span)), 1.0))
    p_cell = np.floor((points[:, :2] - lo) / h).astype(np.int64)
    n_cells = np.array([p_cell[:, 0].max(), p_cell[:, 1].max()]) + 1
    half = np.where(reach, np.ceil(r / h), 0).astype(np.int64)
    k_max = int(half.max())
    # centres far outside the points' extent are clipped to just outside it: their window
    # holds no point either way, and the keys stay small
    c_cell = np.floor((centres[:, :2] - lo) / h)
    c_cell = np.minimum(np.maximum(c_cell, -k_max - 1), n_cells + k_max + 1).astype(np.int64)
    width = int(n_cells[1]) + 2 * k_max + 3
    p_key = p_cell[:, 0] * width + p_cell[:, 1]
    # stable sorts: faster here than quicksort (the keys come partly sorted, since detections
    # are in east order), though any order would do (the pairs are sorted at the end)
    order = np.argsort(p_key, kind="stable")
    sorted_key = np.take(p_key, order)
    # centres in cell order too: neighbouring centres then search neighbouring keys, which
    # keeps searchsorted and the gathers below in the cache (~2x faster at 10^4-10^5)
    by_cell = np.argsort(c_cell[:, 0] * width + c_cell[:, 1], kind="stable")
    half, c_cell, reach = (
        np.take(half, by_cell),
        np.take(c_cell, by_cell, 0),
        np.take(reach, by_cell),
    )

    if reach.all() and int(half.min()) == k_max:  # every centre reads the same window
        start, stop = _uniform_window_runs(sorted_key, c_cell, width, k_max)
        count = stop - start
        per_centre = count.reshape(n, 2 * k_max + 1).sum(axis=1)
        c_rank = np.repeat(np.arange(n), per_centre)
    else:
        n_cols = np.where(reach, 2 * half + 1, 0)  # (N,) grid columns per centre
        col_centre = np.repeat(np.arange(n), n_cols)
        first_col = np.cumsum(n_cols) - n_cols
        col_half = np.take(half, col_centre)
        dx = np.arange(col_centre.size) - np.repeat(first_col, n_cols) - col_half
        base = (np.take(c_cell[:, 0], col_centre) + dx) * width + np.take(c_cell[:, 1], col_centre)
        start, stop = _runs(sorted_key, base - col_half, base + col_half)
        count = stop - start
        c_rank = np.repeat(col_centre, count)
    # the distance test reads centres and points in their sorted order: the candidate pairs
    # come in runs there, so the gathers stream through memory (10^5 centres: 14 -> 5 ms)
    first = np.cumsum(count) - count
    p_rank = np.arange(c_rank.size) - np.repeat(first - start, count)
    delta = np.take(select_rows(points, order), p_rank, axis=0)
    delta -= np.take(select_rows(centres, by_cell), c_rank, axis=0)
    inside = np.einsum("ij,ij->i", delta, delta) <= np.take(np.take(r, by_cell), c_rank) ** 2
    rows = np.take(by_cell, np.compress(inside, c_rank))
    cols = np.take(order, np.compress(inside, p_rank))
    key = np.argsort(rows * d + cols)  # unique keys: the order is that of (row, col)
    return np.take(rows, key), np.take(cols, key)


def _all_pairs_within(
    centres: FloatArray, r2: FloatArray, points: FloatArray
) -> tuple[IntArray, IntArray]:
    """:func:`pairs_within` by computing every squared distance: centres (N, 3), squared
    radii r2 (N,) (-inf finds nothing), points (D, 3); pairs sorted by centre, then point."""
    d2 = np.subtract.outer(centres[:, 0], points[:, 0])
    d2 *= d2
    for axis in (1, 2):
        step = np.subtract.outer(centres[:, axis], points[:, axis])
        step *= step
        d2 += step
    rows, cols = np.nonzero(d2 <= r2[:, None])
    return rows.astype(np.int64, copy=False), cols.astype(np.int64, copy=False)


def _strip_pairs_within(
    centres: FloatArray, r: FloatArray, reach: np.ndarray, points: FloatArray
) -> tuple[IntArray, IntArray]:
    """:func:`pairs_within` through east strips: for each centre the points whose east lies
    within its radius (a contiguous run of the points in east order, widened by a relative
    1e-12 so rounding of centre +- radius loses no point), then the exact 3-D test. r (N,)
    radii capped, -1 where ``reach`` is False; pairs sorted by centre, then point."""
    n, d = centres.shape[0], points.shape[0]
    east = points[:, 0]
    order = None if bool((east[1:] >= east[:-1]).all()) else np.argsort(east, kind="stable")
    sorted_east = east if order is None else east.take(order)
    width = r + 1e-12 * (np.abs(centres[:, 0]) + r)
    start = np.searchsorted(sorted_east, centres[:, 0] - width, side="left")
    stop = np.searchsorted(sorted_east, centres[:, 0] + width, side="right")
    count = np.where(reach, np.maximum(stop - start, 0), 0)
    c_rank = np.repeat(np.arange(n), count)
    first = np.cumsum(count) - count
    p_rank = np.arange(c_rank.size) - np.repeat(first - start, count)  # in east order
    cols = p_rank if order is None else order.take(p_rank)
    delta = points.take(cols, axis=0)
    delta -= centres.take(c_rank, axis=0)
    delta *= delta  # squared distances as three column sums (np.einsum costs ~6 us more)
    inside = (delta[:, 0] + delta[:, 1] + delta[:, 2]) <= r.take(c_rank) ** 2
    rows, cols = c_rank.compress(inside), cols.compress(inside)
    if order is not None:  # a centre's points in index order (east order is that already)
        key = np.argsort(rows * d + cols)
        rows, cols = rows.take(key), cols.take(key)
    return rows.astype(np.int64, copy=False), cols.astype(np.int64, copy=False)
