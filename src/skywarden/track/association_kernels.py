"""Compiled GNN association: the optimal one-to-one assignment of gated pairs, solved
cluster by cluster in one call (numba; no fastmath).

:func:`skywarden.track.associate.assigned_pairs` (NumPy, the reference) labels the gate
graph's clusters with array passes and solves the clusters that are neither a lone pair nor
a star with a small Hungarian method in plain Python: 30-60 NumPy calls per solve, twice per
step. :func:`assigned_pairs` here does the same in one compiled call, with the same rules
and the same order of its result (which matters: candidates paired in that order start
tracks in it, and so get their numbers):

1. pairs with a negative net cost only;
2. pairs whose track and detection have no other pair: kept, in pair order;
3. the rest grouped into connected clusters, labelled by their smallest node (tracks
   0..N-1, detections N..N+D-1); a cluster with one track or one detection (a star) keeps
   its cheapest pair (the first of equal costs), clusters in label order;
4. every other cluster, in label order: the Hungarian method on its dense (tracks x
   detections) cost matrix (non-pairs cost 0), the same algorithm and arithmetic as
   :func:`skywarden.track.clusters.min_cost_matching`, keeping the matched pairs of
   negative cost in track order.

A cluster bigger than ``clusters.SMALL_CLUSTER_CELLS`` goes to scipy there: this kernel
then reports that it did not solve the problem and the NumPy reference is used.
"""

from __future__ import annotations

import numpy as np

from skywarden.track import associate
from skywarden.track.clusters import SMALL_CLUSTER_CELLS
from skywarden.track.compiled_kernel import kernel
from skywarden.track.gate import GatedPairs
from skywarden.units import FloatArray, IntArray


@kernel()
def _find(parent: IntArray, a: int) -> int:  # pragma: no cover - compiled
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


@kernel()
def _hungarian(C: FloatArray, n: int, m: int, transpose: bool) -> IntArray:  # pragma: no cover
    """clusters._hungarian on the (n <= m) matrix C (or C^T when ``transpose``): p (m + 1,)
    with p[j] the 1-based row matched to column j (0 = none)."""
    inf = np.inf
    u = np.zeros(n + 1)
    v = np.zeros(m + 1)
    p = np.zeros(m + 1, np.int64)
    way = np.zeros(m + 1, np.int64)
    minv = np.empty(m + 1)
    used = np.empty(m + 1, np.bool_)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv[:] = inf
        used[:] = False
        while True:
            used[j0] = True
            i0 = p[j0]
            delta, j1 = inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    a = C[j - 1, i0 - 1] if transpose else C[i0 - 1, j - 1]
                    cur = a - u[i0] - v[j]
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
    return p


@kernel()
def _assigned(
    track: IntArray,
    detection: IntArray,
    cost: FloatArray,
    n_tracks: int,
    n_dets: int,
    max_cells: int,
) -> tuple[IntArray, bool]:  # pragma: no cover - compiled
    """(indices into the pairs of the assigned pairs, solved); solved False: a cluster
    needs scipy (more than max_cells cells), nothing returned."""
    k = np.flatnonzero(cost < 0.0)
    t_count = np.zeros(n_tracks, np.int64)
    d_count = np.zeros(n_dets, np.int64)
    for q in k:
        t_count[track[q]] += 1
        d_count[detection[q]] += 1
    out = np.empty(k.shape[0], np.int64)
    n_out = 0
    rest = np.empty(k.shape[0], np.int64)
    n_rest = 0
    for q in k:
        if t_count[track[q]] == 1 and d_count[detection[q]] == 1:
            out[n_out] = q
            n_out += 1
        else:
            rest[n_rest] = q
            n_rest += 1
    if n_rest == 0:
        return out[:n_out].copy(), True
    rest = rest[:n_rest]
    # clusters: union-find over nodes, labelled by their smallest node
    parent = np.arange(n_tracks + n_dets)
    for q in rest:
        a, b = _find(parent, track[q]), _find(parent, n_tracks + detection[q])
        if a != b:
            parent[max(a, b)] = min(a, b)  # the root stays the smallest node
    label = np.empty(n_rest, np.int64)
    for e in range(n_rest):
        label[e] = _find(parent, track[rest[e]])
    # distinct tracks / detections per cluster (pairs are unique, so distinct nodes of a
    # star side are counted by marking them)
    seen_t = np.full(n_tracks, -1, np.int64)
    seen_d = np.full(n_dets, -1, np.int64)
    tracks_in = np.zeros(n_tracks + n_dets, np.int64)
    dets_in = np.zeros(n_tracks + n_dets, np.int64)
    for e in range(n_rest):
        q = rest[e]
        if seen_t[track[q]] != label[e]:
            seen_t[track[q]] = label[e]
            tracks_in[label[e]] += 1
        if seen_d[detection[q]] != label[e]:
            seen_d[detection[q]] = label[e]
            dets_in[label[e]] += 1
    # edges in (label, cost) order, ties in pair order: stars keep their first edge
    order = np.argsort(label, kind="mergesort")
    by_label = label[order]
    # within a label, a stable sort by cost
    start = 0
    while start < n_rest:
        stop = start
        while stop < n_rest and by_label[stop] == by_label[start]:
            stop += 1
        group = order[start:stop]
        costs = np.empty(stop - start)
        for g in range(stop - start):
            costs[g] = cost[rest[group[g]]]
        order[start:stop] = group[np.argsort(costs, kind="mergesort")]
        start = stop
    for g in range(n_rest):
        e = order[g]
        lab = label[e]
        star = tracks_in[lab] == 1 or dets_in[lab] == 1
        if star and (g == 0 or label[order[g - 1]] != lab):
            out[n_out] = rest[e]
            n_out += 1
    # general clusters, in label order (edges of a cluster in pair order)
    order = np.argsort(label, kind="mergesort")
    start = 0
    while start < n_rest:
        stop = start
        lab = label[order[start]]
        while stop < n_rest and label[order[stop]] == lab:
            stop += 1
        if not (tracks_in[lab] == 1 or dets_in[lab] == 1):
            edges = rest[order[start:stop]]
            u_t = np.unique(track[edges])
            u_d = np.unique(detection[edges])
            nr, nc = u_t.shape[0], u_d.shape[0]
            if nr * nc > max_cells:
                return out[:0].copy(), False
            C = np.zeros((nr, nc))
            at = np.zeros((nr, nc), np.int64)
            for q in edges:
                r = np.searchsorted(u_t, track[q])
                c = np.searchsorted(u_d, detection[q])
                C[r, c] = cost[q]
                at[r, c] = q
            # rows / cols of the matching (rows ascending), as min_cost_matching gives them
            rows = np.empty(min(nr, nc), np.int64)
            cols = np.empty(min(nr, nc), np.int64)
            n_match = 0
            if nr <= nc:
                p = _hungarian(C, nr, nc, False)
                for j in range(1, nc + 1):
                    if p[j]:
                        rows[n_match], cols[n_match] = p[j] - 1, j - 1
                        n_match += 1
            else:
                p = _hungarian(C, nc, nr, True)
                for j in range(1, nr + 1):
                    if p[j]:
                        rows[n_match], cols[n_match] = j - 1, p[j] - 1
                        n_match += 1
            by_row = np.argsort(rows[:n_match])
            for g in by_row:
                if C[rows[g], cols[g]] < 0.0:
                    out[n_out] = at[rows[g], cols[g]]
                    n_out += 1
        start = stop
    return out[:n_out].copy(), True


def assigned_pairs(
    pairs: GatedPairs, cost: FloatArray, n_tracks: int, n_detections: int
) -> IntArray:
    """:func:`skywarden.track.associate.assigned_pairs` (the indices (K,) into ``pairs`` of
    the GNN assignment, in the same order), compiled; the NumPy reference solves the rare
    problem with a cluster too big for the small Hungarian method (scipy's)."""
    chosen, solved = _assigned(
        pairs.track, pairs.detection, np.ascontiguousarray(cost), int(n_tracks),
        int(n_detections), SMALL_CLUSTER_CELLS,
    )  # fmt: skip
    if solved:
        return chosen
    return associate.assigned_pairs(pairs, cost, n_tracks, n_detections)


def warm() -> None:
    """Compile or load the association kernel with the tracker's argument types."""
    i = np.array([0, 0, 1, 1], np.int64)
    pairs = GatedPairs(i, np.array([0, 1, 0, 1], np.int64), np.zeros(4), np.ones(4))
    assigned_pairs(pairs, np.array([-2.0, -1.0, -1.5, -3.0]), 2, 2)
