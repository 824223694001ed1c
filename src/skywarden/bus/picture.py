"""Snapshots on the bus: the core publishes each picture as its JSON (deflated when large);
an api node reads it back into a :class:`~skywarden.snapshot.Snapshot` for the server.

The JSON is the one every WebSocket client gets (:meth:`Snapshot.json_bytes`); the decoded
snapshot keeps those exact bytes, so an api node sends what the core encoded, once. Values
are rounded as on the wire (lat/lon 1e-7 deg, metres 0.1, probabilities 1e-3).
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import msgspec
import numpy as np

from skywarden.bus.subjects import HEADER_ENCODING
from skywarden.errors import SkywardenError
from skywarden.evidence import BIT_NAMES
from skywarden.snapshot import (
    CLASS_NAMES,
    SCHEMA_VERSION,
    SOURCE_KINDS,
    STATUS_NAMES,
    AlertView,
    SensorView,
    Snapshot,
    TrackArrays,
)

COMPRESS_ABOVE_BYTES = 64 * 1024
MAX_PICTURE_BYTES = 256 * 1024 * 1024  # inflated: a bound against a deflate bomb
P_NAMES = ("drone", "bird", "aircraft", "unknown")
_BITS = {name: bit for bit, name in BIT_NAMES.items()}


class BusMessageError(SkywardenError):
    """A bus message that is malformed, oversized or of another schema (counted, dropped)."""


def encode_picture(snapshot: Snapshot) -> tuple[bytes, dict[str, str]]:
    """The payload and headers of one picture message."""
    data = snapshot.json_bytes
    if len(data) > COMPRESS_ABOVE_BYTES:
        return zlib.compress(data, 1), {HEADER_ENCODING: "deflate"}
    return data, {}


def decode_picture(payload: bytes, headers: dict[str, str] | None) -> Snapshot:
    """A snapshot from a picture message; BusMessageError when it is not one."""
    if (headers or {}).get(HEADER_ENCODING) == "deflate":
        inflater = zlib.decompressobj()
        try:
            payload = inflater.decompress(payload, MAX_PICTURE_BYTES)
        except zlib.error as exc:
            raise BusMessageError(f"picture: bad deflate data: {exc}") from None
        if inflater.unconsumed_tail:
            raise BusMessageError("picture: larger than MAX_PICTURE_BYTES inflated")
    try:  # msgspec (BSD-3-Clause): ~3x json.loads at 1,000 tracks
        doc = msgspec.json.decode(payload)
    except msgspec.DecodeError as exc:
        raise BusMessageError(f"picture: not JSON: {exc}") from None
    try:
        snapshot = snapshot_from_json(doc)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise BusMessageError(f"picture: {type(exc).__name__}: {exc}") from None
    snapshot.__dict__["json_bytes"] = bytes(payload)  # the cached encoding: sent as received
    return snapshot


def snapshot_from_json(doc: dict[str, Any]) -> Snapshot:
    """The inverse of :meth:`Snapshot.to_json` (up to its rounding). KeyError, TypeError or
    ValueError for a document of another shape or schema."""
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA_VERSION:
        raise ValueError(f"schema {doc.get('schema') if isinstance(doc, dict) else None!r}")
    site = doc["site"]
    return Snapshot(
        seq=int(doc["seq"]),
        t=float(doc["t"]),
        site=(float(site["lat"]), float(site["lon"]), float(site["h_m"])),
        tracks=tracks_from_json(doc["tracks"]),
        alerts=tuple(alert_from_json(a) for a in doc["alerts"]),
        sensors=tuple(_sensor(s) for s in doc["sensors"]),
        health=dict(doc.get("health") or {}),
    )


def tracks_from_json(rows: list[dict[str, Any]]) -> TrackArrays:
    """TrackArrays from :meth:`TrackArrays.to_json` rows (None -> NaN)."""
    n = len(rows)
    if n == 0:
        return TrackArrays.empty()

    def column(key: str) -> np.ndarray:  # None -> NaN (NumPy's float conversion)
        return np.array([r[key] for r in rows], float)

    def objects(values: list[Any]) -> np.ndarray:
        out = np.empty(n, dtype=object)
        out[:] = values
        return out

    return TrackArrays(
        id=np.array([int(r["id"]) for r in rows], np.int64),
        enu=np.array([r["enu"] for r in rows], float).reshape(n, 6),
        lat=column("lat"), lon=column("lon"), alt_m=column("alt_m"), sigma_m=column("sigma_m"),
        status=np.array([STATUS_NAMES.index(r["status"]) for r in rows], np.int8),
        target_class=np.array([CLASS_NAMES.index(r["class"]) for r in rows], np.int8),
        p_class=np.array([[r["p"][k] for k in P_NAMES] for r in rows], float),
        behaviour=objects([str(r["behaviour"]) for r in rows]),
        identity=objects([str(r["identity"]) for r in rows]),
        callsign=objects([str(r["callsign"]) for r in rows]),
        t_update=column("t_update"),
        trail=_padded([r["trail"] for r in rows]),
        predicted=_padded([r["predicted"] for r in rows]),
        flags=objects([tuple(str(f) for f in r["flags"]) for r in rows]),
        sources=np.array([[float(r["sources"].get(k, math.nan)) for k in SOURCE_KINDS]
                          for r in rows], float),
        evidence=np.array([sum(_BITS[name] for name in r["evidence"]) for r in rows], np.int32),
        reasons=objects([tuple(str(x) for x in r["reasons"]) for r in rows]),
        cov=_covariances(rows) if all("cov" in r for r in rows) else None,
        members=objects([tuple((str(m["site"]), int(m["track_id"])) for m in r["members"])
                         for r in rows]) if all("members" in r for r in rows) else None,
    )  # fmt: skip


def alert_from_json(d: dict[str, Any]) -> AlertView:
    """An AlertView from :meth:`AlertView.to_json`."""
    p = d.get("p_class") or {}
    return AlertView(
        id=int(d["id"]), zone_id=str(d["zone_id"]), track_id=int(d["track_id"]),
        object=str(d["object"]), state=str(d["state"]), priority=int(d["priority"]),
        probability=_f(d["probability"]), time_to_entry_s=_f(d["time_to_entry_s"]),
        inside=bool(d["inside"]), target_class=str(d["target_class"]), lat=_f(d["lat"]),
        lon=_f(d["lon"]), alt_m=_f(d["alt_m"]), t_raised=_f(d["t_raised"]),
        t_state=_f(d["t_state"]), p_class=tuple(_f(p[k]) for k in P_NAMES if k in p),
        summary=str(d.get("summary", "")), site=str(d.get("site", "")),
    )  # fmt: skip


def _sensor(d: dict[str, Any]) -> SensorView:
    return SensorView(
        name=str(d["name"]), kind=str(d["kind"]), lat=_f(d["lat"]), lon=_f(d["lon"]),
        alt_m=_f(d["alt_m"]), range_m=_f(d["range_m"]), connected=bool(d["connected"]),
        messages=int(d["messages"]), rejects=dict(d.get("rejects") or {}),
        last_message_t=_f(d.get("last_message_t")),
    )  # fmt: skip


def _f(v: Any) -> float:
    return math.nan if v is None else float(v)


def _covariances(rows: list[dict[str, Any]]) -> np.ndarray:
    """(N, 6, 6) symmetric covariances from the rows' 21 upper-triangle entries (None ->
    NaN). A pre-covariance picture has no ``cov`` and gives None instead (see the caller)."""
    tri = np.array([r["cov"] for r in rows], float).reshape(len(rows), 21)
    i, j = np.triu_indices(6)
    out = np.empty((len(rows), 6, 6))
    out[:, i, j] = tri
    out[:, j, i] = tri
    return out


def _padded(rows: list[list[list[float]]]) -> np.ndarray:
    """(N, L, 3) NaN-padded at the start (oldest first), L the longest row."""
    lengths = np.array([len(r) for r in rows], np.int64)
    length = int(lengths.max(initial=0))
    out = np.full((len(rows), length, 3), math.nan)
    if length == 0:
        return out
    points = np.array([p for r in rows for p in r], float).reshape(-1, 3)
    row = np.repeat(np.arange(len(rows)), lengths)
    ends = np.cumsum(lengths)
    slot = np.arange(points.shape[0]) - np.repeat(ends - lengths, lengths) + length
    out[row, slot - np.repeat(lengths, lengths)] = points
    return out
