"""Remote ID encoder: message values -> F3411 wire bytes, and the Wi-Fi / BLE framing around them.

The inverse of :mod:`skywarden.sources.remote_id.messages` and
:mod:`~skywarden.sources.remote_id.transports`, for the simulator: ``decode(encode(x)) == x``
within the wire quantisation (0.5 m altitude, 1e-7 degree, 1 degree direction, 0.25/0.75 m/s
speed, 0.5 m/s vertical speed, 0.1 s time).
NaN / None inputs are written as the spec's "unknown" codes. Out-of-range values are clipped
to the largest encodable value (speed, vertical speed, altitude) as the reference library does.
"""

from __future__ import annotations

import math
import struct

from skywarden.sources.remote_id.messages import (
    MAX_PACK_MESSAGES,
    MESSAGE_SIZE,
    SYSTEM_EPOCH_POSIX,
    AuthPage,
    BasicId,
    IdType,
    Location,
    Message,
    MessageType,
    OperatorId,
    SelfId,
    System,
)
from skywarden.sources.remote_id.transports import (
    AD_SERVICE_DATA_16,
    ASD_STAN_OUI,
    BLE_ADVERTISING_ACCESS_ADDRESS,
    ODID_BLE_APP_CODE,
    ODID_BLE_UUID,
    ODID_VENDOR_TYPE,
    ble_crc24,
)
from skywarden.units import DEG


def _header(kind: MessageType, version: int) -> int:
    return (int(kind) << 4) | (int(version) & 0x0F)


def _latlon_raw(lat_deg: float, lon_deg: float) -> tuple[int, int]:
    if math.isnan(lat_deg) or math.isnan(lon_deg):
        return 0, 0
    return round(lat_deg * 1e7), round(lon_deg * 1e7)


def _altitude_raw(metres: float) -> int:
    if math.isnan(metres):
        return 0
    return min(max(round((metres + 1000.0) / 0.5), 1), 0xFFFF)


def _text_raw(text: str, size: int) -> bytes:
    return text.encode("ascii", errors="replace")[:size].ljust(size, b"\0")


def _system_time_raw(posix: float | None) -> int:
    if posix is None or math.isnan(posix):
        return 0
    return min(max(round(posix - SYSTEM_EPOCH_POSIX), 0), 0xFFFFFFFF)


def encode_basic_id(m: BasicId) -> bytes:
    """25-byte Basic ID. ``uas_id`` is ASCII for ID types 0-2, hex text for types 3-4."""
    if m.id_type in (IdType.UTM_ASSIGNED_UUID, IdType.SPECIFIC_SESSION_ID):
        raw = bytes.fromhex(m.uas_id)[:20].ljust(20, b"\0")
    else:
        raw = _text_raw(m.uas_id, 20)
    head = bytes(
        [_header(MessageType.BASIC_ID, m.version), (m.id_type & 0xF) << 4 | (m.ua_type & 0xF)]
    )
    return head + raw + b"\0\0\0"


def _direction_raw(direction_rad: float) -> tuple[int, int]:
    """(raw byte, E/W flag) for a direction; unknown is 361 degrees = raw 181 with E/W set."""
    if math.isnan(direction_rad):
        return 181, 1
    degrees = round(direction_rad / DEG) % 360
    return (degrees - 180, 1) if degrees >= 180 else (degrees, 0)


def _speed_raw(speed_m_s: float) -> tuple[int, int]:
    """(raw byte, multiplier flag); unknown is raw 255 with multiplier 1."""
    if math.isnan(speed_m_s):
        return 255, 1
    fast = min(round((speed_m_s - 63.75) / 0.75), 254)
    if speed_m_s <= 63.75 or fast <= 0:  # 63.75 m/s has one canonical form: raw 255, x0.25
        return max(min(round(speed_m_s / 0.25), 255), 0), 0
    return fast, 1


def _vertical_speed_raw(vz_m_s: float) -> int:
    if math.isnan(vz_m_s):
        return 126
    return min(max(round(vz_m_s / 0.5), -124), 124)  # +-62 m/s


def encode_location(m: Location) -> bytes:
    """25-byte Location/Vector. ``timestamp_s`` is seconds since the full hour."""
    direction, east_west = _direction_raw(m.direction_rad)
    speed, multiplier = _speed_raw(m.speed_m_s)
    flags = (m.status & 0xF) << 4 | (m.height_type & 1) << 2 | east_west << 1 | multiplier
    lat, lon = _latlon_raw(m.lat_deg, m.lon_deg)
    stamp = 0xFFFF if math.isnan(m.timestamp_s) else min(max(round(m.timestamp_s * 10.0), 0), 36000)
    stamp_accuracy = 0 if math.isnan(m.timestamp_accuracy_s) else round(m.timestamp_accuracy_s * 10)
    return struct.pack(
        "<BBBBbiiHHHBBHBB",
        _header(MessageType.LOCATION, m.version),
        flags,
        direction,
        speed,
        _vertical_speed_raw(m.vertical_speed_m_s),
        lat,
        lon,
        _altitude_raw(m.pressure_altitude_m),
        _altitude_raw(m.geodetic_altitude_m),
        _altitude_raw(m.height_m),
        (m.vertical_accuracy & 0xF) << 4 | (m.horizontal_accuracy & 0xF),
        (m.baro_accuracy & 0xF) << 4 | (m.speed_accuracy & 0xF),
        stamp,
        min(max(stamp_accuracy, 0), 15),
        0,
    )


def encode_auth_page(m: AuthPage) -> bytes:
    """25-byte Authentication page (data is padded or cut to 17 / 23 bytes)."""
    head = bytes(
        [_header(MessageType.AUTH, m.version), (m.auth_type & 0xF) << 4 | (m.page_number & 0xF)]
    )
    if m.page_number == 0:
        fields = struct.pack(
            "<BBI", m.last_page_index or 0, m.length or 0, _system_time_raw(m.timestamp)
        )
        return head + fields + m.data[:17].ljust(17, b"\0")
    return head + m.data[:23].ljust(23, b"\0")


def encode_self_id(m: SelfId) -> bytes:
    """25-byte Self-ID."""
    return bytes([_header(MessageType.SELF_ID, m.version), m.description_type & 0xFF]) + _text_raw(
        m.description, 23
    )


def encode_system(m: System) -> bytes:
    """25-byte System message (timestamp is POSIX seconds, NaN -> 0 = unset)."""
    lat, lon = _latlon_raw(m.operator_lat_deg, m.operator_lon_deg)
    flags = (m.classification_type & 0x7) << 2 | (m.operator_location_type & 0x3)
    return struct.pack(
        "<BBiiHBHHBHIB",
        _header(MessageType.SYSTEM, m.version),
        flags,
        lat,
        lon,
        min(max(m.area_count, 0), 0xFFFF),
        min(max(round(m.area_radius_m / 10.0), 0), 255),
        _altitude_raw(m.area_ceiling_m),
        _altitude_raw(m.area_floor_m),
        (m.eu_category & 0xF) << 4 | (m.eu_class & 0xF),
        _altitude_raw(m.operator_altitude_m),
        _system_time_raw(m.timestamp),
        0,
    )


def encode_operator_id(m: OperatorId) -> bytes:
    """25-byte Operator ID."""
    head = bytes([_header(MessageType.OPERATOR_ID, m.version), m.operator_id_type & 0xFF])
    return head + _text_raw(m.operator_id, 20) + b"\0\0\0"


_ENCODERS = {
    BasicId: encode_basic_id,
    Location: encode_location,
    AuthPage: encode_auth_page,
    SelfId: encode_self_id,
    System: encode_system,
    OperatorId: encode_operator_id,
}


def encode_message(m: Message) -> bytes:
    """25 bytes for any single message value."""
    return _ENCODERS[type(m)](m)


def encode_message_pack(messages: list[Message] | tuple[Message, ...], version: int = 2) -> bytes:
    """A Message Pack of 1-9 messages (3 + 25 N bytes). Raises ValueError for a bad count."""
    if not 1 <= len(messages) <= MAX_PACK_MESSAGES:
        raise ValueError(
            f"a message pack holds 1-{MAX_PACK_MESSAGES} messages, not {len(messages)}"
        )
    head = bytes([_header(MessageType.PACK, version), MESSAGE_SIZE, len(messages)])
    return head + b"".join(encode_message(m) for m in messages)


def _mac_bytes(address: str) -> bytes:
    raw = bytes.fromhex(address.replace(":", "").replace("-", ""))
    if len(raw) != 6:
        raise ValueError(f"not a MAC address: {address!r}")
    return raw


def encode_wifi_beacon(
    payload: bytes,
    address: str,
    counter: int,
    *,
    ssid: str = "",
    tsf_us: int = 0,
    sequence: int = 0,
) -> bytes:
    """Radiotap + 802.11 beacon carrying the ODID vendor IE (for LINKTYPE 127 captures).

    ``payload`` is a message pack (:func:`encode_message_pack`); ``address`` the transmitter
    MAC (also the BSSID); ``counter`` the 8-bit message counter. No FCS is appended.
    """
    mac = _mac_bytes(address)
    radiotap = struct.pack("<BBHI", 0, 0, 8, 0)  # version, pad, length, no fields present
    header = struct.pack("<BBH", 0x80, 0x00, 0) + b"\xff" * 6 + mac + mac
    header += struct.pack("<H", (sequence & 0xFFF) << 4)
    fixed = struct.pack("<QHH", tsf_us & 0xFFFFFFFFFFFFFFFF, 100, 0x0421)  # interval 100 TU
    ssid_ie = bytes([0x00, len(ssid.encode())]) + ssid.encode()
    ie_body = ASD_STAN_OUI + bytes([ODID_VENDOR_TYPE, counter & 0xFF]) + payload
    if len(ie_body) > 255:
        raise ValueError(f"vendor IE of {len(ie_body)} bytes exceeds 255")
    return radiotap + header + fixed + ssid_ie + bytes([0xDD, len(ie_body)]) + ie_body


def encode_ble_legacy_advert(message: bytes, address: str, counter: int) -> bytes:
    """BLE 4 legacy ADV_NONCONN_IND carrying one 25-byte message, as a link-layer packet
    (access address + PDU + CRC-24) for LINKTYPE_BLUETOOTH_LE_LL (251) captures."""
    if len(message) != MESSAGE_SIZE:
        raise ValueError(
            f"a legacy advert carries one {MESSAGE_SIZE}-byte message, not {len(message)}"
        )
    service = ODID_BLE_UUID + bytes([ODID_BLE_APP_CODE, counter & 0xFF]) + message
    ad = bytes([len(service) + 1, AD_SERVICE_DATA_16]) + service
    payload = _mac_bytes(address)[::-1] + ad
    pdu = bytes([0x02 | 0x40, len(payload)]) + payload  # ADV_NONCONN_IND, TxAdd random
    return struct.pack("<I", BLE_ADVERTISING_ACCESS_ADDRESS) + pdu + ble_crc24(pdu)
