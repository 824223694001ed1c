"""Request and response models of the REST API (they make /docs and /openapi.json useful).

Response bodies are built from the snapshot's own JSON form (``Snapshot.to_json``); these models
document that form. Units: metres, metres per second, degrees, POSIX seconds. ``null`` stands for
a value that is not known (NaN inside).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TargetClassName = Literal["unknown", "drone", "aircraft", "bird", "clutter"]


class ClassProbabilities(BaseModel):
    drone: float | None
    bird: float | None
    aircraft: float | None
    unknown: float | None


class TrackMember(BaseModel):
    site: str = Field(description="the site's [site] name")
    track_id: int = Field(description="the site's track number")


class Track(BaseModel):
    """One track at the snapshot time (WGS-84 position, site ENU state)."""

    id: int = Field(description="track number")
    lat: float | None = Field(description="degrees")
    lon: float | None = Field(description="degrees")
    alt_m: float | None = Field(description="metres above the WGS-84 ellipsoid")
    enu: list[float | None] = Field(description="[e, n, u, ve, vn, vu] site ENU, m and m/s")
    speed_mps: float | None = Field(description="horizontal speed, m/s")
    course_deg: float | None = Field(description="course over ground, degrees from north")
    sigma_m: float | None = Field(description="1-sigma horizontal position uncertainty, m")
    status: Literal["tentative", "confirmed", "coasting"]
    class_: TargetClassName = Field(alias="class")
    p: ClassProbabilities
    behaviour: str
    identity: str = Field(description="'icao:3C660C', 'rid:...', or ''")
    callsign: str
    t_update: float | None = Field(description="POSIX s of the last measurement")
    trail: list[list[float]] = Field(description="recent [lat, lon, alt_m], oldest first")
    predicted: list[list[float]] = Field(description="predicted [lat, lon, alt_m] ahead")
    on_ground: bool = Field(
        default=False, description="a sensor reports the target on the ground (not for rules)"
    )
    evidence: list[str] = Field(
        default_factory=list,
        description="what the sensors report besides the position (skywarden.evidence bits: "
        "mode_s_reply, ssr_reply, mode_3a, flight_plan, on_ground, airborne, simulated, test)",
    )
    reasons: list[str] = Field(
        default=[], description="evidence behind the class (no transponder, low RCS, ...)"
    )
    summary: str = Field(
        default="",
        description="the class decision in words: 'unknown: bird 55 % / drone 45 %, "
        "no transponder or Remote ID'",
    )
    cov: list[float | None] | None = Field(
        default=None,
        description="covariance of enu, the 21 upper-triangle entries row by row (m^2, m^2/s, "
        "m^2/s^2); absent from pictures of cores older than the region role",
    )
    members: list[TrackMember] | None = Field(
        default=None, description="on a region node: the site tracks this regional track fuses"
    )


class FeatureReason(BaseModel):
    name: str = Field(description="feature name (skywarden.classify.features.FEATURE_NAMES)")
    value: float | None = Field(description="the feature's value for this track")
    contribution: float = Field(description="push towards the predicted class, logit units")


class TrackClassification(BaseModel):
    """Why a track has its class: the classifier's top features (computed on demand)."""

    track_id: int
    t: float | None = Field(description="POSIX s of the newest state the features use")
    class_: TargetClassName = Field(alias="class")
    p: ClassProbabilities = Field(description="smoothed, identity-fused (what the label uses)")
    behaviour: str
    model_p: ClassProbabilities = Field(description="single-scan model output")
    top_features: list[FeatureReason] = Field(description="largest contribution first")
    features: dict[str, float | None] = Field(description="every feature's value")


class TrackList(BaseModel):
    seq: int = Field(description="snapshot sequence number")
    t: float = Field(description="snapshot time, POSIX s")
    count: int
    tracks: list[Track]


class Alert(BaseModel):
    """One alert: an object threatening one zone."""

    id: int
    zone_id: str
    track_id: int
    object: str = Field(description="object key (identity or track)")
    state: str = Field(description="active, acknowledged, rejected, ignored or cleared")
    priority: int = Field(description="1 = most urgent")
    probability: float | None = Field(description="probability of entering the zone")
    time_to_entry_s: float | None = Field(description="seconds until entry (0 inside)")
    inside: bool
    target_class: str
    lat: float | None
    lon: float | None
    alt_m: float | None
    t_raised: float | None
    t_state: float | None
    p_class: dict[str, float | None] = Field(
        default={}, description="the track's class probabilities (empty once it is gone)"
    )
    summary: str = Field(default="", description="the track's class decision and its reasons")
    site: str | None = Field(
        default=None, description="on a region node: the site that raised it (absent elsewhere)"
    )


class AlertList(BaseModel):
    seq: int
    t: float
    count: int
    alerts: list[Alert] = Field(description="sorted by priority, then time to entry")


class AlertAction(BaseModel):
    """An operator's action on an alert."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    who: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="operator name: required without authentication; with it, the signed-in "
        "user (leave out, or give that same name)",
    )
    note: str = Field(default="", max_length=2000)


class SourceHealth(BaseModel):
    model_config = ConfigDict(extra="allow")

    messages: int = 0
    bytes: int = 0
    rejects: dict[str, int] = Field(default_factory=dict)
    connected: bool | None = None


class TickLatency(BaseModel):
    model_config = ConfigDict(extra="allow")

    p50: float | None = None
    p99: float | None = None
    last: float | None = None


class LiveStats(BaseModel):
    clients: int = Field(description="WebSocket clients connected now")
    sent: int = Field(description="snapshots broadcast since start")
    dropped_clients: int = Field(description="clients dropped for being too slow")
    rate_hz: float = Field(description="maximum broadcast rate")


class Health(BaseModel):
    model_config = ConfigDict(extra="allow")

    sources: dict[str, SourceHealth] = Field(default_factory=dict)
    tick_latency_ms: TickLatency = Field(default_factory=TickLatency)
    tick_cpu_ms: TickLatency | None = Field(
        default=None, description="CPU time of the live ticks (ms; not slowed by other work)"
    )
    tick_wall_ms: TickLatency | None = Field(
        default=None, description="wall time of the live ticks, start to snapshot (ms)"
    )
    queue_depth: int = 0
    uptime_s: float | None = None
    snapshot_seq: int | None = None
    sensors: list[dict[str, Any]] = Field(
        default_factory=list, description="sensor positions and state from the latest snapshot"
    )
    live: LiveStats


class FeatureCollection(BaseModel):
    """A GeoJSON FeatureCollection of zones (see skywarden.warn.zones for the properties)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]


class AuditEntry(BaseModel):
    model_config = ConfigDict(extra="allow")


class MapConfig(BaseModel):
    tile_url: str | None = Field(description="raster tile URL template, or null (offline map)")
    basemap: str | None = Field(
        default=None, description="URL of the site's PMTiles basemap, or null (world layer only)"
    )
    live_rate_hz: float
    site: dict[str, float] = Field(description="lat, lon (degrees), h_m of the site origin")
    maplibre: bool = Field(description="whether the vendored MapLibre GL JS files are present")


class ErrorBody(BaseModel):
    detail: Any = Field(description="what was wrong with the request")
