"""GOSPA: the generalised optimal sub-pattern assignment metric.

A. S. Rahmathullah, A. F. García-Fernández, L. Svensson, "Generalized optimal sub-pattern
assignment metric", FUSION 2017 (arXiv:1601.05585). For truth X (m points), estimates Y (n
points), cut-off c > 0, order 1 <= p < inf and 0 < alpha <= 2, with m <= n:

    GOSPA^p = min over assignments pi of the m truths to distinct estimates of
              sum_i min(d(x_i, y_pi(i)), c)^p  +  c^p / alpha * (n - m)

(symmetric in X and Y). We solve the minimum with ``scipy.optimize.linear_sum_assignment`` on
the cut-off cost matrix min(d, c)^p. d is the Euclidean distance between rows (positions).
Large sets (m * n > 4096) are solved exactly per connected component of the graph of pairs
closer than c (found with a KD-tree), so thousands of targets per scan stay cheap.

Reported parts (``GospaResult``), always with ``distance**p == localisation + missed_cost +
false_cost``:

- ``localisation``: sum of d^p over the assigned pairs, those with d < c (units m^p).
- ``missed`` / ``false``: COUNTS of truths / estimates not in an assigned pair. A pair of the
  optimal permutation with d >= c counts as one missed truth and one false estimate.
- ``missed_cost`` / ``false_cost``: their CONTRIBUTIONS to distance^p (units m^p). Points left
  over by the cardinality difference cost c^p/alpha each; a cut pair costs c^p, split c^p/2
  to missed and c^p/2 to false. With alpha = 2 (the paper's decomposition) this is simply
  ``missed_cost = c^p/2 * missed`` and ``false_cost = c^p/2 * false``, and these equal Stone
  Soup's ``GOSPAMetric`` values named 'missed' and 'false'.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from skywarden.tables import TrackTable, Truth
from skywarden.units import BoolArray, FloatArray, IntArray

NO_MATCH = -1  # "not assigned" in the id arrays of GospaSeries


@dataclass(frozen=True, slots=True)
class GospaResult:
    """GOSPA between one truth set and one estimate set (see the module docstring).

    Attributes:
        distance: GOSPA distance, metres.
        localisation: sum of d^p over assigned pairs (d < c), m^p.
        missed: number of truths not assigned (count).
        false: number of estimates not assigned (count).
        missed_cost: contribution of the missed truths to distance^p, m^p.
        false_cost: contribution of the false estimates to distance^p, m^p.
        truth_index: (k,) rows of X in the assigned pairs.
        estimate_index: (k,) rows of Y in the assigned pairs (same order).
    """

    distance: float
    localisation: float
    missed: int
    false: int
    missed_cost: float
    false_cost: float
    truth_index: IntArray
    estimate_index: IntArray


def check_parameters(c: float, p: float, alpha: float) -> None:
    """Raise ValueError unless c > 0, 1 <= p < inf and 0 < alpha <= 2."""
    if not (np.isfinite(c) and c > 0):
        raise ValueError(f"GOSPA cut-off c must be a finite number > 0, got {c!r}")
    if not (np.isfinite(p) and p >= 1):
        raise ValueError(f"GOSPA order p must be finite and >= 1, got {p!r}")
    if not (0 < alpha <= 2):
        raise ValueError(f"GOSPA alpha must be in (0, 2], got {alpha!r}")


def gospa(X: FloatArray, Y: FloatArray, c: float, p: float, alpha: float = 2.0) -> GospaResult:
    """GOSPA between truth points X (m, d) and estimate points Y (n, d); m or n may be 0."""
    check_parameters(c, p, alpha)
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    X = X.reshape(0, Y.shape[-1] if Y.ndim == 2 else 0) if X.size == 0 else X
    Y = Y.reshape(0, X.shape[-1]) if Y.size == 0 else Y
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y must be (m, d) and (n, d) arrays, got {X.shape} and {Y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise ValueError("X and Y must be finite")
    return _gospa(X, Y, float(c), float(p), float(alpha))


def _dense_pairs(X: FloatArray, Y: FloatArray, c: float, p: float) -> tuple[IntArray, ...]:
    """Optimal assignment on the full cut-off matrix; returns the pairs with d < c and d."""
    d = cdist(X, Y)
    rows, cols = linear_sum_assignment(np.minimum(d, c) ** p)
    within = d[rows, cols] < c
    return rows[within], cols[within], d[rows[within], cols[within]]


def _sparse_pairs(X: FloatArray, Y: FloatArray, c: float, p: float) -> tuple[IntArray, ...]:
    """The same optimum, solved per connected component of the graph of pairs with d < c.

    Minimising sum min(d, c)^p over full assignments is minimising sum (d^p - c^p) over the
    pairs with d < c, which splits over connected components: exact, and cheap for big sets.
    """
    m, n = X.shape[0], Y.shape[0]
    edges = cKDTree(X).sparse_distance_matrix(cKDTree(Y), c, output_type="ndarray")
    edges = edges[edges["v"] < c]
    i, j, dist = edges["i"].astype(np.int64), edges["j"].astype(np.int64), edges["v"]
    graph = coo_matrix((np.ones(i.size), (i, m + j)), shape=(m + n, m + n))
    _, label = connected_components(graph, directed=False)
    comp = label[i]
    per_comp = np.bincount(comp, minlength=m + n)
    single = per_comp[comp] == 1  # a component of one edge: that pair is optimal
    rows, cols, ds = [i[single]], [j[single]], [dist[single]]
    order = np.argsort(comp[~single], kind="stable")
    ci, cj, cd, cc = (a[~single][order] for a in (i, j, dist, comp))
    bounds = np.flatnonzero(np.diff(cc)) + 1
    for ei, ej, ed in zip(*(np.split(a, bounds) for a in (ci, cj, cd)), strict=True):
        if ei.size == 0:
            continue
        ui, ri = np.unique(ei, return_inverse=True)
        uj, rj = np.unique(ej, return_inverse=True)
        d = np.full((ui.size, uj.size), np.inf)
        d[ri, rj] = ed
        r, k = linear_sum_assignment(np.minimum(d, c) ** p)
        keep = d[r, k] < c
        rows.append(ui[r[keep]])
        cols.append(uj[k[keep]])
        ds.append(d[r[keep], k[keep]])
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(ds)


def _gospa(
    X: FloatArray, Y: FloatArray, c: float, p: float, alpha: float, dense_limit: int = 4096
) -> GospaResult:
    m, n = X.shape[0], Y.shape[0]
    if m and n:
        solve = _dense_pairs if m * n <= dense_limit else _sparse_pairs
        rows, cols, d = solve(X, Y, c, p)
        localisation = float(np.sum(d**p))
    else:
        rows = cols = np.zeros(0, dtype=np.int64)
        localisation = 0.0
    k = rows.size
    cut_pairs = min(m, n) - k
    cp = c**p
    missed_cost = cp / alpha * max(m - n, 0) + cp / 2.0 * cut_pairs
    false_cost = cp / alpha * max(n - m, 0) + cp / 2.0 * cut_pairs
    return GospaResult(
        distance=(localisation + missed_cost + false_cost) ** (1.0 / p),
        localisation=localisation,
        missed=m - k,
        false=n - k,
        missed_cost=missed_cost,
        false_cost=false_cost,
        truth_index=rows.astype(np.int64),
        estimate_index=cols.astype(np.int64),
    )


@dataclass(frozen=True, slots=True)
class GospaSeries:
    """GOSPA at every truth time of a run, and the per-row assignment it used.

    Per evaluated time (K,): ``t`` seconds; ``distance`` metres; ``localisation``,
    ``missed_cost``, ``false_cost`` in m^p; ``missed``, ``false``, ``n_truth``, ``n_tracks``
    counts. Per truth row (N_truth,): ``truth_track_id`` the track id assigned to it at its
    time, or NO_MATCH. Per track row (N_track,): ``track_truth_id`` the target id it is
    assigned to, or NO_MATCH; ``track_evaluated`` whether its time was matched to a truth
    time. ``unmatched_track_times`` counts distinct track times with no truth time (their rows
    are not evaluated).
    """

    t: FloatArray
    distance: FloatArray
    localisation: FloatArray
    missed_cost: FloatArray
    false_cost: FloatArray
    missed: IntArray
    false: IntArray
    n_truth: IntArray
    n_tracks: IntArray
    truth_track_id: IntArray
    track_truth_id: IntArray
    track_evaluated: BoolArray
    unmatched_track_times: int
    c: float
    p: float
    alpha: float

    def __len__(self) -> int:
        return int(self.t.shape[0])


def _scan_bounds(t: FloatArray) -> tuple[FloatArray, IntArray, IntArray]:
    """Distinct times of a time-sorted array and the [start, end) rows of each."""
    if t.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return np.zeros(0), empty, empty
    starts = np.concatenate(([0], np.flatnonzero(np.diff(t) != 0) + 1)).astype(np.int64)
    ends = np.concatenate((starts[1:], [t.size])).astype(np.int64)
    return t[starts], starts, ends


def _nearest(sorted_values: FloatArray, query: FloatArray) -> IntArray:
    """Index of the nearest element of a non-empty sorted array for each query value."""
    right = np.clip(np.searchsorted(sorted_values, query), 1, sorted_values.size - 1)
    left = right - 1
    if sorted_values.size == 1:
        return np.zeros(query.shape, dtype=np.int64)
    closer_left = np.abs(query - sorted_values[left]) <= np.abs(sorted_values[right] - query)
    return np.where(closer_left, left, right).astype(np.int64)


def match_times(truth_times: FloatArray, track_times: FloatArray, tolerance: float) -> IntArray:
    """For each distinct truth time, the index of its track time, or NO_MATCH.

    A truth time and a track time match when each is the other's nearest and they differ by
    at most ``tolerance`` seconds, so no track scan is used at two truth times.
    """
    out = np.full(truth_times.shape, NO_MATCH, dtype=np.int64)
    if truth_times.size == 0 or track_times.size == 0:
        return out
    j = _nearest(track_times, truth_times)
    back = _nearest(truth_times, track_times[j])
    ok = (np.abs(track_times[j] - truth_times) <= tolerance) & (back == np.arange(truth_times.size))
    out[ok] = j[ok]
    return out


def evaluation_scans(
    truth: Truth, tracks: TrackTable, tolerance: float, score_track_only_times: bool
) -> tuple[FloatArray, IntArray, IntArray, IntArray, IntArray, int]:
    """Times to evaluate, each with its truth rows [a, b) and track rows [s, e); and the
    number of track times that match no truth time."""
    times, a, b = _scan_bounds(truth.t)
    track_times, s_start, s_end = _scan_bounds(tracks.t)
    match = match_times(times, track_times, tolerance)
    matched = match != NO_MATCH
    s, e = np.zeros_like(a), np.zeros_like(a)
    s[matched], e[matched] = s_start[match[matched]], s_end[match[matched]]
    unused = np.ones(track_times.size, dtype=bool)
    unused[match[matched]] = False
    if score_track_only_times and unused.any():
        zero = np.zeros(int(unused.sum()), dtype=np.int64)
        times = np.concatenate((times, track_times[unused]))
        order = np.argsort(times, kind="stable")
        a, b = (np.concatenate((x, zero))[order] for x in (a, b))
        s = np.concatenate((s, s_start[unused]))[order]
        e = np.concatenate((e, s_end[unused]))[order]
        times = times[order]
    return times, a, b, s, e, int(unused.sum())


def gospa_over_time(
    truth: Truth,
    tracks: TrackTable,
    c: float,
    p: float,
    alpha: float = 2.0,
    time_tolerance: float = 1e-3,
    *,
    score_track_only_times: bool = False,
) -> GospaSeries:
    """GOSPA on positions at every distinct truth time.

    At each truth time the truth set is the truth rows at that time and the estimate set is
    the track rows of the track time matched to it (:func:`match_times`, within
    ``time_tolerance`` seconds); a truth time with no matching track time has no tracks (every
    truth is missed). A track time that matches no truth time is, by default, left out of
    GOSPA and the metrics (its rows have ``track_evaluated`` False; ``unmatched_track_times``
    counts such times): truth sampled at other times than the tracker's scans says nothing
    about them. With ``score_track_only_times`` such times are evaluated against an empty
    truth set instead (every track there is false): use it when the truth file lists every
    target at every scan time, so that a scan without truth rows means "no targets".
    Both tables must be time-sorted.
    """
    check_parameters(c, p, alpha)
    if len(tracks) and tracks.id.min() < 0:
        raise ValueError("track ids must be >= 0")
    times, t_a, t_b, t_s, t_e, unmatched = evaluation_scans(
        truth, tracks, time_tolerance, score_track_only_times
    )
    k = times.size
    distance, localisation, missed_cost, false_cost = (np.zeros(k) for _ in range(4))
    missed, false = np.zeros(k, dtype=np.int64), np.zeros(k, dtype=np.int64)
    truth_track_id = np.full(len(truth), NO_MATCH, dtype=np.int64)
    track_truth_id = np.full(len(tracks), NO_MATCH, dtype=np.int64)
    track_evaluated = np.zeros(len(tracks), dtype=bool)
    rows = zip(t_a.tolist(), t_b.tolist(), t_s.tolist(), t_e.tolist(), strict=True)
    for i, (a, b, s, e) in enumerate(rows):
        r = _gospa(truth.pos[a:b], tracks.pos[s:e], c, p, alpha)
        distance[i], localisation[i] = r.distance, r.localisation
        missed_cost[i], false_cost[i] = r.missed_cost, r.false_cost
        missed[i], false[i] = r.missed, r.false
        truth_track_id[a + r.truth_index] = tracks.id[s + r.estimate_index]
        track_truth_id[s + r.estimate_index] = truth.id[a + r.truth_index]
        track_evaluated[s:e] = True
    return GospaSeries(
        t=times,
        distance=distance,
        localisation=localisation,
        missed_cost=missed_cost,
        false_cost=false_cost,
        missed=missed,
        false=false,
        n_truth=t_b - t_a,
        n_tracks=t_e - t_s,
        truth_track_id=truth_track_id,
        track_truth_id=track_truth_id,
        track_evaluated=track_evaluated,
        unmatched_track_times=unmatched,
        c=float(c),
        p=float(p),
        alpha=float(alpha),
    )
