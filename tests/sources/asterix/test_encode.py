"""Encode -> decode round trips (within each item's LSB) and records -> Detections."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.detections import SourceKind, icao_identity
from skywarden.geo import LocalFrame
from skywarden.sources.asterix.decoder import AsterixDecoder
from skywarden.sources.asterix.detections import (
    RadarSite,
    cat021_to_detections,
    cat048_to_detections,
    cat062_to_detections,
    pressure_altitude_to_height_m,
    radar_site_from_cat034,
)
from skywarden.sources.asterix.encode import (
    encode_cat021,
    encode_cat034,
    encode_cat048,
    radar_service_messages,
)
from skywarden.sources.asterix.records import Cat021Records, Cat048Records
from skywarden.units import DEG, FL, FPM, FT, NM
from tests.conftest import recording

AZ_LSB = 360.0 / 65536.0 * DEG


@st.composite
def plot_columns(draw, n_max: int = 12):
    n = draw(st.integers(1, n_max))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return {
        "sac": np.full(n, draw(st.integers(0, 255))),
        "sic": np.full(n, draw(st.integers(0, 255))),
        "tod_s": rng.uniform(0, 86399, n),
        "typ": rng.integers(0, 8, n),
        "range_m": rng.uniform(0, 255 * NM, n),
        "azimuth_rad": rng.uniform(0, 2 * math.pi, n),
        "mode3a": rng.integers(0, 4096, n),
        "mode3a_valid": rng.random(n) < 0.8,
        "pressure_altitude_m": rng.uniform(-1000 * FT, 60000 * FT, n),
        "mode_c_valid": rng.random(n) < 0.8,
        "address": np.where(rng.random(n) < 0.7, rng.integers(0, 1 << 24, n), -1),
        "callsign": np.where(rng.random(n) < 0.5, "AB12CD", ""),
        "track_number": rng.integers(0, 4096, n),
        "ground_speed_mps": rng.uniform(0, 600, n),
        "heading_rad": rng.uniform(0, 2 * math.pi, n),
    }


@settings(deadline=None, max_examples=25)
@given(plot_columns(), st.integers(1, 5), st.booleans())
def test_cat048_round_trip(columns, per_block, fast) -> None:
    plots = Cat048Records.from_columns(columns)
    blocks = encode_cat048(plots, records_per_block=per_block)
    decoder = AsterixDecoder(fast=fast)
    out = decoder.decode(b"".join(blocks)).cat048
    assert len(out) == len(plots) and not decoder.rejects
    for name in (
        "sac",
        "sic",
        "typ",
        "mode3a",
        "mode3a_valid",
        "mode_c_valid",
        "address",
        "callsign",
        "track_number",
    ):
        np.testing.assert_array_equal(getattr(out, name), getattr(plots, name), err_msg=name)
    assert np.all(np.abs(out.tod_s - plots.tod_s) <= 1 / 256 + 1e-9)
    assert np.all(np.abs(out.range_m - plots.range_m) <= NM / 512 + 1e-6)
    d_az = np.angle(np.exp(1j * (out.azimuth_rad - plots.azimuth_rad)))
    assert np.all(np.abs(d_az) <= AZ_LSB / 2 + 1e-9)
    assert np.all(np.abs(out.pressure_altitude_m - plots.pressure_altitude_m) <= FL / 8 + 1e-6)
    assert np.all(np.abs(out.ground_speed_mps - plots.ground_speed_mps) <= NM * 2.0**-15 + 1e-9)


def test_cat034_round_trip_rotating_radar() -> None:
    az = np.arange(0, 2 * math.pi, math.pi / 4)  # north marker + 7 sector crossings
    msgs = radar_service_messages(
        7,
        9,
        100.0 + np.arange(az.size) * 0.5,
        az,
        rotation_period_s=4.0,
        radar_lat_deg=47.5,
        radar_lon_deg=8.5,
        radar_height_m=500.0,
    )
    decoder = AsterixDecoder()
    out = decoder.decode(b"".join(encode_cat034(msgs))).cat034
    assert out.message_type.tolist() == [1] + [2] * 7
    np.testing.assert_allclose(out.sector_azimuth_rad[1:], az[1:], atol=1.40625 * DEG / 2)
    assert out.rotation_period_s[0] == 4.0 and np.isnan(out.rotation_period_s[1])
    site = radar_site_from_cat034(out, 7, 9)
    assert site is not None
    assert site.lat_deg == pytest.approx(47.5, abs=180 / 2**24) and site.h_m == 500.0


def test_cat021_round_trip() -> None:
    reports = Cat021Records.from_columns(
        {
            "sac": [1, 1],
            "sic": [2, 2],
            "tod_s": [3600.25, 86399.5],
            "lat_deg": [47.123456, -33.5],
            "lon_deg": [8.5, -70.25],
            "geometric_height_m": [1234.0, np.nan],
            "pressure_altitude_m": [1200.0, 10000.0],
            "ground_speed_mps": [120.0, 230.0],
            "track_angle_rad": [1.0, 6.0],
            "vertical_rate_mps": [-5.0, 2.0],
            "address": [0xABCDEF, 0x123456],
            "callsign": ["SWR123", "LAN800"],
            "emitter_category": [3, 5],
            "nacp": [9, -1],
            "nic": [7, -1],
        }
    )
    decoder = AsterixDecoder()
    out = decoder.decode(b"".join(encode_cat021(reports, records_per_block=2))).cat021
    assert len(out) == 2 and not decoder.rejects
    assert out.callsign.tolist() == ["SWR123", "LAN800"] and out.address.tolist() == [
        0xABCDEF,
        0x123456,
    ]
    np.testing.assert_allclose(out.lat_deg, reports.lat_deg, atol=180 / 2**31)
    np.testing.assert_allclose(out.geometric_height_m[0], 1234.0, atol=6.25 * FT / 2)
    assert np.isnan(out.geometric_height_m[1])
    np.testing.assert_allclose(
        out.vertical_rate_mps, reports.vertical_rate_mps, atol=6.25 * FPM / 2
    )
    assert out.nacp.tolist() == [9, -1] and out.emitter_category.tolist() == [3, 5]


def test_pressure_altitude_standard_atmosphere() -> None:
    h = pressure_altitude_to_height_m(np.array([0.0, 10000.0]))
    assert h[0] == pytest.approx(0.0, abs=1e-6)
    assert h[1] == pytest.approx(10000.0 * 6356766.0 / (6356766.0 - 10000.0), abs=0.5)
    # a QNH above standard: the aircraft is higher than its pressure altitude (~8.3 m/hPa)
    assert pressure_altitude_to_height_m(np.array([0.0]), qnh_hpa=1023.25)[0] == pytest.approx(
        83.0, abs=3.0
    )


def test_cat048_detections_from_croatian_radar(shared_data) -> None:
    from skywarden.sources.asterix.decoder import decode_capture

    records, _ = decode_capture(
        recording(shared_data, "croatiacontrol-asterix/cat_034_048.pcap").read_bytes()
    )
    site = radar_site_from_cat034(records.cat034, 25, 12)
    assert site is not None
    plots = records.cat048.take((records.cat048.sac == 25) & (records.cat048.sic == 12))
    frame = LocalFrame(site.lat_deg, site.lon_deg, site.h_m)
    det = cat048_to_detections(plots, frame, site)
    assert 0 < len(det) <= len(plots)
    assert np.all(det.kind == SourceKind.RADAR)
    slant = np.linalg.norm(det.z, axis=1)
    keep = np.isfinite(plots.range_m)
    np.testing.assert_allclose(slant, plots.range_m[keep], rtol=2e-3)
    with_address = plots.address[keep] >= 0
    assert det.identity[with_address][0] == icao_identity(int(plots.address[keep][with_address][0]))
    assert np.all(np.linalg.eigvalsh(det.R) > 0)


def test_cat021_and_cat062_detections(shared_data) -> None:
    from skywarden.sources.asterix.decoder import decode_capture

    records, _ = decode_capture(
        recording(shared_data, "croatiacontrol-asterix/cat_062_065.pcap").read_bytes()
    )
    frame = LocalFrame(41.3, 17.0, 0.0)
    det = cat062_to_detections(records.cat062, frame)
    assert (
        len(det) == 2 and np.all(det.kind == SourceKind.SYSTEM_TRACK) and np.all(det.identity >= 0)
    )
    reports = Cat021Records.from_columns(
        {
            "sac": [1],
            "sic": [1],
            "tod_s": [10.0],
            "t": [1e9],
            "lat_deg": [41.3],
            "lon_deg": [17.01],
            "geometric_height_m": [1000.0],
            "nacp": [9],
            "address": [0xABCDEF],
        }
    )
    det21 = cat021_to_detections(reports, frame)
    assert det21.kind.tolist() == [SourceKind.ADSB] and det21.identity[0] == icao_identity(0xABCDEF)
    assert det21.z[0, 0] == pytest.approx(834.6, abs=5.0) and det21.z[0, 2] == pytest.approx(
        1000.0, abs=1.0
    )


def test_detections_skip_plots_without_time() -> None:
    plots = Cat048Records.from_columns(
        {"range_m": [1000.0], "azimuth_rad": [0.0], "sac": [1], "sic": [1]}
    )
    det = cat048_to_detections(plots, LocalFrame(0.0, 0.0), RadarSite(0.0, 0.0, 0.0))
    assert len(det) == 0
