"""The site configuration: one TOML file -> frozen, validated dataclasses.

    [site]         name, lat, lon, height_m (WGS-84 ellipsoidal height of the origin)
    [service]      bind ("127.0.0.1:8080"), tile_url, basemap (a .pmtiles file: the site's
                   offline basemap, docs/basemap.md), live_rate_hz, scan_period_s, and the
                   security keys of skywarden.site_security (users, tls_cert, tls_key, hosts,
                   origins, max_zones, max_zone_vertices, max_json_depth, max_body_bytes)
    [storage]      path (DuckDB history file; "" = no history), flush_s, and the history
                   policy: retention_days, max_size_mb, max_pending_mb, memory_limit_mb,
                   raw_reject_kb_s
                   (skywarden.store.retention)
    [zones]        file (GeoJSON, relative to the config file)
    [tracker]      TrackerParams overrides (see config.tracker_params)
    [[sensors]]    name, kind (asterix | sbs | beast | remote_id | sapient: BSI Flex 335 v2.0
                   over tcp only, lat/lon/height_m needed for range-bearing reports),
                   transport (udp | tcp | file), host, port, group (multicast), file,
                   speed (replay factor; 0 = as fast as possible), lat, lon, height_m,
                   range_m, sigma_range_m, sigma_azimuth_deg, sac, sic,
                   rcs_calibration_dbm (asterix radars only, optional: the I048/130 primary
                   amplitude, dBm, of a 1 m^2 target at 1 km slant range; without it the
                   radar's plots carry no RCS), allow_from (udp only, optional: sender
                   addresses or networks, "192.0.2.7" or "192.0.2.0/24"; datagrams from
                   anyone else are counted and dropped), receive_buffer_bytes (udp: the
                   socket buffer asked for, default 8 MiB; kernel drops are counted),
                   detection_range_m, reference_rcs_dbsm (asterix radars only, optional: the
                   slant range, m, at which the radar detects a target of reference_rcs_dbsm,
                   default -20 dBsm, a small multirotor; with it, plots farther out than a
                   small drone could be seen count as evidence against 'drone',
                   skywarden.classify.physics)
    [classifier]   decision_confidence (0.25-1, default 0.9: a track's label is its most
                   probable class only when that class's probability reaches this, else
                   'unknown'; skywarden.classify.decision)
    [[alert_rules]] name, zones, classes, min/max_height_m, min/max_speed_mps, horizon_s,
                   min_probability, priority, active_hours ("HH:MM-HH:MM"), utc_offset_h,
                   include_ground_and_test (default false: tracks reported on the ground,
                   simulated or test targets raise no alert),
                   unknown_min_drone_probability (default 0.5: an 'unknown' track raises
                   an alert only at this drone probability or more)
    [[allow]]      identity ("icao:3C660C" | "rid:SERIAL"), zones, valid_from, valid_until
                   (ISO 8601 or POSIX seconds), note
    [sinks]        webhooks = [urls], cot = "tcp://host:port" | "udp://host:port",
                   sapient = "tcp://host:port" (BSI Flex 335 v2.0 node: skywarden.sinks.sapient),
                   asterix_cat062 = "udp://host:port" (tracks as CAT062 system tracks)
    [bus]          url = "nats://host:port", token | user + password | credentials, tls_*
                   (the roles of `skywarden run --role`: skywarden.bus.settings)

Every problem is a ConfigError naming the file and the key; an unknown key in any table is one
that lists the known keys. Relative paths are resolved
against the config file's folder. This module is the only reader of site configuration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skywarden.bus.settings import BUS_KEYS, BusConfig, bus_config
from skywarden.classify.decision import DEFAULT_DECISION_CONFIDENCE
from skywarden.classify.physics import DEFAULT_REFERENCE_RCS_DBSM, RadarCoverage
from skywarden.config import ConfigKeys, read_toml, tracker_params, tracker_params_to_dict
from skywarden.geo import LocalFrame
from skywarden.site_rules import (
    allow_from_table,
    allow_to_list,
    rule_from_table,
    rules_to_list,
)
from skywarden.site_security import SECURITY_KEYS, SiteSecurity, site_security
from skywarden.sources.udp_socket import DEFAULT_RECEIVE_BUFFER_BYTES
from skywarden.store.retention import POLICY_KEYS, HistoryPolicy, history_policy
from skywarden.track.params import TrackerParams
from skywarden.units import DEG
from skywarden.warn.rules import AlertRule, AllowEntry

SENSOR_KINDS = ("asterix", "sbs", "beast", "remote_id", "sapient")
TRANSPORTS = ("udp", "tcp", "file")
# PAM of 1 m^2 at 1 km, dBm: PAM is a signed byte, and RCS and range spread it by < 200 dB
RCS_CALIBRATION_RANGE_DBM = (-300.0, 300.0)
SERVICE_KEYS = frozenset({"bind", "tile_url", "basemap", "live_rate_hz", "scan_period_s"})


@dataclass(frozen=True)
class SensorConfig:
    """One input: what it speaks, how it arrives, and where the sensor is."""

    name: str
    kind: str
    transport: str
    host: str = "0.0.0.0"
    port: int = 0
    group: str | None = None
    file: Path | None = None
    speed: float = 1.0
    lat: float | None = None
    lon: float | None = None
    height_m: float = 0.0
    range_m: float = 100_000.0
    sigma_range_m: float = 70.0
    sigma_azimuth_rad: float = 0.08 * DEG
    rcs_calibration_dbm: float | None = None
    allow_from: tuple[str, ...] | None = None
    detection_range_m: float | None = None
    reference_rcs_dbsm: float = DEFAULT_REFERENCE_RCS_DBSM
    receive_buffer_bytes: int = DEFAULT_RECEIVE_BUFFER_BYTES


@dataclass(frozen=True)
class SiteConfig:
    """Everything `skywarden run` needs, validated."""

    name: str
    lat: float
    lon: float
    height_m: float
    sensors: tuple[SensorConfig, ...]
    zones_geojson: dict[str, Any]
    rules: tuple[AlertRule, ...]
    allow: tuple[AllowEntry, ...] = ()
    tracker: TrackerParams = field(default_factory=TrackerParams)
    bind_host: str = "127.0.0.1"
    bind_port: int = 8080
    tile_url: str | None = None
    basemap: Path | None = None  # one PMTiles file, served at /basemap.pmtiles
    live_rate_hz: float = 2.0
    scan_period_s: float = 1.0
    storage_path: Path | None = None
    flush_s: float = 2.0
    history: HistoryPolicy = field(default_factory=HistoryPolicy)
    webhooks: tuple[str, ...] = ()
    cot: str | None = None
    sapient: str | None = None  # "tcp://host:port": skywarden as a SAPIENT node
    asterix_cat062: str | None = None  # "udp://host:port": tracks as CAT062 system tracks
    source_text: str = ""
    security: SiteSecurity = field(default_factory=SiteSecurity)
    decision_confidence: float = DEFAULT_DECISION_CONFIDENCE
    bus: BusConfig | None = None  # [bus]: NATS for the edge/core/api roles (None: one process)


def load_site_config(path: str | Path) -> SiteConfig:
    """Read and validate a site TOML file (see the module docstring)."""
    p = Path(path)
    doc = read_toml(p)
    return site_config_from_dict(doc, p.parent, str(p), p.read_text(errors="replace"))


def site_config_from_dict(
    doc: dict[str, Any], base: Path, source: str = "site config", text: str = ""
) -> SiteConfig:
    """Validate a parsed site document; relative paths resolve against ``base``."""
    where = ConfigKeys(source)
    known = {"site", "service", "storage", "zones", "tracker", "sensors", "alert_rules",
             "allow", "sinks", "classifier", "bus"}  # fmt: skip
    where.unknown(doc, known, "top level")
    site = where.table(doc, "site")
    where.unknown(site, {"name", "lat", "lon", "height_m"}, "site")
    lat = where.number(site, "lat", "site", -90.0, 90.0)
    lon = where.number(site, "lon", "site", -180.0, 180.0)
    service = where.table(doc, "service", required=False)
    where.unknown(service, SERVICE_KEYS | SECURITY_KEYS, "service")
    storage = where.table(doc, "storage", required=False)
    where.unknown(storage, {"path", "flush_s"} | POLICY_KEYS, "storage")
    sinks = where.table(doc, "sinks", required=False)
    where.unknown(sinks, {"webhooks", "cot", "sapient", "asterix_cat062"}, "sinks")
    classifier = where.table(doc, "classifier", required=False)
    where.unknown(classifier, {"decision_confidence"}, "classifier")
    bus = where.table(doc, "bus", required=False)
    where.unknown(bus, set(BUS_KEYS), "bus")
    bind = str(service.get("bind", "127.0.0.1:8080"))
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        where.fail("service.bind", f"must be HOST:PORT, not {bind!r}")
    storage_path = storage.get("path", "")
    return SiteConfig(
        name=str(site.get("name", "site")),
        lat=lat,
        lon=lon,
        height_m=where.number(site, "height_m", "site", -500.0, 9000.0, default=0.0),
        sensors=tuple(_sensor(s, i, base, where) for i, s in enumerate(doc.get("sensors", []))),
        zones_geojson=_zones(doc, base, where),
        rules=tuple(
            rule_from_table(r, i, where) for i, r in enumerate(doc.get("alert_rules", [{}]))
        ),
        allow=tuple(allow_from_table(a, i, where) for i, a in enumerate(doc.get("allow", []))),
        tracker=tracker_params(dict(doc.get("tracker", {})), f"{source} [tracker]"),
        bind_host=host,
        bind_port=int(port),
        tile_url=service.get("tile_url") or None,
        basemap=_basemap(service, base, where),
        live_rate_hz=where.number(service, "live_rate_hz", "service", 0.1, 50.0, default=2.0),
        scan_period_s=where.number(service, "scan_period_s", "service", 0.05, 60.0, default=1.0),
        storage_path=(base / storage_path) if storage_path else None,
        flush_s=where.number(storage, "flush_s", "storage", 0.1, 3600.0, default=2.0),
        history=history_policy(storage, where.number),
        webhooks=tuple(str(u) for u in sinks.get("webhooks", [])),
        cot=sinks.get("cot") or None,
        sapient=_endpoint(sinks, "sapient", ("tcp",), where),
        asterix_cat062=_endpoint(sinks, "asterix_cat062", ("udp",), where),
        source_text=text,
        security=site_security(service, base, where.fail),
        decision_confidence=where.number(
            classifier, "decision_confidence", "classifier", 0.25, 1.0,
            default=DEFAULT_DECISION_CONFIDENCE,
        ),
        bus=bus_config(bus, base, where.fail),
    )  # fmt: skip


def _basemap(service: dict[str, Any], base: Path, where: ConfigKeys) -> Path | None:
    if not service.get("basemap"):
        return None
    path = base / str(service["basemap"])
    if not path.is_file():
        where.fail("service.basemap", f"no such file: {path}")
    return path


def _endpoint(sinks: dict[str, Any], key: str, schemes: tuple[str, ...], where: ConfigKeys):
    """A sink's "scheme://host:port" (None when absent), checked."""
    value = sinks.get(key)
    if not value:
        return None
    scheme, _, rest = str(value).partition("://")
    host, _, port = rest.rpartition(":")
    if scheme not in schemes or not host or not port.isdigit() or not 0 < int(port) < 65536:
        where.fail(f"sinks.{key}", f"must be {' or '.join(s + '://HOST:PORT' for s in schemes)}")
    return str(value)


def _sensor(s: Any, i: int, base: Path, where: ConfigKeys) -> SensorConfig:
    prefix = f"sensors[{i}]"
    if not isinstance(s, dict):
        where.fail(prefix, "must be a table")
    where.unknown(
        s,
        {"name", "kind", "transport", "host", "port", "group", "file", "speed", "lat", "lon",
         "height_m", "range_m", "sigma_range_m", "sigma_azimuth_deg", "sac", "sic",
         "rcs_calibration_dbm", "allow_from", "detection_range_m", "reference_rcs_dbsm",
         "receive_buffer_bytes"},
        prefix,
    )  # fmt: skip
    kind, transport = s.get("kind"), s.get("transport", "udp")
    if kind not in SENSOR_KINDS:
        where.fail(f"{prefix}.kind", f"must be one of {', '.join(SENSOR_KINDS)}, not {kind!r}")
    if transport not in TRANSPORTS:
        where.fail(f"{prefix}.transport", f"must be one of {', '.join(TRANSPORTS)}")
    port = int(s.get("port", 0))
    if transport in ("udp", "tcp") and not 0 < port < 65536:
        where.fail(f"{prefix}.port", f"needs a port in 1..65535 for {transport}")
    file = None
    if transport == "file":
        if "file" not in s:
            where.fail(f"{prefix}.file", "needed for transport = 'file'")
        file = base / str(s["file"])
        if not file.is_file():
            where.fail(f"{prefix}.file", f"no such file: {file}")
    if kind == "sapient" and transport != "tcp":
        where.fail(f"{prefix}.transport", "a sapient sensor speaks over tcp (length-framed)")
    if kind == "asterix" and ("lat" not in s or "lon" not in s):
        where.fail(prefix, "an asterix radar needs its position (lat, lon, height_m)")
    rcvbuf = where.number(
        s, "receive_buffer_bytes", prefix, 0, 2**31 - 1, default=DEFAULT_RECEIVE_BUFFER_BYTES
    )
    return SensorConfig(
        name=str(s.get("name", f"sensor-{i}")),
        kind=kind,
        transport=transport,
        host=str(s.get("host", "0.0.0.0" if transport == "udp" else "127.0.0.1")),
        port=port,
        group=s.get("group"),
        file=file,
        speed=where.number(s, "speed", prefix, 0.0, math.inf, default=1.0) or math.inf,
        lat=where.number(s, "lat", prefix, -90, 90) if "lat" in s else None,
        lon=where.number(s, "lon", prefix, -180, 180) if "lon" in s else None,
        height_m=where.number(s, "height_m", prefix, -500, 9000, default=0.0),
        range_m=where.number(s, "range_m", prefix, 1.0, 1e6, default=100_000.0),
        sigma_range_m=where.number(s, "sigma_range_m", prefix, 0.01, 1e4, default=70.0),
        sigma_azimuth_rad=where.number(s, "sigma_azimuth_deg", prefix, 1e-4, 10.0, default=0.08)
        * DEG,
        rcs_calibration_dbm=_rcs_calibration(s, kind, prefix, where),
        allow_from=_allow_from(s, transport, prefix, where),
        receive_buffer_bytes=int(rcvbuf),
        **_detection_range(s, kind, prefix, where),
    )


def _detection_range(
    s: dict[str, Any], kind: str, prefix: str, where: ConfigKeys
) -> dict[str, Any]:
    """The optional radar settings ``detection_range_m`` and ``reference_rcs_dbsm``."""
    keys = [k for k in ("detection_range_m", "reference_rcs_dbsm") if k in s]
    if not keys:
        return {}
    if kind != "asterix":
        where.fail(f"{prefix}.{keys[0]}", "only an asterix radar has a detection range")
    if "detection_range_m" not in s:
        where.fail(f"{prefix}.detection_range_m", "needed with reference_rcs_dbsm")
    return {
        "detection_range_m": where.number(s, "detection_range_m", prefix, 1.0, 1e6),
        "reference_rcs_dbsm": where.number(
            s, "reference_rcs_dbsm", prefix, -60.0, 60.0, default=DEFAULT_REFERENCE_RCS_DBSM
        ),
    }


def radar_coverage(config: SiteConfig) -> RadarCoverage | None:
    """The radars with a configured detection range, in the site ENU frame (m); None when
    no radar has one (then no range evidence is used)."""
    radars = [s for s in config.sensors if s.detection_range_m is not None and s.lat is not None]
    if not radars:
        return None
    frame = LocalFrame(config.lat, config.lon, config.height_m)
    lat, lon, h = (np.array(v, dtype=np.float64) for v in zip(
        *[(s.lat, s.lon, s.height_m) for s in radars], strict=True))  # fmt: skip
    return RadarCoverage(
        position=np.asarray(frame.geodetic_to_enu(lat, lon, h), dtype=np.float64).reshape(-1, 3),
        detection_range_m=np.array([s.detection_range_m for s in radars], dtype=np.float64),
        reference_rcs_dbsm=np.array([s.reference_rcs_dbsm for s in radars], dtype=np.float64),
    )


def radar_positions(config: SiteConfig) -> dict[int, tuple[float, float]]:
    """{sensor index: (east, north) m in the site ENU frame} of the ASTERIX radars: the
    tracker learns their clutter in range x azimuth cells."""
    frame = LocalFrame(config.lat, config.lon, config.height_m)
    out = {}
    for i, s in enumerate(config.sensors):
        if s.kind == "asterix" and s.lat is not None and s.lon is not None:
            e, n, _ = np.asarray(frame.geodetic_to_enu(s.lat, s.lon, s.height_m), float).ravel()
            out[i] = (float(e), float(n))
    return out


def _allow_from(s: dict[str, Any], transport: str, prefix: str, where: ConfigKeys) -> tuple | None:
    """The optional UDP sender allow-list: addresses or networks (checked here)."""
    import ipaddress

    if "allow_from" not in s:
        return None
    value = s["allow_from"]
    if transport != "udp":
        where.fail(f"{prefix}.allow_from", "only a udp sensor receives from senders")
    if not isinstance(value, list) or not value:
        where.fail(f"{prefix}.allow_from", "must be a non-empty list of addresses or networks")
    for item in value:
        try:
            ipaddress.ip_network(str(item), strict=False)
        except ValueError:
            where.fail(f"{prefix}.allow_from", f"{item!r} is not an IP address or network")
    return tuple(str(v) for v in value)


def _rcs_calibration(s: dict[str, Any], kind: str, prefix: str, where: ConfigKeys) -> float | None:
    """The optional radar setting ``rcs_calibration_dbm`` (asterix sensors only)."""
    if "rcs_calibration_dbm" not in s:
        return None
    if kind != "asterix":
        where.fail(f"{prefix}.rcs_calibration_dbm", "only an asterix radar reports amplitudes")
    return where.number(s, "rcs_calibration_dbm", prefix, *RCS_CALIBRATION_RANGE_DBM)


def site_config_to_dict(config: SiteConfig) -> dict[str, Any]:
    """A self-contained document (zones inline, no file paths) that
    :func:`site_config_from_dict` reads back into an equivalent configuration: what the
    history stores so that ``skywarden replay`` can rebuild the pipeline."""
    sensors = []
    for s in config.sensors:
        d: dict[str, Any] = {"name": s.name, "kind": s.kind, "port": 1,
                             "transport": "tcp" if s.kind == "sapient" else "udp",
                             "height_m": s.height_m, "range_m": s.range_m,
                             "sigma_range_m": s.sigma_range_m,
                             "sigma_azimuth_deg": s.sigma_azimuth_rad / DEG}  # fmt: skip
        if s.lat is not None and s.lon is not None:
            d["lat"], d["lon"] = s.lat, s.lon
        if s.rcs_calibration_dbm is not None:
            d["rcs_calibration_dbm"] = s.rcs_calibration_dbm
        if s.detection_range_m is not None:
            d["detection_range_m"] = s.detection_range_m
            d["reference_rcs_dbsm"] = s.reference_rcs_dbsm
        sensors.append(d)
    rules = rules_to_list(config.rules)
    tracker = tracker_params_to_dict(config.tracker)
    return {
        "site": {"name": config.name, "lat": config.lat, "lon": config.lon,
                 "height_m": config.height_m},
        "service": {"bind": f"{config.bind_host}:{config.bind_port}",
                    "scan_period_s": config.scan_period_s},
        "zones": {"geojson": config.zones_geojson},
        "tracker": tracker,
        "sensors": sensors,
        "alert_rules": rules,
        "classifier": {"decision_confidence": config.decision_confidence},
        "allow": allow_to_list(config.allow),
    }  # fmt: skip


def _zones(doc: dict[str, Any], base: Path, where: ConfigKeys) -> dict[str, Any]:
    import json

    zones = where.table(doc, "zones", required=False)
    where.unknown(zones, {"file", "geojson"}, "zones")
    if "geojson" in zones:
        if not isinstance(zones["geojson"], dict):
            where.fail("zones.geojson", "must be a GeoJSON object")
        return zones["geojson"]
    if "file" not in zones:
        return {"type": "FeatureCollection", "features": []}
    path = base / str(zones["file"])
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        where.fail("zones.file", f"no such file: {path}")
    except json.JSONDecodeError as exc:
        where.fail("zones.file", f"{path} is not valid JSON: {exc}")
    raise AssertionError("unreachable")
