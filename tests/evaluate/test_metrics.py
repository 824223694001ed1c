"""Track metrics on hand-built truth/track tables, and the vectorised scores against a slow loop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.evaluate.gospa import NO_MATCH, gospa
from skywarden.evaluate.metrics import evaluate, sticky_assignment, truth_scores
from skywarden.tables import TrackTable, Truth

TIMES = np.arange(10.0)
START = {1: np.array([0.0, 0.0, 100.0]), 2: np.array([5000.0, 0.0, 100.0])}
VELOCITY = np.array([10.0, 5.0, 0.0])


def truth_table(ids=(1, 2), times=TIMES) -> Truth:
    t = np.repeat(times, len(ids))
    target = np.tile(np.array(ids, dtype=np.int64), len(times))
    pos = np.array([START[int(i)] for i in target]) + (t - times[0])[:, None] * VELOCITY
    return Truth(t=t, id=target, pos=pos, vel=np.tile(VELOCITY, (t.size, 1)))


def track_table(rows: list[tuple[float, int, np.ndarray]]) -> TrackTable:
    """Rows of (time, track id, position); sorted here by time."""
    rows = sorted(rows, key=lambda r: r[0])
    if not rows:
        return TrackTable(np.zeros(0), np.zeros(0, np.int64), np.zeros((0, 3)), np.zeros((0, 3)))
    pos = np.array([r[2] for r in rows], dtype=float)
    return TrackTable(
        t=np.array([r[0] for r in rows]),
        id=np.array([r[1] for r in rows], dtype=np.int64),
        pos=pos,
        vel=np.zeros_like(pos),
    )


def on_truth(target: int, t: float, offset=(3.0, 4.0, 0.0)) -> np.ndarray:
    return START[target] + t * VELOCITY + np.asarray(offset)


def test_perfect_tracking() -> None:
    rows = [(t, 10 + k, on_truth(k, t)) for t in TIMES for k in (1, 2)]
    ev = evaluate(truth_table(), track_table(rows), c=100, p=1)
    s = ev.series
    assert np.allclose(s.distance, 2 * 5.0) and not s.missed.any() and not s.false.any()
    assert ev.truths.id.tolist() == [1, 2]
    assert ev.truths.id_switches.tolist() == [0, 0] and ev.truths.breaks.tolist() == [0, 0]
    assert ev.truths.time_to_confirm.tolist() == [0.0, 0.0]
    assert ev.truths.coverage.tolist() == [1.0, 1.0] and ev.truths.n_track_ids.tolist() == [1, 1]
    assert ev.tracks.id.tolist() == [11, 12] and not ev.tracks.is_false.any()
    assert ev.tracks.duration.tolist() == [9.0, 9.0]


def test_swap_counts_one_switch_per_truth() -> None:
    rows = [(t, 10 + (k if t < 5 else 3 - k), on_truth(k, t)) for t in TIMES for k in (1, 2)]
    ev = evaluate(truth_table(), track_table(rows), c=100, p=1)
    assert ev.truths.id_switches.tolist() == [1, 1]
    assert ev.truths.breaks.tolist() == [0, 0]
    assert ev.truths.n_track_ids.tolist() == [2, 2]
    assert not ev.tracks.is_false.any()


def test_break_then_same_track_is_a_break_not_a_switch() -> None:
    rows = [(t, 10, on_truth(1, t)) for t in TIMES if not 4 <= t <= 6]
    ev = evaluate(truth_table(ids=(1,)), track_table(rows), c=100, p=1)
    assert ev.truths.breaks.tolist() == [1] and ev.truths.id_switches.tolist() == [0]
    assert ev.truths.coverage.tolist() == [pytest.approx(0.7)]
    assert ev.series.missed.tolist() == [0, 0, 0, 0, 1, 1, 1, 0, 0, 0]


def test_break_then_new_track_is_a_break_and_a_switch() -> None:
    rows = [(t, 10 if t < 4 else 11, on_truth(1, t)) for t in TIMES if not 4 <= t <= 6]
    ev = evaluate(truth_table(ids=(1,)), track_table(rows), c=100, p=1)
    assert ev.truths.breaks.tolist() == [1] and ev.truths.id_switches.tolist() == [1]


def test_two_breaks() -> None:
    rows = [(t, 10, on_truth(1, t)) for t in TIMES if t not in (2.0, 5.0, 6.0)]
    ev = evaluate(truth_table(ids=(1,)), track_table(rows), c=100, p=1)
    assert ev.truths.breaks.tolist() == [2]


def test_false_tracks_and_time_to_confirm() -> None:
    far = np.array([-20000.0, 0.0, 100.0])
    rows = [(t, 10, on_truth(1, t)) for t in TIMES if t >= 3]  # truth 1 confirmed at t=3
    rows += [(t, 20, far) for t in TIMES]  # never near anything: false
    rows += [(t, 21, on_truth(2, t) if t < 3 else far) for t in TIMES]  # 3/10 near: false
    rows += [(t, 22, on_truth(2, t + 20.0) if t >= 3 else far + 1) for t in TIMES]  # 0/10
    ev = evaluate(truth_table(), track_table(rows), c=100, p=1)
    tracks = ev.tracks
    assert tracks.id.tolist() == [10, 20, 21, 22]
    assert tracks.assigned_fraction.tolist() == pytest.approx([1.0, 0.0, 0.3, 0.0])
    assert tracks.is_false.tolist() == [False, True, True, True]
    assert ev.truths.time_to_confirm[0] == 3.0
    assert ev.truths.time_to_confirm[1] == 0.0


def test_majority_tracking_track_is_not_false() -> None:
    rows = [(t, 30, on_truth(1, t) if t < 6 else on_truth(1, t) + 900) for t in TIMES]
    ev = evaluate(truth_table(ids=(1,)), track_table(rows), c=100, p=1)
    assert ev.tracks.assigned_fraction.tolist() == [pytest.approx(0.6)]
    assert ev.tracks.is_false.tolist() == [False]
    ev = evaluate(truth_table(ids=(1,)), track_table(rows), c=100, p=1, false_track_fraction=0.7)
    assert ev.tracks.is_false.tolist() == [True]


def test_never_tracked_truth_and_no_tracks_at_all() -> None:
    ev = evaluate(truth_table(), track_table([]), c=50, p=2)
    assert np.isnan(ev.truths.time_to_confirm).all()
    assert ev.truths.breaks.tolist() == [0, 0] and ev.truths.coverage.tolist() == [0.0, 0.0]
    assert ev.tracks.id.size == 0 and ev.n_track_ids == 0
    assert np.allclose(ev.series.distance, np.sqrt(2 * 50**2 / 2))


def test_track_rows_between_truth_times_are_not_evaluated() -> None:
    far_away = np.full(3, 1e6)
    rows = [(t, 10, on_truth(1, t)) for t in TIMES] + [(0.5, 10, far_away), (1.5, 10, far_away)]
    ev = evaluate(truth_table(ids=(1,)), track_table(rows), c=100, p=1)
    assert ev.n_track_rows_not_evaluated == 2 and ev.series.unmatched_track_times == 2
    assert ev.tracks.n_rows.tolist() == [10] and not ev.tracks.is_false.any()


def test_truth_that_appears_late() -> None:
    truth = truth_table(ids=(1,))
    late = truth_table(ids=(2,), times=TIMES[4:])
    order = np.argsort(np.concatenate((truth.t, late.t)), kind="stable")
    both = Truth(
        t=np.concatenate((truth.t, late.t))[order],
        id=np.concatenate((truth.id, late.id))[order],
        pos=np.concatenate((truth.pos, late.pos))[order],
        vel=np.concatenate((truth.vel, late.vel))[order],
    )
    rows = [(t, 10, on_truth(1, t)) for t in TIMES]
    rows += [(t, 11, START[2] + (t - 4) * VELOCITY) for t in TIMES if t >= 6]
    ev = evaluate(both, track_table(rows), c=100, p=1)
    assert ev.truths.first_time.tolist() == [0.0, 4.0]
    assert ev.truths.time_to_confirm.tolist() == [0.0, 2.0]


# ------------------------------------------------------------------ oracle: a slow loop


def slow_truth_scores(ids, times, assigned):
    out = {}
    for target in sorted(set(ids.tolist())):
        rows = sorted((t, a) for i, t, a in zip(ids, times, assigned, strict=True) if i == target)
        seq = [a for _, a in rows]
        got = [a for a in seq if a != NO_MATCH]
        switches = sum(1 for x, y in zip(got, got[1:], strict=False) if x != y)
        runs = sum(
            1 for k, a in enumerate(seq) if a != NO_MATCH and (k == 0 or seq[k - 1] == NO_MATCH)
        )
        first = next((t for t, a in rows if a != NO_MATCH), None)
        ttc = np.nan if first is None else first - rows[0][0]
        out[target] = (switches, max(runs - 1, 0), ttc, len(set(got)), len(got) / len(seq))
    return out


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_truth_scores_match_a_slow_loop(data) -> None:
    n_targets = data.draw(st.integers(1, 4))
    n_times = data.draw(st.integers(1, 12))
    present = data.draw(
        st.lists(st.booleans(), min_size=n_targets * n_times, max_size=n_targets * n_times)
    )
    t = np.repeat(np.arange(float(n_times)), n_targets)[np.array(present, bool)]
    ids = np.tile(np.arange(n_targets) * 3 + 1, n_times)[np.array(present, bool)]
    if t.size == 0:
        return
    assigned = np.array(
        data.draw(st.lists(st.sampled_from([NO_MATCH, 5, 6, 7]), min_size=t.size, max_size=t.size)),
        dtype=np.int64,
    )
    truth = Truth(
        t=t, id=ids.astype(np.int64), pos=np.zeros((t.size, 3)), vel=np.zeros((t.size, 3))
    )
    got = truth_scores(truth, assigned)
    want = slow_truth_scores(ids, t, assigned)
    assert got.id.tolist() == sorted(want)
    for k, target in enumerate(got.id.tolist()):
        switches, breaks, ttc, n_ids, coverage = want[target]
        assert got.id_switches[k] == switches and got.breaks[k] == breaks
        assert got.n_track_ids[k] == n_ids and got.coverage[k] == pytest.approx(coverage)
        assert np.array_equal(got.time_to_confirm[k], ttc, equal_nan=True)


def test_track_only_times_scored_as_false_when_asked() -> None:
    truth = truth_table(ids=(1,), times=TIMES[:5])  # the target leaves after t=4
    rows = [(t, 10, on_truth(1, t)) for t in TIMES[:5]] + [(t, 11, np.zeros(3)) for t in TIMES[5:]]
    skipped = evaluate(truth, track_table(rows), c=100, p=1)
    assert skipped.series.t.tolist() == TIMES[:5].tolist()
    assert skipped.tracks.id.tolist() == [10] and skipped.n_track_rows_not_evaluated == 5
    scored = evaluate(truth, track_table(rows), c=100, p=1, score_track_only_times=True)
    assert scored.series.t.tolist() == TIMES.tolist()
    assert scored.series.false.tolist() == [0] * 5 + [1] * 5
    assert scored.series.n_truth.tolist() == [1] * 5 + [0] * 5
    assert np.allclose(scored.series.distance[5:], 50.0)
    assert scored.tracks.id.tolist() == [10, 11] and scored.tracks.is_false.tolist() == [
        False,
        True,
    ]
    assert scored.n_track_rows_not_evaluated == 0 and scored.series.unmatched_track_times == 5


# ------------------------------------------------------------------ sticky assignment


def still_truth(positions: dict[int, tuple], times=(0.0, 1.0, 2.0)) -> Truth:
    rows = [(t, k, positions[k]) for t in times for k in sorted(positions)]
    pos = np.array([r[2] for r in rows], dtype=float)
    return Truth(
        t=np.array([r[0] for r in rows]),
        id=np.array([r[1] for r in rows], dtype=np.int64),
        pos=pos,
        vel=np.zeros_like(pos),
    )


def test_noise_in_a_swarm_is_not_a_swap() -> None:
    truth = still_truth({1: (0, 0, 0), 2: (4, 0, 0)})
    # at t=1 tracks A and B wander so that the optimal pairing is crossed (1.5 + 1.5 < 2.5 + 2.5)
    tracks = track_table(
        [(0.0, 10, (0, 0, 0)), (0.0, 11, (4, 0, 0))]
        + [(1.0, 10, (2.5, 0, 0)), (1.0, 11, (1.5, 0, 0))]
        + [(2.0, 10, (0, 0, 0)), (2.0, 11, (4, 0, 0))]
    )
    plain = evaluate(truth, tracks, c=50, p=2, sticky=False)
    assert plain.truths.id_switches.tolist() == [2, 2]
    sticky = evaluate(truth, tracks, c=50, p=2)
    assert sticky.truths.id_switches.tolist() == [0, 0]
    assert sticky.series.distance[1] == pytest.approx(np.sqrt(1.5**2 * 2))  # GOSPA stays optimal


def test_sticky_pair_released_beyond_gate_and_needs_mutual_claim() -> None:
    truth = still_truth({1: (0, 0, 0), 2: (30, 0, 0)}, times=(0.0, 1.0, 2.0, 3.0))
    tracks = track_table(
        [(0.0, 10, (0, 0, 0)), (0.0, 11, (30, 0, 0))]
        # t=1: track 11 is gone, track 10 moves next to truth 2 (beyond the 20 m gate of 1)
        + [(1.0, 10, (29, 0, 0))]
        # t=2: track 10 is halfway: truth 1 last had 10, but 10 was taken by truth 2 since
        + [(2.0, 10, (14, 0, 0))]
        + [(3.0, 10, (14, 0, 0)), (3.0, 12, (1, 0, 0))]
    )
    truth_track, _ = sticky_assignment(truth, tracks, gate=20.0, p=2.0)
    by_time = truth_track.reshape(4, 2)  # rows: time; columns: truth 1, truth 2
    assert by_time.tolist() == [[10, 11], [NO_MATCH, 10], [NO_MATCH, 10], [12, 10]]


def slow_sticky(truth: Truth, tracks: TrackTable, gate: float, p: float) -> list[int]:
    """Dictionary-per-scan reference of the sticky assignment (truth rows' track ids)."""
    last_track: dict[int, int] = {}
    last_truth: dict[int, int] = {}
    out = [NO_MATCH] * len(truth)
    for time in np.unique(truth.t):
        tr = np.flatnonzero(truth.t == time).tolist()
        tk = np.flatnonzero(tracks.t == time).tolist()
        pairs = {}
        for i in tr:
            target = int(truth.id[i])
            mine = last_track.get(target)
            for j in tk:
                same = int(tracks.id[j]) == mine and last_truth.get(mine) == target
                if same and np.linalg.norm(truth.pos[i] - tracks.pos[j]) < gate:
                    pairs[i] = j
        free_i = [i for i in tr if i not in pairs]
        free_j = [j for j in tk if j not in pairs.values()]
        r = gospa(truth.pos[free_i].reshape(-1, 3), tracks.pos[free_j].reshape(-1, 3), gate, p)
        for a, b in zip(r.truth_index.tolist(), r.estimate_index.tolist(), strict=True):
            pairs[free_i[a]] = free_j[b]
        for i, j in pairs.items():
            out[i] = int(tracks.id[j])
            last_track[int(truth.id[i])] = int(tracks.id[j])
            last_truth[int(tracks.id[j])] = int(truth.id[i])
    return out


def test_sticky_assignment_matches_a_slow_reference() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        n_t, n_scans = int(rng.integers(1, 6)), int(rng.integers(1, 15))
        centre = rng.uniform(0, 40, (n_t, 3))
        t = np.repeat(np.arange(float(n_scans)), n_t)
        ids = np.tile(np.arange(n_t), n_scans).astype(np.int64)
        pos = centre[ids] + rng.normal(0, 2, (t.size, 3))
        truth = Truth(t=t, id=ids, pos=pos, vel=np.zeros_like(pos))
        keep = rng.random(t.size) < 0.8
        track_ids = (ids + rng.integers(0, 2, t.size) * n_t)[keep]  # ids may change
        order = np.lexsort((track_ids, t[keep]))
        first = np.concatenate(
            ([True], (np.diff(t[keep][order]) != 0) | (np.diff(track_ids[order]) != 0))
        )
        sel = order[first]  # drop repeated (time, id) rows
        noisy = pos[keep] + rng.normal(0, 6, (int(keep.sum()), 3))
        tracks = TrackTable(t[keep][sel], track_ids[sel], noisy[sel], np.zeros((sel.size, 3)))
        got, _ = sticky_assignment(truth, tracks, gate=12.0, p=2.0)
        assert got.tolist() == slow_sticky(truth, tracks, 12.0, 2.0)
