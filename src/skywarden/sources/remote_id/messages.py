"""ASTM F3411 / ASD-STAN EN 4709-002 Remote ID messages (OpenDroneID wire format): bytes -> values.

Pure decoder written from ``specs/remote-id.md``. Every message is 25 bytes, little-endian;
byte 0 is ``(message type << 4) | protocol version``. A Message Pack (type 0xF) holds 1-9 of
them. Decoded values are SI: metres, m/s, radians (direction, clockwise from true north),
seconds. Lat/lon stay in degrees (named ``*_deg``) because they are geodetic coordinates that
``geo.py`` converts. Unknown or invalid encodings become NaN (floats) or None, never a value.

Entry points: :func:`decode_message` (one 25-byte message or a pack; raises
:class:`~skywarden.errors.DecodeError` with a short reason) and :func:`decode_payload`
(never raises: flattens a pack into messages and counts rejects by reason).
"""

from __future__ import annotations

import math
import struct
from collections import Counter
from dataclasses import dataclass
from enum import IntEnum

from skywarden.errors import DecodeError
from skywarden.units import DEG

MESSAGE_SIZE = 25
MAX_PACK_MESSAGES = 9
MAX_PACK_SIZE = 3 + MESSAGE_SIZE * MAX_PACK_MESSAGES  # 228 bytes
MAX_BASIC_IDS_PER_PACK = 2
MAX_AUTH_PAGES = 16
SYSTEM_EPOCH_POSIX = 1546300800  # 2019-01-01 00:00:00 UTC, epoch of System/Auth timestamps
UNKNOWN_ALTITUDE_RAW = 0  # raw 0 = -1000 m = unknown


class MessageType(IntEnum):
    """F3411 message type (high nibble of byte 0)."""

    BASIC_ID = 0x0
    LOCATION = 0x1
    AUTH = 0x2
    SELF_ID = 0x3
    SYSTEM = 0x4
    OPERATOR_ID = 0x5
    PACK = 0xF


class IdType(IntEnum):
    """Basic ID identification type."""

    NONE = 0
    SERIAL_NUMBER = 1  # ANSI/CTA-2063-A
    CAA_REGISTRATION = 2
    UTM_ASSIGNED_UUID = 3
    SPECIFIC_SESSION_ID = 4


class UaType(IntEnum):
    """Basic ID UA type."""

    NONE = 0
    AEROPLANE = 1
    HELICOPTER_OR_MULTIROTOR = 2
    GYROPLANE = 3
    HYBRID_LIFT = 4
    ORNITHOPTER = 5
    GLIDER = 6
    KITE = 7
    FREE_BALLOON = 8
    CAPTIVE_BALLOON = 9
    AIRSHIP = 10
    FREE_FALL_PARACHUTE = 11
    ROCKET = 12
    TETHERED_POWERED_AIRCRAFT = 13
    GROUND_OBSTACLE = 14
    OTHER = 15


class Status(IntEnum):
    """Location operational status."""

    UNDECLARED = 0
    GROUND = 1
    AIRBORNE = 2
    EMERGENCY = 3
    REMOTE_ID_SYSTEM_FAILURE = 4


@dataclass(frozen=True, slots=True)
class BasicId:
    """Basic ID. ``uas_id`` is ASCII text for ID types 0-2 and lower-case hex for 3-4 (binary)."""

    version: int
    id_type: int
    ua_type: int
    uas_id: str


@dataclass(frozen=True, slots=True)
class Location:
    """Location/Vector. NaN = unknown.

    Attributes:
        status: :class:`Status` code. height_type: 0 above take-off, 1 above ground.
        direction_rad: track over ground, clockwise from true north, radians in [0, 2 pi).
        speed_m_s: horizontal ground speed. vertical_speed_m_s: up positive.
        lat_deg, lon_deg: WGS-84 degrees (NaN when the sender says 0/0 = unknown).
        pressure_altitude_m: barometric (29.92 inHg). geodetic_altitude_m: WGS-84 HAE.
        height_m: above take-off or ground (see height_type).
        horizontal_accuracy, vertical_accuracy, baro_accuracy, speed_accuracy: F3411 enum codes.
        timestamp_s: seconds since the full UTC hour [0, 3600]; resolve with
            :func:`resolve_hour_timestamp`. timestamp_accuracy_s: NaN when unknown.
    """

    version: int
    status: int
    height_type: int
    direction_rad: float
    speed_m_s: float
    vertical_speed_m_s: float
    lat_deg: float
    lon_deg: float
    pressure_altitude_m: float
    geodetic_altitude_m: float
    height_m: float
    horizontal_accuracy: int
    vertical_accuracy: int
    baro_accuracy: int
    speed_accuracy: int
    timestamp_s: float
    timestamp_accuracy_s: float


@dataclass(frozen=True, slots=True)
class AuthPage:
    """One Authentication page, kept raw. Page 0 also carries the header fields (else None)."""

    version: int
    auth_type: int
    page_number: int
    last_page_index: int | None
    length: int | None
    timestamp: float | None  # POSIX seconds; None on pages 1-15, NaN when 0 (unset)
    data: bytes  # 17 bytes on page 0, 23 on the others


@dataclass(frozen=True, slots=True)
class SelfId:
    """Self-ID: description type (0 text, 1 emergency, 2 extended status) and up to 23 chars."""

    version: int
    description_type: int
    description: str


@dataclass(frozen=True, slots=True)
class System:
    """System message: operator position, area, classification. NaN = unknown.

    ``eu_category`` (0 undeclared, 1 Open, 2 Specific, 3 Certified) and ``eu_class``
    (0 undeclared, 1 C0 ... 7 C6) mean something only when ``classification_type`` is 1 (EU).
    ``timestamp`` is POSIX seconds (NaN when 0, as older protocol versions send).
    """

    version: int
    operator_location_type: int
    classification_type: int
    operator_lat_deg: float
    operator_lon_deg: float
    area_count: int
    area_radius_m: float
    area_ceiling_m: float
    area_floor_m: float
    eu_category: int
    eu_class: int
    operator_altitude_m: float
    timestamp: float


@dataclass(frozen=True, slots=True)
class OperatorId:
    """Operator ID (type 0 = operator registration number)."""

    version: int
    operator_id_type: int
    operator_id: str


Message = BasicId | Location | AuthPage | SelfId | System | OperatorId


@dataclass(frozen=True, slots=True)
class MessagePack:
    """A Message Pack: 1-9 single messages sent together."""

    version: int
    messages: tuple[Message, ...]


def eu_class_name(eu_class: int) -> str | None:
    """'C0' ... 'C6' for EU class codes 1-7, None for undeclared or reserved."""
    return f"C{eu_class - 1}" if 1 <= eu_class <= 7 else None


# --- shared field encodings -------------------------------------------------------------


def _latlon(raw_lat: int, raw_lon: int) -> tuple[float, float]:
    """int32 x 1e-7 degrees; 0/0 or out-of-range values are unknown (NaN, NaN)."""
    if raw_lat == 0 and raw_lon == 0:
        return math.nan, math.nan
    lat, lon = raw_lat * 1e-7, raw_lon * 1e-7
    if abs(lat) > 90.0 or abs(lon) > 180.0:
        return math.nan, math.nan
    return lat, lon


def _altitude(raw: int) -> float:
    """uint16 x 0.5 - 1000 m; raw 0 (-1000 m) is unknown."""
    return math.nan if raw == UNKNOWN_ALTITUDE_RAW else raw * 0.5 - 1000.0


def _text(raw: bytes) -> str:
    """NUL-padded ASCII (maybe not terminated). Non-ASCII bytes show as U+FFFD, never dropped."""
    return raw.split(b"\0", 1)[0].decode("ascii", errors="replace")


def _direction_rad(raw: int, east_west: int) -> float:
    degrees = raw + (180 if east_west else 0)
    return math.nan if degrees >= 360 else degrees * DEG


def _speed_m_s(raw: int, multiplier: int) -> float:
    if not multiplier:
        return raw * 0.25
    return math.nan if raw == 255 else raw * 0.75 + 63.75


def _vertical_speed_m_s(raw_int8: int) -> float:
    return math.nan if raw_int8 == 126 else raw_int8 * 0.5


def _hour_timestamp_s(raw: int) -> float:
    return math.nan if raw > 36000 else raw / 10.0  # 0xFFFF (unknown) is > 36000 too


def _system_time(raw: int) -> float:
    return math.nan if raw == 0 else float(SYSTEM_EPOCH_POSIX + raw)


# --- single messages --------------------------------------------------------------------


def _basic_id(b: bytes, version: int) -> BasicId:
    id_type, ua_type = b[1] >> 4, b[1] & 0x0F
    raw = b[2:22]
    uas_id = (
        raw.hex()
        if id_type in (IdType.UTM_ASSIGNED_UUID, IdType.SPECIFIC_SESSION_ID)
        else _text(raw)
    )
    return BasicId(version, id_type, ua_type, uas_id)


_LOCATION = struct.Struct("<BBBBbiiHHHBBHB")  # bytes 0..23


def _location(b: bytes, version: int) -> Location:
    (
        _,
        flags,
        direction,
        speed,
        vspeed,
        lat,
        lon,
        pressure,
        geodetic,
        height,
        acc_hv,
        acc_bs,
        ts,
        ts_acc,
    ) = _LOCATION.unpack_from(b)
    lat_deg, lon_deg = _latlon(lat, lon)
    return Location(
        version=version,
        status=flags >> 4,
        height_type=(flags >> 2) & 1,
        direction_rad=_direction_rad(direction, (flags >> 1) & 1),
        speed_m_s=_speed_m_s(speed, flags & 1),
        vertical_speed_m_s=_vertical_speed_m_s(vspeed),
        lat_deg=lat_deg,
        lon_deg=lon_deg,
        pressure_altitude_m=_altitude(pressure),
        geodetic_altitude_m=_altitude(geodetic),
        height_m=_altitude(height),
        horizontal_accuracy=acc_hv & 0x0F,
        vertical_accuracy=acc_hv >> 4,
        baro_accuracy=acc_bs >> 4,
        speed_accuracy=acc_bs & 0x0F,
        timestamp_s=_hour_timestamp_s(ts),
        timestamp_accuracy_s=(ts_acc & 0x0F) / 10.0 if ts_acc & 0x0F else math.nan,
    )


def _auth(b: bytes, version: int) -> AuthPage:
    auth_type, page = b[1] >> 4, b[1] & 0x0F
    if page == 0:
        (stamp,) = struct.unpack_from("<I", b, 4)
        return AuthPage(version, auth_type, 0, b[2], b[3], _system_time(stamp), bytes(b[8:25]))
    return AuthPage(version, auth_type, page, None, None, None, bytes(b[2:25]))


_SYSTEM = struct.Struct("<BBiiHBHHBHI")  # bytes 0..23


def _system(b: bytes, version: int) -> System:
    (_, flags, op_lat, op_lon, count, radius, ceiling, floor, category_class, op_alt, stamp) = (
        _SYSTEM.unpack_from(b)
    )
    lat_deg, lon_deg = _latlon(op_lat, op_lon)
    return System(
        version=version,
        operator_location_type=flags & 0x03,
        classification_type=(flags >> 2) & 0x07,
        operator_lat_deg=lat_deg,
        operator_lon_deg=lon_deg,
        area_count=count,
        area_radius_m=radius * 10.0,
        area_ceiling_m=_altitude(ceiling),
        area_floor_m=_altitude(floor),
        eu_category=category_class >> 4,
        eu_class=category_class & 0x0F,
        operator_altitude_m=_altitude(op_alt),
        timestamp=_system_time(stamp),
    )


def _single(b: bytes) -> Message:
    kind, version = b[0] >> 4, b[0] & 0x0F
    if kind == MessageType.BASIC_ID:
        return _basic_id(b, version)
    if kind == MessageType.LOCATION:
        return _location(b, version)
    if kind == MessageType.AUTH:
        return _auth(b, version)
    if kind == MessageType.SELF_ID:
        return SelfId(version, b[1], _text(b[2:25]))
    if kind == MessageType.SYSTEM:
        return _system(b, version)
    if kind == MessageType.OPERATOR_ID:
        return OperatorId(version, b[1], _text(b[2:22]))
    raise DecodeError("bad_message_type", f"message type 0x{kind:X}")


# --- message pack -----------------------------------------------------------------------

_PACK_LIMITS = {
    BasicId: (MAX_BASIC_IDS_PER_PACK, "pack_too_many_basic_id"),
    Location: (1, "pack_too_many_location"),
    AuthPage: (MAX_AUTH_PAGES, "pack_too_many_auth"),
    SelfId: (1, "pack_too_many_self_id"),
    System: (1, "pack_too_many_system"),
    OperatorId: (1, "pack_too_many_operator_id"),
}


def _pack(b: bytes) -> MessagePack:
    if len(b) < 3:
        raise DecodeError("bad_length", f"pack of {len(b)} bytes")
    if b[1] != MESSAGE_SIZE:
        raise DecodeError("bad_pack_message_size", f"single message size {b[1]}")
    n = b[2]
    if not 1 <= n <= MAX_PACK_MESSAGES:
        raise DecodeError("bad_pack_count", f"{n} messages")
    if len(b) < 3 + MESSAGE_SIZE * n:
        raise DecodeError("pack_truncated", f"{len(b)} bytes for {n} messages")
    messages = []
    seen: Counter[type] = Counter()
    for i in range(n):
        part = b[3 + MESSAGE_SIZE * i : 3 + MESSAGE_SIZE * (i + 1)]
        if part[0] >> 4 == MessageType.PACK:
            raise DecodeError("pack_nested", "a pack inside a pack")
        message = _single(part)  # raises bad_message_type for the whole pack
        seen[type(message)] += 1
        limit, reason = _PACK_LIMITS[type(message)]
        if seen[type(message)] > limit:
            raise DecodeError(reason, f"{seen[type(message)]} > {limit}")
        messages.append(message)
    return MessagePack(b[0] & 0x0F, tuple(messages))


def decode_message(data: bytes) -> Message | MessagePack:
    """Decode one 25-byte message, or one Message Pack (bytes after the pack are ignored).

    Raises:
        DecodeError: with ``reason`` one of bad_length, bad_message_type,
            bad_pack_message_size, bad_pack_count, pack_truncated, pack_nested,
            pack_too_many_<kind>. As in the reference decoder, one bad part rejects a pack.
    """
    b = bytes(data)
    if not b:
        raise DecodeError("bad_length", "empty")
    if b[0] >> 4 == MessageType.PACK:
        return _pack(b)
    if len(b) != MESSAGE_SIZE:
        raise DecodeError("bad_length", f"{len(b)} bytes, expected {MESSAGE_SIZE}")
    return _single(b)


def decode_payload(data: bytes, rejects: Counter[str] | None = None) -> list[Message]:
    """Messages in one transport payload (a single message or a pack), never raising.

    A single message may be followed by padding (only its first 25 bytes are read). A
    rejected payload gives ``[]`` and counts its reason in ``rejects``.
    """
    b = bytes(data)
    if b and b[0] >> 4 != MessageType.PACK and len(b) > MESSAGE_SIZE:
        b = b[:MESSAGE_SIZE]
    try:
        decoded = decode_message(b)
    except DecodeError as exc:
        if rejects is not None:
            rejects[exc.reason] += 1
        return []
    return list(decoded.messages) if isinstance(decoded, MessagePack) else [decoded]


def resolve_hour_timestamp(seconds_since_hour: float, receive_time: float) -> float:
    """POSIX time of a Location timestamp (seconds since the full hour) near ``receive_time``.

    Picks the hour (the receive hour, the one before or the one after) that puts the result
    nearest the receive time, so a message stamped 59:59.9 received at 00:00.2 lands in the
    previous hour. NaN in gives NaN out.
    """
    if math.isnan(seconds_since_hour) or math.isnan(receive_time):
        return math.nan
    hour = math.floor(receive_time / 3600.0) * 3600.0
    candidates = (
        hour - 3600.0 + seconds_since_hour,
        hour + seconds_since_hour,
        hour + 3600.0 + seconds_since_hour,
    )
    return min(candidates, key=lambda c: abs(c - receive_time))
