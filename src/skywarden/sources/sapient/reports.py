"""Received SAPIENT messages -> Detections (skywarden as a fusion node for third-party sensors).

A SAPIENT sensor (RF detector, EO/IR camera, radar; an "ASM") reports each object it sees as a
DetectionReport. Each report with a position becomes one detection in the site ENU frame:

* ``location`` in latitude/longitude (degrees or radians, metres; datum WGS-84 ellipsoid, or
  unspecified, taken as the ellipsoid): its stated ``x_error``/``y_error`` (in the coordinate
  system's angle unit, as the standard defines the errors) and ``z_error`` (m) are 1-sigma
  errors of the local east, north and up axes, rotated into the site frame. A report without
  errors gets ``UNDECLARED_SIGMA_M``; one without a height gets the sensor's height plus
  ``DEFAULT_HEIGHT_ABOVE_RADAR_M`` with ``DEFAULT_SIGMA_HEIGHT_M`` (a 2-D sensor).
* ``range_bearing`` with a range (degrees or radians, metres or kilometres, bearing from true
  north) from a sensor whose position is configured: a polar plot, with its stated errors,
  through the same geometry as a radar plot.
* ``enu_velocity`` (m/s in the local ENU at the object) becomes the reported velocity.
* ``object_id`` becomes the identity (a track-number key of this sensor), so the tracker binds
  the sensor's own track to one skywarden track.

Nothing is dropped silently; every message that yields no detection is counted by reason in
``rejects``: ``message_malformed`` (not a SapientMessage), ``message_without_content``,
``detection_without_location``, ``bearing_only_not_supported`` (a range-bearing report with no
range: a bearing line, which the tracker cannot use yet), ``range_bearing_without_sensor_position``,
``bearing_datum_not_supported`` (magnetic, grid or platform north), ``utm_not_supported``,
``coordinate_system_unspecified``, ``position_not_finite``. Other message kinds (registration,
status report, task, alert ...) are counted in ``seen`` by kind and not turned into detections.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from skywarden.detections import Detections, SourceKind, make_detections, track_number_identity
from skywarden.geo import (
    DEFAULT_HEIGHT_ABOVE_RADAR_M,
    DEFAULT_SIGMA_HEIGHT_M,
    LocalFrame,
    radar_plot_to_enu,
)
from skywarden.sources.sapient.bindings import sapient
from skywarden.units import DEG

UNDECLARED_SIGMA_M = 50.0  # horizontal 1-sigma of a report that states no error
UNDECLARED_SIGMA_ANGLE_RAD = 1.0 * DEG  # azimuth/elevation 1-sigma when not stated
MAX_CLOCK_OFFSET_S = 30.0  # a message time further than this from receipt is not trusted
EARTH_RADIUS_M = 6_371_008.8  # mean radius: converts stated angular errors to metres

# Location.coordinate_system and RangeBearing.coordinate_system values (location.proto,
# range_bearing.proto)
LAT_LNG_DEG_M, LAT_LNG_RAD_M, UTM_M = 1, 2, 5
RB_UNITS = {1: (DEG, 1.0), 2: (1.0, 1.0), 3: (DEG, 1000.0), 4: (1.0, 1000.0)}
RB_DATUM_TRUE, RB_DATUM_UNSPECIFIED = 1, 0


@dataclass(frozen=True)
class SensorPlace:
    """Where the SAPIENT sensor is (for range-bearing reports); lat/lon None if unknown."""

    lat: float | None
    lon: float | None
    height_m: float


def object_identity(sensor: int, node_id: str, object_id: str) -> int:
    """The identity key of one sensor's object: a track-number key from a stable hash."""
    digest = hashlib.blake2b(f"{node_id}/{object_id}".encode(), digest_size=4).digest()
    return track_number_identity(sensor, int.from_bytes(digest, "big"))


def parse_messages(payloads: list[bytes], rejects: Counter[str], seen: Counter[str]) -> list[Any]:
    """Framed payloads -> SapientMessages; malformed ones counted in rejects, kinds in seen."""
    cls = sapient().SapientMessage
    out = []
    for payload in payloads:
        try:
            msg = cls.FromString(payload)
        except Exception:  # protobuf's DecodeError, or anything the parser raises on garbage
            rejects["message_malformed"] += 1
            continue
        kind = msg.WhichOneof("content")
        if kind is None:
            rejects["message_without_content"] += 1
            continue
        seen[kind] += 1
        out.append(msg)
    return out


@dataclass
class _Rows:
    """Column lists gathered per report before one vectorised conversion."""

    t: list[float]
    geo: list[
        tuple[float, float, float, float, float, float, bool]
    ]  # lat, lon, h, sx, sy, sz, has_h
    polar: list[tuple[float, float, float, float, float, float]]  # r, az, el, s_r, s_az, s_el
    v: list[tuple[float, float, float]]
    identity: list[int]
    is_polar: list[bool]


def _message_time(msg: Any, t_receive: float, rejects: Counter[str]) -> float:
    if not msg.HasField("timestamp"):
        return t_receive
    t = msg.timestamp.seconds + msg.timestamp.nanos * 1e-9
    if abs(t - t_receive) > MAX_CLOCK_OFFSET_S:
        rejects["timestamp_replaced_by_receive_time"] += 1
        return t_receive
    return t


def _location_row(loc: Any, rejects: Counter[str]) -> tuple | None:
    system = loc.coordinate_system
    if system == UTM_M:
        rejects["utm_not_supported"] += 1
        return None
    if system not in (LAT_LNG_DEG_M, LAT_LNG_RAD_M):
        rejects["coordinate_system_unspecified"] += 1
        return None
    unit = DEG if system == LAT_LNG_DEG_M else 1.0
    lat_rad, lon_rad = loc.y * unit, loc.x * unit
    if not (math.isfinite(lat_rad) and math.isfinite(lon_rad)) or abs(lat_rad) > math.pi / 2:
        rejects["position_not_finite"] += 1
        return None
    sx = loc.x_error * unit * EARTH_RADIUS_M * math.cos(lat_rad) if loc.HasField("x_error") else 0
    sy = loc.y_error * unit * EARTH_RADIUS_M if loc.HasField("y_error") else 0
    sx = sx if sx > 0 else UNDECLARED_SIGMA_M
    sy = sy if sy > 0 else UNDECLARED_SIGMA_M
    sz = loc.z_error if loc.HasField("z_error") and loc.z_error > 0 else max(sx, sy)
    has_h = loc.HasField("z") and math.isfinite(loc.z)
    return (lat_rad / DEG, lon_rad / DEG, loc.z if has_h else 0.0, sx, sy, sz, has_h)


def _polar_row(rb: Any, place: SensorPlace, rejects: Counter[str]) -> tuple | None:
    if not (rb.HasField("range") and rb.HasField("azimuth")):
        rejects["bearing_only_not_supported"] += 1
        return None
    if rb.datum not in (RB_DATUM_TRUE, RB_DATUM_UNSPECIFIED):
        rejects["bearing_datum_not_supported"] += 1
        return None
    if rb.coordinate_system not in RB_UNITS:
        rejects["coordinate_system_unspecified"] += 1
        return None
    if place.lat is None or place.lon is None:
        rejects["range_bearing_without_sensor_position"] += 1
        return None
    angle, length = RB_UNITS[rb.coordinate_system]
    el = rb.elevation * angle if rb.HasField("elevation") else math.nan
    s_r = rb.range_error * length if rb.range_error > 0 else UNDECLARED_SIGMA_M
    s_az = rb.azimuth_error * angle if rb.azimuth_error > 0 else UNDECLARED_SIGMA_ANGLE_RAD
    s_el = rb.elevation_error * angle if rb.elevation_error > 0 else UNDECLARED_SIGMA_ANGLE_RAD
    row = (rb.range * length, rb.azimuth * angle, el, s_r, s_az, s_el)
    if not all(math.isfinite(x) for x in row[:2]):
        rejects["position_not_finite"] += 1
        return None
    return row


def _velocity(report: Any) -> tuple[float, float, float]:
    if report.WhichOneof("velocity_oneof") != "enu_velocity":
        return (math.nan, math.nan, math.nan)
    v = report.enu_velocity
    return (v.east_rate, v.north_rate, v.up_rate if v.HasField("up_rate") else math.nan)


def _gather(msgs, t_receive, place, sensor, rejects) -> _Rows:
    rows = _Rows([], [], [], [], [], [])
    for msg in msgs:
        if msg.WhichOneof("content") != "detection_report":
            continue
        report = msg.detection_report
        where = report.WhichOneof("location_oneof")
        if where is None:
            rejects["detection_without_location"] += 1
            continue
        if where == "location":
            row = _location_row(report.location, rejects)
        else:
            row = _polar_row(report.range_bearing, place, rejects)
        if row is None:
            continue
        rows.is_polar.append(where != "location")
        (rows.polar if where != "location" else rows.geo).append(row)
        rows.t.append(_message_time(msg, t_receive, rejects))
        rows.v.append(_velocity(report))
        rows.identity.append(object_identity(sensor, msg.node_id, report.object_id))
    return rows


def _geo_to_enu(frame: LocalFrame, geo: np.ndarray, place: SensorPlace):
    lat, lon, h, sx, sy, sz, has_h = (geo[:, i] for i in range(7))
    has_h = has_h.astype(bool)
    default_h = place.height_m + DEFAULT_HEIGHT_ABOVE_RADAR_M
    h = np.where(has_h, h, default_h)
    sz = np.where(has_h, sz, DEFAULT_SIGMA_HEIGHT_M)
    z = frame.geodetic_to_enu(lat, lon, h)
    m = frame.rotation_at(lat, lon)
    scaled = m * np.stack([sx, sy, sz], axis=-1)[:, None, :]
    return z, scaled @ np.swapaxes(scaled, 1, 2), m


def sapient_to_detections(
    msgs: list[Any],
    t_receive: float,
    frame: LocalFrame,
    place: SensorPlace,
    *,
    sensor: int = 0,
    rejects: Counter[str] | None = None,
) -> Detections:
    """The DetectionReports among ``msgs`` -> Detections (site ENU, m; see the module doc).

    ``t_receive``: POSIX s the bytes arrived (used where a message has no plausible time)."""
    rejects = Counter() if rejects is None else rejects
    rows = _gather(msgs, t_receive, place, sensor, rejects)
    n = len(rows.t)
    if n == 0:
        return Detections.empty()
    is_polar = np.array(rows.is_polar)
    z, R = np.zeros((n, 3)), np.zeros((n, 3, 3))
    rot = np.zeros((n, 3, 3))
    v_local = np.array(rows.v, dtype=float).reshape(n, 3)
    if (~is_polar).any():
        z[~is_polar], R[~is_polar], rot[~is_polar] = _geo_to_enu(
            frame, np.array(rows.geo, dtype=float), place
        )
    if is_polar.any():
        p = np.array(rows.polar, dtype=float)
        z[is_polar], R[is_polar] = radar_plot_to_enu(
            frame, float(place.lat), float(place.lon), place.height_m, p[:, 0], p[:, 1],
            elevation_rad=p[:, 2], sigma_range_m=p[:, 3], sigma_azimuth_rad=p[:, 4],
            sigma_elevation_rad=p[:, 5],
        )  # fmt: skip
        lat, lon, _ = frame.enu_to_geodetic(z[is_polar])
        rot[is_polar] = frame.rotation_at(lat, lon)
    has_up = np.isfinite(v_local[:, 2])  # a 2-D velocity: rotate it level, up stays unknown
    v_local[~has_up, 2] = 0.0
    v = np.einsum("nij,nj->ni", rot, v_local)
    v[~has_up, 2] = np.nan
    return make_detections(
        np.array(rows.t), z, R, v=v, sensor=sensor, kind=SourceKind.RADAR,
        identity=np.array(rows.identity, dtype=np.int64),
    )  # fmt: skip
