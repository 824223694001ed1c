"""Global-nearest-neighbour association, solved cluster by cluster.

The gate graph (tracks and detections joined by gated pairs) is split into connected
components; each is an independent assignment problem. Components with one track or one
detection are solved for all at once with array operations; only the rest go one by one
through ``scipy.optimize.linear_sum_assignment``. No dense matrix larger than a cluster.

Costs are negative log likelihood ratios of "track i is detected as detection j" against
"track i is missed and detection j is clutter":
    net_ij = 0.5 (d2 + log det 2 pi S) + log(lambda) - log(Pd / (1 - Pd)),
so a pair is worth assigning only when net_ij < 0, and minimising the sum of the negative
net costs over a matching is the GNN solution with missed-detection and clutter options.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from skywarden.track.gate import GatedPairs
from skywarden.track.kalman import LOG_2PI
from skywarden.units import FloatArray, IntArray


def net_cost(pairs: GatedPairs, pd: float, clutter_density: float) -> FloatArray:
    """Net assignment cost of each gated pair (negative = better than miss + clutter)."""
    return (
        0.5 * (pairs.d2 + np.log(pairs.det_S) + 3.0 * LOG_2PI)
        + np.log(clutter_density)
        - np.log(pd / (1.0 - pd))
    )


def assign(
    pairs: GatedPairs, cost: FloatArray, n_tracks: int, n_detections: int
) -> tuple[IntArray, IntArray]:
    """Optimal one-to-one assignment of tracks to detections minimising the total cost.

    Only pairs with negative cost are candidates. Returns (track indices, detection indices).
    """
    good = cost < 0.0
    ti, dj, c = pairs.track[good], pairs.detection[good], cost[good]
    if ti.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    graph = coo_matrix(
        (np.ones(ti.size), (ti, n_tracks + dj)), shape=(n_tracks + n_detections,) * 2
    )
    _, labels = connected_components(graph, directed=False)
    cluster = labels[ti]
    tracks_in = _members_per_cluster(cluster, ti, n_tracks)
    dets_in = _members_per_cluster(cluster, dj, n_detections)
    simple = (tracks_in[cluster] == 1) | (dets_in[cluster] == 1)

    # Star clusters (one track or one detection): the best single pair is optimal.
    order = np.lexsort((c[simple], cluster[simple]))
    s_cluster = cluster[simple][order]
    first = np.ones(s_cluster.size, bool)
    first[1:] = s_cluster[1:] != s_cluster[:-1]
    out_t = [ti[simple][order][first]]
    out_d = [dj[simple][order][first]]

    # General clusters: one linear_sum_assignment each.
    hard = ~simple
    if hard.any():
        h_order = np.argsort(cluster[hard], kind="stable")
        h_t, h_d, h_c = ti[hard][h_order], dj[hard][h_order], c[hard][h_order]
        bounds = np.flatnonzero(np.diff(cluster[hard][h_order])) + 1
        for sl_t, sl_d, sl_c in zip(
            np.split(h_t, bounds), np.split(h_d, bounds), np.split(h_c, bounds), strict=True
        ):
            a_t, a_d = _solve_cluster(sl_t, sl_d, sl_c)
            out_t.append(a_t)
            out_d.append(a_d)
    return np.concatenate(out_t), np.concatenate(out_d)


def _members_per_cluster(cluster: IntArray, member: IntArray, n_members: int) -> IntArray:
    """Number of distinct members (tracks or detections) in each cluster label."""
    keys = np.unique(cluster.astype(np.int64) * max(n_members, 1) + member)
    return np.bincount(keys // max(n_members, 1))


def _solve_cluster(ti: IntArray, dj: IntArray, c: FloatArray) -> tuple[IntArray, IntArray]:
    """Dense assignment inside one cluster; non-pairs cost 0 (= leave both unassigned)."""
    u_t, r = np.unique(ti, return_inverse=True)
    u_d, k = np.unique(dj, return_inverse=True)
    C = np.zeros((u_t.size, u_d.size))
    C[r, k] = c
    rows, cols = linear_sum_assignment(C)
    used = C[rows, cols] < 0.0
    return u_t[rows[used]], u_d[cols[used]]
