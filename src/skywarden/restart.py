"""Restart continuity: track and alert numbers go on from the history, and open alerts come back
with their operator states.

A service that is killed (``kill -9``, power loss) and started again on the same history file
must not hand out track or alert numbers that operators, sinks or the history have already
seen, and an alert an operator has acknowledged must not come back as a new, active one.

* **Id sequences.** Each history flush stores, in the same transaction as its rows, a
  *reservation* (``meta`` keys ``reserved_track_id`` and ``reserved_alert_id``): numbers below
  it may have been handed out before the next flush. It is the next free number plus
  ``max(min_block, 4 x the numbers used since the previous flush)``. On restart the sequences
  start at the larger of the reservation and one past the largest number stored, so numbers
  handed out after the last flush (shown, sent to sinks, never stored) are not used again.
* **Open alerts.** The last stored row of each alert (``alerts`` table), overridden by later
  audit entries (an acknowledgement made just before the crash), gives its state; alerts whose
  last state is not ``cleared``/``removed`` are rebuilt. They keep their id, zone, object keys
  (from the audit), state, priority, times raised and entered, and last position; they are
  marked seen at the restart time, so an object that is seen again (same identity, or a new
  track near its predicted position within ``reacquire_s``) keeps its alert, and one that is
  not seen is cleared after ``clear_after_s`` ("object lost"), in the audit trail.

Only this module, the service and the CLI read these keys; :mod:`skywarden.store` stays a
plain writer/reader of rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from skywarden.detections import icao_identity
from skywarden.geo import LocalFrame
from skywarden.snapshot import CLASS_NAMES
from skywarden.warn.alerts import SYSTEM, Alert, AlertState, AuditEntry, track_key

if TYPE_CHECKING:
    from skywarden.pipeline import Pipeline
    from skywarden.store.reader import HistoryReader

log = logging.getLogger(__name__)

RESERVED_TRACK = "reserved_track_id"
RESERVED_ALERT = "reserved_alert_id"
MIN_TRACK_BLOCK = 10_000
MIN_ALERT_BLOCK = 1_000
_CLOSED = frozenset({"cleared", "removed"})
_STATES = {s.name.lower(): s for s in AlertState}


@dataclass(frozen=True)
class RestartState:
    """What a restarted service continues from (all empty for a new history)."""

    next_track_id: int = 1
    next_alert_id: int = 1
    alerts: tuple[Alert, ...] = ()


class IdReservation:
    """The ``meta`` values a flush stores so that a restart never reuses a number.

    Called from the flush's thread with no arguments; returns the reservation keys for the
    next free track and alert numbers read from ``next_ids``.
    """

    def __init__(self, next_ids: Callable[[], tuple[int, int]]) -> None:
        self.next_ids = next_ids
        self._last: tuple[int, int] | None = None

    def __call__(self) -> dict[str, str]:
        track, alert = self.next_ids()
        last_track, last_alert = self._last if self._last is not None else (track, alert)
        self._last = (track, alert)
        track_block = max(MIN_TRACK_BLOCK, 4 * (track - last_track))
        alert_block = max(MIN_ALERT_BLOCK, 4 * (alert - last_alert))
        return {RESERVED_TRACK: str(track + track_block), RESERVED_ALERT: str(alert + alert_block)}


def _scalar(reader: HistoryReader, sql: str) -> int:
    row = reader.cursor().execute(sql).fetchone()
    return 0 if row is None or row[0] is None else int(row[0])


def next_ids(reader: HistoryReader) -> tuple[int, int]:
    """(next track number, next alert number) after everything the history has seen."""
    values = reader.meta().values
    track = _scalar(
        reader,
        "SELECT max(id) FROM (SELECT max(track_id) AS id FROM track_states "
        "UNION ALL SELECT max(track_id) FROM alerts)",
    )
    alert = _scalar(
        reader,
        "SELECT max(id) FROM (SELECT max(alert_id) AS id FROM alerts "
        "UNION ALL SELECT max(alert_id) FROM audit)",
    )
    return (
        max(track + 1, int(values.get(RESERVED_TRACK, 1))),
        max(alert + 1, int(values.get(RESERVED_ALERT, 1))),
    )


def _rows(reader: HistoryReader, sql: str) -> list[dict[str, Any]]:
    cur = reader.cursor().execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _last_alert_rows(reader: HistoryReader) -> list[dict[str, Any]]:
    return _rows(
        reader,
        "SELECT * FROM alerts QUALIFY row_number() OVER "
        "(PARTITION BY alert_id ORDER BY t DESC, seq DESC) = 1 ORDER BY alert_id",
    )


def _audit_by_alert(reader: HistoryReader) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for row in _rows(reader, "SELECT * FROM audit ORDER BY t"):
        out.setdefault(int(row["alert_id"]), []).append(row)
    return out


def _velocities(reader: HistoryReader, track_ids: list[int]) -> dict[int, tuple[float, ...]]:
    if not track_ids:
        return {}
    rows = (
        reader.cursor()
        .execute(
            "SELECT track_id, ve, vn, vu FROM track_states WHERE track_id IN "
            f"({', '.join('?' * len(track_ids))}) "
            "QUALIFY row_number() OVER (PARTITION BY track_id ORDER BY t DESC) = 1",
            track_ids,
        )
        .fetchall()
    )
    return {int(r[0]): tuple(float(v) for v in r[1:]) for r in rows}


def _object_keys(row: Mapping[str, Any], audit: list[dict[str, Any]]) -> tuple[int, ...]:
    """The alert's object keys, newest first: from its audit entries, else from its label."""
    keys: list[int] = []
    for entry in reversed(audit):
        key = int(entry["object_key"])
        if key not in keys:
            keys.append(key)
    if keys:
        return tuple(keys[:8])
    label = str(row["object"])
    kind, _, value = label.partition(":")
    if kind == "icao":
        return (icao_identity(int(value, 16)),)
    return (int(track_key(int(row["track_id"]))),)


def _restored(
    row: Mapping[str, Any],
    audit: list[dict[str, Any]],
    velocity: tuple[float, ...],
    frame: LocalFrame,
    t_now: float,
) -> Alert | None:
    """The alert of its last stored row and audit entries, or None if it was closed."""
    state, t_state = str(row["state"]).lower(), float(row["t_state"])
    later = [e for e in audit if float(e["t"]) > float(row["t"])]
    if later:
        state, t_state = str(later[-1]["state"]).lower(), float(later[-1]["t"])
    if state in _CLOSED or state not in _STATES:
        return None
    entered = [float(e["t"]) for e in audit if e["action"] == "entered"]
    position = frame.geodetic_to_enu(float(row["lat"]), float(row["lon"]), float(row["alt_m"]))
    e, n, u = (float(x) for x in np.asarray(position).reshape(3))
    name = str(row["target_class"])
    return Alert(
        id=int(row["alert_id"]),
        zone_id=str(row["zone_id"]),
        object_keys=_object_keys(row, audit),
        track_id=int(row["track_id"]),
        state=_STATES[state],
        priority=int(row["priority"]),
        probability=float(row["probability"]),
        time_to_entry_s=float(row["time_to_entry_s"]),
        inside=bool(row["inside"]),
        position=(e, n, u),
        velocity=(velocity + (0.0, 0.0, 0.0))[:3] if velocity else (0.0, 0.0, 0.0),
        target_class=CLASS_NAMES.index(name) if name in CLASS_NAMES else 0,
        t_raised=float(row["t_raised"]),
        t_state=t_state,
        t_seen=t_now,
        t_held=t_now,
        t_entered=entered[-1] if entered else None,
    )


def restart_state(reader: HistoryReader, frame: LocalFrame, t_now: float) -> RestartState:
    """The id sequences and open alerts a service restarted at POSIX time t_now continues
    from (positions are converted to ``frame``, the site ENU)."""
    next_track, next_alert = next_ids(reader)
    rows = _last_alert_rows(reader)
    audit = _audit_by_alert(reader)
    velocities = _velocities(reader, sorted({int(r["track_id"]) for r in rows}))
    alerts = []
    for row in rows:
        alert_id = int(row["alert_id"])
        v = velocities.get(int(row["track_id"]), ())
        alert = _restored(row, audit.get(alert_id, []), v, frame, t_now)
        if alert is not None:
            alerts.append(alert)
    return RestartState(next_track, next_alert, tuple(alerts))


def resume(pipeline: Pipeline, state: RestartState, t_now: float) -> tuple[AuditEntry, ...]:
    """Put a restart state into a new pipeline (before its first tick); returns the audit
    entries saying which alerts were restored (the caller stores them)."""
    pipeline.tracks = replace(pipeline.tracks, next_id=max(pipeline.tracks.next_id,
                                                           state.next_track_id))  # fmt: skip
    entries = tuple(
        AuditEntry(t_now, a.id, "restored", SYSTEM, a.state, a.zone_id, a.object_key,
                   f"restored after a restart; state {a.state.name.lower()}")
        for a in state.alerts
    )  # fmt: skip
    book = pipeline.book
    pipeline.book = replace(
        book,
        alerts=book.alerts + state.alerts,
        audit=book.audit + entries,
        next_id=max(book.next_id, state.next_alert_id),
    )
    if state.alerts or state.next_track_id > 1 or state.next_alert_id > 1:
        log.warning(
            "restart: track numbers from %d, alert numbers from %d, %d open alert(s) restored",
            state.next_track_id, state.next_alert_id, len(state.alerts),
        )  # fmt: skip
    return entries
