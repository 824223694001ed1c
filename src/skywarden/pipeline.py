"""The pipeline: one site's picture, advanced tick by tick. detections -> track.step ->
classify -> warn -> snapshot -> readers (server, sinks, store).

:meth:`Pipeline.process` is one synchronous tick over a batch of detections (testable without
sockets); the loops in :mod:`skywarden.loop` drive it from live or recorded sources. The
pipeline is also the server's :class:`~skywarden.server.backend.ServiceBackend`: readers get
immutable snapshots and send operator actions back through it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from skywarden.alert_views import AlertViewer
from skywarden.classify.decision import reason_names
from skywarden.classify.trained import Classes, Classifier, TrainedClassifier
from skywarden.clutter_layer import clutter_geojson
from skywarden.detections import Detections, SourceKind, icao_of, identity_kind
from skywarden.geo import LocalFrame
from skywarden.late_reports import carry_forward
from skywarden.scan_closes import close_times
from skywarden.settings_changes import (
    apply_setting,
    configured_digests,
    setting_document,
    zone_limits,
)
from skywarden.site_config import SiteConfig, radar_coverage, radar_positions
from skywarden.snapshot import (
    CLASS_NAMES,
    AlertView,
    SensorView,
    Snapshot,
    SnapshotSignal,
    TrackArrays,
    json_safe,
)
from skywarden.sources.limits import PIPELINE_MAX_LABELS, BoundedLabels
from skywarden.tick_thread import TickWork
from skywarden.track.fuse import (
    fusion_flags,
    new_fusion,
    sources_view,
    update_fusion,
)
from skywarden.track.score import learnt_summary
from skywarden.track.step import new_tracks, step
from skywarden.track.tracks import Tracks
from skywarden.trails import TrailBuffer
from skywarden.warn import (
    Alert,
    AlertBook,
    AlertParams,
    AuditEntry,
    TargetClass,
    acknowledge,
    assess,
    ignore,
    make_entry_model,
    ordered,
    parse_zones,
    reject,
    update_alerts,
    zones_to_geojson,
)
from skywarden.warn.changes import SettingChange
from skywarden.warn.forecast_cache import ForecastCache

GROUP_S = 0.2  # detections within this time of each other update the tracks together
# within a scan, a tick whose last detections are at most this old shows the tracks moved on
# to the tick's time (constant velocity) instead of running the tracker's predict again
TICK_EXTRAPOLATE_S = 0.5
PREDICT_STEPS = 6
PREDICT_STEP_S = 10.0
TRAIL_LENGTH = 30


class Pipeline:
    """One site's picture, advanced tick by tick."""

    health_in_snapshot = True  # each snapshot carries health() (server/health_cache.py)

    def __init__(
        self,
        config: SiteConfig,
        *,
        classifier: Classifier | None = None,
        clock: Callable[[], float] = time.time,
        seed: int = 0,
    ) -> None:
        self.config = config
        self.clock = clock
        self.frame = LocalFrame(config.lat, config.lon, config.height_m)
        self.params = config.tracker
        self.classifier = classifier or TrainedClassifier(
            config.scan_period_s,
            decision_confidence=config.decision_confidence,
            coverage=radar_coverage(config),
        )
        self.tracks = new_tracks(self.params, radars=radar_positions(config))
        self.zone_limits = zone_limits(config)
        self.zones = parse_zones(config.zones_geojson, self.frame, limits=self.zone_limits)
        horizon = max((r.horizon_s * r.hold_horizon_factor for r in config.rules), default=120.0)
        self.entry_model = make_entry_model(np.random.default_rng(seed), horizon_s=horizon)
        self.alert_params = AlertParams()
        self.book = AlertBook()
        self.forecasts = ForecastCache()
        self.fusion = new_fusion()
        self.trails = TrailBuffer(TRAIL_LENGTH)
        self.alert_viewer = AlertViewer(self.frame, self.identity_label)
        # identity key -> 'rid:SERIAL' / callsign (filled by the feeds; bounded, limits.py)
        self.names = BoundedLabels(PIPELINE_MAX_LABELS)
        self.callsigns = BoundedLabels(PIPELINE_MAX_LABELS)
        self.sensors: tuple[SensorView, ...] = ()
        self.source_health: dict[str, dict[str, Any]] = {}
        self.latency_ms: deque[float] = deque(maxlen=2000)
        self.tick_cpu_ms: deque[float] = deque(maxlen=2000)  # CPU time of live ticks
        self.tick_wall_ms: deque[float] = deque(maxlen=2000)  # their wall time, start to end
        self.queue_depth = 0
        self.late_detections = 0
        self.carried_reports = 0  # late reports moved on along their velocity (late_reports.py)
        self.last_close_t: float | None = None  # the time of the last scan close (POSIX s)
        self.spanned_scan_closes = 0  # extra closes of scans a long tick spanned (scan_closes)
        self.invalid_detections: dict[int, int] = {}
        self.started = clock()
        self.seq = 0
        self._snapshot = Snapshot(0, self.started, self.site, TrackArrays.empty(TRAIL_LENGTH))
        self._shown = self._snapshot.tracks  # the tracks of the snapshot being built
        self._published = SnapshotSignal()
        self.listeners: list[Callable[[Snapshot, tuple[AuditEntry, ...]], None]] = []
        self.history_reader: Callable[[], Any] | None = None
        self.changes: deque[SettingChange] = deque(maxlen=1000)  # runtime setting changes
        self.change_listeners: list[Callable[[SettingChange], None]] = []
        self.failure: str | None = None  # why the live loop stopped (health answers 503)
        # name -> health of a part (history ...); "status": "degraded" makes /health degraded
        self.health_parts: dict[str, Callable[[], dict]] = {}
        self.detection_listeners: list[Callable[[float, Detections], None]] = []  # (t, batch)
        self.settings_base = configured_digests(config)

    @property
    def site(self) -> tuple[float, float, float]:
        return (self.config.lat, self.config.lon, self.config.height_m)

    # ------------------------------------------------------------------ the tick

    def process(
        self, t: float, detections: Detections, end_of_scan: bool = True
    ) -> tuple[Snapshot, tuple[AuditEntry, ...]]:
        """One update at POSIX time t: the detections update the tracks (in time order, in
        groups of GROUP_S), then classes, zone assessment, alerts and the snapshot.

        ``end_of_scan`` closes the tracker's scan (hits, misses, confirmation): the live loop
        processes data as it arrives and closes a scan every ``scan_period_s``. The three
        parts are separate methods so that the live loop can run :meth:`advance` (the costly,
        pure part) off its event loop (tick_thread.py).
        """
        detections = self.take_in(t, detections)
        return self.conclude(t, self.advance(t, detections, end_of_scan))

    def take_in(self, t: float, detections: Detections) -> Detections:
        """The valid detections of a tick (see _valid), given to the detection listeners."""
        detections = self._valid(detections)
        for listener in self.detection_listeners:
            listener(t, detections)
        return detections

    def advance(self, t: float, detections: Detections, end_of_scan: bool | int = True) -> TickWork:
        """The tracker, classes, zone forecasts and assessment of a tick. It calls no
        listener and leaves the alert book alone (operator actions change it meanwhile), so
        it may run in a worker thread while the event loop serves clients. ``end_of_scan``
        n > 1 (the live loop after a long tick) closes n scans, the detections of each in
        their own (scan_closes.py)."""
        updated = [np.zeros(0, np.int64)]  # ids of the tracks this tick's detections updated
        closes = close_times(self.last_close_t, t, int(end_of_scan))
        for t_group, batch in self._groups(detections, t):
            while closes and closes[0] < t_group:
                self._close_scan(closes.pop(0))
            self.tracks, ev = step(self.tracks, batch, t_group, self.params, end_of_scan=False)
            self.fusion = update_fusion(
                self.fusion, self.tracks, batch, ev.detection_track, t_group
            )
            updated.append(ev.detection_track[ev.detection_track >= 0])
        for t_close in closes:  # scan ends after the tick's last detections
            self._close_scan(t_close)
        if end_of_scan or self.tracks.t < t - TICK_EXTRAPOLATE_S or len(detections) == 0:
            self.tracks, ev = step(
                self.tracks, Detections.empty(), t, self.params, end_of_scan=bool(end_of_scan)
            )
            empty = Detections.empty()
            self.fusion = update_fusion(self.fusion, self.tracks, empty, ev.detection_track, t)
        if end_of_scan:
            self.last_close_t = t
        shown = extrapolated(self.tracks.take(self.tracks.confirmed), t)
        classes = self.classifier(shown, t)
        forecast = self.forecasts.forecast(
            shown, t, self.zones, self.entry_model, full=False, updated=np.concatenate(updated)
        )
        assessment = assess(
            t, shown.x, shown.P, shown.id, shown.identity, classes.target_class, self.zones,
            self.config.rules, self.entry_model, self.alert_params, self.config.allow,
            forecast=forecast, evidence=shown.evidence,
            p_drone=classes.p[:, 0] if classes.calibrated else None,
        )  # fmt: skip
        return TickWork(shown, classes, assessment)

    def _close_scan(self, t: float) -> None:
        """Close a scan that the tick spans at time t (never before the tracks' time)."""
        t = max(t, float(self.tracks.t))
        self.tracks, ev = step(self.tracks, Detections.empty(), t, self.params, end_of_scan=True)
        empty = Detections.empty()
        self.fusion = update_fusion(self.fusion, self.tracks, empty, ev.detection_track, t)
        self.spanned_scan_closes += 1

    def conclude(self, t: float, work: TickWork) -> tuple[Snapshot, tuple[AuditEntry, ...]]:
        """The alerts, snapshot and listeners of a tick (on the event loop's thread)."""
        self.book, events = update_alerts(self.book, work.assessment, t, self.alert_params)
        snapshot = self._build_snapshot(t, work.shown, work.classes)
        self._publish(snapshot, events)
        return snapshot, events

    def _valid(self, detections: Detections) -> Detections:
        """Drop (and count by source kind) detections with non-finite times, positions or
        covariances, or covariances that are not positive definite: the core's input
        contract. A decoder that produces them is a bug to find, not a reason to stop."""
        if len(detections) == 0:
            return detections
        R = detections.R
        ok = np.isfinite(detections.t) & np.isfinite(detections.z).all(axis=1)
        ok &= np.isfinite(R).all(axis=(1, 2))
        d0 = R[:, 0, 0]
        det2 = R[:, 0, 0] * R[:, 1, 1] - R[:, 0, 1] * R[:, 1, 0]
        ok &= (d0 > 0) & (det2 > 0) & (np.linalg.det(np.where(ok[:, None, None], R, np.eye(3))) > 0)
        if ok.all():
            return detections
        for kind in detections.kind[~ok]:
            self.invalid_detections[int(kind)] = self.invalid_detections.get(int(kind), 0) + 1
        return detections.take(ok)

    def _groups(self, detections: Detections, t: float) -> list[tuple[float, Detections]]:
        """The tick's detections in time order, in groups spanning at most GROUP_S, each with
        the time of its last detection. Times are clamped to [tracks' time, t]; detections
        older than the tracks (late datagrams) are counted, and those with a reported
        velocity are moved on along it to the tracks' time (late_reports.py)."""
        if len(detections) == 0:
            return []
        times = np.minimum(detections.t, t)
        detections, carried = carry_forward(detections, times, self.tracks.t)
        self.late_detections += int(((times < self.tracks.t) & ~carried).sum())
        self.carried_reports += int(carried.sum())
        times = np.maximum(times, self.tracks.t)
        order = np.argsort(times, kind="stable")
        times = times[order]
        cuts = np.flatnonzero(np.diff(np.floor((times - times[0]) / GROUP_S))) + 1
        starts = np.concatenate([[0], cuts])
        ends = np.concatenate([cuts, [times.size]])
        return [
            (float(times[e - 1]), detections.take(order[s:e]))
            for s, e in zip(starts, ends, strict=True)
        ]

    # ------------------------------------------------------------------ snapshot

    def _build_snapshot(self, t: float, shown: Tracks, classes: Classes) -> Snapshot:
        lat, lon, alt = self.frame.enu_to_geodetic(shown.x[:, :3])
        points = np.column_stack([lat, lon, alt])
        trail = self.trails.update(shown.id, points, shown.t_update)
        steps = PREDICT_STEP_S * np.arange(1, PREDICT_STEPS + 1)
        ahead = shown.x[:, None, :3] + shown.x[:, None, 3:] * steps[None, :, None]
        p_lat, p_lon, p_alt = self.frame.enu_to_geodetic(ahead.reshape(-1, 3))
        predicted = np.column_stack([p_lat, p_lon, p_alt]).reshape(len(shown), PREDICT_STEPS, 3)
        tracks = TrackArrays(
            id=shown.id,
            enu=shown.x,
            lat=lat,
            lon=lon,
            alt_m=alt,
            sigma_m=np.sqrt(np.maximum(shown.P[:, 0, 0], shown.P[:, 1, 1])),
            status=shown.status,
            target_class=classes.target_class.astype(np.int8),
            p_class=classes.p,
            behaviour=classes.behaviour,
            identity=_per_key(shown.identity, self.identity_label),
            callsign=_per_key(shown.identity, lambda i: self.callsigns.get(i, "")),
            t_update=shown.t_update,
            trail=trail,
            predicted=predicted,
            evidence=shown.evidence,
            **self._fusion_columns(shown, classes),
            reasons=reason_names(
                np.zeros(len(shown), np.int64) if classes.reasons is None else classes.reasons
            ),
            cov=shown.P,
        )
        self._shown = tracks
        self.seq += 1
        return Snapshot(
            seq=self.seq,
            t=t,
            site=self.site,
            tracks=tracks,
            alerts=self.alert_viewer.views(ordered(self.book), tracks),
            sensors=self.sensors,
            health=self.health(),
        )

    def _fusion_columns(self, shown: Tracks, classes: Classes) -> dict[str, np.ndarray]:
        """Per track: the fusion flags and the last report time of each source kind."""
        drone = classes.target_class == TargetClass.DRONE
        inconsistent, non_cooperative, last = fusion_flags(self.fusion, shown.id, drone)
        table = np.empty(4, dtype=object)
        table[:] = [(), ("non_cooperative",), ("cooperative_inconsistent",),
                    ("cooperative_inconsistent", "non_cooperative")]  # fmt: skip
        code = 2 * inconsistent.astype(np.int64) + non_cooperative.astype(np.int64)
        return {"flags": table[code], "sources": last}

    def track_sources(self, track_id: int) -> dict | None:
        """Which sensor reports fed a track and when (auditable fusion), or None."""
        return sources_view(self.fusion, track_id)

    def explain_track(self, track_id: int, k: int = 3) -> dict | None:
        """Why a track has its class: :meth:`TrainedClassifier.explain` plus the track's
        current (smoothed, identity-fused) ``p``, ``class`` and ``behaviour`` from the latest
        snapshot. None for a track not in that snapshot or not classified yet, and when the
        classifier in use is not a :class:`TrainedClassifier` (nothing to explain)."""
        from skywarden.classify import CLASSES

        if not isinstance(self.classifier, TrainedClassifier):
            return None
        tracks = self._snapshot.tracks
        hit = np.flatnonzero(tracks.id == track_id)
        why = self.classifier.explain(track_id, k) if hit.size else None
        if why is None:
            return None
        i = int(hit[0])
        why["class"] = CLASS_NAMES[int(tracks.target_class[i])]
        why["p"] = json_safe(dict(zip(CLASSES, tracks.p_class[i].tolist(), strict=True)))
        why["behaviour"] = str(tracks.behaviour[i] or "")
        return why

    def identity_label(self, identity: int) -> str:
        """'icao:3C660C', 'rid:SERIAL' or '' for an identity key."""
        if identity < 0:
            return ""
        address = icao_of(identity)
        if address is not None:
            return f"icao:{address:06X}"
        return self.names.get(identity, identity_kind(identity))

    def alert_view(self, alert: Alert) -> AlertView:
        return self.alert_viewer.views([alert], self._shown)[0]

    def _publish(self, snapshot: Snapshot, events: tuple[AuditEntry, ...]) -> None:
        self._snapshot = snapshot
        for listener in self.listeners:
            listener(snapshot, events)
        self._published.notify()

    # ------------------------------------------------------------------ ServiceBackend

    def snapshot(self) -> Snapshot:
        return self._snapshot

    async def next_snapshot(self, after_seq: int) -> Snapshot:
        return await self._published.newer(self.snapshot, after_seq)

    def _operator(
        self, action: Callable[..., AlertBook], alert_id: int, who: str, note: str, role: str
    ):
        if not any(a.id == alert_id for a in self.book.alerts):
            raise KeyError(alert_id)
        t = self.clock()
        before = len(self.book.audit)
        self.book = action(self.book, alert_id, who, t, note)
        entries = self.book.audit[before:] if len(self.book.audit) >= before else ()
        if role:  # the authenticated principal's role rides with the name
            entries = tuple(replace(e, role=role) for e in entries)
            self.book = replace(self.book, audit=self.book.audit[:before] + entries)
        for listener in self.listeners:
            listener(self._snapshot, tuple(entries))
        alert = next((a for a in self.book.alerts if a.id == alert_id), None)
        if alert is None:
            raise KeyError(alert_id)
        self._snapshot = replace(
            self._snapshot, alerts=self.alert_viewer.views(ordered(self.book), self._shown)
        )
        return self.alert_view(alert)

    def acknowledge(self, alert_id: int, who: str, note: str = "", role: str = "") -> AlertView:
        return self._operator(acknowledge, alert_id, who, note, role)

    def reject(self, alert_id: int, who: str, note: str = "", role: str = "") -> AlertView:
        return self._operator(reject, alert_id, who, note, role)

    def ignore(self, alert_id: int, who: str, note: str = "", role: str = "") -> AlertView:
        return self._operator(ignore, alert_id, who, note, role)

    def zones_geojson(self) -> dict:
        return zones_to_geojson(self.zones, self.frame)

    def clutter_geojson(self) -> dict:
        return clutter_geojson(self.tracks.clutter, self.params.clutter_cell_m, self.frame)

    def put_zones(self, geojson: dict, who: str = "", role: str = "", record: bool = True) -> dict:
        """Replace the zones (ConfigError on a bad document, ZoneLimitError beyond the
        bounds), recorded with the principal: skywarden.settings_changes."""
        return apply_setting(self, "zones", geojson, who=who, role=role, record=record)

    def rules_json(self) -> list[dict]:
        return setting_document(self, "rules")

    def put_rules(self, rules: list, who: str = "", role: str = "") -> list[dict]:
        """Replace the alert rules ([[alert_rules]] tables; ConfigError on a bad one)."""
        return apply_setting(self, "rules", rules, who=who, role=role)

    def allow_json(self) -> list[dict]:
        return setting_document(self, "allow")

    def put_allow(self, allow: list, who: str = "", role: str = "") -> list[dict]:
        """Replace the allow-list ([[allow]] tables; ConfigError on a bad one)."""
        return apply_setting(self, "allow", allow, who=who, role=role)

    def health(self) -> dict:
        lat = np.array(self.latency_ms) if self.latency_ms else np.zeros(1)
        parts = {name: part() for name, part in self.health_parts.items()}
        degraded = [f"{k}: {p.get('error', '')}" for k, p in parts.items()
                    if p.get("status") == "degraded"]  # fmt: skip
        return json_safe(
            {
                "status": "degraded" if degraded else "ok",
                "degraded": degraded,
                **parts,
                "sources": self.source_health,
                "tick_latency_ms": {
                    "p50": float(np.percentile(lat, 50)),
                    "p99": float(np.percentile(lat, 99)),
                    "last": float(lat[-1]),
                },
                "tick_cpu_ms": _percentiles(self.tick_cpu_ms),
                "tick_wall_ms": _percentiles(self.tick_wall_ms),
                "queue_depth": self.queue_depth,
                "late_detections": self.late_detections,
                "carried_reports": self.carried_reports,
                "spanned_scan_closes": self.spanned_scan_closes,
                "invalid_detections": {
                    SourceKind(k).name.lower(): n for k, n in self.invalid_detections.items()
                },
                "uptime_s": self.clock() - self.started,
                "snapshot_seq": self.seq,
                "tracks": int(len(self.tracks)),
                "tracker": learnt_summary(self.tracks, self.params),
            }
        )

    def audit(self, since_t: float | None = None) -> list[dict]:
        entries = [
            {
                "t": e.t, "alert_id": e.alert_id, "action": e.action, "who": e.who,
                "role": e.role, "state": e.state.name.lower(), "zone_id": e.zone_id,
                "note": e.note,
            }
            for e in self.book.audit
            if since_t is None or e.t >= since_t
        ] + [c.to_audit() for c in self.changes if since_t is None or c.t >= since_t]  # fmt: skip
        return sorted(entries, key=lambda e: e["t"])

    def history_tracks(self, t0: float, t1: float, step_s: float | None = None) -> list[dict]:
        """Track paths of a past time window from the history store (the map's replay), at
        most one sample per track per step_s seconds when given; NotImplementedError without
        a store."""
        if self.history_reader is None:
            raise NotImplementedError("no history store is configured")
        return self.history_reader().tracks_between(t0, t1, step_s)

    def history_span(self) -> tuple[float, float] | None:
        """(first, last) stored time (POSIX s), None for an empty history; NotImplementedError
        without a store."""
        if self.history_reader is None:
            raise NotImplementedError("no history store is configured")
        return self.history_reader().time_span()


def _percentiles(values: deque[float]) -> dict[str, float]:
    """p50, p99 and last of the values (0 when there are none)."""
    v = np.array(values) if values else np.zeros(1)
    return {"p50": float(np.percentile(v, 50)), "p99": float(np.percentile(v, 99)),
            "last": float(v[-1])}  # fmt: skip


def _per_key(keys: np.ndarray, label: Callable[[int], str]) -> np.ndarray:
    """(N,) object array of label(key) for int keys (N,), computed once per distinct key (most
    radar tracks share the key 'no identity')."""
    distinct, inverse = np.unique(keys, return_inverse=True)
    labels = np.empty(distinct.size, dtype=object)
    labels[:] = [label(int(k)) for k in distinct]
    return labels[inverse.reshape(-1)]


def extrapolated(tracks: Tracks, t: float) -> Tracks:
    """The tracks moved on to time t (POSIX s) at constant velocity (site ENU), for display and
    assessment only: the tracker's state is not touched. Used within a scan, where t is at most
    TICK_EXTRAPOLATE_S after the tracks' last update; the covariance is left as it is."""
    dt = t - tracks.t
    if len(tracks) == 0 or dt <= 0.0:
        return tracks
    x = tracks.x.copy()
    x[:, :3] += dt * x[:, 3:]
    return replace(tracks, x=x, t=t)
