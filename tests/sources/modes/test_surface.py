"""ADS-B surface positions (TC 5-8) -> on-ground detections, decoded near the site."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skywarden import evidence as ev
from skywarden.detections import SourceKind, icao_identity
from skywarden.geo import LocalFrame
from skywarden.sources.feeds import BeastFeed
from skywarden.sources.modes import encode
from skywarden.sources.modes.beast import encode_beast
from skywarden.sources.modes.messages import decode_messages
from skywarden.sources.modes.surface import surface_detections

RIDDLE = "8C4841753A9A153237AEF0F275BE"  # "The 1090 MHz Riddle", surface position, odd, TC 7
# pyModeS 3.6.1 (GPL; a test-time oracle only): decode(RIDDLE, surface_ref=(51.990, 4.375))
RIDDLE_LAT, RIDDLE_LON = 52.32056051997815, 4.735735212053572


def _detections(payloads: list[bytes], frame: LocalFrame, rejects: Counter | None = None):
    msgs = decode_messages(payloads, np.zeros(len(payloads)), Counter())
    return msgs, surface_detections(msgs, frame, rejects=rejects)


def test_the_riddle_example_decodes_as_pymodes_does() -> None:
    frame = LocalFrame(51.990, 4.375, 0.0)
    msgs, dets = _detections([bytes.fromhex(RIDDLE)], frame)
    assert msgs.is_surface_position().tolist() == [True]
    assert not msgs.is_airborne_position().any()
    lat, lon, h = frame.enu_to_geodetic(dets.z)
    assert lat[0] == pytest.approx(RIDDLE_LAT, abs=1e-6)
    assert lon[0] == pytest.approx(RIDDLE_LON, abs=1e-6)
    assert h[0] == pytest.approx(0.0, abs=1.0)  # the site's ground
    assert dets.evidence.tolist() == [ev.ON_GROUND]
    assert dets.kind.tolist() == [SourceKind.ADSB]
    assert dets.identity.tolist() == [icao_identity(0x484175)]
    speed = np.hypot(dets.v[0, 0], dets.v[0, 1])
    assert speed == pytest.approx(17 * 0.514444, rel=1e-3)  # movement 41: 17 kt
    assert np.degrees(np.arctan2(dets.v[0, 0], dets.v[0, 1])) == pytest.approx(92.8, abs=0.5)


def test_pymodes_agrees_when_installed() -> None:
    pms = pytest.importorskip("pyModeS")
    out = pms.decode(RIDDLE, surface_ref=(51.990, 4.375))
    assert out["latitude"] == pytest.approx(RIDDLE_LAT, abs=1e-9)
    assert out["longitude"] == pytest.approx(RIDDLE_LON, abs=1e-9)


@given(
    north_m=st.floats(-30_000, 30_000),
    east_m=st.floats(-30_000, 30_000),
    lat0=st.floats(-70, 70),
    lon0=st.floats(-179, 179),
    odd=st.booleans(),
    speed_kt=st.floats(15, 69),
)
def test_surface_positions_round_trip_near_the_site(north_m, east_m, lat0, lon0, odd, speed_kt):
    frame = LocalFrame(lat0, lon0, 12.0)
    lat, lon, _ = frame.enu_to_geodetic(np.array([[east_m, north_m, 0.0]]))
    msg = encode.surface_position(np.array([0xABCDEF]), lat, lon, [speed_kt], [45.0], [odd])
    _, dets = _detections(encode.as_payloads(msg), frame)
    assert len(dets) == 1
    assert np.hypot(dets.z[0, 0] - east_m, dets.z[0, 1] - north_m) < 5.0  # CPR: ~1.3 m steps
    assert abs(np.hypot(dets.v[0, 0], dets.v[0, 1]) / 0.514444 - speed_kt) <= 1.0


def test_a_surface_position_beyond_reception_range_is_counted_not_used() -> None:
    frame = LocalFrame(51.990, 4.375, 0.0)
    lat, lon, _ = frame.enu_to_geodetic(np.array([[0.0, 60_000.0, 0.0]]))
    msg = encode.surface_position(np.array([0x123456]), lat, lon, [20.0], [0.0], [False])
    rejects: Counter = Counter()
    _, dets = _detections(encode.as_payloads(msg), frame, rejects)
    assert len(dets) == 0 and rejects["surface_beyond_reception"] == 1


def test_movement_codes_follow_the_bands() -> None:
    codes = encode.encode_movement(np.array([0.0, 0.125, 1.0, 2.0, 15.0, 17.0, 70.0, 100.0, 200.0]))
    assert codes.tolist() == [1, 2, 9, 13, 39, 41, 94, 109, 124]


def test_the_beast_feed_reports_taxiing_aircraft_on_the_ground() -> None:
    frame = LocalFrame(41.297, 2.083, 4.0)  # an airport site
    lat, lon, _ = frame.enu_to_geodetic(np.array([[800.0, -300.0, 0.0], [820.0, -290.0, 0.0]]))
    msg = encode.surface_position(
        np.array([0x3C660C, 0x3C660C]), lat, lon, [12.0, 12.0], [60.0, 60.0], [False, True]
    )
    feed = BeastFeed(frame, sensor=2)
    payloads = encode.as_payloads(msg)
    dets = feed.feed(100.0, encode_beast(payloads, np.zeros(2, np.int64), np.zeros(2, np.uint8)))
    assert len(dets) == 2
    assert (dets.evidence == ev.ON_GROUND).all() and (dets.sensor == 2).all()
    assert np.allclose(dets.z[:, 2], 0.0, atol=1.0)
