"""F3411 message decoder: hand-built bytes from the spec tables, pack rules, hour resolution."""

from __future__ import annotations

import math
import struct
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.errors import DecodeError
from skywarden.sources.remote_id.messages import (
    AuthPage,
    BasicId,
    Location,
    MessagePack,
    OperatorId,
    SelfId,
    System,
    decode_message,
    decode_payload,
    eu_class_name,
    resolve_hour_timestamp,
)
from skywarden.units import DEG


def _location_bytes(**over: int) -> bytes:
    """A Location built field by field from the spec table (independent of the encoder)."""
    f = dict(
        flags=0x20 | 0x02 | 0x01,
        direction=10,
        speed=20,
        vspeed=-6,
        lat=471987103,
        lon=87302371,
        pressure=0,
        geodetic=2474,
        height=2022,
        acc_hv=0x3A,
        acc_bs=0x42,
        ts=9291,
        ts_acc=3,
    )
    f.update(over)
    return struct.pack(
        "<BBBBbiiHHHBBHBB",
        0x12,
        f["flags"],
        f["direction"],
        f["speed"],
        f["vspeed"],
        f["lat"],
        f["lon"],
        f["pressure"],
        f["geodetic"],
        f["height"],
        f["acc_hv"],
        f["acc_bs"],
        f["ts"],
        f["ts_acc"],
        0,
    )


def test_location_fields_follow_the_spec_table() -> None:
    m = decode_message(_location_bytes())
    assert isinstance(m, Location)
    assert m.version == 2 and m.status == 2 and m.height_type == 0
    assert m.direction_rad == pytest.approx(190 * DEG)  # raw 10 + 180 (E/W bit)
    assert m.speed_m_s == pytest.approx(20 * 0.75 + 63.75)  # multiplier bit set
    assert m.vertical_speed_m_s == -3.0
    assert m.lat_deg == pytest.approx(47.1987103) and m.lon_deg == pytest.approx(8.7302371)
    assert math.isnan(m.pressure_altitude_m)  # raw 0 = -1000 m = unknown
    assert m.geodetic_altitude_m == 237.0 and m.height_m == 11.0
    assert (m.horizontal_accuracy, m.vertical_accuracy) == (10, 3)
    assert (m.baro_accuracy, m.speed_accuracy) == (4, 2)
    assert m.timestamp_s == pytest.approx(929.1) and m.timestamp_accuracy_s == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("field", "raw", "attr"),
    [
        ("direction", 181, "direction_rad"),  # 181 + 180 = 361: unknown
        ("speed", 255, "speed_m_s"),  # 255 with multiplier 1: unknown
        ("vspeed", 126, "vertical_speed_m_s"),  # 63 m/s: unknown
        ("geodetic", 0, "geodetic_altitude_m"),
        ("ts", 0xFFFF, "timestamp_s"),
        ("ts", 36001, "timestamp_s"),  # beyond the hour: invalid
        ("ts_acc", 0, "timestamp_accuracy_s"),
    ],
)
def test_unknown_encodings_become_nan(field: str, raw: int, attr: str) -> None:
    m = decode_message(_location_bytes(**{field: raw}))
    assert math.isnan(getattr(m, attr))


def test_unknown_or_impossible_lat_lon_become_nan() -> None:
    for lat, lon in [(0, 0), (900000001, 10), (10, -1800000001)]:
        m = decode_message(_location_bytes(lat=lat, lon=lon))
        assert math.isnan(m.lat_deg) and math.isnan(m.lon_deg)
    m = decode_message(_location_bytes(lat=0, lon=5))  # on the equator: a real position
    assert m.lat_deg == 0.0 and m.lon_deg == pytest.approx(5e-7)


def test_speed_without_multiplier_and_direction_without_east_west() -> None:
    m = decode_message(_location_bytes(flags=0x10, direction=90, speed=255))
    assert m.status == 1 and m.speed_m_s == 63.75 and m.direction_rad == pytest.approx(90 * DEG)


def test_basic_id_self_id_operator_id_system_auth() -> None:
    basic = bytes([0x02, 0x12]) + b"1588E040445AC004418\0" + b"\0\0\0"
    assert decode_message(basic) == BasicId(2, 1, 2, "1588E040445AC004418")
    full = bytes([0x00, 0x12]) + b"ABCDEFGHIJKLMNOPQRST" + b"\0\0\0"  # 20 chars, no NUL
    assert decode_message(full).uas_id == "ABCDEFGHIJKLMNOPQRST"
    uuid = bytes([0x00, 0x32]) + bytes(range(20)) + b"\0\0\0"  # UTM UUID: binary -> hex
    assert decode_message(uuid).uas_id == bytes(range(20)).hex()
    assert decode_message(b"\x32\x00Drone ID demo" + b"\0" * 10) == SelfId(2, 0, "Drone ID demo")
    operator = b"\x52\x00FIN87astrdge12kxyz8\0\0\0\0"
    assert decode_message(operator) == OperatorId(2, 0, "FIN87astrdge12kxyz8")
    system = struct.pack(
        "<BBiiHBHHBHIB", 0x42, 0x05, 471986560, 87302205, 1, 50, 2600, 0, 0x12, 2100, 135_000_000, 0
    )
    s = decode_message(system)
    assert isinstance(s, System)
    assert (s.operator_location_type, s.classification_type) == (1, 1)
    assert s.operator_lat_deg == pytest.approx(47.198656)
    assert (s.area_count, s.area_radius_m, s.area_ceiling_m) == (1, 500.0, 300.0)
    assert math.isnan(s.area_floor_m) and s.operator_altitude_m == 50.0
    assert (s.eu_category, s.eu_class, eu_class_name(s.eu_class)) == (1, 2, "C1")
    assert s.timestamp == 1546300800 + 135_000_000
    page0 = bytes([0x22, 0x10, 2, 40]) + struct.pack("<I", 7) + bytes(range(17))
    assert decode_message(page0) == AuthPage(2, 1, 0, 2, 40, 1546300807.0, bytes(range(17)))
    page1 = bytes([0x22, 0x11]) + bytes(range(23))
    assert decode_message(page1) == AuthPage(2, 1, 1, None, None, None, bytes(range(23)))


def _pack(*messages: bytes, size: int = 25, count: int | None = None) -> bytes:
    return bytes([0xF2, size, len(messages) if count is None else count]) + b"".join(messages)


def test_message_pack_and_its_rejections() -> None:
    basic = bytes([0x02, 0x12]) + b"X" * 20 + b"\0\0\0"
    loc = _location_bytes()
    pack = decode_message(_pack(basic, loc) + b"\0" * 50)  # padding after the pack is fine
    assert isinstance(pack, MessagePack) and len(pack.messages) == 2
    cases = {
        "bad_pack_message_size": _pack(basic, size=24),
        "bad_pack_count": _pack(basic, count=0),
        "pack_truncated": _pack(basic, loc)[:-1],
        "pack_nested": _pack(basic, _pack(basic)[:25]),
        "pack_too_many_location": _pack(loc, loc),
        "pack_too_many_basic_id": _pack(basic, basic, basic),
        "bad_message_type": _pack(basic, b"\x62" + b"\0" * 24),
    }
    for reason, data in cases.items():
        with pytest.raises(DecodeError) as err:
            decode_message(data)
        assert err.value.reason == reason
        rejects: Counter[str] = Counter()
        assert decode_payload(data, rejects) == [] and rejects == Counter({reason: 1})
    assert len(decode_message(_pack(basic, basic)).messages) == 2  # two Basic IDs allowed
    with pytest.raises(DecodeError, match="bad_pack_count"):
        decode_message(_pack(*[basic] * 10, count=10))


def test_single_message_length_and_type() -> None:
    for data, reason in [
        (b"", "bad_length"),
        (b"\x12" * 24, "bad_length"),
        (b"\x72" + b"\0" * 24, "bad_message_type"),
    ]:
        with pytest.raises(DecodeError) as err:
            decode_message(data)
        assert err.value.reason == reason
    rejects: Counter[str] = Counter()
    assert len(decode_payload(_location_bytes() + b"\0\0\0", rejects)) == 1  # padded advert
    assert not rejects


def test_hour_resolution_handles_the_wrap() -> None:
    hour = 1680364800.0  # 2023-04-01 16:00:00 UTC
    assert resolve_hour_timestamp(929.1, hour + 930.4) == pytest.approx(hour + 929.1)
    assert resolve_hour_timestamp(3599.9, hour + 0.2) == pytest.approx(hour - 0.1)  # last hour
    assert resolve_hour_timestamp(0.1, hour + 3599.8) == pytest.approx(hour + 3600.1)  # next
    assert math.isnan(resolve_hour_timestamp(math.nan, hour))


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 3600), st.floats(1.5e9, 2e9), st.floats(-1700, 1700))
def test_hour_resolution_recovers_any_time_within_half_an_hour(
    s: float, t: float, lag: float
) -> None:
    true_t = math.floor(t / 3600) * 3600 + s
    seconds = true_t % 3600.0
    assert resolve_hour_timestamp(seconds, true_t + lag) == pytest.approx(true_t, abs=1e-5)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=260))
def test_random_bytes_never_raise_out_of_decode_payload(data: bytes) -> None:
    rejects: Counter[str] = Counter()
    messages = decode_payload(data, rejects)
    assert messages or sum(rejects.values()) == 1


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 0xFF), st.binary(min_size=24, max_size=24))
def test_any_25_byte_message_of_a_valid_type_decodes(head: int, body: bytes) -> None:
    data = bytes([head]) + body
    if head >> 4 in (0, 1, 2, 3, 4, 5):
        decode_message(data)
    else:
        with pytest.raises(DecodeError):
            decode_message(data)
