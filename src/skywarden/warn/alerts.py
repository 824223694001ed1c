"""Alert lifecycle (SAPIENT-style states) as pure functions over an immutable alert book.

Per tick, :func:`assess` turns the tracker's arrays into an :class:`Assessment` (arrays over
tracks x zones) and :func:`update_alerts` moves the book on:

* **One alert per object and zone.** The object key is the track's identity (ICAO / Remote ID /
  upstream track number) when it has one, else ``track_key(track id)``. An alert keeps the keys
  of every object it has followed (``object_keys``, newest first): a track that acquires an
  identity keeps its alert (matched by track id); a new track near the predicted position of an
  alert whose objects are no longer seen inherits it (re-numbering, sensor hand-over); a track
  that would raise a new alert within ``merge_distance_m`` of a live alert of the same zone
  joins that alert instead (two tracks of one object across sensors).
* **Hysteresis.** An alert is raised when ``should_alert`` (inside, or p >= p_on soon enough).
  It is cleared only after ``clear_after_s`` seconds without ``hold`` (inside the zone grown by
  ``margin_m``, or p >= p_off); a cleared alert re-opens only after such a gap too, so a target
  moving along a boundary cannot make it flap.
* **States.** ACTIVE -> ACKNOWLEDGED / REJECTED / IGNORED by the operator; any -> CLEARED
  automatically or by the operator; CLEARED -> ACTIVE when the object threatens again. Rejected
  and ignored alerts stay silent (and keep their object from raising another) until cleared.
* **Audit.** Every transition is an :class:`AuditEntry` (who, what, when); ``update_alerts``
  returns the tick's entries as events; the book keeps the last ``audit_limit`` of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

import numpy as np

from skywarden.errors import SkywardenError
from skywarden.units import BoolArray, FloatArray, IntArray
from skywarden.warn.rules import NO_PRIORITY, AlertRule, AllowEntry, evaluate_rules
from skywarden.warn.time_to_entry import EntryForecast, EntryModel, forecast_entry
from skywarden.warn.zones import Zone, inside

TRACK_KEY_TAG = 7  # object keys of tracks without identity: (7 << 60) | track id
SYSTEM = "system"


class AlertState(IntEnum):
    """SAPIENT alert states."""

    ACTIVE = 0
    ACKNOWLEDGED = 1
    REJECTED = 2
    IGNORED = 3
    CLEARED = 4


class AlertError(SkywardenError):
    """An operator action on an unknown alert or one that cannot take it."""


@dataclass(frozen=True)
class AlertParams:
    """Lifecycle parameters (seconds, metres)."""

    clear_after_s: float = 10.0
    margin_m: float = 50.0
    reacquire_distance_m: float = 300.0
    reacquire_s: float = 15.0
    merge_distance_m: float = 50.0
    retain_cleared_s: float = 300.0
    audit_limit: int = 1000
    max_keys: int = 8


@dataclass(frozen=True)
class Assessment:
    """Per-tick warning picture of N tracks and Z zones (arrays, site ENU).

    Attributes:
        track_id, object_key: (N,) int64; x: (N, 6) state; target_class: (N,) int.
        zone_ids: the Z zone ids (columns).
        should_alert, hold, inside: (N, Z) bool; probability, time_s: (N, Z) float;
        priority: (N, Z) int (1 = most urgent).
    """

    track_id: IntArray
    object_key: IntArray
    x: FloatArray
    target_class: IntArray
    zone_ids: tuple[str, ...]
    should_alert: BoolArray
    hold: BoolArray
    inside: BoolArray
    probability: FloatArray
    time_s: FloatArray
    priority: IntArray


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: an object (or several keys of one object) threatening one zone."""

    id: int
    zone_id: str
    object_keys: tuple[int, ...]
    track_id: int
    state: AlertState
    priority: int
    probability: float
    time_to_entry_s: float
    inside: bool
    position: tuple[float, float, float]
    velocity: tuple[float, float, float]
    target_class: int
    t_raised: float
    t_state: float
    t_seen: float
    t_held: float
    t_entered: float | None = None
    cleared_by_operator: bool = False

    @property
    def object_key(self) -> int:
        return self.object_keys[0]

    @property
    def lead_time_s(self) -> float | None:
        """Seconds from raising to the object's first time inside the zone (None: not yet)."""
        return None if self.t_entered is None else self.t_entered - self.t_raised


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what to which alert, when (POSIX s)."""

    t: float
    alert_id: int
    action: str
    who: str
    state: AlertState
    zone_id: str
    object_key: int
    note: str = ""
    role: str = ""  # the principal's role ('' when authentication is off, or the system)


@dataclass(frozen=True, slots=True)
class AlertBook:
    """All current alerts, the recent audit trail and the next alert id."""

    alerts: tuple[Alert, ...] = ()
    audit: tuple[AuditEntry, ...] = ()
    next_id: int = 1


def track_key(track_id: IntArray | int) -> IntArray:
    """Object keys of tracks without a cooperative identity."""
    return np.int64(TRACK_KEY_TAG << 60) | np.asarray(track_id, dtype=np.int64)


def object_keys(track_id: IntArray, identity: IntArray) -> IntArray:
    """(N,) object keys: the identity when the track has one, else track_key(track id)."""
    identity = np.asarray(identity, dtype=np.int64)
    return np.where(identity >= 0, identity, track_key(track_id))


def assess(
    t: float,
    x: FloatArray,
    P: FloatArray,
    track_id: IntArray,
    identity: IntArray,
    target_class: IntArray,
    zones: Sequence[Zone],
    rules: Sequence[AlertRule],
    model: EntryModel,
    params: AlertParams,
    allow: Sequence[AllowEntry] = (),
    forecast: EntryForecast | None = None,
    evidence: IntArray | None = None,
    p_drone: FloatArray | None = None,
) -> Assessment:
    """The warning picture of N tracks at time t (POSIX s), for :func:`update_alerts`.

    Args:
        x: (N, 6) states [e, n, u, ve, vn, vu], site ENU m and m/s; P: (N, 6, 6) covariances.
            Pass the tracks an operator should be warned about (usually the confirmed ones).
        track_id: (N,) track numbers; identity: (N,) identity keys or -1 (Tracks.identity).
        target_class: (N,) :class:`~skywarden.warn.rules.TargetClass` values.
        zones, rules, allow: the configuration; model: the entry forecast's parameters and
            samples (:func:`~skywarden.warn.time_to_entry.make_entry_model`, made once).
        params: lifecycle parameters (the hold margin is used here).
        forecast: the entry forecast of these tracks if the caller already has it (the
            pipeline reuses forecasts of tracks not updated since); computed otherwise.
        evidence: (N,) :mod:`skywarden.evidence` bits (Tracks.evidence): on-ground, simulated
            and test tracks are left out by rules that exempt them (the default).
        p_drone: (N,) the classifier's drone probability (rules hold 'unknown' tracks to
            their ``unknown_min_drone_probability`` for raising); None: not known.
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1, 6)
    if forecast is None:
        forecast = forecast_entry(x, P, zones, model)
    margin = inside(zones, x[:, :3], params.margin_m)
    decision = evaluate_rules(
        rules, zones, t, x, target_class, identity, forecast, margin, allow, evidence, p_drone
    )
    return Assessment(
        track_id=np.asarray(track_id, dtype=np.int64),
        object_key=object_keys(track_id, identity),
        x=x,
        target_class=np.asarray(target_class, dtype=np.int64),
        zone_ids=tuple(z.id for z in zones),
        should_alert=decision.should_alert,
        hold=decision.hold,
        inside=forecast.inside,
        probability=forecast.probability,
        time_s=forecast.time_s,
        priority=decision.priority,
    )


class _Tick:
    """Lookups shared by one update: key/track-id -> row, claimed rows and keys per zone."""

    def __init__(self, a: Assessment, alerts: Sequence[Alert], t: float, params: AlertParams):
        self.a, self.t, self.params = a, t, params
        self.column = {zone_id: j for j, zone_id in enumerate(a.zone_ids)}
        self.by_key = _SortedIndex(a.object_key)
        self.by_id = _SortedIndex(a.track_id)
        self.claimed = np.zeros(a.should_alert.shape, dtype=bool)
        self.bound: dict[str, set[int]] = {}
        for alert in alerts:
            self.bound.setdefault(alert.zone_id, set()).update(alert.object_keys)
        self.events: list[AuditEntry] = []

    def rows_of(self, keys: Sequence[int], track_id: int) -> IntArray:
        """Rows whose object key is one of keys, or whose track id is track_id."""
        found = self.by_key.rows(np.asarray(keys, dtype=np.int64))
        by_id = self.by_id.rows(np.asarray([track_id], dtype=np.int64))
        return np.unique(np.concatenate([found, by_id]))

    def log(self, alert: Alert, action: str, note: str = "", who: str = SYSTEM) -> None:
        self.events.append(
            AuditEntry(
                self.t, alert.id, action, who, alert.state, alert.zone_id, alert.object_key, note
            )
        )


class _SortedIndex:
    """Rows of an int array by value (binary search; one row per value found)."""

    def __init__(self, values: IntArray) -> None:
        self.order = np.argsort(values, kind="stable")
        self.sorted = values[self.order]

    def rows(self, keys: IntArray) -> IntArray:
        if self.sorted.size == 0 or keys.size == 0:
            return np.zeros(0, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.sorted, keys), 0, self.sorted.size - 1)
        return self.order[pos[self.sorted[pos] == keys]]


def update_alerts(
    book: AlertBook, assessment: Assessment, t: float, params: AlertParams
) -> tuple[AlertBook, tuple[AuditEntry, ...]]:
    """Move the alert book to time t (POSIX s); returns the new book and this tick's events."""
    tick = _Tick(assessment, book.alerts, t, params)
    alerts = [_refresh(alert, tick) for alert in book.alerts]
    alerts, next_id = _raise_new(alerts, tick, book.next_id)
    kept = tuple(
        a
        for a in alerts
        if a.state != AlertState.CLEARED
        or t - max(a.t_state, a.t_held + params.clear_after_s) <= params.retain_cleared_s
    )
    audit = (book.audit + tuple(tick.events))[-params.audit_limit :]
    return AlertBook(kept, audit, next_id), tuple(tick.events)


def _refresh(alert: Alert, tick: _Tick) -> Alert:
    """Update one existing alert from this tick's assessment."""
    a, t, params = tick.a, tick.t, tick.params
    j = tick.column.get(alert.zone_id)
    if j is None:
        return _clear(alert, tick, "zone removed") if alert.state != AlertState.CLEARED else alert
    rows = tick.rows_of(alert.object_keys, alert.track_id)
    rows = rows[~tick.claimed[rows, j]]
    if rows.size == 0 and alert.state != AlertState.CLEARED:
        rows = _reacquire(alert, j, tick)
    if rows.size:
        tick.claimed[rows, j] = True
        alert = _follow(alert, rows, j, tick)
    held = rows.size > 0 and bool(a.hold[rows, j].any())
    if alert.state == AlertState.CLEARED:
        ended = not alert.cleared_by_operator or t - alert.t_held >= params.clear_after_s
        if rows.size and ended and bool(a.should_alert[rows, j].any()):
            alert = replace(
                alert,
                state=AlertState.ACTIVE,
                t_raised=t,
                t_state=t,
                t_entered=None,
                cleared_by_operator=False,
            )
            tick.log(alert, "reopened", _describe(alert))
    if held:
        alert = replace(alert, t_held=t)
    elif alert.state != AlertState.CLEARED and t - alert.t_held >= params.clear_after_s:
        lost = t - alert.t_seen >= params.clear_after_s
        alert = _clear(alert, tick, "object lost" if lost else "no longer threatening")
    if alert.state != AlertState.CLEARED and alert.inside and alert.t_entered is None:
        alert = replace(alert, t_entered=t)
        tick.log(alert, "entered", f"lead time {t - alert.t_raised:.1f} s")
    return alert


def _follow(alert: Alert, rows: IntArray, j: int, tick: _Tick) -> Alert:
    """Take the most threatening of the alert's rows; adopt a new key if the track got one."""
    a = tick.a
    rank = np.lexsort((a.time_s[rows, j], -a.probability[rows, j], ~a.inside[rows, j]))
    r = int(rows[rank[0]])
    keys = alert.object_keys
    key = int(a.object_key[r])
    if key not in keys:
        keys = (key, *keys)[: tick.params.max_keys]
        tick.bound.setdefault(alert.zone_id, set()).add(key)
    priority = int(a.priority[r, j])
    return replace(
        alert,
        object_keys=keys,
        priority=priority if priority != NO_PRIORITY else alert.priority,
        t_seen=tick.t,
        **_observed(a, r, j),
    )


def _reacquire(alert: Alert, j: int, tick: _Tick) -> IntArray:
    """A new unbound track near where an unseen alert's object should be (re-numbering)."""
    a, t, params = tick.a, tick.t, tick.params
    dt = t - alert.t_seen
    if dt > params.reacquire_s or a.x.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    predicted = np.asarray(alert.position) + np.asarray(alert.velocity) * dt
    bound = np.fromiter(tick.bound.get(alert.zone_id, ()), dtype=np.int64)
    free = a.hold[:, j] & ~tick.claimed[:, j] & ~np.isin(a.object_key, bound)
    distance = np.where(free, np.linalg.norm(a.x[:, :3] - predicted, axis=1), np.inf)
    r = int(np.argmin(distance))
    if distance[r] > params.reacquire_distance_m:
        return np.zeros(0, dtype=np.int64)
    tick.log(alert, "reassociated", f"track {alert.track_id} -> track {int(a.track_id[r])}")
    return np.array([r])


def _raise_new(alerts: list[Alert], tick: _Tick, next_id: int) -> tuple[list[Alert], int]:
    """New alerts (or merges into an alert of a nearby object) for unclaimed should_alert pairs;
    tracks with a cooperative identity first, then by priority and time to entry."""
    a = tick.a
    rows, cols = np.nonzero(a.should_alert & ~tick.claimed)
    anonymous = (a.object_key[rows] >> 60) == TRACK_KEY_TAG
    order = np.lexsort((a.time_s[rows, cols], a.priority[rows, cols], anonymous))
    for r, j in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        zone_id, key = a.zone_ids[j], int(a.object_key[r])
        bound = tick.bound.setdefault(zone_id, set())
        if tick.claimed[r, j]:
            continue
        tick.claimed[r, j] = True
        if key in bound:  # another track of an object that already has an alert here
            continue
        bound.add(key)
        k = _alert_nearby(alerts, zone_id, j, r, tick)
        if k is not None:
            merged = alerts[k]
            alerts[k] = replace(
                merged, object_keys=(*merged.object_keys, key)[: tick.params.max_keys]
            )
            tick.log(alerts[k], "merged", f"track {int(a.track_id[r])} joins")
            continue
        alert = _new_alert(next_id, zone_id, r, j, tick)
        next_id += 1
        alerts.append(alert)
        tick.log(alert, "raised", _describe(alert))
    return alerts, next_id


def _alert_nearby(alerts: list[Alert], zone_id: str, j: int, r: int, tick: _Tick) -> int | None:
    """Index of the alert of zone j owning a track within merge distance of row r, if any."""
    a = tick.a
    others = np.flatnonzero(tick.claimed[:, j])
    others = others[others != r]
    if others.size == 0:
        return None
    distance = np.linalg.norm(a.x[others, :3] - a.x[r, :3], axis=1)
    close = distance <= tick.params.merge_distance_m
    for o in others[close][np.argsort(distance[close])].tolist():
        key = int(a.object_key[o])
        for k, alert in enumerate(alerts):
            if alert.zone_id == zone_id and key in alert.object_keys:
                return k
    return None


def _new_alert(alert_id: int, zone_id: str, r: int, j: int, tick: _Tick) -> Alert:
    a, t = tick.a, tick.t
    return Alert(
        id=alert_id,
        zone_id=zone_id,
        object_keys=(int(a.object_key[r]),),
        state=AlertState.ACTIVE,
        priority=int(a.priority[r, j]),
        t_raised=t,
        t_state=t,
        t_seen=t,
        t_held=t,
        t_entered=t if bool(a.inside[r, j]) else None,
        **_observed(a, r, j),
    )


def _observed(a: Assessment, r: int, j: int) -> dict[str, Any]:
    """The alert fields that follow row r's object and its forecast for zone j."""
    return {
        "track_id": int(a.track_id[r]),
        "probability": float(a.probability[r, j]),
        "time_to_entry_s": float(a.time_s[r, j]),
        "inside": bool(a.inside[r, j]),
        "position": _triple(a.x[r, :3]),
        "velocity": _triple(a.x[r, 3:]),
        "target_class": int(a.target_class[r]),
    }


def _clear(alert: Alert, tick: _Tick, note: str, who: str = SYSTEM) -> Alert:
    alert = replace(alert, state=AlertState.CLEARED, t_state=tick.t)
    tick.log(alert, "cleared", note, who)
    return alert


def _describe(alert: Alert) -> str:
    return f"p={alert.probability:.2f} tte={alert.time_to_entry_s:.0f}s track {alert.track_id}"


def _triple(v: FloatArray) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


# --- operator actions and views -------------------------------------------------------------

_ACTIONS = {
    AlertState.ACKNOWLEDGED: "acknowledged",
    AlertState.REJECTED: "rejected",
    AlertState.IGNORED: "ignored",
    AlertState.CLEARED: "cleared",
}


def _operator(
    book: AlertBook, alert_id: int, state: AlertState, who: str, t: float, note: str
) -> AlertBook:
    index = next((k for k, a in enumerate(book.alerts) if a.id == alert_id), None)
    if index is None:
        raise AlertError(f"no alert with id {alert_id}")
    alert = book.alerts[index]
    if alert.state == AlertState.CLEARED:
        raise AlertError(f"alert {alert_id} is already cleared")
    if not who:
        raise AlertError("an operator action needs who (the operator's name)")
    alert = replace(alert, state=state, t_state=t, cleared_by_operator=state == AlertState.CLEARED)
    entry = AuditEntry(
        t, alert_id, _ACTIONS[state], who, state, alert.zone_id, alert.object_key, note
    )
    alerts = book.alerts[:index] + (alert,) + book.alerts[index + 1 :]
    return replace(book, alerts=alerts, audit=book.audit + (entry,))


def acknowledge(book: AlertBook, alert_id: int, who: str, t: float, note: str = "") -> AlertBook:
    """The operator ``who`` has seen alert ``alert_id`` at POSIX time t."""
    return _operator(book, alert_id, AlertState.ACKNOWLEDGED, who, t, note)


def reject(book: AlertBook, alert_id: int, who: str, t: float, note: str = "") -> AlertBook:
    """The operator judges the alert false (not a threat); it stays silent until cleared."""
    return _operator(book, alert_id, AlertState.REJECTED, who, t, note)


def ignore(book: AlertBook, alert_id: int, who: str, t: float, note: str = "") -> AlertBook:
    """The operator chooses to ignore a real alert; it stays silent until cleared."""
    return _operator(book, alert_id, AlertState.IGNORED, who, t, note)


def clear(book: AlertBook, alert_id: int, who: str, t: float, note: str = "") -> AlertBook:
    """The operator closes the alert; it re-opens only after its object stops threatening."""
    return _operator(book, alert_id, AlertState.CLEARED, who, t, note)


def ordered(book: AlertBook, include_cleared: bool = False) -> tuple[Alert, ...]:
    """Alerts by priority (1 first), then time to entry, then probability (high first), id."""
    alerts = [a for a in book.alerts if include_cleared or a.state != AlertState.CLEARED]
    return tuple(
        sorted(alerts, key=lambda a: (a.priority, a.time_to_entry_s, -a.probability, a.id))
    )
