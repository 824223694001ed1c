"""Received SAPIENT DetectionReports -> detections with their stated accuracy; every message
that makes no detection is counted by reason."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from skywarden.detections import SourceKind
from skywarden.geo import LocalFrame
from skywarden.sources.sapient.bindings import sapient
from skywarden.sources.sapient.feed import SapientFeed
from skywarden.sources.sapient.framing import frame
from skywarden.sources.sapient.reports import SensorPlace, object_identity

SITE = (51.5, -0.1, 45.0)
T0 = 1_700_000_000.0
NODE = "5b0f7c1e-0000-4000-8000-000000000001"
PLACE = SensorPlace(51.5, -0.1, 50.0)


def report(t=T0, *, lat=51.501, lon=-0.099, h=150.0, x_err=None, y_err=None, z_err=None,
           obj="01HF00000000000000000000AA", velocity=(3.0, 4.0, None)):  # fmt: skip
    msg = sapient().SapientMessage(node_id=NODE)
    msg.timestamp.seconds, msg.timestamp.nanos = int(t), int((t % 1) * 1e9)
    rep = msg.detection_report
    rep.report_id, rep.object_id = "01HF00000000000000000000ZZ", obj
    loc = rep.location
    loc.x, loc.y, loc.coordinate_system, loc.datum = lon, lat, 1, 1
    if h is not None:
        loc.z = h
    for name, v in (("x_error", x_err), ("y_error", y_err), ("z_error", z_err)):
        if v is not None:
            setattr(loc, name, v)
    if velocity is not None:
        rep.enu_velocity.east_rate, rep.enu_velocity.north_rate = velocity[:2]
        if velocity[2] is not None:
            rep.enu_velocity.up_rate = velocity[2]
    return msg


def polar(rng=None, az=90.0, datum=1):
    msg = sapient().SapientMessage(node_id=NODE)
    msg.timestamp.seconds = int(T0)
    rep = msg.detection_report
    rep.report_id, rep.object_id = "01HF00000000000000000000ZY", "01HF00000000000000000000BB"
    rb = rep.range_bearing
    rb.azimuth, rb.coordinate_system, rb.datum = az, 1, datum
    rb.azimuth_error = 2.0
    if rng is not None:
        rb.range, rb.range_error = rng, 15.0
    return msg


def feed_of(*msgs, junk=b""):
    f = SapientFeed(LocalFrame(*SITE), 3, PLACE)
    dets = f.feed(T0 + 0.1, b"".join(frame(m.SerializeToString()) for m in msgs) + junk)
    return f, dets


def test_location_report_keeps_its_stated_accuracy_and_velocity():
    sigma_deg = 20.0 / 6_371_008.8 * 180 / math.pi  # 20 m north
    _, d = feed_of(report(y_err=sigma_deg, x_err=sigma_deg / math.cos(math.radians(51.501)),
                          z_err=7.0))  # fmt: skip
    assert len(d) == 1 and d.kind[0] == SourceKind.RADAR and d.sensor[0] == 3
    frame_ = LocalFrame(*SITE)
    np.testing.assert_allclose(d.z[0], frame_.geodetic_to_enu(51.501, -0.099, 150.0)[0], atol=1e-6)
    sig = np.sqrt(np.diag(d.R[0]))
    np.testing.assert_allclose(sig, [20.0, 20.0, 7.0], rtol=2e-3)
    np.testing.assert_allclose(d.v[0, :2], [3.0, 4.0], atol=0.01)
    assert math.isnan(d.v[0, 2])  # no up rate stated: unknown, not zero
    assert d.t[0] == T0
    assert d.identity[0] == object_identity(3, NODE, "01HF00000000000000000000AA")


def test_report_without_errors_or_height_gets_the_documented_defaults():
    _, d = feed_of(report(h=None))
    sig = np.sqrt(np.diag(d.R[0]))
    np.testing.assert_allclose(sig[:2], [50.0, 50.0], rtol=1e-3)
    assert sig[2] > 500.0  # a 2-D sensor: height barely known


def test_range_bearing_with_range_is_a_polar_plot_and_bearing_only_is_counted():
    f, d = feed_of(polar(rng=1000.0), polar(rng=None), polar(rng=500.0, datum=2))
    assert len(d) == 1
    lat, lon, _ = LocalFrame(*SITE).enu_to_geodetic(d.z[:1])
    assert lon[0] > PLACE.lon and abs(lat[0] - PLACE.lat) < 1e-3  # 1 km east of the sensor
    assert f.counters.rejects["bearing_only_not_supported"] == 1
    assert f.counters.rejects["bearing_datum_not_supported"] == 1


def test_range_bearing_without_a_configured_sensor_position_is_counted():
    f = SapientFeed(LocalFrame(*SITE), 0, SensorPlace(None, None, 0.0))
    assert len(f.feed(T0, frame(polar(rng=800.0).SerializeToString()))) == 0
    assert f.counters.rejects["range_bearing_without_sensor_position"] == 1


def test_malformed_frames_and_other_messages_are_counted_never_dropped_silently():
    other = sapient().SapientMessage(node_id=NODE)
    other.status_report.report_id = "01HF00000000000000000000CC"
    empty = sapient().SapientMessage(node_id=NODE)
    no_location = sapient().SapientMessage(node_id=NODE)
    no_location.detection_report.report_id = "01HF00000000000000000000DD"
    utm = report()
    utm.detection_report.location.coordinate_system = 5
    f, d = feed_of(report(), other, empty, no_location, utm, junk=frame(b"\xff\xff\xff\xff"))
    assert len(d) == 1
    assert f.counters.records == 6
    assert f.counters.rejects == Counter({"message_malformed": 1, "message_without_content": 1,
                                          "detection_without_location": 1,
                                          "utm_not_supported": 1})  # fmt: skip
    assert f.seen == Counter({"detection_report": 3, "status_report": 1})


def test_implausible_message_time_is_replaced_by_the_receive_time():
    f, d = feed_of(report(t=T0 - 3600))
    assert d.t[0] == T0 + 0.1
    assert f.counters.rejects["timestamp_replaced_by_receive_time"] == 1
