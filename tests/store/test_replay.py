"""replay_alerts: recorded raw inputs through a fresh (toy) pipeline, alerts diffed."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np

from skywarden.snapshot import Snapshot
from skywarden.store import HistoryWriter, replay_alerts
from skywarden.store.replay import AlertSummary, diff_alerts
from tests.store.snapshot_builders import SITE, make_alert, make_tracks

T0 = 1_700_000_000.0


def toy_pipeline(threshold: float, rejects: Counter | None = None):
    """A stand-in for the real pipeline: each input is JSON {"track": id, "x": metres}; a track
    beyond ``threshold`` has an active alert in zone Z1, one that falls back is cleared.
    Garbage is counted and skipped."""

    def run(inputs, meta):
        assert meta.site == SITE and meta.config_text == "threshold"
        ids: dict[int, int] = {}
        state: dict[int, str] = {}
        for seq, (t, _source, payload) in enumerate(inputs):
            try:
                msg = json.loads(payload)
                track, x = int(msg["track"]), float(msg["x"])
            except (ValueError, KeyError, TypeError):
                if rejects is not None:
                    rejects["garbage"] += 1
                continue
            if x > threshold and state.get(track) != "active":
                ids.setdefault(track, len(ids) + 1)
                state[track] = "active"
            elif x <= threshold and state.get(track) == "active":
                state[track] = "cleared"
            alerts = tuple(make_alert(ids[k], t, s, track_id=k) for k, s in sorted(state.items()))
            yield Snapshot(seq, t, SITE, make_tracks([track], t), alerts)

    return run


def _inputs():
    """Track 1 peaks at 105 m at t=6 (95 m at t=5 and 7, 85 m at t=4 and 8); track 2 peaks at
    95 m at t=5.5 (85 m a second before and after); garbage in between."""
    out = []
    for k in range(12):
        x1 = 105.0 - abs(6 - k) * 10.0
        x2 = 95.0 - abs(5 - k) * 10.0
        out.append((T0 + k, "radar", json.dumps({"track": 1, "x": x1}).encode()))
        out.append((T0 + k + 0.5, "radar", json.dumps({"track": 2, "x": x2}).encode()))
        if k % 4 == 0:
            out.append((T0 + k + 0.7, "radar", b"\xff\x00 not json"))
    return out


def _record(path, threshold):
    """Run the toy pipeline live, recording raw inputs and snapshots like the service does."""
    inputs = _inputs()
    with HistoryWriter(path, site=SITE, config_text="threshold") as w:
        from skywarden.store.reader import HistoryMeta

        meta = HistoryMeta(1, SITE, "threshold", {})
        for t, source, payload in inputs:
            w.add_raw(t, source, payload)
        for snap in toy_pipeline(threshold)(iter(inputs), meta):
            w.add_snapshot(snap)
    return inputs


def test_same_rules_give_identical_alerts(tmp_path):
    path = tmp_path / "h.duckdb"
    inputs = _record(path, threshold=90.0)
    rejects: Counter = Counter()
    diff = replay_alerts(path, toy_pipeline(90.0, rejects))
    assert diff.raw_inputs == len(inputs) and rejects["garbage"] == 3
    assert diff.identical and len(diff.matched) == 2
    assert {p.recorded.zone_id for p in diff.matched} == {"Z1"}
    assert "2 matched, 0 changed, 0 new, 0 missing" in diff.format()


def test_changed_rules_show_new_missing_and_changed_alerts(tmp_path):
    path = tmp_path / "h.duckdb"
    _record(path, threshold=90.0)  # track 1: raised T0+5, cleared T0+8; track 2: T0+5.5 to T0+6.5
    diff = replay_alerts(path, toy_pipeline(98.0), tolerance_s=0.5)  # stricter: 1 later, 2 never
    assert len(diff.missing) == 1 and diff.missing[0].track_id == 2
    assert diff.missing[0].t_raised == T0 + 5.5 and not diff.new
    assert len(diff.changed) == 1
    (pair,) = diff.changed
    assert pair.recorded.t_raised == T0 + 5 and pair.replayed.t_raised == T0 + 6
    assert pair.recorded.t_cleared == T0 + 8 and pair.replayed.t_cleared == T0 + 7
    assert pair.differences == ("raised +1.0 s", "cleared -1.0 s")
    text = diff.format()
    assert "missing  alert 2 zone Z1 track:2" in text and "cleared -1.0 s" in text
    assert json.loads(json.dumps(diff.to_json()))["missing"][0]["track_id"] == 2

    diff = replay_alerts(path, toy_pipeline(50.0))  # looser: raised earlier, track 2 too
    assert not diff.missing and not diff.new and len(diff.changed) == 2
    assert all(p.replayed.t_raised < p.recorded.t_raised for p in diff.changed)

    window = replay_alerts(path, toy_pipeline(90.0), t0=T0, t1=T0 + 5.2)
    assert window.raw_inputs == 13 and len(window.matched) == 1  # only track 1's raise


def _summary(alert_id, zone, t, obj="track:1", cleared=None, priority=2):
    states = ("active",) if cleared is None else ("active", "cleared")
    return AlertSummary(alert_id, zone, obj, 1, t, cleared, priority, 0.9, states)


def test_matching_prefers_same_zone_near_time_and_same_object():
    recorded = [_summary(1, "A", 100.0), _summary(2, "B", 100.0), _summary(3, "A", 500.0)]
    replayed = [
        _summary(10, "B", 101.0),
        _summary(11, "A", 102.0, obj="track:9"),
        _summary(12, "A", 103.0),
        _summary(13, "A", 900.0),
    ]
    diff = diff_alerts(recorded, replayed, match_window_s=30.0, tolerance_s=1.5)
    pairs = {(p.recorded.alert_id, p.replayed.alert_id) for p in diff.matched + diff.changed}
    assert pairs == {(1, 12), (2, 10)}  # same object wins over 1 s closer
    assert [s.alert_id for s in diff.missing] == [3]
    assert sorted(s.alert_id for s in diff.new) == [11, 13]
    assert [p.recorded.alert_id for p in diff.matched] == [2]
    assert diff.changed[0].differences == ("raised +3.0 s",)
    empty = diff_alerts([], [])
    assert empty.identical and not (empty.matched or empty.new)
    assert np.isfinite([s.t_raised for s in diff.new]).all()
