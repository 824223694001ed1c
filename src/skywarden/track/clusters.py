"""Gate-graph clusters and the assignment inside one, without importing scipy at start-up.

``scipy.optimize`` costs 0.3-0.9 s to import and ``scipy.sparse.csgraph`` 0.2-0.5 s: more than
a whole ``skywarden track`` run of a hundred scans, for a handful of 2 x 2 clusters per run.
So:

- :func:`edge_components` labels the connected components of a bipartite graph given as
  edge lists, by vectorised minimum-label propagation with pointer jumping (a few NumPy
  passes; the number of passes grows with the log of a cluster's diameter).
- :func:`min_cost_matching` solves one dense rectangular assignment: the Hungarian method
  (shortest augmenting paths with potentials) in plain Python for the small clusters that
  gating produces, ``scipy.optimize.linear_sum_assignment`` (imported then) above
  ``SMALL_CLUSTER_CELLS``. Both give an optimal matching of min(rows, cols) pairs.
"""

from __future__ import annotations

import numpy as np

from skywarden.units import FloatArray, IntArray

SMALL_CLUSTER_CELLS = 400  # rows x cols up to this: Hungarian in Python (<= ~2 ms)


def edge_components(a: IntArray, b: IntArray, n_a: int) -> IntArray:
    """Component label of each edge (a[k], b[k]) of a bipartite graph.

    Args:
        a: (K,) indices of the first side (0..n_a-1). b: (K,) indices of the second side.
        n_a: size of the first side (the second side's nodes are numbered after it).

    Returns:
        (K,) int64 labels: two edges share a label iff they are connected. Labels are the
        smallest node number in the component (not consecutive).
    """
    if a.size == 0:
        return np.zeros(0, np.int64)
    u = a.astype(np.int64)
    v = b.astype(np.int64) + n_a
    label = np.arange(int(max(u.max(), v.max())) + 1, dtype=np.int64)
    while True:
        low = np.minimum(label[u], label[v])
        new = label.copy()
        np.minimum.at(new, u, low)
        np.minimum.at(new, v, low)
        while True:  # pointer jumping: label[i] <= i, so this converges
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, label):
            return label[u]
        label = new


def min_cost_matching(C: FloatArray) -> tuple[IntArray, IntArray]:
    """Rows and columns of a minimum-cost matching of min(R, K) pairs in the (R, K) matrix C
    (finite costs), as ``scipy.optimize.linear_sum_assignment`` returns them (rows sorted)."""
    n_rows, n_cols = C.shape
    if n_rows * n_cols > SMALL_CLUSTER_CELLS:
        from scipy.optimize import linear_sum_assignment

        rows, cols = linear_sum_assignment(C)
        return rows.astype(np.int64), cols.astype(np.int64)
    if n_rows <= n_cols:
        rows, cols = _hungarian(C.tolist(), n_rows, n_cols)
    else:
        cols, rows = _hungarian(C.T.tolist(), n_cols, n_rows)
    order = np.argsort(rows)
    return np.asarray(rows, np.int64)[order], np.asarray(cols, np.int64)[order]


def _hungarian(a: list[list[float]], n: int, m: int) -> tuple[list[int], list[int]]:
    """Hungarian method for n <= m (every row matched); returns (rows, cols)."""
    inf = float("inf")
    u = [0.0] * (n + 1)
    v = [0.0] * (m + 1)
    p = [0] * (m + 1)  # p[j]: row (1-based) matched to column j; 0 = none
    way = [0] * (m + 1)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = [inf] * (m + 1)
        used = [False] * (m + 1)
        while True:
            used[j0] = True
            i0 = p[j0]
            row = a[i0 - 1]
            delta, j1 = inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = row[j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j] = cur
                        way[j] = j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
    pairs = [(p[j] - 1, j - 1) for j in range(1, m + 1) if p[j]]
    return [r for r, _ in pairs], [c for _, c in pairs]
