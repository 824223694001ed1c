"""Test fakes of ServiceBackend: hand-made snapshots, real zone parsing, recorded operator actions.

:class:`FakeBackend` serves whatever snapshot a test publishes; :class:`MovingBackend` builds a
new snapshot on each ``next_snapshot`` call in which a drone flies at the site's protected zone
(raising one alert after a few ticks) and an airliner crosses the area. Either serves a stored
history when a test sets ``backend.history`` (e.g. to :func:`history_paths`).
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from dataclasses import replace
from typing import Any

import numpy as np

from skywarden.clutter_layer import clutter_geojson
from skywarden.geo import LocalFrame
from skywarden.site_rules import allow_from_list, allow_to_list, rules_from_list, rules_to_list
from skywarden.snapshot import CLASS_NAMES, AlertView, SensorView, Snapshot, TrackArrays
from skywarden.track import clutter_map
from skywarden.track.clutter_cells import PolarCells
from skywarden.track.clutter_map import ClutterMap
from skywarden.warn.alerts import AlertError
from skywarden.warn.zones import parse_zones, zones_to_geojson

SITE = (52.0, 5.0, 10.0)  # lat, lon (deg), h (m)
FRAME = LocalFrame(*SITE)


def fake_clutter_map() -> ClutterMap:
    """A learnt map: a radar at the site (range x azimuth cells) seeing a clutter patch 2 km
    north-east, 20 plots per scan over 5 scans."""
    rng = np.random.default_rng(7)
    cmap = ClutterMap.empty(PolarCells.of({0: (0.0, 0.0)}, 1000.0, math.radians(10.0)))
    for _ in range(5):
        z = np.column_stack([rng.uniform(1500, 2500, (20, 2)), np.zeros(20)])
        cmap = clutter_map.record(
            cmap, z, np.zeros(20, np.int32), cell_m=1000.0, end_of_scan=True, memory_scans=50.0
        )
    return cmap


ZONES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": "site-core",
            "properties": {
                "name": "Site core",
                "role": "protected",
                "floor_m": 0,
                "ceiling_m": 500,
                "radius_m": 1000,
            },
            "geometry": {"type": "Point", "coordinates": [SITE[1], SITE[0]]},
        },
        {
            "type": "Feature",
            "id": "approach",
            "properties": {"name": "Approach sector", "role": "warning", "floor_m": 0,
                           "ceiling_m": 1500},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[5.01, 51.99], [5.06, 51.99], [5.06, 52.03], [5.01, 52.03],
                                 [5.01, 51.99]]],
            },
        },
    ],
}  # fmt: skip


def make_tracks(enu: np.ndarray, classes: list[str], identity: list[str], callsign: list[str],
                ids: list[int], t: float, trail_length: int = 8, steps: int = 6,
                trail_dt: float = 2.0) -> TrackArrays:  # fmt: skip
    """Tracks at site ENU states enu (N, 6) with straight-line trails and predictions."""
    n = enu.shape[0]
    lat, lon, alt = FRAME.enu_to_geodetic(enu[:, :3])

    def along(offsets_s: np.ndarray) -> np.ndarray:
        pos = enu[:, None, :3] + offsets_s[None, :, None] * enu[:, None, 3:]
        la, lo, al = FRAME.enu_to_geodetic(pos.reshape(-1, 3))
        return np.stack([la, lo, al], axis=1).reshape(n, offsets_s.size, 3)

    p_class = np.full((n, 4), 0.05)
    order = ("drone", "bird", "aircraft", "unknown")
    for i, c in enumerate(classes):
        if c in order:
            p_class[i, order.index(c)] = 0.85
    return TrackArrays(
        id=np.asarray(ids, np.int64), enu=enu.astype(float), lat=lat, lon=lon, alt_m=alt,
        sigma_m=np.full(n, 12.0), status=np.ones(n, np.int8),
        target_class=np.array([CLASS_NAMES.index(c) for c in classes], np.int8),
        p_class=p_class, behaviour=np.array(["" for _ in range(n)], dtype=object),
        identity=np.array(identity, dtype=object), callsign=np.array(callsign, dtype=object),
        t_update=np.full(n, t), trail=along(-trail_dt * np.arange(trail_length, 0, -1)),
        predicted=along(10.0 * np.arange(1, steps + 1)),
    )  # fmt: skip


def make_alert(alert_id: int, track: TrackArrays, index: int, t: float, **kw: Any) -> AlertView:
    values: dict[str, Any] = dict(
        id=alert_id, zone_id="site-core", track_id=int(track.id[index]),
        object=str(track.identity[index] or f"track:{int(track.id[index])}"), state="active",
        priority=1, probability=0.9, time_to_entry_s=60.0, inside=False,
        target_class=CLASS_NAMES[int(track.target_class[index])], lat=float(track.lat[index]),
        lon=float(track.lon[index]), alt_m=float(track.alt_m[index]), t_raised=t, t_state=t,
    )  # fmt: skip
    values.update(kw)
    return AlertView(**values)


SENSORS = (
    SensorView("radar-north", "radar", 52.004, 5.0, 12.0, 8000.0, True, 1520, {"bad_crc": 3}),
    SensorView("adsb-roof", "adsb", 52.0, 5.002, 15.0, 60000.0, True, 48210, {}),
    SensorView("rid-mast", "remote_id", 51.998, 4.997, 12.0, 2500.0, False, 96, {"short": 1}),
)


def static_snapshot(seq: int = 1, t: float = 1_700_000_000.0) -> Snapshot:
    """Three tracks (drone, aircraft, bird) and two alerts (priority 2 soon, priority 1 later)."""
    enu = np.array([[1500.0, 1500.0, 120.0, -10.0, -10.0, 0.0],
                    [-20000.0, 8000.0, 3000.0, 200.0, 0.0, 0.0],
                    [300.0, -400.0, 40.0, 2.0, 1.0, 0.0]])  # fmt: skip
    tracks = make_tracks(enu, ["drone", "aircraft", "bird"], ["rid:1588E0", "icao:3C660C", ""],
                         ["", "DLH4AB", ""], [101, 202, 303], t)  # fmt: skip
    alerts = (
        make_alert(7, tracks, 2, t, priority=2, time_to_entry_s=5.0, zone_id="approach"),
        make_alert(5, tracks, 0, t, priority=1, time_to_entry_s=90.0),
        make_alert(6, tracks, 0, t, priority=1, time_to_entry_s=30.0, state="acknowledged"),
    )
    return Snapshot(seq=seq, t=t, site=SITE, tracks=tracks, alerts=alerts, sensors=SENSORS)


class FakeBackend:
    """Serves the published snapshot; operator actions and zone changes are recorded."""

    def __init__(self, snapshot: Snapshot | None = None) -> None:
        self._snapshot = snapshot or static_snapshot()
        self.actions: list[tuple[str, int, str, str]] = []
        self.zones = zones_to_geojson(parse_zones(ZONES, FRAME), FRAME)
        self.health_calls = 0
        self.history: list[dict] | None = None  # track paths as HistoryReader.tracks_between
        self.history_steps: list[float | None] = []  # step_s of each history_tracks call
        self.roles: list[str] = []  # the principal's role of each operator action
        self.zone_changes: list[tuple[str, str]] = []  # (who, role) of each setting change
        self.failure: str | None = None  # set: the pipeline has stopped
        self.rules: list[dict] = [{"name": "default", "classes": ["drone", "unknown"]}]
        self.allow: list[dict] = []

    def publish(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot

    def snapshot(self) -> Snapshot:
        return self._snapshot

    async def next_snapshot(self, after_seq: int) -> Snapshot:
        while self._snapshot.seq <= after_seq:  # polled: publish() may come from another thread
            await asyncio.sleep(0.005)
        return self._snapshot

    def _act(self, action: str, state: str, alert_id: int, who: str, note: str) -> AlertView:
        snap = self._snapshot
        alerts = {a.id: a for a in snap.alerts}
        if alert_id not in alerts:
            raise KeyError(alert_id)
        if alerts[alert_id].state != "active":
            raise AlertError(f"alert {alert_id} is {alerts[alert_id].state}, not active")
        self.actions.append((action, alert_id, who, note))
        changed = replace(alerts[alert_id], state=state, t_state=snap.t)
        alerts[alert_id] = changed
        self._snapshot = replace(snap, alerts=tuple(alerts.values()))
        return changed

    def acknowledge(self, alert_id: int, who: str, note: str = "", role: str = "") -> AlertView:
        view = self._act("acknowledge", "acknowledged", alert_id, who, note)
        self.roles.append(role)
        return view

    def reject(self, alert_id: int, who: str, note: str = "", role: str = "") -> AlertView:
        view = self._act("reject", "rejected", alert_id, who, note)
        self.roles.append(role)
        return view

    def ignore(self, alert_id: int, who: str, note: str = "", role: str = "") -> AlertView:
        view = self._act("ignore", "ignored", alert_id, who, note)
        self.roles.append(role)
        return view

    def zones_geojson(self) -> dict:
        return self.zones

    def clutter_geojson(self) -> dict:
        return clutter_geojson(fake_clutter_map(), 1000.0, FRAME)

    def put_zones(self, geojson: dict, who: str = "", role: str = "") -> dict:
        self.zones = zones_to_geojson(parse_zones(geojson, FRAME), FRAME)
        self.zone_changes.append((who, role))
        return self.zones

    def rules_json(self) -> list[dict]:
        return self.rules

    def put_rules(self, rules, who: str = "", role: str = "") -> list[dict]:
        self.rules = rules_to_list(rules_from_list(rules))
        self.zone_changes.append((who, role))
        return self.rules

    def allow_json(self) -> list[dict]:
        return self.allow

    def put_allow(self, allow, who: str = "", role: str = "") -> list[dict]:
        self.allow = allow_to_list(allow_from_list(allow))
        self.zone_changes.append((who, role))
        return self.allow

    def health(self) -> dict:
        self.health_calls += 1
        return {
            "sources": {
                s.name: {"messages": s.messages, "bytes": 40 * s.messages,
                         "rejects": dict(Counter(s.rejects)), "connected": s.connected}
                for s in self._snapshot.sensors
            },
            "tick_latency_ms": {"p50": 3.1, "p99": 9.7, "last": 2.8},
            "queue_depth": 2,
            "uptime_s": 123.0,
            "snapshot_seq": self._snapshot.seq,
        }  # fmt: skip

    def audit(self, since_t: float | None = None) -> list[dict]:
        return [
            {"alert_id": a, "action": act, "who": who, "note": note, "t": self._snapshot.t}
            for act, a, who, note in self.actions
        ]

    def history_tracks(self, t0: float, t1: float, step_s: float | None = None) -> list[dict]:
        if self.history is None:
            raise NotImplementedError("no store in this fake")
        self.history_steps.append(step_s)
        return [cut for path in self.history if (cut := _cut_path(path, t0, t1)) is not None]

    def track_sources(self, track_id: int) -> dict | None:
        if track_id not in self.snapshot().tracks.id:
            return None
        return {"track_id": track_id, "reports": [{"t": 1.0, "sensor": 0, "kind": "radar"}],
                "last": {"radar": 1.0, "remote_id": float("nan")}}  # fmt: skip

    def explain_track(self, track_id: int) -> dict | None:
        """A fixed explanation for any track of the snapshot; the third feature is not one the
        map knows (shown raw) and has markup in its name (shown as text)."""
        tracks = self.snapshot().tracks
        hit = np.flatnonzero(tracks.id == track_id)
        if hit.size == 0:
            return None
        i = int(hit[0])
        return {
            "track_id": track_id, "t": self.snapshot().t,
            "class": CLASS_NAMES[int(tracks.target_class[i])],
            "p": dict(zip(("drone", "bird", "aircraft", "unknown"), tracks.p_class[i].tolist(),
                          strict=True)),
            "behaviour": str(tracks.behaviour[i]),
            "model_p": {"drone": 0.7, "bird": 0.2, "aircraft": 0.05, "unknown": 0.05},
            "top_features": [
                {"name": "hover_fraction", "value": 0.25, "contribution": 1.5},
                {"name": "speed_mean", "value": 11.71, "contribution": 0.75},
                {"name": "new<i>feature</i>", "value": None, "contribution": -0.4},
            ],
            "features": {"hover_fraction": 0.25, "speed_mean": 11.71, "new<i>feature</i>": None},
        }  # fmt: skip

    def history_span(self) -> tuple[float, float] | None:
        if self.history is None:
            raise NotImplementedError("no store in this fake")
        if not self.history:
            return None
        return min(p["t0"] for p in self.history), max(p["t1"] for p in self.history)


HISTORY_T1 = 1_700_000_000.0  # the stored minute ends where MovingBackend's live picture starts


def history_paths(t1: float = HISTORY_T1) -> list[dict]:
    """Two stored tracks over the minute before t1, shaped as ``HistoryReader.tracks_between``.

    Track 11, a drone (rid:HIST-DRONE), flies west at 10 m/s for the whole minute, a sample
    each second. Track 12 is seen from t1-45 to t1-5 s (a sample every 2 s) flying south at
    60 m/s, ``unknown`` until t1-30 s and then ``aircraft`` (callsign KLM1234).
    """
    t_a = t1 - 60.0 + np.arange(61.0)
    drone = np.column_stack([1500.0 - 10.0 * (t_a - t_a[0]), np.full(61, 800.0),
                             np.full(61, 150.0)])  # fmt: skip
    t_b = t1 - 45.0 + 2.0 * np.arange(21.0)
    plane = np.column_stack([np.full(21, -2000.0), 3000.0 - 60.0 * (t_b - t_b[0]),
                             np.full(21, 900.0)])  # fmt: skip
    classes_b = ["unknown" if t < t1 - 30.0 else "aircraft" for t in t_b]
    return [
        _path(11, t_a, drone, ["drone"] * 61, "rid:HIST-DRONE", ""),
        _path(12, t_b, plane, classes_b, "icao:484CB8", "KLM1234"),
    ]


def _path(track_id: int, t: np.ndarray, enu: np.ndarray, classes: list[str], identity: str,
          callsign: str) -> dict:  # fmt: skip
    lat, lon, alt = FRAME.enu_to_geodetic(enu)
    return {
        "id": track_id, "class": classes[-1], "identity": identity, "callsign": callsign,
        "t0": float(t[0]), "t1": float(t[-1]), "t": t.tolist(), "lat": lat.tolist(),
        "lon": lon.tolist(), "alt_m": alt.tolist(), "class_seq": classes,
    }  # fmt: skip


def _cut_path(path: dict, t0: float, t1: float) -> dict | None:
    """The samples of one stored path within [t0, t1] (None if there are none)."""
    keep = [i for i, t in enumerate(path["t"]) if t0 <= t <= t1]
    if not keep:
        return None
    cut = {k: [path[k][i] for i in keep] for k in ("t", "lat", "lon", "alt_m", "class_seq")}
    cut.update(id=path["id"], identity=path["identity"], callsign=path["callsign"],
               t0=cut["t"][0], t1=cut["t"][-1], **{"class": cut["class_seq"][-1]})  # fmt: skip
    return cut


class MovingBackend(FakeBackend):
    """A drone heading for the protected zone (alert from tick 4) and an airliner crossing.

    Each ``next_snapshot`` waits ``tick_s`` (real seconds) and advances the picture by
    ``sim_dt_s`` simulated seconds.
    """

    def __init__(self, tick_s: float = 0.25, sim_dt_s: float = 1.0) -> None:
        self.tick_s, self.sim_dt_s = tick_s, sim_dt_s
        self.t0 = 1_700_000_000.0
        self._step = 0
        self._alert_state: tuple[str, float] | None = None  # (state, t_state)
        super().__init__(self._build(0))

    def _build(self, k: int) -> Snapshot:
        t = self.t0 + k * self.sim_dt_s
        s = k * self.sim_dt_s
        enu = np.array([[3200.0 - 9.0 * s, 2600.0 - 7.5 * s, 120.0, -9.0, -7.5, 0.0],
                        [-7000.0 + 70.0 * s, 4500.0, 900.0, 70.0, 0.0, 0.0]])  # fmt: skip
        tracks = make_tracks(enu, ["drone", "aircraft"], ["rid:1588E0FA21", "icao:3C660C"],
                             ["", "DLH4AB"], [101, 202], t, trail_dt=4.0)  # fmt: skip
        alerts: tuple[AlertView, ...] = ()
        if k >= 4:
            distance = math.hypot(enu[0, 0], enu[0, 1]) - 1000.0
            state, t_state = self._alert_state or ("active", self.t0 + 4 * self.sim_dt_s)
            alerts = (
                make_alert(1, tracks, 0, t, time_to_entry_s=max(distance, 0.0) / math.hypot(9, 7.5),
                           inside=distance <= 0, state=state, t_raised=self.t0 + 4 * self.sim_dt_s,
                           t_state=t_state),
            )  # fmt: skip
        return Snapshot(seq=k + 1, t=t, site=SITE, tracks=tracks, alerts=alerts, sensors=SENSORS)

    async def next_snapshot(self, after_seq: int) -> Snapshot:
        await asyncio.sleep(self.tick_s)
        self._step += 1
        self._snapshot = self._build(self._step)
        return self._snapshot

    def _act(self, action: str, state: str, alert_id: int, who: str, note: str) -> AlertView:
        changed = super()._act(action, state, alert_id, who, note)
        self._alert_state = (state, changed.t_state)
        return changed
