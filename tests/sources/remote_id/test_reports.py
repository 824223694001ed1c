"""Remote ID grouping (per-UA position reports) and conversion to Detections."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from skywarden.detections import SourceKind, remote_id_identity
from skywarden.geo import LocalFrame, remote_id_horizontal_accuracy_to_sigma_m
from skywarden.sources.remote_id.messages import BasicId, Location, System
from skywarden.sources.remote_id.reports import (
    TAKEOFF_HEIGHT_SIGMA_M,
    RemoteIdAssembler,
    assemble_reports,
    remote_id_to_detections,
)
from skywarden.sources.remote_id.transports import ReceivedMessage, Transport, decode_capture
from skywarden.units import DEG
from tests.conftest import recording

nan = math.nan
HOUR = 1680364800.0


def _loc(ts: float = 929.1, lat: float = 47.0, **over: float) -> Location:
    values = dict(
        version=2,
        status=2,
        height_type=0,
        direction_rad=90 * DEG,
        speed_m_s=10.0,
        vertical_speed_m_s=nan,
        lat_deg=lat,
        lon_deg=8.0,
        pressure_altitude_m=nan,
        geodetic_altitude_m=nan,
        height_m=30.0,
        horizontal_accuracy=10,
        vertical_accuracy=4,
        baro_accuracy=0,
        speed_accuracy=3,
        timestamp_s=ts,
        timestamp_accuracy_s=0.2,
    )
    values.update(over)
    return Location(**values)


BASIC = BasicId(2, 1, 2, "SERIAL1")
SYSTEM = System(2, 1, 1, 47.0001, 8.0001, 1, 0.0, nan, nan, 1, 2, nan, nan)


def _rx(
    t: float,
    message,
    address: str = "aa:bb:cc:dd:ee:ff",
    counter: int = 0,
    transport: Transport = Transport.BLE_LEGACY,
) -> ReceivedMessage:
    return ReceivedMessage(t, transport, address, counter, message)


def test_location_before_basic_id_waits_and_is_then_reported() -> None:
    a = RemoteIdAssembler()
    assert a.add(_rx(HOUR + 929.5, _loc())) == []
    assert a.add(_rx(HOUR + 929.6, SYSTEM, counter=1)) == []
    reports = a.add(_rx(HOUR + 929.7, BASIC, counter=2))
    assert len(reports) == 1
    r = reports[0]
    assert (r.uas_id, r.id_type, r.ua_type, r.eu_class, r.eu_category) == ("SERIAL1", 1, 2, 2, 1)
    assert r.t == pytest.approx(HOUR + 929.1) and r.t_receive == HOUR + 929.5
    assert r.identity == remote_id_identity("SERIAL1", 1)
    assert a.add(_rx(HOUR + 930.5, _loc(ts=930.1))) != []  # now known: reported at once


def test_duplicates_across_transports_are_reported_once() -> None:
    a = RemoteIdAssembler()
    a.add(_rx(HOUR, BASIC))
    assert len(a.add(_rx(HOUR + 929.5, _loc(), transport=Transport.WIFI_NAN))) == 1
    assert a.add(_rx(HOUR + 929.51, _loc(), transport=Transport.WIFI_BEACON)) == []
    assert a.counts["location_duplicate"] == 1
    # without a timestamp equal content may be a new measurement (hovering): keep it
    assert len(a.add(_rx(HOUR + 931, _loc(ts=nan)))) == 1
    assert len(a.add(_rx(HOUR + 932, _loc(ts=nan)))) == 1


def test_pack_order_and_id_preference_and_unknown_position() -> None:
    a = RemoteIdAssembler()
    frame = [
        _rx(HOUR + 1, m, transport=Transport.WIFI_BEACON)
        for m in (BasicId(2, 0, 0, "NOTYPE"), _loc(ts=1.0), BasicId(2, 1, 2, "SERIAL1"), SYSTEM)
    ]
    reports = a.add_all(frame)
    assert len(reports) == 1
    assert reports[0].uas_id == "SERIAL1" and reports[0].eu_class == 2  # System packed later
    assert a.add(_rx(HOUR + 2, _loc(ts=2.0, lat=nan, lon_deg=nan))) == []
    assert a.counts["location_position_unknown"] == 1


def test_far_timestamp_falls_back_to_receive_time_and_hour_wraps() -> None:
    a = RemoteIdAssembler()
    a.add(_rx(0.0, BASIC))
    (wrapped,) = a.add(_rx(HOUR + 0.3, _loc(ts=3599.9)))
    assert wrapped.t == pytest.approx(HOUR - 0.1)
    (far,) = a.add(_rx(HOUR + 1000.0, _loc(ts=0.0)))
    assert far.t == HOUR + 1000.0 and a.counts["location_timestamp_far"] == 1


def test_pending_is_bounded_and_forgotten_locations_counted() -> None:
    a = RemoteIdAssembler(max_pending=4)
    for k in range(6):
        a.add(_rx(HOUR + k, _loc(ts=float(k))))
    assert a.counts["location_without_basic_id"] == 2
    a.forget_before(HOUR + 100)
    assert a.counts["location_without_basic_id"] == 6
    assert a.static_info("aa:bb:cc:dd:ee:ff") == (None, None, None, None)


def test_detections_height_sigma_and_velocity() -> None:
    a = RemoteIdAssembler()
    a.add(_rx(HOUR, BASIC))
    with_geodetic = a.add(
        _rx(HOUR + 10.5, _loc(ts=10.0, geodetic_altitude_m=650.0, vertical_speed_m_s=-2.0))
    )
    height_only = a.add(_rx(HOUR + 11.5, _loc(ts=11.0, horizontal_accuracy=0)))
    frame = LocalFrame(47.0, 8.0, 500.0)
    d = remote_id_to_detections(with_geodetic + height_only, frame, sensor=3)
    assert len(d) == 2 and set(d.kind) == {SourceKind.REMOTE_ID} and set(d.sensor) == {3}
    assert np.all(d.identity == remote_id_identity("SERIAL1", 1))
    assert d.t == pytest.approx([HOUR + 10.0, HOUR + 11.0])
    assert d.z[0] == pytest.approx([0.0, 0.0, 150.0], abs=1e-3)
    assert d.z[1] == pytest.approx([0.0, 0.0, 30.0], abs=1e-3)  # height + site h0
    sigma = np.sqrt(np.diagonal(d.R, axis1=1, axis2=2))
    s10 = remote_id_horizontal_accuracy_to_sigma_m(10)[0]
    assert sigma[0] == pytest.approx([s10, s10, 10.0 / 1.96], rel=1e-3)
    assert sigma[1, 2] == pytest.approx(math.hypot(TAKEOFF_HEIGHT_SIGMA_M, 10.0 / 1.96), rel=1e-3)
    assert sigma[1, 0] > 1000.0  # horizontal accuracy unknown: geo's "no information" sigma
    assert d.v[0] == pytest.approx([10.0, 0.0, -2.0], abs=1e-6)  # 90 deg = due east
    assert np.isnan(d.v[1, 2]) and d.v[1, 0] == pytest.approx(10.0)
    override = remote_id_to_detections(height_only, frame, unknown_horizontal_sigma_m=20.0)
    assert np.sqrt(override.R[0, 0, 0]) == pytest.approx(20.0, rel=1e-6)
    assert len(remote_id_to_detections([], frame)) == 0


def _reports(shared_data: Path, name: str) -> tuple[list, Counter[str]]:
    rejects: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    messages = decode_capture(recording(shared_data, name).read_bytes(), rejects)
    return assemble_reports(messages, counts), counts


def test_parrot_reports_and_detections(shared_data: Path) -> None:
    reports, counts = _reports(shared_data, "cdc-remoteidreceiver/parrot_anafi4_real.pcapng")
    assert len(reports) == 124 and counts == Counter({"location_duplicate": 1016})
    assert {(r.id_type, r.uas_id, r.ua_type) for r in reports} == {(1, "1588E040445AC004418", 2)}
    assert {r.eu_class for r in reports[3:]} == {2}  # C1 once the first System is heard
    assert all(-2.0 < r.t - r.t_receive < 0.0 for r in reports)  # drone clock ~1 s behind
    assert all(np.diff([r.t for r in reports]) > 0)
    frame = LocalFrame(47.1987, 8.7302, 480.0)
    d = remote_id_to_detections(reports, frame, unknown_horizontal_sigma_m=10.0)
    assert np.all(np.abs(d.z[:, :2]) < 30.0)
    assert d.z[:, 2].min() == pytest.approx(0.0, abs=0.01)
    assert d.z[:, 2].max() == pytest.approx(11.0, abs=0.01)
    assert np.nanmax(np.linalg.norm(d.v[:, :2], axis=1)) <= 2.0 + 1e-9


def test_wifi_beacon_sample_reports(shared_data: Path) -> None:
    reports, counts = _reports(shared_data, "opendroneid-wireshark/odid_wifi_bcn_sample.pcap")
    assert len(reports) == 16 and counts["location_duplicate"] == 5
    assert counts["location_timestamp_far"] == 16  # the simulator stamps every Location 0
    assert {r.uas_id for r in reports} == {"MFG1A0123456789"}
    assert {r.operator_id for r in reports} == {"GBR-OP-123ABCD"}
    d = remote_id_to_detections(reports, LocalFrame(45.546, -122.967, 0.0))
    assert d.z[:, 2] == pytest.approx(237.0, abs=0.1)  # geodetic altitude; height is 100 m
    assert np.linalg.norm(d.v[:, :2], axis=1) == pytest.approx(20.5, abs=1e-6)
    # independent check of direction: the orbit's chord directions vs reported velocity
    step = np.diff(d.z[:, :2], axis=0)
    mean_v = 0.5 * (d.v[1:, :2] + d.v[:-1, :2])
    cos = (
        np.sum(step * mean_v, axis=1)
        / np.linalg.norm(step, axis=1)
        / np.linalg.norm(mean_v, axis=1)
    )
    assert np.median(cos) > 0.9


def test_captures_without_position_or_id_give_no_reports(shared_data: Path) -> None:
    reports, counts = _reports(shared_data, "opendroneid-wireshark/odid_bt5_lr_sample.pcapng")
    assert reports == [] and counts == Counter({"location_position_unknown": 222})
    reports, counts = _reports(shared_data, "opendroneid-wireshark/odid_wifi_sample.pcap")
    assert reports == [] and counts == Counter({"location_without_basic_id": 31})
