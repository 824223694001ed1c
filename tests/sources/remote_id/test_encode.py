"""Remote ID encoder round trips (hypothesis), transport wrapping, and hex-line input."""

from __future__ import annotations

import io
import math
from collections import Counter

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.sources.remote_id.encode import (
    encode_ble_legacy_advert,
    encode_location,
    encode_message,
    encode_message_pack,
    encode_wifi_beacon,
)
from skywarden.sources.remote_id.messages import (
    BasicId,
    Location,
    OperatorId,
    SelfId,
    System,
    decode_message,
    decode_payload,
)
from skywarden.sources.remote_id.transports import (
    LINKTYPE_BLUETOOTH_LE_LL,
    HexLineReader,
    Transport,
    decode_capture,
    decode_hex_text,
)
from skywarden.units import DEG

nan = math.nan
ascii_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)


def _maybe(strategy: st.SearchStrategy[float]) -> st.SearchStrategy[float]:
    return st.one_of(st.just(nan), strategy)


altitudes = _maybe(st.floats(-999.5, 31767.5))
locations = st.builds(
    Location,
    version=st.integers(0, 2),
    status=st.integers(0, 15),
    height_type=st.integers(0, 1),
    direction_rad=_maybe(st.floats(0, 2 * math.pi, exclude_max=True)),
    speed_m_s=_maybe(st.floats(0, 254.25)),
    vertical_speed_m_s=_maybe(st.floats(-62, 62)),
    lat_deg=st.floats(-90, 90).filter(lambda x: abs(x) > 1e-6),
    lon_deg=st.floats(-180, 180),
    pressure_altitude_m=altitudes,
    geodetic_altitude_m=altitudes,
    height_m=altitudes,
    horizontal_accuracy=st.integers(0, 15),
    vertical_accuracy=st.integers(0, 15),
    baro_accuracy=st.integers(0, 15),
    speed_accuracy=st.integers(0, 15),
    timestamp_s=_maybe(st.floats(0, 3600)),
    timestamp_accuracy_s=_maybe(st.sampled_from([0.1 * k for k in range(1, 16)])),
)


def _close(a: float, b: float, tol: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tol


@settings(max_examples=300, deadline=None)
@given(locations)
def test_location_round_trip_within_quantisation(m: Location) -> None:
    wire = encode_location(m)
    d = decode_message(wire)
    assert isinstance(d, Location) and len(wire) == 25
    assert (d.version, d.status, d.height_type) == (m.version, m.status, m.height_type)
    if math.isnan(m.direction_rad):
        assert math.isnan(d.direction_rad)
    else:
        diff = (d.direction_rad - m.direction_rad + math.pi) % (2 * math.pi) - math.pi
        assert abs(diff) <= 0.5 * DEG + 1e-9
    speed_tol = 0.125 if m.speed_m_s <= 63.75 else 0.375
    assert _close(d.speed_m_s, m.speed_m_s, speed_tol + 1e-9)
    assert _close(d.vertical_speed_m_s, m.vertical_speed_m_s, 0.25 + 1e-9)
    assert _close(d.lat_deg, m.lat_deg, 0.5e-7 + 1e-12) and _close(
        d.lon_deg, m.lon_deg, 0.5e-7 + 1e-12
    )
    for name in ("pressure_altitude_m", "geodetic_altitude_m", "height_m"):
        assert _close(getattr(d, name), getattr(m, name), 0.25 + 1e-9)
    assert _close(d.timestamp_s, m.timestamp_s, 0.05 + 1e-9)
    assert _close(d.timestamp_accuracy_s, m.timestamp_accuracy_s, 1e-9)
    codes = ("horizontal_accuracy", "vertical_accuracy", "baro_accuracy", "speed_accuracy")
    assert [getattr(d, c) for c in codes] == [getattr(m, c) for c in codes]
    assert encode_location(d) == wire  # the decoded value is a fixed point


systems = st.builds(
    System,
    version=st.integers(0, 2),
    operator_location_type=st.integers(0, 3),
    classification_type=st.integers(0, 7),
    operator_lat_deg=st.floats(-90, 90).filter(lambda x: abs(x) > 1e-6),
    operator_lon_deg=st.floats(-180, 180),
    area_count=st.integers(0, 0xFFFF),
    area_radius_m=st.integers(0, 255).map(lambda k: 10.0 * k),
    area_ceiling_m=altitudes,
    area_floor_m=altitudes,
    eu_category=st.integers(0, 15),
    eu_class=st.integers(0, 15),
    operator_altitude_m=altitudes,
    timestamp=_maybe(st.integers(1546300801, 1546300800 + 2**32 - 1).map(float)),
)
static_messages = st.one_of(
    st.builds(BasicId, st.integers(0, 15), st.integers(0, 2), st.integers(0, 15), ascii_text),
    st.builds(SelfId, st.integers(0, 15), st.integers(0, 255), ascii_text),
    st.builds(OperatorId, st.integers(0, 15), st.integers(0, 255), ascii_text),
)


@settings(max_examples=200, deadline=None)
@given(systems)
def test_system_round_trip(m: System) -> None:
    d = decode_message(encode_message(m))
    assert isinstance(d, System)
    for name in ("operator_lat_deg", "operator_lon_deg"):
        assert _close(getattr(d, name), getattr(m, name), 0.5e-7 + 1e-12)
    for name in ("area_ceiling_m", "area_floor_m", "operator_altitude_m"):
        assert _close(getattr(d, name), getattr(m, name), 0.25 + 1e-9)
    same = (
        "version",
        "operator_location_type",
        "classification_type",
        "area_count",
        "area_radius_m",
        "eu_category",
        "eu_class",
    )
    assert [getattr(d, n) for n in same] == [getattr(m, n) for n in same]
    assert _close(d.timestamp, m.timestamp, 0.0)


@settings(max_examples=200, deadline=None)
@given(static_messages)
def test_text_messages_round_trip_exactly(m: BasicId | SelfId | OperatorId) -> None:
    assert decode_message(encode_message(m)) == m


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(locations, systems, static_messages), min_size=1, max_size=9))
def test_pack_round_trip(messages: list) -> None:
    rejects: Counter[str] = Counter()
    wire = encode_message_pack(messages)
    decoded = decode_payload(wire, rejects)
    limits_ok = all(
        sum(isinstance(x, k) for x in messages) <= 1 for k in (Location, System, SelfId, OperatorId)
    )
    if limits_ok and sum(isinstance(x, BasicId) for x in messages) <= 2:
        assert [encode_message(d) for d in decoded] == [encode_message(x) for x in messages]
    else:
        assert decoded == [] and sum(rejects.values()) == 1  # the whole pack is rejected


def test_pack_size_limits() -> None:
    with pytest.raises(ValueError):
        encode_message_pack([])


def _example_pack() -> tuple[list, bytes]:
    messages = [
        BasicId(2, 1, 2, "SIM0000000000000001"),
        Location(
            2, 2, 0, 45 * DEG, 12.25, 1.5, 47.0, 8.0, nan, 600.0, 120.0, 10, 4, 4, 3, 1234.5, 0.2
        ),
        System(2, 1, 1, 47.001, 8.001, 1, 0.0, nan, nan, 1, 2, 480.0, 1.7e9),
    ]
    return messages, encode_message_pack(messages)


def _pcap(frames: list[tuple[float, bytes]], linktype: int) -> bytes:
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, linktype=linktype)
    for t, frame in frames:
        writer.writepkt(frame, ts=t)
    return out.getvalue()


def test_wifi_beacon_wrapping_reads_back() -> None:
    messages, pack = _example_pack()
    frames = [
        (1.7e9 + k, encode_wifi_beacon(pack, "02:11:22:33:44:55", k, ssid="sim")) for k in range(3)
    ]
    rejects: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    got = decode_capture(_pcap(frames, 127), rejects, seen)
    assert not rejects and seen == Counter({Transport.WIFI_BEACON: 3})
    assert [r.counter for r in got] == [0] * 3 + [1] * 3 + [2] * 3
    assert {r.address for r in got} == {"02:11:22:33:44:55"}
    assert [encode_message(r.message) for r in got[:3]] == [encode_message(m) for m in messages]


def test_ble_legacy_advert_reads_back_and_crc_protects_it() -> None:
    messages, _ = _example_pack()
    frames = [
        (1.7e9 + k, encode_ble_legacy_advert(encode_message(m), "c0:ff:ee:00:00:01", k))
        for k, m in enumerate(messages)
    ]
    rejects: Counter[str] = Counter()
    got = decode_capture(_pcap(frames, LINKTYPE_BLUETOOTH_LE_LL), rejects)
    assert not rejects
    assert [r.transport for r in got] == [Transport.BLE_LEGACY] * 3
    assert {r.address for r in got} == {"c0:ff:ee:00:00:01"}
    assert [r.message for r in got][0] == messages[0]
    damaged = bytearray(frames[1][1])
    damaged[20] ^= 0x04
    decode_capture(_pcap([(0.0, bytes(damaged))], LINKTYPE_BLUETOOTH_LE_LL), rejects)
    assert rejects == Counter({"ble_crc_bad": 1})


HEX_TEXT_LINES = [
    "# Remote ID hex dump",
    "",
    "1700000000.5 " + _example_pack()[1].hex(),
    encode_message(_example_pack()[0][0]).hex(" "),
    "zz not hex",
    "f2190000",  # pack with count 0
    encode_message(_example_pack()[0][1]).hex().upper() + "  # trailing comment",
]


def test_hex_lines_decode_and_count_bad_lines() -> None:
    rejects: Counter[str] = Counter()
    got = decode_hex_text("\r\n".join(HEX_TEXT_LINES), rejects, default_t=5.0)
    assert [type(r.message).__name__ for r in got] == [
        "BasicId",
        "Location",
        "System",
        "BasicId",
        "Location",
    ]
    assert [r.t for r in got] == [1700000000.5] * 3 + [5.0, 5.0]
    assert rejects == Counter({"hex_bad_line": 1, "bad_pack_count": 1})


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 400), max_size=8), st.sampled_from(["\n", "\r\n", "\r"]))
def test_hex_lines_same_records_however_split(cuts: list[int], newline: str) -> None:
    text = newline.join(HEX_TEXT_LINES) + newline
    whole_rejects: Counter[str] = Counter()
    whole = decode_hex_text(text, whole_rejects)
    rejects: Counter[str] = Counter()
    reader = HexLineReader(rejects)
    got = []
    edges = [0, *sorted(c % (len(text) + 1) for c in cuts), len(text)]
    for a, b in zip(edges, edges[1:], strict=False):
        got += reader.feed(text[a:b])
    got += reader.close()
    key = [(r.t if not math.isnan(r.t) else None, encode_message(r.message)) for r in got]
    assert key == [(r.t if not math.isnan(r.t) else None, encode_message(r.message)) for r in whole]
    assert rejects == whole_rejects


def test_speed_just_above_63_75_encodes_canonically() -> None:
    """Found by hypothesis: 64 m/s rounds to 63.75 m/s, which has one canonical encoding
    (multiplier 0, raw 255); encode -> decode -> encode must give the same bytes."""
    from skywarden.sources.remote_id.encode import _speed_raw

    assert _speed_raw(64.0) == (255, 0)
    assert _speed_raw(63.75) == (255, 0)
    assert _speed_raw(64.2) == (1, 1)  # rounds to 64.5 m/s: the x0.75 range
