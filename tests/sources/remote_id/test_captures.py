"""Remote ID transports on the real captures in ../shared/data (see data/README.md).

Counts measured here and checked against the README (differences explained in the tests):
- Parrot ANAFI: 5,091 frames, 1,140 ODID beacons. The README says "each beacon has a
  one-message pack"; in fact 755 carry 1 message (Location) and 385 carry 4 (Basic ID,
  Location, System, Operator ID), so 2,295 messages, 1,140 of them Location. The drone repeats
  each Location ~9 times: 124 distinct ones.
- BT5 LR: 274 frames; 30 fail the BLE CRC-24 (the sniffer's own CRC flag agrees frame by
  frame); one of those has its AD type byte hit (so README's "273 frames carrying service
  data" = 274 - 1). Of the 244 good ones, 19 carry an empty pack (count 0, rejected) and 225 a
  valid pack.
- NAN sample: 63 frames = 21 NAN sync beacons + 21 NAN action frames + 21 ODID Wi-Fi beacons
  (the README lists only the first two). The simulator sends each message on both: the 31
  Location messages are 16 via NAN and 15 via beacon, 17 distinct. No Basic ID was captured.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skywarden.sources.recordings.pcap import Frame, iter_frames
from skywarden.sources.remote_id.encode import encode_message
from skywarden.sources.remote_id.messages import (
    BasicId,
    Location,
    OperatorId,
    SelfId,
    System,
    eu_class_name,
)
from skywarden.sources.remote_id.transports import (
    ReceivedMessage,
    Transport,
    decode_capture,
    decode_frame,
)
from tests.conftest import recording

PARROT = "cdc-remoteidreceiver/parrot_anafi4_real.pcapng"
BEACON = "opendroneid-wireshark/odid_wifi_bcn_sample.pcap"
NAN = "opendroneid-wireshark/odid_wifi_sample.pcap"
BT5 = "opendroneid-wireshark/odid_bt5_lr_sample.pcapng"


def _decode(
    shared_data: Path, name: str
) -> tuple[list[ReceivedMessage], Counter[str], Counter[str]]:
    rejects: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    messages = decode_capture(recording(shared_data, name).read_bytes(), rejects, seen)
    return messages, rejects, seen


def _of(messages: list[ReceivedMessage], kind: type) -> list:
    return [r.message for r in messages if isinstance(r.message, kind)]


def test_parrot_anafi_real_drone(shared_data: Path) -> None:
    messages, rejects, seen = _decode(shared_data, PARROT)
    assert seen == Counter({Transport.WIFI_BEACON: 1140})
    assert rejects == Counter({"wifi_no_odid": 3512, "wifi_not_beacon_or_action": 439})
    assert len(messages) == 2295
    assert {r.address for r in messages} == {"90:3a:e6:5b:c8:a8"}
    assert {(b.id_type, b.ua_type, b.uas_id) for b in _of(messages, BasicId)} == {
        (1, 2, "1588E040445AC004418")
    }
    systems = _of(messages, System)
    assert {(s.classification_type, s.eu_category, eu_class_name(s.eu_class)) for s in systems} == {
        (1, 1, "C1")
    }
    assert {s.operator_location_type for s in systems} == {1}  # live GNSS
    locations = _of(messages, Location)
    assert len(locations) == 1140
    assert all(
        abs(m.lat_deg - 47.1987) < 1e-3 and abs(m.lon_deg - 8.7302) < 1e-3 for m in locations
    )
    assert min(m.height_m for m in locations) == 0.0 and max(m.height_m for m in locations) == 11.0
    assert max(m.speed_m_s for m in locations) <= 2.0
    assert all(math.isnan(m.geodetic_altitude_m) for m in locations)  # sent as -1000 m
    assert {m.status for m in locations} == {1, 2}  # ground, then airborne
    assert locations[0].status == 1 and locations[-1].status == 2
    distinct = {(m.timestamp_s, m.lat_deg, m.lon_deg, m.height_m) for m in locations}
    assert len(distinct) == 124
    # operator about 6 m from the drone (equirectangular distance is plenty at this scale)
    s, m = systems[0], locations[0]
    d_north = (s.operator_lat_deg - m.lat_deg) * 111_195.0
    d_east = (s.operator_lon_deg - m.lon_deg) * 111_195.0 * math.cos(math.radians(m.lat_deg))
    assert 3.0 < math.hypot(d_north, d_east) < 10.0


def test_wifi_beacon_sample(shared_data: Path) -> None:
    messages, rejects, seen = _decode(shared_data, BEACON)
    assert seen == Counter({Transport.WIFI_BEACON: 21}) and not rejects
    assert len(messages) == 105  # 21 packs of Basic ID, Location, Self-ID, System, Operator ID
    assert {b.uas_id for b in _of(messages, BasicId)} == {"MFG1A0123456789"}
    locations = _of(messages, Location)
    assert len(locations) == 21
    for m in locations:
        assert abs(m.lat_deg - 45.546) < 0.003 and abs(m.lon_deg + 122.967) < 0.006
        assert m.height_m == 100.0 and m.speed_m_s == 20.5
    assert {o.operator_id for o in _of(messages, OperatorId)} == {"GBR-OP-123ABCD"}
    assert {s.description for s in _of(messages, SelfId)} == {"Recreational"}


def test_wifi_nan_sample(shared_data: Path) -> None:
    messages, rejects, seen = _decode(shared_data, NAN)
    assert seen == Counter({Transport.WIFI_NAN: 21, Transport.WIFI_BEACON: 21})
    assert rejects == Counter({"wifi_no_odid": 21})  # the NAN sync beacons
    nan_locations = [
        r for r in messages if r.transport is Transport.WIFI_NAN and isinstance(r.message, Location)
    ]
    assert len(nan_locations) == 16
    all_locations = _of(messages, Location)
    assert len(all_locations) == 31
    assert len({(m.lat_deg, m.lon_deg) for m in all_locations}) == 17
    assert not _of(messages, BasicId)


def test_bt5_long_range_sample(shared_data: Path) -> None:
    messages, rejects, seen = _decode(shared_data, BT5)
    assert rejects == Counter({"ble_crc_bad": 30, "bad_pack_count": 19})
    assert seen == Counter({Transport.BLE_EXTENDED: 244})
    assert {r.transport for r in messages} == {Transport.BLE_EXTENDED}
    assert {r.address for r in messages} == {"e0:7d:ea:eb:2f:1c"}
    assert {(b.id_type, b.ua_type, b.uas_id) for b in _of(messages, BasicId)} == {
        (1, 2, "SSEVTFG93700070")
    }
    assert {s.description for s in _of(messages, SelfId)} == {"Drone ID demo"}
    locations = _of(messages, Location)
    assert locations and all(math.isnan(m.lat_deg) and math.isnan(m.lon_deg) for m in locations)
    assert all(math.isnan(m.speed_m_s) for m in locations)


def test_bt5_crc_agrees_with_the_sniffer_flag(shared_data: Path) -> None:
    """Independent oracle: the nRF sniffer's own 'CRC OK' flag (flags byte, bit 0)."""
    frames = list(iter_frames(recording(shared_data, BT5).read_bytes()))
    for frame in frames:
        rejects: Counter[str] = Counter()
        decode_frame(frame, rejects)
        assert (rejects["ble_crc_bad"] == 0) == bool(frame.data[8] & 0x01)


def _masked(message: bytes) -> bytes:
    """Zero the reserved bits of a real message so it can be compared with a re-encoding."""
    b = bytearray(message)
    kind = b[0] >> 4
    if kind in (0, 5):
        b[22:25] = b"\0\0\0"
    elif kind == 1:
        b[1] &= 0xF7
        b[23] &= 0x0F
        b[24] = 0
    elif kind == 4:
        b[1] &= 0x1F
        b[24] = 0
    return bytes(b)


@pytest.mark.parametrize("name", [PARROT, BEACON, BT5])
def test_real_messages_re_encode_to_their_bytes(shared_data: Path, name: str) -> None:
    """Encoder oracle: every real message decodes and re-encodes to the same (unreserved) bytes."""
    data = recording(shared_data, name).read_bytes()
    checked = 0
    for frame in list(iter_frames(data))[:400]:
        rejects: Counter[str] = Counter()
        decoded = decode_frame(frame, rejects)
        if not decoded:
            continue
        marker = (
            frame.data.find(b"\xfa\x0b\xbc\x0d") + 5
            if frame.linktype == 127
            else frame.data.find(b"\xfa\xff\x0d") + 4
        )
        pack = frame.data[marker:]
        for i, received in enumerate(decoded):
            raw = pack[3 + 25 * i : 28 + 25 * i]
            assert encode_message(received.message) == _masked(raw)
            checked += 1
    assert checked > 100


def _real_frames(shared_data: Path) -> list[Frame]:
    frames: list[Frame] = []
    for name in (PARROT, BEACON, NAN, BT5):
        all_frames = list(iter_frames(recording(shared_data, name).read_bytes()))
        frames += [f for f in all_frames if decode_frame(f, Counter())][:20]
    return frames


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_truncated_and_damaged_real_frames_never_raise(
    shared_data: Path, data: st.DataObject
) -> None:
    frames = _real_frames_cached(shared_data)
    frame = data.draw(st.sampled_from(frames))
    raw = bytearray(frame.data[: data.draw(st.integers(0, len(frame.data)))])
    for _ in range(data.draw(st.integers(0, 3))):
        if raw:
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    rejects: Counter[str] = Counter()
    out = decode_frame(Frame(frame.t, frame.linktype, bytes(raw)), rejects)
    assert out or sum(rejects.values()) >= 1


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([105, 127, 251, 272, 1]), st.binary(max_size=300))
def test_random_frames_never_raise(linktype: int, data: bytes) -> None:
    rejects: Counter[str] = Counter()
    decode_frame(Frame(0.0, linktype, data), rejects)


_CACHE: dict[Path, list[Frame]] = {}


def _real_frames_cached(shared_data: Path) -> list[Frame]:
    if shared_data not in _CACHE:
        _CACHE[shared_data] = _real_frames(shared_data)
    return _CACHE[shared_data]
