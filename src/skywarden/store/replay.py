"""``skywarden replay HISTORY.duckdb``: re-run the recorded raw inputs through the current tracker
and warning rules and compare the alerts with the recorded ones.

The comparison is about what the *system* decided: when each alert was raised and cleared (and
re-opened), in which zone, with which priority. Operator states (acknowledged, rejected,
ignored) cannot be reproduced without the operator, so they count as "active" here. Alerts are
paired per zone by raise time (within ``match_window_s``, the same object preferred) with one
optimal assignment (scipy ``linear_sum_assignment``); a pair whose times differ by more than
``tolerance_s`` or whose priority or state sequence differs is "changed".
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from skywarden.snapshot import Snapshot
from skywarden.store.history import AlertChangeFilter
from skywarden.store.reader import HistoryMeta, HistoryReader, RawInput

RunPipeline = Callable[[Iterator[RawInput], HistoryMeta], Iterable[Snapshot]]
"""Builds a fresh pipeline from the history's meta (site, config text), feeds it the raw inputs
in receive order and yields its snapshots."""

_OPEN = frozenset({"active", "acknowledged", "rejected", "ignored"})
_CLOSED = frozenset({"cleared", "removed"})


@dataclass(frozen=True)
class AlertSummary:
    """One alert's life from its change rows (times POSIX s)."""

    alert_id: int
    zone_id: str
    object: str
    track_id: int
    t_raised: float
    t_cleared: float | None  # first time cleared (or gone); None if never
    priority: int  # most urgent seen (1 = highest)
    max_probability: float
    states: tuple[str, ...]  # system states, consecutive repeats collapsed

    def to_json(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["states"] = list(self.states)
        return d


@dataclass(frozen=True)
class AlertPair:
    """A recorded alert and its replayed counterpart, with what differs (empty: matched)."""

    recorded: AlertSummary
    replayed: AlertSummary
    differences: tuple[str, ...]


@dataclass(frozen=True)
class AlertDiff:
    """The difference between recorded and replayed alerts."""

    matched: tuple[AlertPair, ...]
    changed: tuple[AlertPair, ...]
    new: tuple[AlertSummary, ...]  # raised only by the replay
    missing: tuple[AlertSummary, ...]  # recorded but not raised by the replay
    raw_inputs: int
    snapshots: int

    @property
    def identical(self) -> bool:
        return not (self.changed or self.new or self.missing)

    def format(self) -> str:
        """Human-readable report, one line per difference."""
        lines = [
            f"replayed {self.raw_inputs} raw inputs into {self.snapshots} snapshots: "
            f"{len(self.matched)} matched, {len(self.changed)} changed, "
            f"{len(self.new)} new, {len(self.missing)} missing"
        ]
        for p in self.changed:
            r, q = p.recorded, p.replayed
            lines.append(
                f"changed  alert {r.alert_id} -> {q.alert_id} zone {r.zone_id} "
                f"({r.object} / {q.object}) raised {_when(r.t_raised)}: {'; '.join(p.differences)}"
            )
        for s in self.new:
            lines.append(f"new      alert {s.alert_id} {_describe(s)}")
        for s in self.missing:
            lines.append(f"missing  alert {s.alert_id} {_describe(s)}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        pair = lambda p: {  # noqa: E731
            "recorded": p.recorded.to_json(),
            "replayed": p.replayed.to_json(),
            "differences": list(p.differences),
        }
        return {
            "raw_inputs": self.raw_inputs,
            "snapshots": self.snapshots,
            "matched": [pair(p) for p in self.matched],
            "changed": [pair(p) for p in self.changed],
            "new": [s.to_json() for s in self.new],
            "missing": [s.to_json() for s in self.missing],
        }


def _when(t: float) -> str:
    stamp = datetime.datetime.fromtimestamp(t, tz=datetime.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-5] + "Z"


def _describe(s: AlertSummary) -> str:
    cleared = "never cleared" if s.t_cleared is None else f"cleared {_when(s.t_cleared)}"
    return (
        f"zone {s.zone_id} {s.object} (track {s.track_id}) priority {s.priority} "
        f"p<={s.max_probability:.2f}: raised {_when(s.t_raised)}, {cleared}"
    )


def summarise(rows: Iterable[dict[str, Any]]) -> list[AlertSummary]:
    """Alert summaries from change rows (dicts with the ``alerts`` table's columns)."""
    by_id: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_id.setdefault(int(row["alert_id"]), []).append(row)
    out = []
    for alert_id, changes in by_id.items():
        changes.sort(key=lambda r: r["t"])
        states: list[str] = []
        for r in changes:
            s = "active" if r["state"] in _OPEN else r["state"]
            if not states or states[-1] != s:
                states.append(s)
        cleared = [r["t"] for r in changes if r["state"] in _CLOSED]
        first = changes[0]
        out.append(
            AlertSummary(
                alert_id=alert_id,
                zone_id=str(first["zone_id"]),
                object=str(first["object"]),
                track_id=int(first["track_id"]),
                t_raised=float(first["t"]),
                t_cleared=float(cleared[0]) if cleared else None,
                priority=int(min(r["priority"] for r in changes)),
                max_probability=float(max(r["probability"] for r in changes)),
                states=tuple(states),
            )
        )
    return sorted(out, key=lambda s: (s.t_raised, s.alert_id))


def _differences(r: AlertSummary, q: AlertSummary, tolerance_s: float) -> tuple[str, ...]:
    out = []
    if abs(q.t_raised - r.t_raised) > tolerance_s:
        out.append(f"raised {q.t_raised - r.t_raised:+.1f} s")
    if (r.t_cleared is None) != (q.t_cleared is None):
        out.append("cleared only in the " + ("replay" if r.t_cleared is None else "recording"))
    elif r.t_cleared is not None and abs(q.t_cleared - r.t_cleared) > tolerance_s:
        out.append(f"cleared {q.t_cleared - r.t_cleared:+.1f} s")
    if r.priority != q.priority:
        out.append(f"priority {r.priority} -> {q.priority}")
    if r.states != q.states:
        out.append(f"states {'/'.join(r.states)} -> {'/'.join(q.states)}")
    return tuple(out)


def diff_alerts(
    recorded: list[AlertSummary],
    replayed: list[AlertSummary],
    *,
    match_window_s: float = 30.0,
    tolerance_s: float = 1.0,
    raw_inputs: int = 0,
    snapshots: int = 0,
) -> AlertDiff:
    """Pair recorded and replayed alerts (same zone, raise times within match_window_s, the same
    object preferred) and sort them into matched / changed / new / missing."""
    pairs: list[tuple[int, int]] = []
    if recorded and replayed:
        zone_r = np.array([s.zone_id for s in recorded], dtype=object)
        zone_q = np.array([s.zone_id for s in replayed], dtype=object)
        obj_r = np.array([s.object for s in recorded], dtype=object)
        obj_q = np.array([s.object for s in replayed], dtype=object)
        t_r = np.array([s.t_raised for s in recorded])
        t_q = np.array([s.t_raised for s in replayed])
        dt = np.abs(t_r[:, None] - t_q[None, :])
        allowed = (zone_r[:, None] == zone_q[None, :]) & (dt <= match_window_s)
        cost = dt + (obj_r[:, None] != obj_q[None, :]) * match_window_s
        big = 1e3 * (match_window_s + 1.0) * (1 + max(len(recorded), len(replayed)))
        rows, cols = linear_sum_assignment(np.where(allowed, cost, big))
        pairs = [(i, j) for i, j in zip(rows.tolist(), cols.tolist(), strict=True) if allowed[i, j]]
    matched, changed = [], []
    for i, j in pairs:
        pair = AlertPair(
            recorded[i], replayed[j], _differences(recorded[i], replayed[j], tolerance_s)
        )
        (changed if pair.differences else matched).append(pair)
    used_r = {i for i, _ in pairs}
    used_q = {j for _, j in pairs}
    return AlertDiff(
        matched=tuple(matched),
        changed=tuple(changed),
        new=tuple(s for j, s in enumerate(replayed) if j not in used_q),
        missing=tuple(s for i, s in enumerate(recorded) if i not in used_r),
        raw_inputs=raw_inputs,
        snapshots=snapshots,
    )


def _view_rows(snapshots: Iterable[Snapshot], counter: list[int]) -> Iterator[dict[str, Any]]:
    """Alert change rows of a stream of snapshots (same rule as the writer's)."""
    changes = AlertChangeFilter()
    for snap in snapshots:
        counter[0] += 1
        for v in changes.changes(snap.alerts):
            yield {
                "t": snap.t,
                "alert_id": v.id,
                "zone_id": v.zone_id,
                "object": v.object,
                "track_id": v.track_id,
                "state": v.state.lower(),
                "priority": v.priority,
                "probability": v.probability,
            }


def replay_alerts(
    history_path: str | Path,
    run_pipeline: RunPipeline,
    *,
    t0: float | None = None,
    t1: float | None = None,
    match_window_s: float = 30.0,
    tolerance_s: float = 1.0,
) -> AlertDiff:
    """Re-feed the recorded raw inputs in [t0, t1] (receive order) to a fresh pipeline built by
    ``run_pipeline(inputs, meta)`` and compare its alerts with the recorded ones."""
    with HistoryReader(history_path) as reader:
        meta = reader.meta()
        recorded = summarise(reader.alerts(t0, t1))
        fed = [0]

        def counted() -> Iterator[RawInput]:
            for item in reader.raw_inputs(t0, t1):
                fed[0] += 1
                yield item

        snapshots = [0]
        replayed = summarise(_view_rows(run_pipeline(counted(), meta), snapshots))
    return diff_alerts(
        recorded,
        replayed,
        match_window_s=match_window_s,
        tolerance_s=tolerance_s,
        raw_inputs=fed[0],
        snapshots=snapshots[0],
    )
