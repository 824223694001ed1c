"""The pipeline: owns the clock and the loop. sources -> tick -> step -> classify -> warn ->
snapshot -> readers (server, sinks, store).

:meth:`Pipeline.process` is one synchronous tick over a batch of detections (testable without
sockets); :meth:`Pipeline.run` drives it from live or recorded sources. The pipeline is also
the server's :class:`~skywarden.server.backend.ServiceBackend`: readers get immutable
snapshots and send operator actions back through it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from skywarden.detections import Detections, SourceKind, icao_of, identity_kind
from skywarden.geo import LocalFrame
from skywarden.reorder import DEFAULT_REORDER_WINDOW_S, ReorderBuffer
from skywarden.site_config import SiteConfig
from skywarden.snapshot import (
    CLASS_NAMES,
    AlertView,
    SensorView,
    Snapshot,
    TrackArrays,
    json_safe,
)
from skywarden.sources.feeds import Feed
from skywarden.track.fuse import (
    fusion_flags,
    new_fusion,
    sources_view,
    update_fusion,
)
from skywarden.track.score import learnt_summary
from skywarden.track.step import new_tracks, step
from skywarden.track.tracks import Tracks, rows_by_id
from skywarden.trails import TrailBuffer
from skywarden.units import FloatArray
from skywarden.warn import (
    Alert,
    AlertBook,
    AlertParams,
    AuditEntry,
    EntryForecast,
    TargetClass,
    acknowledge,
    assess,
    forecast_entry,
    ignore,
    make_entry_model,
    ordered,
    parse_zones,
    reject,
    update_alerts,
    zones_to_geojson,
)

GROUP_S = 0.2  # detections within this time of each other update the tracks together
PREDICT_STEPS = 6
PREDICT_STEP_S = 10.0
TRAIL_LENGTH = 30
AIRCRAFT_SPEED_MPS = 70.0


@dataclass(frozen=True, slots=True)
class Classes:
    """Per-track labels: class (N,) TargetClass, p (N, 4) [drone, bird, aircraft, unknown],
    behaviour (N,) str."""

    target_class: np.ndarray
    p: FloatArray
    behaviour: np.ndarray


Classifier = Callable[[Tracks, float], Classes]


def identity_and_speed_classes(tracks: Tracks, t: float) -> Classes:
    """Class from cooperative identity and speed alone (used when no trained classifier is
    given): ICAO -> aircraft, Remote ID -> drone, faster than 70 m/s -> aircraft, else
    unknown. Probabilities say how sure that rule is, not a calibrated model."""
    kinds = np.array([identity_kind(int(i)) for i in tracks.identity], dtype=object)
    speed = np.linalg.norm(tracks.x[:, 3:5], axis=1)
    cls = np.full(len(tracks), TargetClass.UNKNOWN, np.int8)
    cls[speed > AIRCRAFT_SPEED_MPS] = TargetClass.AIRCRAFT
    cls[kinds == "icao"] = TargetClass.AIRCRAFT
    cls[kinds == "remote_id"] = TargetClass.DRONE
    p = np.tile([0.25, 0.25, 0.25, 0.25], (len(tracks), 1))
    p[cls == TargetClass.AIRCRAFT] = [0.02, 0.02, 0.95, 0.01]
    p[cls == TargetClass.DRONE] = [0.95, 0.02, 0.02, 0.01]
    return Classes(cls, p, np.full(len(tracks), "", dtype=object))


class TrainedClassifier:
    """The shipped classifier (skywarden.classify) as the pipeline's per-update classifier.

    Its feature window expects one sample per scan, so the window advances at most once per
    ``scan_period_s``; updates in between reuse each track's last labels (new tracks are
    'unknown' until the next scan). Probabilities are averaged over scans
    (``smooth_probabilities``), starting when a track is ``min_age_s`` old: before that the
    average holds only the newest scan, so a track's first seconds (few states, little more
    than a speed, in which bird-flock tracks often look like drones) do not carry into its
    label. Labels: the most probable class at p >= 0.5, except that 'drone' needs p_drone >=
    ``drone_confidence`` (0.5 by default, the issue's rule: the flock rule below, not a
    higher threshold, keeps birds from being labelled drone), tracks younger than
    ``min_age_s`` are 'unknown', and a track that was not 'drone' at the previous scan does
    not become 'drone' inside a flock: with at least ``flock_min_tracks`` other tracks within
    ``flock_radius_m`` (3-D), more than half of them at p_bird >= 0.5 (there the tracker's
    associations swap between birds, which looks like fast, erratic flight). Such a track is
    'unknown', so the protected zone still warns of it; a track already 'drone' keeps its
    label through a flock. Measured on the swarm and mixed scenarios by
    skywarden.evaluate.warning.
    """

    def __init__(
        self,
        scan_period_s: float = 1.0,
        zones: FloatArray | None = None,
        *,
        min_age_s: float = 5.0,
        drone_confidence: float = 0.5,
        flock_radius_m: float = 200.0,
        flock_min_tracks: int = 3,
    ) -> None:
        from skywarden.classify import new_classifier_state

        self.states = [new_classifier_state(), new_classifier_state()]
        self.half_t = [-math.inf, -math.inf]
        self.period = scan_period_s
        self.zones = zones
        self.min_age_s = min_age_s
        self.drone_confidence = drone_confidence
        self.flock_radius_m = flock_radius_m
        self.flock_min_tracks = flock_min_tracks
        self.last_t = -math.inf
        self.last = Classes(np.zeros(0, np.int8), np.zeros((0, 4)), np.zeros(0, dtype=object))
        self.last_id = np.zeros(0, np.int64)

    def __call__(self, tracks: Tracks, t: float) -> Classes:
        """Labels of every track. Tracks are split in two halves by track-number parity and
        each half is re-classified once per scan; when updates come often (the live loop),
        the halves fall due at different updates, so the model's cost is spread over two
        updates instead of landing on one. When both are due (one update per scan) both run."""
        from skywarden.classify import class_labels

        due = [h for h in (0, 1) if t - self.half_t[h] >= 0.9 * self.period]
        if not due:
            return self._reuse(tracks)
        merged = self._reuse(tracks)
        for half in due:
            self.half_t[half] = t
            rows = np.flatnonzero(tracks.id % 2 == half)
            sub = tracks.take(rows)
            p, behaviour, young = self._probabilities(half, sub, t)
            merged.p[rows], merged.behaviour[rows] = p, behaviour
            names = np.array([n.upper() for n in class_labels(p)], dtype=object)
            cls = np.array([TargetClass[n].value for n in names], dtype=np.int8)
            unsure = (cls == TargetClass.DRONE) & (p[:, 0] < self.drone_confidence)
            new_drone = (cls == TargetClass.DRONE) & ~self._was_drone(sub)
            merged.target_class[rows] = np.where(unsure | young, TargetClass.UNKNOWN, cls)
            flock = self._in_flock(tracks.x[:, :3], merged.p[:, 1] >= 0.5)[rows]
            merged.target_class[rows[new_drone & flock]] = TargetClass.UNKNOWN
        if len(due) == 2:  # de-phase the halves for frequent updates
            self.half_t[1] = t - 0.5 * self.period
        self.last, self.last_id, self.last_t = merged, tracks.id.copy(), t
        return merged

    def _probabilities(
        self, half: int, sub: Tracks, t: float
    ) -> tuple[FloatArray, np.ndarray, np.ndarray]:
        """Smoothed probabilities (n, 4), behaviour (n,) and the young mask of one half."""
        from skywarden.classify import ClassifierState, classify_tracks, smooth_probabilities

        old = self.states[half]
        new, result = classify_tracks(old, sub, zones=self.zones, n_top=0)
        young = t - sub.t_birth < self.min_age_s
        p = smooth_probabilities(old, new.window, result.p)
        p[young] = result.p[young]  # the average starts at min_age_s
        self.states[half] = ClassifierState(new.window, p)
        return p, np.asarray(result.behaviour, dtype=object), young

    def explain(self, track_id: int, k: int = 3) -> dict | None:
        """Why the model labels a track as it does, computed on demand (the per-scan loop
        computes no reasons): from the track's state window at its half's last scan, the
        single-scan model output ``model_p`` (before identity fusion and smoothing) and the
        ``k`` features that pushed it most towards its most probable class, with their
        values and logit contributions (largest first), plus every feature's value.

        JSON-safe dict ``{"track_id", "t" (POSIX s of the newest window state), "model_p":
        {drone, bird, aircraft, unknown}, "top_features": [{"name", "value", "contribution"}],
        "features": {name: value}}`` (NaN -> None); None for a track not classified yet.
        """
        from skywarden.classify import CLASSES, FEATURE_NAMES, features_from_window
        from skywarden.classify.model import predict_with_reasons

        window = self.states[int(track_id) % 2].window
        hit = np.flatnonzero(window.id == track_id)
        if hit.size == 0:
            return None
        row = int(hit[0])
        X = features_from_window(window.take([row]))
        p, names, scores = predict_with_reasons(X, k)
        values = dict(zip(FEATURE_NAMES, X[0].tolist(), strict=True))
        top = [
            {"name": str(n), "value": values.get(str(n)), "contribution": float(c)}
            for n, c in zip(names[0], scores[0], strict=True)
        ]
        return json_safe(
            {
                "track_id": int(track_id),
                "t": float(window.t[row, -1]),  # the newest column is always filled
                "model_p": dict(zip(CLASSES, p[0].tolist(), strict=True)),
                "top_features": top,
                "features": values,
            }
        )

    def _was_drone(self, tracks: Tracks) -> np.ndarray:
        """(N,) bool: the track was labelled 'drone' at the previous scan."""
        if self.last_id.size == 0:
            return np.zeros(len(tracks), bool)
        row = rows_by_id(self.last_id, tracks.id)
        was = self.last.target_class[np.maximum(row, 0)] == TargetClass.DRONE
        return (row >= 0) & was

    def _in_flock(self, pos: FloatArray, bird: np.ndarray) -> np.ndarray:
        """(N,) bool: at least flock_min_tracks other tracks within flock_radius_m of pos
        (N, 3) m, more than half of them ``bird`` (N,) bool."""
        from scipy.spatial import cKDTree

        n = pos.shape[0]
        if n <= self.flock_min_tracks:
            return np.zeros(n, bool)
        pairs = cKDTree(pos).query_pairs(self.flock_radius_m, output_type="ndarray")
        a, b = pairs[:, 0], pairs[:, 1]
        near = np.bincount(pairs.ravel(), minlength=n)
        w = bird.astype(np.float64)
        birds = np.bincount(a, w[b], minlength=n) + np.bincount(b, w[a], minlength=n)
        return (near >= self.flock_min_tracks) & (2 * birds > near)

    def _reuse(self, tracks: Tracks) -> Classes:
        """Each track's last labels (new tracks: 'unknown', p = [0, 0, 0, 1]); fresh arrays."""
        n = len(tracks)
        cls = np.full(n, TargetClass.UNKNOWN, np.int8)
        p = np.tile([0.0, 0.0, 0.0, 1.0], (n, 1))
        behaviour = np.full(n, "", dtype=object)
        row = rows_by_id(self.last_id, tracks.id)
        known = row >= 0
        rows = row[known]
        cls[known], p[known] = self.last.target_class[rows], self.last.p[rows]
        behaviour[known] = self.last.behaviour[rows]
        return Classes(cls, p, behaviour)


class ForecastCache:
    """Zone-entry forecasts of the shown tracks, recomputed only where needed.

    A track's forecast is recomputed when it was updated (or is new) or when its forecast is
    older than ``max_age_s``; the others keep theirs with the time to entry counted down. When
    the zones change, every track is recomputed. This keeps the warning work per arrival batch
    proportional to the tracks that batch updated, instead of a full recompute at scan ends.
    """

    max_age_s = 1.0

    def __init__(self) -> None:
        self.key: tuple[str, ...] = ()
        self.id = np.zeros(0, np.int64)
        self.t_update = np.zeros(0)
        self.t_row = np.zeros(0)
        self.t = 0.0
        self.value: EntryForecast | None = None

    def forecast(
        self, shown: Tracks, t: float, zones: Sequence[Any], model: Any, full: bool
    ) -> EntryForecast:
        key = tuple(z.id for z in zones)
        n, z = len(shown), len(zones)
        redo = np.ones(n, bool)
        rows = np.full(n, -1)
        if not full and self.value is not None and key == self.key and self.id.size:
            rows = rows_by_id(self.id, shown.id)
            known = rows >= 0
            safe = np.maximum(rows, 0)
            redo = ~known | (shown.t_update != self.t_update[safe])
            redo |= t - self.t_row[safe] > self.max_age_s
        out = EntryForecast(
            probability=np.zeros((n, z)), time_s=np.full((n, z), np.inf),
            inside=np.zeros((n, z), bool), evaluated=np.zeros((n, z), bool),
        )  # fmt: skip
        keep = ~redo
        if keep.any():
            old, r = self.value, rows[keep]
            out.probability[keep] = old.probability[r]
            out.time_s[keep] = np.maximum(old.time_s[r] - (t - self.t), 0.0)
            out.inside[keep], out.evaluated[keep] = old.inside[r], old.evaluated[r]
        if redo.any():
            fresh = forecast_entry(shown.x[redo], shown.P[redo], zones, model)
            out.probability[redo], out.time_s[redo] = fresh.probability, fresh.time_s
            out.inside[redo], out.evaluated[redo] = fresh.inside, fresh.evaluated
        t_row = np.full(n, t)
        if keep.any():
            t_row[keep] = self.t_row[rows[keep]]
        self.key, self.id, self.t_update, self.t = key, shown.id.copy(), shown.t_update.copy(), t
        self.t_row, self.value = t_row, out
        return out


class Pipeline:
    """One site's picture, advanced tick by tick."""

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
        self.classifier = classifier or TrainedClassifier(config.scan_period_s)
        self.tracks = new_tracks(self.params)
        self.zones = parse_zones(config.zones_geojson, self.frame)
        horizon = max((r.horizon_s * r.hold_horizon_factor for r in config.rules), default=120.0)
        self.entry_model = make_entry_model(np.random.default_rng(seed), horizon_s=horizon)
        self.alert_params = AlertParams()
        self.book = AlertBook()
        self.forecasts = ForecastCache()
        self.fusion = new_fusion()
        self.trails = TrailBuffer(TRAIL_LENGTH)
        self.names: dict[int, str] = {}  # identity key -> 'rid:SERIAL' (filled by the feeds)
        self.callsigns: dict[int, str] = {}
        self.sensors: tuple[SensorView, ...] = ()
        self.source_health: dict[str, dict[str, Any]] = {}
        self.latency_ms: deque[float] = deque(maxlen=2000)
        self.queue_depth = 0
        self.late_detections = 0
        self.invalid_detections: dict[int, int] = {}
        self.started = clock()
        self.seq = 0
        self._snapshot = Snapshot(0, self.started, self.site, TrackArrays.empty(TRAIL_LENGTH))
        self._published = asyncio.Event() if _in_loop() else None
        self.listeners: list[Callable[[Snapshot, tuple[AuditEntry, ...]], None]] = []
        self.history_reader: Callable[[], Any] | None = None

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
        processes data as it arrives and closes a scan every ``scan_period_s``.
        """
        detections = self._valid(detections)
        for t_group, batch in self._groups(detections, t):
            self.tracks, ev = step(self.tracks, batch, t_group, self.params, end_of_scan=False)
            self.fusion = update_fusion(
                self.fusion, self.tracks, batch, ev.detection_track, t_group
            )
        self.tracks, ev = step(
            self.tracks, Detections.empty(), t, self.params, end_of_scan=end_of_scan
        )
        empty = Detections.empty()
        self.fusion = update_fusion(self.fusion, self.tracks, empty, ev.detection_track, t)
        shown = self.tracks.take(self.tracks.confirmed)
        classes = self.classifier(shown, t)
        forecast = self.forecasts.forecast(shown, t, self.zones, self.entry_model, full=False)
        assessment = assess(
            t, shown.x, shown.P, shown.id, shown.identity, classes.target_class, self.zones,
            self.config.rules, self.entry_model, self.alert_params, self.config.allow,
            forecast=forecast,
        )  # fmt: skip
        self.book, events = update_alerts(self.book, assessment, t, self.alert_params)
        snapshot = self._build_snapshot(t, shown, classes)
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
        older than the tracks (late datagrams) are counted."""
        if len(detections) == 0:
            return []
        times = np.minimum(detections.t, t)
        self.late_detections += int((times < self.tracks.t).sum())
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
        trail = self.trails.update(shown.id, points)
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
            identity=np.array([self.identity_label(int(i)) for i in shown.identity], dtype=object),
            callsign=np.array(
                [self.callsigns.get(int(i), "") for i in shown.identity], dtype=object
            ),
            t_update=shown.t_update,
            trail=trail,
            predicted=predicted,
            **self._fusion_columns(shown, classes),
        )
        self.seq += 1
        return Snapshot(
            seq=self.seq,
            t=t,
            site=self.site,
            tracks=tracks,
            alerts=tuple(self.alert_view(a) for a in ordered(self.book)),
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

    def note_sources(self, sources: Sequence[LiveSource], dropped: Sequence[int]) -> None:
        """Refresh identity labels and per-source health from the live feeds."""
        for i, src in enumerate(sources):
            self.names.update(src.feed.names)
            self.callsigns.update(src.feed.callsigns)
            health = src.feed.counters.as_dict()
            health["dropped"] = dropped[i]
            counters = getattr(src.transport, "counters", None)
            if counters is not None:
                health["transport"] = counters.as_dict()
            self.source_health[src.name] = health

    def identity_label(self, identity: int) -> str:
        """'icao:3C660C', 'rid:SERIAL' or '' for an identity key."""
        if identity < 0:
            return ""
        address = icao_of(identity)
        if address is not None:
            return f"icao:{address:06X}"
        return self.names.get(identity, identity_kind(identity))

    def alert_view(self, alert: Alert) -> AlertView:
        lat, lon, alt = self.frame.enu_to_geodetic(np.array([alert.position]))
        key = alert.object_key
        label = self.identity_label(key) if identity_kind(key) != "none" else ""
        return AlertView(
            id=alert.id,
            zone_id=alert.zone_id,
            track_id=alert.track_id,
            object=label or f"track:{alert.track_id}",
            state=alert.state.name.lower(),
            priority=alert.priority,
            probability=alert.probability,
            time_to_entry_s=alert.time_to_entry_s,
            inside=alert.inside,
            target_class=CLASS_NAMES[int(alert.target_class)],
            lat=float(lat[0]),
            lon=float(lon[0]),
            alt_m=float(alt[0]),
            t_raised=alert.t_raised,
            t_state=alert.t_state,
        )

    def _publish(self, snapshot: Snapshot, events: tuple[AuditEntry, ...]) -> None:
        self._snapshot = snapshot
        for listener in self.listeners:
            listener(snapshot, events)
        if self._published is not None:
            self._published.set()
            self._published = asyncio.Event()

    # ------------------------------------------------------------------ ServiceBackend

    def snapshot(self) -> Snapshot:
        return self._snapshot

    async def next_snapshot(self, after_seq: int) -> Snapshot:
        while self._snapshot.seq <= after_seq:
            if self._published is None:
                self._published = asyncio.Event()
            await self._published.wait()
        return self._snapshot

    def _operator(self, action: Callable[..., AlertBook], alert_id: int, who: str, note: str):
        if not any(a.id == alert_id for a in self.book.alerts):
            raise KeyError(alert_id)
        t = self.clock()
        before = len(self.book.audit)
        self.book = action(self.book, alert_id, who, t, note)
        entries = self.book.audit[before:] if len(self.book.audit) >= before else ()
        for listener in self.listeners:
            listener(self._snapshot, tuple(entries))
        alert = next((a for a in self.book.alerts if a.id == alert_id), None)
        if alert is None:
            raise KeyError(alert_id)
        self._snapshot = replace(
            self._snapshot, alerts=tuple(self.alert_view(a) for a in ordered(self.book))
        )
        return self.alert_view(alert)

    def acknowledge(self, alert_id: int, who: str, note: str = "") -> AlertView:
        return self._operator(acknowledge, alert_id, who, note)

    def reject(self, alert_id: int, who: str, note: str = "") -> AlertView:
        return self._operator(reject, alert_id, who, note)

    def ignore(self, alert_id: int, who: str, note: str = "") -> AlertView:
        return self._operator(ignore, alert_id, who, note)

    def zones_geojson(self) -> dict:
        return zones_to_geojson(self.zones, self.frame)

    def put_zones(self, geojson: dict) -> dict:
        self.zones = parse_zones(geojson, self.frame)  # ConfigError on a bad document
        return self.zones_geojson()

    def health(self) -> dict:
        lat = np.array(self.latency_ms) if self.latency_ms else np.zeros(1)
        return json_safe(
            {
                "sources": self.source_health,
                "tick_latency_ms": {
                    "p50": float(np.percentile(lat, 50)),
                    "p99": float(np.percentile(lat, 99)),
                    "last": float(lat[-1]),
                },
                "queue_depth": self.queue_depth,
                "late_detections": self.late_detections,
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
        return [
            {
                "t": e.t, "alert_id": e.alert_id, "action": e.action, "who": e.who,
                "state": e.state.name.lower(), "zone_id": e.zone_id, "note": e.note,
            }
            for e in self.book.audit
            if since_t is None or e.t >= since_t
        ]  # fmt: skip

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


@dataclass
class LiveSource:
    """One configured input: its feed (decoder state) and its byte stream.

    ``stream`` yields ``(receive_time_s, bytes[, connection])`` tuples (UdpSource,
    TcpClientSource, or a replay); ``transport`` exposes ``counters`` for /health.
    """

    name: str
    feed: Feed
    stream: AsyncIterable[tuple]
    transport: Any = None


async def run_live(
    pipeline: Pipeline,
    sources: Sequence[LiveSource],
    stop: asyncio.Event,
    *,
    batch_window_s: float = 0.02,
    on_raw: Callable[[str, float, bytes], None] | None = None,
    max_queue: int = 200_000,
    reorder_window_s: float = DEFAULT_REORDER_WINDOW_S,
) -> None:
    """Drive the pipeline from live sources until ``stop`` is set.

    Data is processed as it arrives: the loop waits for the first chunk, gathers whatever else
    arrives within ``batch_window_s``, decodes it and runs :meth:`Pipeline.process`; a scan is
    closed every ``scan_period_s`` of the pipeline's clock even when nothing arrives. The
    latency recorded for /health is from when the loop took the earliest of the released
    detections (on the pipeline's clock) to the end of their processing (alerts out), so it
    includes the reorder wait. A full queue drops chunks and counts them per source.
    Detections wait in a reorder buffer (reorder.py; at most ``reorder_window_s``, as long as
    the sensors' recent delays need) so that the tracker takes them in time order at their
    own times.
    """
    queue: asyncio.Queue[tuple[int, float, bytes, int]] = asyncio.Queue(max_queue)
    dropped = [0] * len(sources)
    pumps = [
        asyncio.create_task(_pump(i, src, queue, dropped), name=f"source:{src.name}")
        for i, src in enumerate(sources)
    ]
    period = pipeline.config.scan_period_s
    scan_end = pipeline.clock() + period
    reorder = ReorderBuffer(reorder_window_s)
    try:
        while not stop.is_set():
            wait = min(scan_end - pipeline.clock(), reorder.window_s if len(reorder) else math.inf)
            items = await _gather(queue, stop, wait, batch_window_s)
            per_source: dict[int, list[tuple[float, bytes, int]]] = {}
            for i, t, data, connection in items:
                if on_raw is not None:
                    on_raw(sources[i].name, t, data)
                per_source.setdefault(i, []).append((t, data, connection))
            batches = [sources[i].feed.feed_many(chunks) for i, chunks in per_source.items()]
            now = pipeline.clock()
            # received "now" on the pipeline's clock (a sped-up test clock included): the
            # transports stamp with the wall clock, which may not be the pipeline's
            reorder.add(Detections.concat(batches), now)
            until, ready, taken = reorder.release(now)
            end_of_scan = now >= scan_end
            if end_of_scan:
                scan_end = max(scan_end + period, now)
            pipeline.queue_depth = queue.qsize()
            if len(ready) or end_of_scan:
                t_process = max(until, pipeline.tracks.t)
                pipeline.process(t_process, ready, end_of_scan=end_of_scan)
            if len(ready):
                pipeline.latency_ms.append((pipeline.clock() - taken) * 1e3)
            pipeline.note_sources(sources, dropped)
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)


def replay_inputs(
    pipeline: Pipeline,
    feeds: dict[str, Feed],
    inputs: Iterable[tuple[float, str, bytes]],
    *,
    batch_window_s: float = 0.02,
) -> Iterator[Snapshot]:
    """Drive the pipeline offline from recorded raw inputs ``(t_receive, source, bytes)`` in
    receive order, batching and closing scans as :func:`run_live` does on the live clock.
    Inputs of unknown sources are counted in ``pipeline.source_health['unknown']``. Yields
    each snapshot."""
    period = pipeline.config.scan_period_s
    scan_end: float | None = None
    batch: dict[str, list[tuple[float, bytes, int]]] = {}
    batch_start = batch_last = 0.0
    unknown = 0
    for t, source, payload in inputs:
        if scan_end is None:
            scan_end = t + period
        if batch and t - batch_start > batch_window_s:
            yield from _flush_replay(pipeline, feeds, batch, batch_last, scan_end)
            scan_end = _next_scan_end(scan_end, batch_last, period)
            batch = {}
        while t > scan_end:  # scans that ended with no data
            pipeline.process(scan_end, Detections.empty(), end_of_scan=True)
            yield pipeline.snapshot()
            scan_end += period
        feed = feeds.get(source)
        if feed is None:
            unknown += 1
            pipeline.source_health["unknown"] = {"messages": unknown}
            continue
        if not batch:
            batch_start = t
        batch.setdefault(source, []).append((t, payload, 0))
        batch_last = t
    if batch and scan_end is not None:
        yield from _flush_replay(pipeline, feeds, batch, batch_last, scan_end)


def _flush_replay(
    pipeline: Pipeline,
    feeds: dict[str, Feed],
    batch: dict[str, list[tuple[float, bytes, int]]],
    t: float,
    scan_end: float,
) -> Iterator[Snapshot]:
    dets = [feeds[source].feed_many(chunks) for source, chunks in batch.items()]
    snapshot, _ = pipeline.process(t, Detections.concat(dets), end_of_scan=t >= scan_end)
    yield snapshot


def _next_scan_end(scan_end: float, t: float, period: float) -> float:
    return max(scan_end + period, t) if t >= scan_end else scan_end


async def _gather(
    queue: asyncio.Queue, stop: asyncio.Event, timeout_s: float, window_s: float
) -> list[tuple[int, float, bytes, int]]:
    """Wait up to timeout_s for a chunk, then take what arrives within window_s."""
    items = []
    try:
        items.append(await asyncio.wait_for(queue.get(), timeout=max(timeout_s, 0.0)))
    except TimeoutError:
        return items
    deadline = time.monotonic() + window_s
    while time.monotonic() < deadline and not stop.is_set():
        while not queue.empty():
            items.append(queue.get_nowait())
        await asyncio.sleep(min(0.002, window_s))
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


async def _pump(index: int, source: LiveSource, queue: asyncio.Queue, dropped: list[int]) -> None:
    """Move one source's chunks into the shared queue; a full queue drops and counts."""
    async for item in source.stream:
        t, data = float(item[0]), bytes(item[1])
        connection = int(item[2]) if len(item) > 2 and isinstance(item[2], int) else 0
        try:
            queue.put_nowait((index, t, data, connection))
        except asyncio.QueueFull:
            dropped[index] += 1


def _in_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
