"""Track metrics from a per-scan assignment of tracks to truths.

Assignment (scans paired as in :func:`~skywarden.evaluate.gospa.gospa_over_time`): a track and
a truth are *assigned* at a scan when they are closer than the gate c (the GOSPA cut-off).
By default the assignment is sticky, as in CLEAR MOT (Bernardin & Stiefelhagen 2008): a truth
keeps the track it was last assigned to if that track is present, still within c, and has not
been assigned to another truth since; the remaining truths and tracks get the optimal GOSPA
assignment. So two tracks that follow two close targets (a swarm) are not counted as swapping
whenever noise makes the other pairing a little cheaper. ``sticky=False`` uses the plain
per-scan GOSPA assignment (``GospaSeries.truth_track_id``). From the assignment:

- **ID switch**: consecutive assigned rows of one truth (in time, ignoring unassigned rows in
  between) carry different track ids. A, -, B is one switch (and one break); A, -, A is none.
- **Break** (fragmentation): a truth goes from assigned to unassigned and later is assigned
  again; per truth, breaks = number of runs of assigned rows - 1 (0 if never assigned).
- **Time to confirm** per truth: (first time a track is assigned to it) - (its first truth
  time), seconds; NaN when no track is ever assigned to it.
- **False track**: a track id whose evaluated rows (rows at a time matched to a truth time)
  are assigned to a truth in fewer than ``false_track_fraction`` (default 0.5) of them, i.e.
  it follows no truth for most of its life. Tracks with no evaluated rows are not judged.
- **Coverage** per truth: fraction of its rows with an assigned track.

Means of GOSPA and its parts are plain means over the evaluated scans (always the optimal
GOSPA assignment, whatever ``sticky`` says).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skywarden.evaluate.gospa import (
    NO_MATCH,
    GospaSeries,
    _gospa,
    evaluation_scans,
    gospa_over_time,
)
from skywarden.tables import TrackTable, Truth
from skywarden.units import BoolArray, FloatArray, IntArray

DEFAULT_C = 50.0  # metres: cut-off (and assignment gate); the CLI's default too
DEFAULT_P = 2.0  # parts are then in m^2; with p = 1 they would add up to the distance in m
DEFAULT_ALPHA = 2.0


@dataclass(frozen=True, slots=True)
class TruthScores:
    """Per-truth results, one entry per target id (sorted by id).

    Attributes: ``id`` (T,) target ids; ``first_time`` (T,) s; ``time_to_confirm`` (T,) s,
    NaN if never assigned; ``id_switches``, ``breaks``, ``n_track_ids`` (distinct track ids
    ever assigned) (T,) int64; ``coverage`` (T,) fraction of its rows with an assigned track.
    """

    id: IntArray
    first_time: FloatArray
    time_to_confirm: FloatArray
    id_switches: IntArray
    breaks: IntArray
    n_track_ids: IntArray
    coverage: FloatArray


@dataclass(frozen=True, slots=True)
class TrackScores:
    """Per-track results, one entry per track id that has evaluated rows (sorted by id).

    Attributes: ``id`` (K,) track ids; ``n_rows`` (K,) evaluated rows; ``assigned_fraction``
    (K,) share of them assigned to a truth; ``is_false`` (K,) bool; ``duration`` (K,) s from
    its first to its last evaluated row.
    """

    id: IntArray
    n_rows: IntArray
    assigned_fraction: FloatArray
    is_false: BoolArray
    duration: FloatArray


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Everything computed for one run: the GOSPA series and the per-truth/per-track scores."""

    series: GospaSeries
    truths: TruthScores
    tracks: TrackScores
    n_track_ids: int  # distinct track ids in the track table (evaluated or not)
    n_track_rows_not_evaluated: int
    false_track_fraction: float
    sticky: bool  # whether the metrics used the sticky (CLEAR MOT) assignment


def evaluate(
    truth: Truth,
    tracks: TrackTable,
    c: float = DEFAULT_C,
    p: float = DEFAULT_P,
    alpha: float = DEFAULT_ALPHA,
    *,
    time_tolerance: float = 1e-3,
    false_track_fraction: float = 0.5,
    score_track_only_times: bool = False,
    sticky: bool = True,
) -> Evaluation:
    """GOSPA over time and the track metrics of a run (see the module docstring).

    ``time_tolerance`` and ``score_track_only_times``: see :func:`gospa_over_time`.
    """
    series = gospa_over_time(
        truth, tracks, c, p, alpha, time_tolerance, score_track_only_times=score_track_only_times
    )
    if sticky:
        truth_track_id, track_truth_id = sticky_assignment(
            truth, tracks, c, time_tolerance, p=p, score_track_only_times=score_track_only_times
        )
    else:
        truth_track_id, track_truth_id = series.truth_track_id, series.track_truth_id
    return Evaluation(
        series=series,
        truths=truth_scores(truth, truth_track_id),
        tracks=track_scores(tracks, track_truth_id, series.track_evaluated, false_track_fraction),
        n_track_ids=int(np.unique(tracks.id).size),
        n_track_rows_not_evaluated=int(np.count_nonzero(~series.track_evaluated)),
        false_track_fraction=float(false_track_fraction),
        sticky=sticky,
    )


def _groups(keys: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """For sorted keys: the distinct keys, group start indices and each element's group."""
    if keys.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    new = np.concatenate(([True], keys[1:] != keys[:-1]))
    starts = np.flatnonzero(new)
    return keys[starts], starts, np.cumsum(new) - 1


def truth_scores(truth: Truth, truth_track_id: IntArray) -> TruthScores:
    """Per-truth ID switches, breaks, time to confirm and coverage.

    ``truth_track_id`` (N_truth,) is the track id assigned to each truth row, or NO_MATCH.
    """
    order = np.lexsort((truth.t, truth.id))
    ids, t, track = truth.id[order], truth.t[order], truth_track_id[order]
    uid, starts, group = _groups(ids)
    n = uid.size
    assigned = track != NO_MATCH
    # switches: consecutive assigned rows of one truth with different track ids
    a_group, a_track = group[assigned], track[assigned]
    switch = (a_group[1:] == a_group[:-1]) & (a_track[1:] != a_track[:-1])
    id_switches = np.bincount(a_group[1:][switch], minlength=n)
    # breaks: runs of assigned rows per truth, minus one
    first_of_group = np.zeros(ids.size, dtype=bool)
    first_of_group[starts] = True
    prev_assigned = np.concatenate(([False], assigned[:-1]))
    run_start = assigned & (first_of_group | ~prev_assigned)
    runs = np.bincount(group[run_start], minlength=n)
    breaks = np.maximum(runs - 1, 0)
    # time to confirm
    first_time = t[starts] if n else np.zeros(0)
    t_assigned = np.where(assigned, t, np.inf)
    first_assigned = np.minimum.reduceat(t_assigned, starts) if n else np.zeros(0)
    time_to_confirm = np.where(np.isfinite(first_assigned), first_assigned - first_time, np.nan)
    # distinct track ids per truth
    pairs = np.unique(np.column_stack((a_group, a_track)), axis=0) if a_group.size else None
    n_track_ids = (
        np.bincount(pairs[:, 0], minlength=n) if pairs is not None else np.zeros(n, np.int64)
    )
    rows = np.bincount(group, minlength=n)
    coverage = np.bincount(group, weights=assigned, minlength=n) / np.maximum(rows, 1)
    return TruthScores(
        id=uid,
        first_time=first_time,
        time_to_confirm=time_to_confirm,
        id_switches=id_switches.astype(np.int64),
        breaks=breaks.astype(np.int64),
        n_track_ids=n_track_ids.astype(np.int64),
        coverage=coverage,
    )


def track_scores(
    tracks: TrackTable,
    track_truth_id: IntArray,
    evaluated: BoolArray,
    false_track_fraction: float = 0.5,
) -> TrackScores:
    """Per-track assigned fraction and false-track flag over the evaluated track rows.

    ``track_truth_id`` (N_track,): target id assigned to each track row or NO_MATCH;
    ``evaluated`` (N_track,): whether the row's time was evaluated.
    """
    ids, t = tracks.id[evaluated], tracks.t[evaluated]
    assigned = track_truth_id[evaluated] != NO_MATCH
    order = np.lexsort((t, ids))
    ids, t, assigned = ids[order], t[order], assigned[order]
    uid, starts, group = _groups(ids)
    n = uid.size
    n_rows = np.bincount(group, minlength=n)
    fraction = np.bincount(group, weights=assigned, minlength=n) / np.maximum(n_rows, 1)
    ends = np.concatenate((starts[1:], [ids.size])) - 1 if n else starts
    duration = t[ends] - t[starts] if n else np.zeros(0)
    return TrackScores(
        id=uid,
        n_rows=n_rows.astype(np.int64),
        assigned_fraction=fraction,
        is_false=fraction < false_track_fraction,
        duration=duration,
    )


def sticky_assignment(
    truth: Truth,
    tracks: TrackTable,
    gate: float,
    time_tolerance: float = 1e-3,
    *,
    p: float = DEFAULT_P,
    score_track_only_times: bool = False,
) -> tuple[IntArray, IntArray]:
    """CLEAR-MOT-style assignment (see the module docstring) with gate ``gate`` metres.

    New pairs are chosen by the GOSPA assignment of order ``p`` with cut-off ``gate``.

    Returns ``truth_track_id`` (N_truth,) and ``track_truth_id`` (N_track,), NO_MATCH where
    unassigned. Loops over scans only; the work inside a scan is vectorised.
    """
    truth_ids, truth_index = np.unique(truth.id, return_inverse=True)
    track_ids, track_index = np.unique(tracks.id, return_inverse=True)
    last_track = np.full(truth_ids.size, NO_MATCH, dtype=np.int64)  # by truth index
    last_truth = np.full(track_ids.size, NO_MATCH, dtype=np.int64)  # by track index
    slot = np.full(track_ids.size, NO_MATCH, dtype=np.int64)  # track index -> row in scan
    truth_track_id = np.full(len(truth), NO_MATCH, dtype=np.int64)
    track_truth_id = np.full(len(tracks), NO_MATCH, dtype=np.int64)
    _, t_a, t_b, t_s, t_e, _ = evaluation_scans(
        truth, tracks, time_tolerance, score_track_only_times
    )
    for a, b, s, e in zip(t_a.tolist(), t_b.tolist(), t_s.tolist(), t_e.tolist(), strict=True):
        if a == b or s == e:
            continue
        xi, yi = truth_index[a:b], track_index[s:e]
        slot[yi] = np.arange(e - s)
        prev = last_track[xi]
        row = np.where(prev != NO_MATCH, slot[np.maximum(prev, 0)], NO_MATCH)
        kept = (row != NO_MATCH) & (last_truth[np.maximum(prev, 0)] == xi)
        k_x = np.flatnonzero(kept)
        k_y = row[k_x]
        close = np.linalg.norm(truth.pos[a + k_x] - tracks.pos[s + k_y], axis=1) < gate
        k_x, k_y = k_x[close], k_y[close]
        free_x = np.setdiff1d(np.arange(b - a), k_x)
        free_y = np.setdiff1d(np.arange(e - s), k_y)
        r = _gospa(truth.pos[a + free_x], tracks.pos[s + free_y], gate, p, 2.0)
        px = np.concatenate((k_x, free_x[r.truth_index]))
        py = np.concatenate((k_y, free_y[r.estimate_index]))
        truth_track_id[a + px] = tracks.id[s + py]
        track_truth_id[s + py] = truth.id[a + px]
        last_track[xi[px]] = yi[py]
        last_truth[yi[py]] = xi[px]
        slot[yi] = NO_MATCH
    return truth_track_id, track_truth_id
