"""Remote ID transports: captured frames or hex text -> received F3411 messages (pure).

Four broadcast transports (``specs/remote-id.md``, "Transport framing"):

- Wi-Fi beacon: vendor IE ``DD len FA:0B:BC 0D counter pack`` in an 802.11 beacon
  (radiotap LINKTYPE 127 or bare 802.11 LINKTYPE 105; a trailing FCS is checked and removed).
- Wi-Fi NAN: public action frame ``04 09 50:6F:9A 13`` whose Service Descriptor Attribute
  (id 0x03, service ID ``88 69 19 9D 92 09``) carries ``counter pack``.
- Bluetooth 4 legacy advertising and Bluetooth 5 extended (Long Range) advertising: AD
  structure ``len 16 FA FF 0D counter message-or-pack``. Read from Nordic BLE sniffer frames
  (LINKTYPE 272) or bare BLE link-layer packets (LINKTYPE 251), CRC-24 checked.
- Hex text: one message or pack per line, optionally preceded by a POSIX receive time.

Each message comes out as a :class:`ReceivedMessage` with receive time, transport and
transmitter address, so messages of one UA can be grouped (packs are flattened). Frames that
carry no ODID are counted in ``rejects`` (e.g. ``wifi_no_odid``); damaged ones by reason
(``ble_crc_bad``, ``wifi_fcs_bad``, ``ble_truncated`` ...). Nothing here raises on bad bytes.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from skywarden.sources.recordings.pcap import (
    LINKTYPE_IEEE802_11,
    LINKTYPE_IEEE802_11_RADIOTAP,
    LINKTYPE_NORDIC_BLE,
    Frame,
    iter_frames,
)
from skywarden.sources.remote_id.messages import Message, decode_payload

LINKTYPE_BLUETOOTH_LE_LL = 251
ASD_STAN_OUI = b"\xfa\x0b\xbc"
ODID_VENDOR_TYPE = 0x0D
WFA_OUI = b"\x50\x6f\x9a"
NAN_OUI_TYPE = 0x13
ODID_NAN_SERVICE_ID = bytes.fromhex("8869199d9209")
FRENCH_DRONE_ID_OUI = b"\x6a\x5c\x35"
DJI_DRONE_ID_OUI = b"\x26\x37\x12"
ODID_BLE_UUID = b"\xfa\xff"  # 0xFFFA little-endian
ODID_BLE_APP_CODE = 0x0D
AD_SERVICE_DATA_16 = 0x16
BLE_ADVERTISING_ACCESS_ADDRESS = 0x8E89BED6
BLE_CRC_INIT = 0x555555


class Transport(StrEnum):
    """How a message reached us."""

    WIFI_BEACON = "wifi_beacon"
    WIFI_NAN = "wifi_nan"
    BLE_LEGACY = "ble_legacy"  # Bluetooth 4 legacy advertising: one message per advert
    BLE_EXTENDED = "ble_extended"  # Bluetooth 5 extended advertising (Long Range): a pack
    HEX = "hex"


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One decoded message with its receive time (POSIX s), transport, transmitter MAC
    (``aa:bb:cc:dd:ee:ff``, ``""`` when unknown) and message counter (-1 when none)."""

    t: float
    transport: Transport
    address: str
    counter: int
    message: Message


def _mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def _received(
    payload: bytes,
    counter: int,
    t: float,
    transport: Transport,
    address: str,
    rejects: Counter[str],
) -> list[ReceivedMessage]:
    return [
        ReceivedMessage(t, transport, address, counter, m) for m in decode_payload(payload, rejects)
    ]


# --- Wi-Fi ------------------------------------------------------------------------------

_RADIOTAP_FLAG_FCS = 0x10


def _strip_radiotap(data: bytes) -> tuple[bytes, bool]:
    """802.11 frame inside a radiotap header, and whether it ends with a 4-byte FCS."""
    if len(data) < 8 or data[0] != 0:
        raise ValueError("radiotap_bad_header")
    (length,) = struct.unpack_from("<H", data, 2)
    offset, present = 4, 0
    first = True
    while True:  # the present bitmask may be extended (bit 31)
        if offset + 4 > len(data):
            raise ValueError("radiotap_bad_header")
        (word,) = struct.unpack_from("<I", data, offset)
        present = word if first else present
        first, offset = False, offset + 4
        if not word & 0x80000000:
            break
    has_fcs = False
    if present & 0x2:  # Flags field, after TSFT (8 bytes, 8-aligned) when present
        if present & 0x1:
            offset = (offset + 7) // 8 * 8 + 8
        if offset >= len(data):
            raise ValueError("radiotap_bad_header")
        has_fcs = bool(data[offset] & _RADIOTAP_FLAG_FCS)
    if length < 8 or length > len(data):
        raise ValueError("radiotap_bad_header")
    return data[length:], has_fcs


def _iter_ies(body: bytes) -> Iterator[tuple[int, bytes]]:
    i = 0
    while i + 2 <= len(body):
        ie_id, ie_len = body[i], body[i + 1]
        if i + 2 + ie_len > len(body):
            return
        yield ie_id, body[i + 2 : i + 2 + ie_len]
        i += 2 + ie_len


def _beacon(
    wlan: bytes, t: float, rejects: Counter[str], seen: Counter[str]
) -> list[ReceivedMessage]:
    address = _mac(wlan[10:16])
    out: list[ReceivedMessage] = []
    found = False
    for ie_id, ie in _iter_ies(wlan[36:]):  # 24-byte header + 12 fixed bytes
        if ie_id != 0xDD or len(ie) < 4:
            continue
        if ie[:3] == ASD_STAN_OUI and ie[3] == ODID_VENDOR_TYPE:
            found = True
            seen[Transport.WIFI_BEACON] += 1
            if len(ie) < 6:
                rejects["wifi_ie_truncated"] += 1
                continue
            out += _received(ie[5:], ie[4], t, Transport.WIFI_BEACON, address, rejects)
        elif ie[:3] == FRENCH_DRONE_ID_OUI:
            found = True
            rejects["french_drone_id_not_f3411"] += 1
        elif ie[:3] == DJI_DRONE_ID_OUI:
            found = True
            rejects["dji_drone_id_not_f3411"] += 1
    if not found:
        rejects["wifi_no_odid"] += 1
    return out


def _nan_action(
    wlan: bytes, t: float, rejects: Counter[str], seen: Counter[str]
) -> list[ReceivedMessage]:
    body = wlan[24:]
    if (
        len(body) < 6
        or body[0] != 0x04
        or body[1] != 0x09
        or body[2:5] != WFA_OUI
        or body[5] != NAN_OUI_TYPE
    ):
        rejects["wifi_no_odid"] += 1
        return []
    address, i, out, found = _mac(wlan[10:16]), 6, [], False
    while i + 3 <= len(body):
        attr_id = body[i]
        (attr_len,) = struct.unpack_from("<H", body, i + 1)
        attr = body[i + 3 : i + 3 + attr_len]
        if len(attr) < attr_len:
            rejects["nan_truncated"] += 1
            break
        if attr_id == 0x03 and attr[:6] == ODID_NAN_SERVICE_ID:
            found = True
            seen[Transport.WIFI_NAN] += 1
            if len(attr) < 10 or attr[8] & 0x10 == 0 or len(attr) < 10 + attr[9] or attr[9] < 2:
                rejects["nan_bad_service_info"] += 1
            else:  # instance, requestor, control (0x10 = service info present), info length
                info = attr[10 : 10 + attr[9]]
                out += _received(info[1:], info[0], t, Transport.WIFI_NAN, address, rejects)
        i += 3 + attr_len
    if not found:
        rejects["wifi_no_odid"] += 1
    return out


def decode_wifi_frame(
    wlan: bytes, t: float, rejects: Counter[str], seen: Counter[str], has_fcs: bool = False
) -> list[ReceivedMessage]:
    """Messages in one 802.11 frame (beacon or NAN public action); ``seen`` counts ODID frames."""
    if has_fcs:
        if len(wlan) < 4 or zlib.crc32(wlan[:-4]).to_bytes(4, "little") != wlan[-4:]:
            rejects["wifi_fcs_bad"] += 1
            return []
        wlan = wlan[:-4]
    if len(wlan) < 24:
        rejects["wifi_truncated"] += 1
        return []
    if wlan[0] == 0x80 and len(wlan) >= 36:  # management, subtype 8: beacon
        return _beacon(wlan, t, rejects, seen)
    if wlan[0] == 0xD0:  # management, subtype 13: action
        return _nan_action(wlan, t, rejects, seen)
    rejects["wifi_not_beacon_or_action"] += 1
    return []


# --- Bluetooth --------------------------------------------------------------------------


def ble_crc24(pdu: bytes, init: int = BLE_CRC_INIT) -> bytes:
    """BLE link-layer CRC-24 of a PDU (header + payload), as the 3 bytes sent after it."""
    state = init
    for byte in pdu:
        for bit in range(8):
            feedback = ((state >> 23) & 1) ^ ((byte >> bit) & 1)
            state = (state << 1) & 0xFFFFFF
            if feedback:
                state ^= 0x00065B
    return int(f"{state:024b}"[::-1], 2).to_bytes(3, "little")


def _ad_structures(data: bytes) -> Iterator[tuple[int, bytes]]:
    i = 0
    while i < len(data):
        n = data[i]
        if n == 0 or i + 1 + n > len(data):
            return
        yield data[i + 1], data[i + 2 : i + 1 + n]
        i += 1 + n


def _adv_fields(pdu: bytes) -> tuple[bytes, bytes, Transport] | None:
    """(AdvA, AdvData, transport) of an advertising PDU; None for PDUs that carry no data."""
    pdu_type, length = pdu[0] & 0x0F, pdu[1]
    payload = pdu[2 : 2 + length]
    if pdu_type in (0x0, 0x2, 0x4, 0x6):  # ADV_IND, ADV_NONCONN_IND, SCAN_RSP, ADV_SCAN_IND
        return (payload[:6], payload[6:], Transport.BLE_LEGACY) if len(payload) >= 6 else None
    if pdu_type != 0x7 or not payload:  # ADV_EXT_IND / AUX_ADV_IND / AUX_CHAIN_IND ...
        return None
    header_len = payload[0] & 0x3F
    header = payload[1 : 1 + header_len]
    adv_address, offset = b"", 0
    if header_len:
        flags, offset = header[0], 1
        if flags & 0x01:
            adv_address, offset = header[1:7], 7
        sizes = ((0x02, 6), (0x04, 1), (0x08, 2), (0x10, 3), (0x20, 18), (0x40, 1))
        offset += sum(size for bit, size in sizes if flags & bit)
    if offset > header_len:
        return None
    return adv_address, payload[1 + header_len :], Transport.BLE_EXTENDED


def decode_ble_ll_packet(
    packet: bytes, t: float, rejects: Counter[str], seen: Counter[str], coded_phy: bool = False
) -> list[ReceivedMessage]:
    """Messages in one BLE link-layer packet: access address, [CI byte on coded PHY], PDU, CRC."""
    start = 5 if coded_phy else 4
    if len(packet) < start + 2 + 3:
        rejects["ble_truncated"] += 1
        return []
    if int.from_bytes(packet[:4], "little") != BLE_ADVERTISING_ACCESS_ADDRESS:
        rejects["ble_not_advertising"] += 1
        return []
    pdu = packet[start : start + 2 + packet[start + 1]]
    crc = packet[start + len(pdu) : start + len(pdu) + 3]
    if len(crc) < 3:
        rejects["ble_truncated"] += 1
        return []
    if ble_crc24(pdu) != crc:
        rejects["ble_crc_bad"] += 1
        return []
    fields = _adv_fields(pdu)
    if fields is None:
        rejects["ble_no_adv_data"] += 1
        return []
    adv_address, adv_data, transport = fields
    address = _mac(adv_address[::-1]) if adv_address else ""
    out: list[ReceivedMessage] = []
    found = False
    for ad_type, ad in _ad_structures(adv_data):
        if ad_type == AD_SERVICE_DATA_16 and ad[:2] == ODID_BLE_UUID and ad[2:3] == b"\x0d":
            found = True
            seen[transport] += 1
            if len(ad) < 4 + 1:
                rejects["ble_ad_truncated"] += 1
                continue
            out += _received(ad[4:], ad[3], t, transport, address, rejects)
    if not found:
        rejects["ble_no_odid"] += 1
    return out


def decode_nordic_ble_frame(
    data: bytes, t: float, rejects: Counter[str], seen: Counter[str]
) -> list[ReceivedMessage]:
    """Messages in one nRF Sniffer frame (LINKTYPE 272, protocol versions 2 and 3).

    Layout: board (1), payload length (2), protocol version (1), packet counter (2), packet
    id (1), then a packet header (its own length byte first; flags, channel, RSSI, event
    counter, time) and the BLE link-layer packet. Flags bits 4-6 give the PHY (2 = coded).
    """
    if len(data) < 8 or data[3] < 2:
        rejects["nordic_bad_header"] += 1
        return []
    header_len = data[7]
    if header_len < 2 or len(data) < 7 + header_len:
        rejects["nordic_bad_header"] += 1
        return []
    coded = (data[8] >> 4) & 0x07 == 2
    return decode_ble_ll_packet(data[7 + header_len :], t, rejects, seen, coded_phy=coded)


# --- frames, captures, hex text ---------------------------------------------------------


def decode_frame(
    frame: Frame, rejects: Counter[str], seen: Counter[str] | None = None
) -> list[ReceivedMessage]:
    """Messages in one captured frame of any supported link type; never raises.

    ``seen`` counts frames that carry an ODID container, per transport (even if the
    message pack inside is then rejected).
    """
    seen = Counter() if seen is None else seen
    try:
        if frame.linktype == LINKTYPE_IEEE802_11_RADIOTAP:
            wlan, has_fcs = _strip_radiotap(frame.data)
            return decode_wifi_frame(wlan, frame.t, rejects, seen, has_fcs)
        if frame.linktype == LINKTYPE_IEEE802_11:
            return decode_wifi_frame(frame.data, frame.t, rejects, seen)
        if frame.linktype == LINKTYPE_NORDIC_BLE:
            return decode_nordic_ble_frame(frame.data, frame.t, rejects, seen)
        if frame.linktype == LINKTYPE_BLUETOOTH_LE_LL:
            return decode_ble_ll_packet(frame.data, frame.t, rejects, seen)
    except ValueError as exc:  # radiotap_bad_header
        rejects[str(exc)] += 1
        return []
    except (IndexError, struct.error):
        rejects["frame_truncated"] += 1
        return []
    rejects["unsupported_linktype"] += 1
    return []


def iter_frame_messages(
    frames: Iterable[Frame], rejects: Counter[str], seen: Counter[str] | None = None
) -> Iterator[ReceivedMessage]:
    """Messages of every frame, in capture order."""
    for frame in frames:
        yield from decode_frame(frame, rejects, seen)


def decode_capture(
    data: bytes, rejects: Counter[str], seen: Counter[str] | None = None
) -> list[ReceivedMessage]:
    """All Remote ID messages in a pcap/pcapng file held in memory (Wi-Fi or BLE)."""
    return list(iter_frame_messages(iter_frames(data, rejects), rejects, seen))


def decode_hex_line(
    line: str, rejects: Counter[str], default_t: float = float("nan")
) -> list[ReceivedMessage]:
    """Messages of one text line: ``[posix_time] hex`` (spaces/colons inside the hex allowed).

    Blank lines and ``#`` comments give ``[]`` without counting; other bad lines count as
    ``hex_bad_line`` (or a message reject reason).
    """
    text = line.split("#", 1)[0].strip()
    if not text:
        return []
    t = default_t
    first, _, rest = text.partition(" ")
    if rest and "." in first:
        try:
            t = float(first)
        except ValueError:
            rejects["hex_bad_line"] += 1
            return []
        text = rest
    try:
        payload = bytes.fromhex(text.replace(":", "").replace(" ", "").replace("\t", ""))
    except ValueError:
        rejects["hex_bad_line"] += 1
        return []
    return _received(payload, -1, t, Transport.HEX, "", rejects)


class HexLineReader:
    """Incremental hex-line decoder: ``feed`` text chunks split anywhere, ``close`` at the end."""

    def __init__(self, rejects: Counter[str], default_t: float = float("nan")) -> None:
        self.rejects = rejects
        self.default_t = default_t
        self._tail = ""

    def feed(self, chunk: str) -> list[ReceivedMessage]:
        """Messages of the lines completed by this chunk."""
        lines = (self._tail + chunk).splitlines(keepends=True)
        self._tail = lines.pop() if lines and not lines[-1].endswith(("\n", "\r")) else ""
        out: list[ReceivedMessage] = []
        for line in lines:
            out += decode_hex_line(line, self.rejects, self.default_t)
        return out

    def close(self) -> list[ReceivedMessage]:
        """Messages of a last line without a newline."""
        tail, self._tail = self._tail, ""
        return decode_hex_line(tail, self.rejects, self.default_t)


def decode_hex_text(
    text: str, rejects: Counter[str], default_t: float = float("nan")
) -> list[ReceivedMessage]:
    """Messages of a whole hex-line text."""
    reader = HexLineReader(rejects, default_t)
    return reader.feed(text) + reader.close()
