"""ASTERIX fields -> evidence bits: each source field sets the bit the table expects."""

from __future__ import annotations

import numpy as np

from skywarden import evidence as ev
from skywarden.sources.asterix.decoder import AsterixDecoder
from skywarden.sources.asterix.detections import cat021_evidence, cat048_evidence, cat062_evidence
from skywarden.sources.asterix.records import Cat021Records, Cat048Records, Cat062Records
from tests.conftest import recording


def test_cat048_reply_types_flight_status_and_flags():
    plots = Cat048Records.from_columns(
        {
            "typ": [1, 2, 5, 5, 7, 3],
            "address": [-1, -1, 0x3C660C, 0x3C660C, 0x4CA7A8, -1],
            "mode3a": [-1, 0o7000, 0o1234, -1, 0o2000, 0o1200],
            "mode3a_valid": [False, True, True, False, True, False],
            "flight_status": [-1, 7, 0, 1, 3, -1],
            "simulated": [False, False, False, False, False, True],
            "test_target": [False, False, False, False, True, False],
            "field_monitor": [False, True, False, False, False, False],
        }
    )
    bits = cat048_evidence(plots).tolist()
    assert bits[0] == ev.NONE  # a primary plot says nothing
    assert bits[1] == ev.SSR_REPLY | ev.MODE_3A | ev.TEST  # field monitor transponder
    assert bits[2] == ev.MODE_S_REPLY | ev.SSR_REPLY | ev.MODE_3A | ev.AIRBORNE
    assert bits[3] == ev.MODE_S_REPLY | ev.ON_GROUND
    assert bits[4] == ev.MODE_S_REPLY | ev.SSR_REPLY | ev.MODE_3A | ev.ON_GROUND | ev.TEST
    assert bits[5] == ev.SIMULATED  # a garbled code is no evidence


def test_cat048_mode_c_only_reply_is_an_ssr_reply():
    """A validated Mode C level without a Mode 3/A code on an SSR plot: a transponder replied
    ("Mode C only"); on a primary plot, or garbled, it says nothing."""
    plots = Cat048Records.from_columns(
        {
            "typ": [2, 1, 2, 2],
            "mode3a": [-1, -1, -1, -1],
            "mode3a_valid": [False, False, False, False],
            "mode_c_valid": [True, True, False, True],
            "pressure_altitude_m": [3048.0, 3048.0, 3048.0, np.nan],
        }
    )
    assert cat048_evidence(plots).tolist() == [ev.SSR_REPLY, ev.NONE, ev.NONE, ev.NONE]


def test_cat021_ground_bit_and_flags():
    reports = Cat021Records.from_columns(
        {
            "on_ground": [-1, 0, 1, 1],
            "simulated": [False, False, True, False],
            "test_target": [False, False, False, True],
            "mode3a": [-1, 0o1000, -1, -1],
        }
    )
    assert cat021_evidence(reports).tolist() == [
        ev.NONE,
        ev.AIRBORNE | ev.MODE_3A,
        ev.ON_GROUND | ev.SIMULATED,
        ev.ON_GROUND | ev.TEST,
    ]


def test_cat062_code_plan_surface_and_simulated():
    tracks = Cat062Records.from_columns(
        {
            "mode3a": [-1, 0o4321, 0o4321, -1, -1],
            "mode3a_valid": [False, True, False, False, False],
            "has_flight_plan": [False, False, False, True, False],
            "plan_correlated": [False, False, False, False, True],
            "surface": [False, False, True, False, False],
            "simulated": [False, False, False, False, True],
        }
    )
    assert cat062_evidence(tracks).tolist() == [
        ev.NONE,
        ev.MODE_3A,
        ev.ON_GROUND,
        ev.FLIGHT_PLAN,
        ev.FLIGHT_PLAN | ev.SIMULATED,
    ]


def test_cat062_secondary_detections_are_an_ssr_reply():
    tracks = Cat062Records.from_columns({"mode3a": [-1, -1], "secondary_recent": [True, False]})
    assert cat062_evidence(tracks).tolist() == [ev.SSR_REPLY, ev.NONE]


def test_national_feed_code_less_tracks_are_kept_up_by_ssr(shared_data):
    """fds260429's stationary FL250 tracks without a Mode 3/A code (e.g. track 1346, at the
    same position as others) have I062/080 SSR age within threshold and a measured flight
    level (I062/295 MFL): transponder replies, not unknown primary echoes."""
    from skywarden.sources.asterix.decoder import decode_capture

    path = recording(shared_data, "jmatiasbro-decoderasterix/fds260429.pcap")
    c = decode_capture(path.read_bytes())[0].cat062
    m = c.track_number == 1346
    assert m.sum() > 10 and not c.mode3a_valid[m].any()
    assert c.secondary_recent[m].all()
    assert ((cat062_evidence(c.take(m)) & ev.SSR_REPLY) != 0).all()
    assert 0.3 < c.secondary_recent.mean() < 1.0  # primary-only updates exist too


def test_barcelona_plots_report_mode_s_replies_and_ground_states(shared_data):
    data = recording(shared_data, "upc-pgta-lebl/230502-est-080001_BCN_60MN_08_09.ast")
    plots = AsterixDecoder().decode(data.read_bytes()[:400_000], 1683014400.0).cat048
    bits = cat048_evidence(plots)
    mode_s = (bits & ev.MODE_S_REPLY) != 0
    assert mode_s.mean() > 0.5 and (plots.address[mode_s] >= 0).all()
    assert ((bits & ev.ON_GROUND) != 0).sum() > 100  # the airport's taxiing aircraft
    assert ((bits & ev.AIRBORNE) != 0).sum() > 1000
    assert not ((bits & (ev.ON_GROUND | ev.AIRBORNE)) == (ev.ON_GROUND | ev.AIRBORNE)).any()
    assert np.isin(plots.flight_status[plots.flight_status >= 0], np.arange(8)).all()
