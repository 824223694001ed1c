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
h is the median radius (at least 1/32 of the largest, so no centre looks at more than 65
columns), so a typical centre reads about nine cells. The work is O((N + D) log D) plus the
points in those cells; nothing loops in Python over centres or points.
"""

from __future__ import annotations

import numpy as np

from skywarden.units import FloatArray, IntArray

MAX_HALF_SPAN = 32  # grid columns each side of a centre, at most (h >= max radius / 32)
_RADIUS_CAP = 1e12  # metres: an infinite radius means "every point", which this still gives


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
    h = max(float(np.median(r[reach])), float(r.max()) / MAX_HALF_SPAN, 1e-9)
    lo = points[:, :2].min(axis=0)
    p_cell = np.floor((points[:, :2] - lo) / h).astype(np.int64)
    n_cells = p_cell.max(axis=0) + 1
    half = np.where(reach, np.ceil(r / h), 0).astype(np.int64)
    k_max = int(half.max())
    # centres far outside the points' extent are clipped to just outside it: their window
    # holds no point either way, and the keys stay small
    c_cell = np.floor((centres[:, :2] - lo) / h)
    c_cell = np.clip(c_cell, -k_max - 1, n_cells + k_max + 1).astype(np.int64)
    width = int(n_cells[1]) + 2 * k_max + 3
    p_key = p_cell[:, 0] * width + p_cell[:, 1]
    order = np.argsort(p_key, kind="stable")
    sorted_key = p_key[order]

    n_cols = np.where(reach, 2 * half + 1, 0)  # (N,) grid columns per centre
    col_centre = np.repeat(np.arange(n), n_cols)
    first_col = np.cumsum(n_cols) - n_cols
    dx = np.arange(col_centre.size) - np.repeat(first_col, n_cols) - half[col_centre]
    base = (c_cell[col_centre, 0] + dx) * width + c_cell[col_centre, 1]
    start = np.searchsorted(sorted_key, base - half[col_centre], side="left")
    stop = np.searchsorted(sorted_key, base + half[col_centre], side="right")
    count = stop - start
    rows = np.repeat(col_centre, count)
    first = np.cumsum(count) - count
    cols = order[np.arange(rows.size) - np.repeat(first - start, count)]
    delta = points[cols] - centres[rows]
    inside = np.einsum("ij,ij->i", delta, delta) <= r[rows] ** 2
    rows, cols = rows[inside], cols[inside]
    key = np.lexsort((cols, rows))
    return rows[key], cols[key]
