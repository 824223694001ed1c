"""Skywarden's picture as SAPIENT (BSI Flex 335 v2.0) messages: the node's side of the standard.

Skywarden registers as a fusion node (``NODE_TYPE_FUSION_NODE``, sub-type "drone early
warning") reporting in latitude/longitude degrees and metres on the WGS-84 ellipsoid, with
ENU velocities in m/s, and multi-class confidences over the classes ``CLASSES``. Then:

* a **StatusReport** (system OK, mode "default", the site's location) every status interval;
* a **DetectionReport** per confirmed track update: ``object_id`` a ULID fixed for the track's
  life, ``location`` (x = longitude, y = latitude in degrees, z = ellipsoidal height in metres;
  ``x_error``/``y_error`` the 1-sigma horizontal error in degrees, as the standard states
  errors in the coordinate system's units), ``enu_velocity`` (m/s, the object's local ENU), one
  ``classification`` per class with its probability (most probable first), the behaviour label,
  ``id`` the callsign or identity (``icao:3C660C``) and ``state`` "coasting" when it coasts;
* an **Alert** per alert change: its ``alert_id`` a ULID fixed for the alert's life, status
  ``ACTIVE`` -> ``ACKNOWLEDGE`` / ``REJECT`` / ``IGNORE`` -> ``CLEAR`` (skywarden's lifecycle,
  which follows SAPIENT's), priority (P1 high, P2 medium, else low), ``confidence`` the
  probability, the alert's position, ``region_id`` a ULID of the zone, and the track's object
  as the associated detection.

ULIDs (26 Crockford base-32 characters: 48-bit millisecond time + 80 bits) are derived, not
random: the time part from when the object or alert began, the rest from a hash of the node and
the object's number, so a restart or a replay names the same objects the same way.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from typing import Any

import numpy as np

from skywarden.geo import LocalFrame
from skywarden.snapshot import AlertView, Snapshot
from skywarden.sources.sapient.bindings import sapient

ICD_VERSION = "BSI Flex 335 v2.0"
# skywarden's p_class columns (drone, bird, aircraft, unknown) as SAPIENT class names
CLASSES = ("UAV", "Bird", "Aircraft", "Unknown")
CONFIRMED, COASTING = 1, 2
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_EARTH_RADIUS_M = 6_371_008.8
_ALERT_STATUS = {"active": 1, "acknowledged": 2, "rejected": 3, "ignored": 4, "cleared": 5}


def ulid(t_s: float, key: str) -> str:
    """A ULID whose time is t_s (POSIX s, clipped at 0) and whose 80 random bits are a hash
    of ``key`` (deterministic: the same object gets the same name)."""
    ms = max(0, int(math.floor(t_s * 1000.0))) & ((1 << 48) - 1)
    rest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=10).digest(), "big")
    value = (ms << 80) | rest
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in range(25, -1, -1))


def node_uuid(site_name: str) -> str:
    """The node's UUID: stable per site name (uuid5), so a restart keeps its identity."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"skywarden:{site_name}"))


def _envelope(node_id: str, t: float) -> Any:
    msg = sapient().SapientMessage(node_id=node_id)
    seconds = math.floor(t)
    msg.timestamp.seconds = int(seconds)
    msg.timestamp.nanos = min(999_999_999, int(round((t - seconds) * 1e9)))
    return msg


def _set_location(loc: Any, lat: float, lon: float, alt_m: float, sigma_m: float) -> None:
    loc.x, loc.y = lon, lat
    if math.isfinite(alt_m):
        loc.z = alt_m
    if math.isfinite(sigma_m) and sigma_m > 0:
        loc.y_error = math.degrees(sigma_m / _EARTH_RADIUS_M)
        loc.x_error = math.degrees(
            sigma_m / (_EARTH_RADIUS_M * max(math.cos(math.radians(lat)), 1e-6))
        )
    loc.coordinate_system = 1  # LOCATION_COORDINATE_SYSTEM_LAT_LNG_DEG_M
    loc.datum = 1  # LOCATION_DATUM_WGS84_E


def registration(node_id: str, t: float, name: str, *, status_interval_s: float) -> Any:
    """The Registration a node sends first on every connection."""
    msg = _envelope(node_id, t)
    reg = msg.registration
    node = reg.node_definition.add()
    node.node_type = 20  # NODE_TYPE_FUSION_NODE
    node.node_sub_type.append("drone early warning")
    reg.icd_version = ICD_VERSION
    reg.name = f"skywarden {name}"
    reg.short_name = "skywarden"
    cap = reg.capabilities.add()
    cap.category, cap.type, cap.value = "Fusion", "Track", "radar, ADS-B, Remote ID, SAPIENT"
    reg.status_definition.status_interval.units = 4  # TIME_UNITS_SECONDS
    reg.status_definition.status_interval.value = status_interval_s
    reg.status_definition.location_definition.location_units = 1
    reg.status_definition.location_definition.location_datum = 1
    mode = reg.mode_definition.add()
    mode.mode_name, mode.mode_type = "default", 3  # MODE_TYPE_DEFAULT
    mode.settle_time.units, mode.settle_time.value = 4, 0.0
    mode.scan_type, mode.tracking_type = 1, 3  # fixed, TRACKING_TYPE_TRACK
    det = mode.detection_definition.add()
    det.location_type.location_units, det.location_type.location_datum = 1, 1
    classes = det.detection_class_definition.add()
    classes.confidence_definition = 2  # CONFIDENCE_DEFINITION_MULTI_CLASS
    for c in CLASSES:
        classes.class_definition.add(type=c, units="probability (0-1)")
    det.velocity_type.enu_velocity_units.east_north_rate_units = 1  # SPEED_UNITS_MS
    det.velocity_type.enu_velocity_units.up_rate_units = 1
    det.velocity_type.location_datum = 1
    mode.task.region_definition.region_type.append(1)  # REGION_TYPE_AREA_OF_INTEREST
    area = mode.task.region_definition.region_area.add()
    area.location_units, area.location_datum = 1, 1
    config = reg.config_data.add()
    config.manufacturer, config.model = "skywarden project", "skywarden"
    return msg


def status_report(node_id: str, t: float, site: tuple[float, float, float], *, ok: bool = True,
                  fault: str = "") -> Any:  # fmt: skip
    """A StatusReport (heartbeat): system OK or WARNING with ``fault``, the node's location."""
    msg = _envelope(node_id, t)
    rep = msg.status_report
    rep.report_id = ulid(t, f"{node_id}/status/{t!r}")
    rep.system = 1 if ok else 2  # SYSTEM_OK / SYSTEM_WARNING
    rep.info = 1  # INFO_NEW
    rep.mode = "default"
    _set_location(rep.node_location, site[0], site[1], site[2], math.nan)
    if fault:
        status = rep.status.add()
        status.status_level, status.status_type = 3, 1  # WARNING_STATUS, INTERNAL_FAULT
        status.status_value = fault
    return msg


def detection_reports(
    snapshot: Snapshot, node_id: str, object_ids: dict[int, str], rows: np.ndarray
) -> list[Any]:
    """One DetectionReport per row index of ``snapshot.tracks``; ``object_ids`` maps track
    numbers to their ULIDs (new tracks are added, named from the snapshot time)."""
    tr = snapshot.tracks
    if rows.size == 0:
        return []
    frame = LocalFrame(*snapshot.site)
    site_to_local = np.swapaxes(frame.rotation_at(tr.lat[rows], tr.lon[rows]), 1, 2)
    v_local = np.einsum("nij,nj->ni", site_to_local, tr.enu[rows, 3:6])
    out = []
    for k, i in enumerate(rows):
        track = int(tr.id[i])
        oid = object_ids.setdefault(track, ulid(snapshot.t, f"{node_id}/track/{track}"))
        msg = _envelope(node_id, float(tr.t_update[i]))
        rep = msg.detection_report
        rep.report_id = ulid(float(tr.t_update[i]), f"{node_id}/report/{track}/{snapshot.seq}")
        rep.object_id = oid
        if int(tr.status[i]) == COASTING:
            rep.state = "coasting"
        _set_location(rep.location, float(tr.lat[i]), float(tr.lon[i]), float(tr.alt_m[i]),
                      float(tr.sigma_m[i]))  # fmt: skip
        ve, vn, vu = (float(x) for x in v_local[k])
        rep.enu_velocity.east_rate, rep.enu_velocity.north_rate = ve, vn
        if math.isfinite(vu):
            rep.enu_velocity.up_rate = vu
        p = tr.p_class[i]
        for j in np.argsort(-p, kind="stable"):
            rep.classification.add(type=CLASSES[j], confidence=float(p[j]))
        if tr.behaviour[i]:
            rep.behaviour.add(type=str(tr.behaviour[i]))
        label = str(tr.callsign[i] or "") or str(tr.identity[i] or "")
        if label:
            rep.id = label
        out.append(msg)
    return out


def alert_message(alert: AlertView, t: float, node_id: str, object_id: str | None,
                  note: str = "") -> Any:  # fmt: skip
    """The Alert for one alert's state at time t (POSIX s)."""
    msg = _envelope(node_id, t)
    a = msg.alert
    a.alert_id = ulid(alert.t_raised, f"{node_id}/alert/{alert.id}")
    a.alert_type = 2  # ALERT_TYPE_WARNING
    a.status = _ALERT_STATUS.get(alert.state, 0)
    when = "inside" if alert.inside else (
        f"entry in {alert.time_to_entry_s:.0f} s" if math.isfinite(alert.time_to_entry_s)
        else "entry time unknown")  # fmt: skip
    a.description = (f"{alert.target_class} {alert.object} -> zone {alert.zone_id}: {when}, "
                     f"p {alert.probability:.2f}" + (f". {note}" if note else ""))  # fmt: skip
    if math.isfinite(alert.lat) and math.isfinite(alert.lon):
        _set_location(a.location, alert.lat, alert.lon, alert.alt_m, math.nan)
    a.region_id = ulid(0.0, f"{node_id}/zone/{alert.zone_id}")
    a.priority = 3 if alert.priority <= 1 else 2 if alert.priority == 2 else 1
    if math.isfinite(alert.probability):
        a.confidence = float(alert.probability)
    if object_id is not None:
        a.associated_detection.add(node_id=node_id, object_id=object_id)
    a.additional_information = f"skywarden alert {alert.id}, track {alert.track_id}"
    return msg
