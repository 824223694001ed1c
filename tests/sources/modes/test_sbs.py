"""SBS / BaseStation lines: dump1090's decodes of the beastblackbox recording, chunking, fuzzing."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skywarden.detections import SourceKind, icao_of
from skywarden.geo import LocalFrame
from skywarden.sources.modes.sbs import (
    SbsDecoder,
    SbsRecords,
    decode_sbs,
    encode_sbs_positions,
    encode_sbs_velocities,
    sbs_to_detections,
)
from tests.conftest import recording

SBS = "beastblackbox/beast_decoded_sbs.txt"


@pytest.fixture(scope="module")
def sbs_bytes(shared_data) -> bytes:
    return recording(shared_data, SBS).read_bytes()


def _chunked(data: bytes, cuts: list[int]) -> tuple[SbsRecords, Counter]:
    decoder = SbsDecoder()
    bounds = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    parts = [decoder.feed(data[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    parts.append(decoder.flush())
    return SbsRecords.concat(parts), decoder.rejects


def _same(a: SbsRecords, b: SbsRecords) -> bool:
    for name in SbsRecords.__slots__:
        x, y = getattr(a, name), getattr(b, name)
        if x.dtype == object:
            if x.tolist() != y.tolist():
                return False
        elif not np.array_equal(x, y, equal_nan=True):
            return False
    return True


def test_real_file_counts(sbs_bytes):
    records, rejects = decode_sbs(sbs_bytes)
    assert len(records) == 8_622
    assert set(records.message.tolist()) == {"MSG"}
    per_type = Counter(records.transmission.tolist())
    assert per_type[3] == 1_498
    positions = (records.transmission == 3) & ~np.isnan(records.lat_deg)
    assert np.count_nonzero(positions) == 1_456  # the file's airborne positions
    assert rejects == {"empty_line": 1, "not_sbs": 2}  # blank line + two free-text notes
    assert per_type[4] == 1_492 and per_type[1] == 146
    assert len(set(records.icao.tolist())) == 11
    assert np.all((records.lat_deg[positions] > 59.0) & (records.lat_deg[positions] < 61.0))
    assert records.t[0] == pytest.approx(1522782148.136)  # 2018/04/03 19:02:28.136 UTC
    callsigns = set(records.callsign[records.transmission == 1].tolist())
    assert "SDM6244" in callsigns


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(0, 60_000), max_size=10))
def test_real_file_chunking_invariant(sbs_bytes, cuts):
    data = sbs_bytes[:50_000] + sbs_bytes[-200:]
    whole, whole_rejects = decode_sbs(data)
    records, rejects = _chunked(data, cuts)
    assert _same(records, whole)
    assert rejects == whole_rejects


def test_malformed_lines_are_counted_by_reason():
    good = (
        b"MSG,3,1,1,4CA2D6,1,2024/01/02,10:00:00.500,2024/01/02,10:00:00.500,"
        b",3000,,,51.5,-0.1,,,0,0,0,0"
    )
    lines = [
        good,
        good.replace(b"4CA2D6", b"XYZ"),
        good.replace(b"51.5", b"5x.5"),
        good.replace(b"MSG,3", b"MSG,9"),
        good.replace(b"10:00:00.500,2024", b"10:0x:00.500,2024"),
        good[:40],
        b"HELLO,1,2",
        b"",
        b"\xff\xfe",
        b"STA,,1,1,4CA2D6,1,2024/01/02,10:00:01.000,2024/01/02,10:00:01.000,RM",
    ]
    records, rejects = decode_sbs(b"\r\n".join(lines) + b"\r\n")
    assert rejects == {
        "bad_hexident": 1,
        "bad_number": 1,
        "bad_transmission_type": 1,
        "bad_time": 1,
        "too_few_fields": 1,
        "not_sbs": 1,
        "empty_line": 1,
        "not_ascii": 1,
    }
    assert records.message.tolist() == ["MSG", "STA"]
    assert records.icao.tolist() == [0x4CA2D6, 0x4CA2D6]
    assert records.t[0] == pytest.approx(1704189600.5)


def test_encode_decode_round_trip():
    t = np.array([1704189600.25, 1704189601.5])
    icao = np.array([0x4CA2D6, 0xABCDEF])
    lat, lon, alt = np.array([51.5, -33.9]), np.array([-0.1, 151.2]), np.array([3000.0, np.nan])
    data = encode_sbs_positions(t, icao, lat, lon, alt)
    data += encode_sbs_velocities(
        t, icao, np.array([250.0, 99.0]), np.array([90.0, 271.0]), [-640.0, np.nan]
    )
    records, rejects = decode_sbs(data)
    assert sum(rejects.values()) == 0
    assert records.transmission.tolist() == [3, 3, 4, 4]
    assert records.t.tolist() == pytest.approx(np.r_[t, t].tolist(), abs=1e-3)
    assert records.lat_deg[:2].tolist() == pytest.approx(lat.tolist(), abs=1e-5)
    assert np.isnan(records.altitude_ft[1]) and records.altitude_ft[0] == 3000.0
    assert records.groundspeed_kt[2:].tolist() == [250.0, 99.0]
    assert records.vrate_fpm[2] == -640.0 and np.isnan(records.vrate_fpm[3])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [b"MSG,", b"3,", b",", b"\n", b"\r\n", b"4CA2D6", b"2024/01/02", b"1.5"]
            ),
            st.binary(max_size=8),
        ),
        max_size=60,
    ).map(b"".join),
    st.lists(st.integers(0, 500), max_size=5),
)
def test_random_text_never_raises_and_chunking_does_not_matter(data, cuts):
    whole, whole_rejects = decode_sbs(data)
    records, rejects = _chunked(data, cuts)
    assert _same(records, whole)
    assert rejects == whole_rejects


def test_detections_from_the_real_file(sbs_bytes):
    records, _ = decode_sbs(sbs_bytes)
    frame = LocalFrame(60.0, 33.0, 0.0)
    det = sbs_to_detections(records, frame, sensor=3)
    assert len(det) == 1_456
    assert np.all(det.kind == SourceKind.ADSB) and np.all(det.sensor == 3)
    assert {icao_of(int(k)) for k in det.identity} <= set(records.icao.tolist())
    assert np.all(np.linalg.eigvalsh(det.R) > 0)
    assert np.all(np.abs(det.z[:, :2]) < 400_000.0)  # within the receiver's reach
    moving = ~np.isnan(det.v[:, 0])
    assert np.count_nonzero(moving) > 0.8 * len(det)
    speed = np.hypot(det.v[moving, 0], det.v[moving, 1])
    assert np.all((speed > 30.0) & (speed < 320.0))


def test_ground_state_from_the_on_ground_field_else_the_message_type():
    from skywarden import evidence as ev

    head = b"1,1,4CA2D6,1,2024/01/02,10:00:0{s}.000,2024/01/02,10:00:0{s}.000,"
    rows = [  # (message, on-ground field)
        (b"3", b"0"),  # airborne position, airborne
        (b"3", b"1"),  # the field says on the ground
        (b"2", b""),  # a surface position without the field
        (b"3", b""),  # an airborne position without the field
    ]
    text = b"".join(
        b"MSG," + msg + b"," + head.replace(b"{s}", str(k).encode())
        + b",20,,,51.5,-0.1,,,0,0,0," + ground + b"\r\n"
        for k, (msg, ground) in enumerate(rows)
    )  # fmt: skip
    records, _ = decode_sbs(text)
    dets = sbs_to_detections(records, LocalFrame(51.5, -0.1, 0.0))
    assert dets.evidence.tolist() == [ev.AIRBORNE, ev.ON_GROUND, ev.ON_GROUND, ev.AIRBORNE]
