"""Global-nearest-neighbour association, solved cluster by cluster.

The gate graph (tracks and detections joined by gated pairs) is split into connected
components; each is an independent assignment problem. Components with one track or one
detection are solved for all at once with array operations; only the rest go one by one
through :func:`~skywarden.track.clusters.min_cost_matching` (the Hungarian method; scipy's
``linear_sum_assignment`` for big clusters). No dense matrix larger than a cluster, and no
scipy import unless a big cluster appears.

Costs are negative log likelihood ratios of "track i is detected as detection j" against
"track i is missed and detection j is clutter":
    net_ij = 0.5 (d2 + log det 2 pi S) + log(lambda) - log(Pd / (1 - Pd)),
so a pair is worth assigning only when net_ij < 0, and minimising the sum of the negative
net costs over a matching is the GNN solution with missed-detection and clutter options.
"""

from __future__ import annotations

import numpy as np

from skywarden.sorted_distinct import sorted_distinct
from skywarden.track.clusters import edge_components, min_cost_matching
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
    chosen = assigned_pairs(pairs, cost, n_tracks, n_detections)
    return pairs.track[chosen], pairs.detection[chosen]


def assigned_pairs(
    pairs: GatedPairs, cost: FloatArray, n_tracks: int, n_detections: int
) -> IntArray:
    """:func:`assign` as the indices (K,) into ``pairs`` of the assigned pairs (in the order
    ``assign`` returns them): the caller reads anything else of those pairs (their cost, a
    track's score gain) without searching for them."""
    k = np.flatnonzero(cost < 0.0)
    ti, dj, c = pairs.track[k], pairs.detection[k], cost[k]
    # A pair whose track and detection have no other candidate is its own cluster.
    alone = (np.bincount(ti, minlength=n_tracks)[ti] == 1) & (
        np.bincount(dj, minlength=n_detections)[dj] == 1
    )
    if alone.all():  # the usual case: every track meets at most its own detection
        return k
    out = [k[alone]]
    k, ti, dj, c = k[~alone], ti[~alone], dj[~alone], c[~alone]
    if ti.size:
        cluster = edge_components(ti, dj, n_tracks)
        tracks_in = _members_per_cluster(cluster, ti, n_tracks)
        dets_in = _members_per_cluster(cluster, dj, n_detections)
        star = (tracks_in[cluster] == 1) | (dets_in[cluster] == 1)
        out.append(k[star][_solve_stars(c[star], cluster[star])])
        out.append(k[~star][_solve_general(ti[~star], dj[~star], c[~star], cluster[~star])])
    return np.concatenate(out)


def _solve_stars(c: FloatArray, cluster: IntArray) -> IntArray:
    """Clusters with one track or one detection: the cheapest pair of each is optimal.
    Returns the positions of the chosen pairs."""
    order = np.lexsort((c, cluster))
    first = np.ones(order.size, bool)
    first[1:] = cluster[order][1:] != cluster[order][:-1]
    return order[first]


def _solve_general(ti: IntArray, dj: IntArray, c: FloatArray, cluster: IntArray) -> IntArray:
    """The remaining clusters: one dense assignment each. Returns the chosen positions."""
    if ti.size == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(cluster, kind="stable")
    ti, dj, c = ti[order], dj[order], c[order]
    bounds = np.flatnonzero(np.diff(cluster[order])) + 1
    out = []
    for sl_t, sl_d, sl_c, sl_at in zip(
        np.split(ti, bounds),
        np.split(dj, bounds),
        np.split(c, bounds),
        np.split(order, bounds),
        strict=True,
    ):
        out.append(sl_at[_solve_cluster(sl_t, sl_d, sl_c)])
    return np.concatenate(out)


def _members_per_cluster(cluster: IntArray, member: IntArray, n_members: int) -> IntArray:
    """Number of distinct members (tracks or detections) in each cluster label."""
    keys = sorted_distinct(cluster.astype(np.int64) * max(n_members, 1) + member)
    return np.bincount(keys // max(n_members, 1))


def _solve_cluster(ti: IntArray, dj: IntArray, c: FloatArray) -> IntArray:
    """Dense assignment inside one cluster; non-pairs cost 0 (= leave both unassigned).
    Returns the positions of the chosen pairs (in the order of their tracks)."""
    u_t, r = np.unique(ti, return_inverse=True)
    u_d, k = np.unique(dj, return_inverse=True)
    C = np.zeros((u_t.size, u_d.size))
    C[r, k] = c
    at = np.zeros((u_t.size, u_d.size), np.int64)
    at[r, k] = np.arange(ti.size)
    rows, cols = min_cost_matching(C)
    used = C[rows, cols] < 0.0
    return at[rows[used], cols[used]]
