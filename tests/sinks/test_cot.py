"""Cursor-on-Target: event XML, and CotSink against a small TAK listener on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime
import math
import socket
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from skywarden.sinks import CotSink, cot_alert_event, cot_time, cot_track_events
from skywarden.snapshot import Snapshot
from tests.sinks.tak_listener import TakListener
from tests.store.snapshot_builders import SITE, make_alert, make_tracks

T0 = 1_700_000_000.25


def parse_time(text: str) -> float:
    assert text.endswith("Z")
    return datetime.datetime.fromisoformat(text[:-1]).replace(tzinfo=datetime.UTC).timestamp()


async def wait_until(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def snapshot(t: float = T0) -> Snapshot:
    # ids 0..4: drone, aircraft with ICAO (id 3), bird, clutter, unknown; id 6 aircraft without
    tracks = make_tracks([1, 3, 4, 5, 7, 8], t, classes=[1, 2, 3, 4, 0, 2])
    return Snapshot(seq=1, t=t, site=SITE, tracks=tracks, alerts=())


def _fields(view) -> dict:
    return {k: getattr(view, k) for k in view.__slots__}


def test_cot_time():
    assert cot_time(0.0) == "1970-01-01T00:00:00.000Z"
    assert cot_time(1_700_000_000.25) == "2023-11-14T22:13:20.250Z"


def test_track_events_xml():
    snap = snapshot()
    events = [ET.fromstring(e) for e in cot_track_events(snap, stale_s=15.0)]
    types = {e.get("uid"): e.get("type") for e in events}
    assert types == {
        "skywarden.track.1": "a-u-A-M-F-Q",  # drone
        "skywarden.track.3": "a-n-A-C-F",  # aircraft with an ICAO address
        "skywarden.track.7": "a-u-A",  # unknown
        "skywarden.track.8": "a-u-A-C-F",  # aircraft, not cooperative
    }  # bird (4) and clutter (5) are not sent
    e = events[0]
    assert e.tag == "event" and e.get("version") == "2.0" and e.get("how") == "m-f"
    assert parse_time(e.get("time")) == parse_time(e.get("start")) == T0
    assert parse_time(e.get("stale")) == T0 + 15.0
    point = e.find("point")
    tr = snap.tracks
    assert float(point.get("lat")) == pytest.approx(tr.lat[0], abs=1e-7)
    assert float(point.get("lon")) == pytest.approx(tr.lon[0], abs=1e-7)
    assert float(point.get("hae")) == pytest.approx(tr.alt_m[0], abs=0.05)
    assert float(point.get("ce")) == 12.5 and point.get("le") == "9999999.0"
    track = e.find("detail/track")
    assert float(track.get("course")) == 90.0 and float(track.get("speed")) == 10.0  # east, 10 m/s
    assert e.find("detail/contact").get("callsign") == "T1"
    assert events[1].find("detail/contact").get("callsign") == "CS3"
    sky = e.find("detail/skywarden")
    assert sky.get("class") == "drone" and float(sky.get("p_drone")) == pytest.approx(
        tr.p_class[0, 0], abs=1e-3
    )
    assert "drone" in e.find("detail/remarks").text
    with_birds = cot_track_events(snap, classes=("bird", "clutter"))
    assert [ET.fromstring(x).get("uid") for x in with_birds] == ["skywarden.track.4"]


def test_alert_event_xml():
    alert = make_alert(9, T0, zone_id="runway", track_id=3, probability=0.87)
    e = ET.fromstring(cot_alert_event(alert, T0, stale_s=300.0, note="raised"))
    assert (e.get("uid"), e.get("type")) == ("skywarden.alert.9", "b-a-g")
    assert parse_time(e.get("stale")) - parse_time(e.get("time")) == 300.0
    assert float(e.find("point").get("lat")) == pytest.approx(alert.lat, abs=1e-7)
    assert e.find("detail/emergency").get("type") == "Geo-fence Breached"
    assert e.find("detail/link").get("uid") == "skywarden.track.3"
    remarks = e.find("detail/remarks").text
    assert "zone runway" in remarks and "p=0.87" in remarks and "time to entry 42 s" in remarks
    cleared = ET.fromstring(cot_alert_event(make_alert(9, T0 + 60, "cleared"), T0 + 60))
    assert cleared.get("stale") == cleared.get("time") == cot_time(T0 + 60)
    assert cleared.find("detail/emergency").get("cancel") == "true"
    spi = ET.fromstring(cot_alert_event(alert, T0, alert_type="b-m-p-s-p-i"))
    assert spi.get("type") == "b-m-p-s-p-i"
    nan_alert = make_alert(1, T0)
    nan_alert = type(nan_alert)(**{**_fields(nan_alert), "time_to_entry_s": math.inf})
    assert (
        "time to entry 9999999.0 s"
        in ET.fromstring(cot_alert_event(nan_alert, T0)).find("detail/remarks").text
    )


def test_sink_sends_and_reconnects_after_the_server_drops_it():
    async def run():
        listener = TakListener()
        port = await listener.start()
        sink = CotSink("127.0.0.1", port, initial_backoff_s=0.01, track_interval_s=1.0)
        await sink.start()
        assert sink.submit_tracks(snapshot(T0)) == 4
        assert sink.submit_tracks(snapshot(T0 + 0.5)) == 0  # within the track interval
        await wait_until(lambda: len(listener.events) == 4)
        await listener.drop_connections()
        await wait_until(lambda: sink.counters.disconnects == 1)
        sink.submit_alert(make_alert(2, T0 + 2), T0 + 2)
        assert sink.submit_tracks(snapshot(T0 + 2)) == 4
        await wait_until(lambda: len(listener.events) == 9)
        assert await sink.drain(5.0)
        await sink.close()
        await listener.close()
        return listener, sink

    listener, sink = asyncio.run(run())
    assert len(listener.connections) == 2 and sink.counters.connects == 2
    assert [e.get("type") for e in listener.events[4:6]] == ["b-a-g", "a-u-A-M-F-Q"]
    assert parse_time(listener.events[-1].get("time")) == T0 + 2
    assert sink.counters.sent == 9 and sink.counters.dropped == 0


def test_sink_waits_for_a_server_that_starts_late_and_drops_oldest_when_full():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def run():
        sink = CotSink("127.0.0.1", port, initial_backoff_s=0.02, max_backoff_s=0.1, max_queue=3)
        for k in range(5):
            assert sink.submit_alert(make_alert(k, T0 + k), T0 + k)
        nowhere = make_alert(9, T0)
        nowhere = type(nowhere)(**{**_fields(nowhere), "lat": math.nan})
        assert not sink.submit_alert(nowhere, T0) and sink.counters.skipped == 1
        await sink.start()
        await wait_until(lambda: sink.counters.errors >= 2)  # refused, backing off
        listener = TakListener()
        await listener.start(port)
        await wait_until(lambda: len(listener.events) == 3)
        await sink.close()
        await listener.close()
        return listener, sink

    listener, sink = asyncio.run(run())
    assert [e.get("uid") for e in listener.events] == [f"skywarden.alert.{k}" for k in (2, 3, 4)]
    assert sink.counters.dropped == 2 and sink.counters.connects == 1


def test_sink_over_udp():
    async def run():
        loop = asyncio.get_running_loop()
        received: list[bytes] = []

        class Collect(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                received.append(data)

        transport, _ = await loop.create_datagram_endpoint(Collect, local_addr=("127.0.0.1", 0))
        port = transport.get_extra_info("sockname")[1]
        sink = CotSink("127.0.0.1", port, protocol="udp")
        await sink.start()
        sink.submit_tracks(snapshot())
        await wait_until(lambda: len(received) == 4)
        await sink.close()
        transport.close()
        return received

    received = asyncio.run(run())
    assert {ET.fromstring(d).get("uid") for d in received} == {
        f"skywarden.track.{k}" for k in (1, 3, 7, 8)
    }
    assert np.all([d.startswith(b"<event") for d in received])
