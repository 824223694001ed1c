"""Live WebSocket: one encoding per snapshot, the same bytes to every client, slow ones dropped."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace

import httpx
import pytest
from websockets.sync.client import connect

from skywarden.server import create_app
from skywarden.server.live import LiveBroadcaster
from skywarden.snapshot import Snapshot
from tests.server.fake_backend import FakeBackend, static_snapshot
from tests.server.live_server import live_server

ENCODINGS: Counter[int] = Counter()  # snapshot seq -> number of to_json calls


@dataclass(frozen=True)
class CountingSnapshot(Snapshot):
    """A Snapshot that counts how often it is encoded (json_bytes calls to_json once)."""

    def to_json(self):
        ENCODINGS[self.seq] += 1
        return super().to_json()


def counting(seq: int) -> CountingSnapshot:
    s = static_snapshot(seq=seq, t=1_700_000_000.0 + seq)
    return CountingSnapshot(s.seq, s.t, s.site, s.tracks, s.alerts, s.sensors, s.health)


@pytest.fixture(autouse=True)
def _fresh_counter():
    ENCODINGS.clear()


def test_broadcast_gives_every_client_the_same_bytes_object_encoded_once() -> None:
    async def scenario() -> None:
        backend = FakeBackend(counting(1))
        live = LiveBroadcaster(backend, rate_hz=200.0)
        a, b = live.subscribe(), live.subscribe()
        got = []
        try:
            for seq in (2, 3):  # subscribers get what is newer than the snapshot at subscribe time
                backend.publish(counting(seq))
                got.append([await asyncio.wait_for(s.get(), 5.0) for s in (a, b)])
        finally:
            await live.stop()
        for seq, (to_a, to_b) in enumerate(got, start=2):
            assert to_a is to_b  # one bytes object for all clients
            assert json.loads(to_a)["seq"] == seq
        assert ENCODINGS == {2: 1, 3: 1}
        assert live.sent == 2

    asyncio.run(scenario())


def test_slow_client_is_dropped_and_others_keep_receiving() -> None:
    async def scenario() -> None:
        backend = FakeBackend(counting(1))
        live = LiveBroadcaster(backend, rate_hz=500.0, queue_size=2)
        fast, slow = live.subscribe(), live.subscribe()
        received = []
        try:
            for seq in range(2, 8):
                backend.publish(counting(seq))
                received.append(json.loads(await asyncio.wait_for(fast.get(), 5.0))["seq"])
        finally:
            await live.stop()
        assert received == [2, 3, 4, 5, 6, 7]  # the fast client missed nothing
        assert slow.dropped.is_set() and await slow.get() is None
        assert live.clients == 1 and live.dropped_clients == 1

    asyncio.run(scenario())


def test_backend_fault_does_not_end_the_feed() -> None:
    class Flaky(FakeBackend):
        calls = 0

        async def next_snapshot(self, after_seq: int) -> Snapshot:
            self.calls += 1
            if self.calls == 2:
                raise RuntimeError("tick failed")
            return await super().next_snapshot(after_seq)

    async def scenario() -> None:
        backend = Flaky(counting(1))
        live = LiveBroadcaster(backend, rate_hz=500.0)
        sub = live.subscribe()
        try:
            backend.publish(counting(2))
            first = await asyncio.wait_for(sub.get(), 5.0)
            backend.publish(counting(3))  # the second call fails; the third gets this
            second = await asyncio.wait_for(sub.get(), 5.0)
        finally:
            await live.stop()
        assert [json.loads(x)["seq"] for x in (first, second)] == [2, 3]
        assert backend.calls >= 3  # one call failed and the feed went on

    asyncio.run(scenario())


def test_bad_rate_or_queue_is_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        LiveBroadcaster(FakeBackend(), rate_hz=0.0)
    with pytest.raises(ValueError, match="queue"):
        LiveBroadcaster(FakeBackend(), queue_size=0)


def test_websocket_two_clients_get_identical_snapshots_over_a_real_server() -> None:
    backend = FakeBackend(counting(1))
    app = create_app(backend, live_rate_hz=50.0)
    with live_server(app) as url:
        ws_url = url.replace("http", "ws") + "/api/v1/live"
        with connect(ws_url, open_timeout=10) as one, connect(ws_url, open_timeout=10) as two:
            first = [one.recv(timeout=10), two.recv(timeout=10)]
            assert first[0] == first[1] == backend.snapshot().json_bytes
            backend.publish(counting(2))
            second = [_recv_seq(one, 2), _recv_seq(two, 2)]
            assert isinstance(second[0], bytes) and second[0] == second[1]
        assert ENCODINGS == {1: 1, 2: 1}


def test_a_stalled_client_is_dropped_while_another_keeps_up_over_a_real_server() -> None:
    big = replace(static_snapshot(), health={"pad": "x" * 300_000})  # fills socket buffers fast
    backend = FakeBackend(big)
    done = threading.Event()

    def produce() -> None:  # a new snapshot every 10 ms until the test ends
        seq = 1
        while not done.is_set() and seq < 5000:
            seq += 1
            backend.publish(replace(big, seq=seq))
            time.sleep(0.01)

    producer = threading.Thread(target=produce, daemon=True)
    with live_server(create_app(backend, live_rate_hz=50.0)) as url:
        producer.start()
        stalled = _stalled_websocket(url)  # handshakes, then never reads
        try:
            with connect(url.replace("http", "ws") + "/api/v1/live", max_size=None) as fast:
                live: dict = {}
                for _ in range(1500):  # bounded: ~30 s at 50 Hz
                    fast.recv(timeout=10)
                    live = httpx.get(url + "/api/v1/health").json()["live"]
                    if live["dropped_clients"]:
                        break
                assert live["dropped_clients"] == 1 and live["clients"] == 1
                seq = json.loads(fast.recv(timeout=10))["seq"]
                assert json.loads(fast.recv(timeout=10))["seq"] > seq  # the fast one goes on
        finally:
            done.set()
            stalled.close()
            producer.join(timeout=5)


def _stalled_websocket(url: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(b"0123456789abcdef").decode()
    sock.sendall(
        (
            "GET /api/v1/live HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    return sock


def _recv_seq(ws, seq: int, limit: int = 5) -> bytes:
    """The first message with this seq (a client may see the current snapshot twice on joining)."""
    for _ in range(limit):
        data = ws.recv(timeout=10)
        if json.loads(data)["seq"] == seq:
            return data
    raise AssertionError(f"no snapshot {seq} in {limit} messages")


def test_deflate_clients_get_the_json_compressed_once_per_snapshot() -> None:
    """``?encoding=deflate``: zlib-compressed JSON (what the map asks for), the same bytes for
    every such client, encoded once per snapshot; JSON clients beside them get plain JSON."""
    import zlib

    big = counting(1)
    backend = FakeBackend(big)
    with live_server(create_app(backend, live_rate_hz=50.0)) as url:
        ws_url = url.replace("http", "ws") + "/api/v1/live"
        with (
            connect(ws_url + "?encoding=deflate", open_timeout=10, max_size=None) as one,
            connect(ws_url + "?encoding=deflate", open_timeout=10, max_size=None) as two,
            connect(ws_url, open_timeout=10, max_size=None) as plain,
        ):
            assert zlib.decompress(one.recv(timeout=10)) == big.json_bytes
            two.recv(timeout=10)
            plain.recv(timeout=10)
            backend.publish(counting(2))
            got = [_recv_seq_deflated(ws, 2) for ws in (one, two)]
            assert got[0] == got[1] == backend.snapshot().deflate_bytes
            assert len(got[0]) < len(backend.snapshot().json_bytes)
            assert json.loads(_recv_seq(plain, 2))["seq"] == 2
    assert ENCODINGS[2] == 1  # one JSON encoding of snapshot 2 for all three clients


def test_an_unknown_encoding_is_refused() -> None:
    from websockets.exceptions import InvalidStatus

    with live_server(create_app(FakeBackend(counting(1)), live_rate_hz=50.0)) as url:
        ws_url = url.replace("http", "ws") + "/api/v1/live?encoding=msgpack"
        with pytest.raises(InvalidStatus, match="403"):  # closed before the handshake ends
            connect(ws_url, open_timeout=10)


def _recv_seq_deflated(ws, seq: int, limit: int = 5) -> bytes:
    import zlib

    for _ in range(limit):
        data = ws.recv(timeout=10)
        if json.loads(zlib.decompress(data))["seq"] == seq:
            return data
    raise AssertionError(f"no snapshot {seq} in {limit} messages")
