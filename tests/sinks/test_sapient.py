"""SAPIENT out and back: SapientSink -> a loopback TCP listener -> skywarden's own SAPIENT feed
gives back the tracks it sent; Registration first on every connection; alert lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter

import numpy as np
import pytest

from skywarden.geo import LocalFrame
from skywarden.sinks.sapient import SapientSink
from skywarden.sinks.sapient_messages import ulid
from skywarden.snapshot import Snapshot
from skywarden.sources.sapient.feed import SapientFeed
from skywarden.sources.sapient.framing import FrameDecoder
from skywarden.sources.sapient.reports import SensorPlace, parse_messages
from tests.store.snapshot_builders import SITE, make_alert, make_tracks

T0 = 1_700_000_000.25


class Listener:
    """A SAPIENT peer on 127.0.0.1 that keeps the raw bytes of each connection."""

    def __init__(self) -> None:
        self.streams: list[bytearray] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _client(self, reader, writer) -> None:
        buf = bytearray()
        self.streams.append(buf)
        self.writers.append(writer)
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while data := await reader.read(65536):
                buf += data
        writer.close()

    def messages(self, i: int) -> list:
        return parse_messages(FrameDecoder().feed(bytes(self.streams[i])), Counter(), Counter())

    async def close(self) -> None:
        for w in self.writers:
            w.close()
        self.server.close()
        await self.server.wait_closed()


async def wait_until(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def snapshot(t: float, seq: int = 1) -> Snapshot:
    tracks = make_tracks([1, 3, 4], t, classes=[1, 2, 3])
    return Snapshot(seq=seq, t=t, site=SITE, tracks=tracks)


def test_ulid_is_26_crockford_characters_with_the_time_first():
    a, b = ulid(T0, "x"), ulid(T0 + 1, "x")
    assert len(a) == 26 and set(a) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert a[:10] < b[:10] and a[10:] == b[10:]
    assert ulid(T0, "x") == a and ulid(T0, "y") != a


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_out_and_back_through_a_loopback_listener():
    async def run():
        listener = Listener()
        port = await listener.start()
        sink = SapientSink("127.0.0.1", port, site_name="test", initial_backoff_s=0.01)
        await sink.start()
        snap = snapshot(T0)
        assert sink.submit_tracks(snap) == 3
        assert sink.submit_tracks(snap) == 0  # no new measurement: nothing more
        sink.submit_alert(make_alert(5, T0, track_id=1), T0)
        sink.submit_alert(make_alert(5, T0 + 8, state="cleared", track_id=1, t_raised=T0),
                          T0 + 8)  # fmt: skip
        assert await sink.drain(10.0)
        await wait_until(lambda: listener.streams and len(listener.messages(0)) == 7)
        await sink.close()
        await listener.close()
        return listener, sink, snap

    listener, sink, snap = asyncio.run(run())
    msgs = listener.messages(0)
    kinds = [m.WhichOneof("content") for m in msgs]
    assert kinds == ["registration", "status_report", *["detection_report"] * 3, "alert", "alert"]
    assert {m.node_id for m in msgs} == {sink.node_id}
    # the same tracks back through skywarden's own SAPIENT input
    feed = SapientFeed(LocalFrame(*SITE), 0, SensorPlace(*SITE))
    dets = feed.feed(T0, bytes(listener.streams[0]))
    assert len(dets) == 3 and not feed.counters.rejects
    tr = snap.tracks
    expected = LocalFrame(*SITE).geodetic_to_enu(tr.lat, tr.lon, tr.alt_m)
    np.testing.assert_allclose(dets.z, expected, atol=0.01)
    np.testing.assert_allclose(dets.v, snap.tracks.enu[:, 3:], atol=1e-3)
    np.testing.assert_allclose(np.sqrt(dets.R[:, 0, 0]), 12.5, rtol=1e-3)
    reports = [m.detection_report for m in msgs[2:5]]
    top = [r.classification[0] for r in reports]
    for r, c, p in zip(reports, top, snap.tracks.p_class, strict=True):
        assert len(r.classification) == 4
        assert math.isclose(c.confidence, p.max(), rel_tol=1e-6)
    assert reports[1].id == "CS3"
    alerts = [m.alert for m in msgs[5:]]
    assert [a.status for a in alerts] == [1, 5]  # ACTIVE, CLEAR
    assert alerts[0].alert_id == alerts[1].alert_id
    assert alerts[0].associated_detection[0].object_id == reports[0].object_id
    assert math.isclose(alerts[0].confidence, 0.8, rel_tol=1e-6)


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_reconnects_and_registers_again_and_never_blocks():
    async def run():
        listener = Listener()
        port = await listener.start()
        sink = SapientSink("127.0.0.1", port, site_name="test", initial_backoff_s=0.01,
                           max_queue=3)  # fmt: skip
        for k in range(5):  # nothing is sending yet: a full queue drops its oldest
            sink.submit_tracks(snapshot(T0 + k, seq=k))
        assert sink.counters.dropped > 0
        await sink.start()
        await wait_until(lambda: len(listener.streams) == 1 and len(listener.messages(0)) >= 4)
        for w in listener.writers:
            w.close()
        await wait_until(lambda: not sink.connected)
        sink.submit_tracks(snapshot(T0 + 20, seq=20))
        await wait_until(lambda: len(listener.streams) == 2 and len(listener.messages(1)) >= 2)
        await sink.close()
        await listener.close()
        return listener, sink

    listener, sink = asyncio.run(run())
    assert listener.messages(1)[0].WhichOneof("content") == "registration"
    assert sink.counters.connects == 2 and sink.counters.registrations == 2
