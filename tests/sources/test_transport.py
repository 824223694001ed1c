"""Transport tests on real sockets, 127.0.0.1 only. Every wait is bounded; nothing asserts a
duration (pacing is checked with a fake monotonic clock)."""

from __future__ import annotations

import asyncio
import math
import socket
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.errors import InputError
from skywarden.sources import transport
from skywarden.sources.senders import TcpServerSender, UdpSender
from skywarden.sources.transport import (
    FileReplay,
    ReceivedChunk,
    TcpClientSource,
    TransportError,
    UdpSource,
    backoff_delays,
)

LOOPBACK = "127.0.0.1"
GROUP = "239.255.77.13"
TIMEOUT_S = 10.0


def run(coro, timeout_s: float = TIMEOUT_S):
    """Run a coroutine with a hard timeout so that no test can hang."""

    async def bounded():
        return await asyncio.wait_for(coro, timeout_s)

    return asyncio.run(bounded())


async def collect(aiter, count: int) -> list:
    out = []
    async for item in aiter:
        out.append(item)
        if len(out) == count:
            break
    return out


async def until(predicate, timeout_s: float = TIMEOUT_S) -> None:
    """Poll a condition (bounded)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


# --- UDP ------------------------------------------------------------------------------------


def test_udp_unicast_receives_payloads_with_peer_and_time():
    payloads = [bytes([i]) * (i + 1) for i in range(6)]

    async def scenario():
        async with UdpSource(LOOPBACK, 0, clock=lambda: 1234.5) as source:
            with UdpSender(LOOPBACK, source.local_port) as sender:
                for p in payloads:
                    assert sender.send(p)
                received = await collect(source, len(payloads))
            return received, source.counters, sender.counters

    received, counters, sent = run(scenario())
    assert sorted(d.payload for d in received) == sorted(payloads)
    assert all(d.peer[0] == LOOPBACK and d.receive_time_s == 1234.5 for d in received)
    assert counters.messages == 6 and counters.bytes == sum(map(len, payloads))
    assert sent.messages == 6 and sent.errors == 0


def test_udp_close_ends_the_iteration():
    async def scenario():
        source = UdpSource(LOOPBACK, 0)
        await source.open()
        with UdpSender(LOOPBACK, source.local_port) as sender:
            sender.send(b"last")
        await until(lambda: source.counters.messages == 1)
        source.close()
        return [d.payload async for d in source]

    assert run(scenario()) == [b"last"]


def test_udp_full_queue_drops_and_counts():
    async def scenario():
        async with UdpSource(LOOPBACK, 0, queue_size=2) as source:
            with UdpSender(LOOPBACK, source.local_port) as sender:
                for i in range(5):
                    sender.send(b"x%d" % i)
                await until(lambda: source.counters.messages + source.counters.dropped == 5)
            source.close()
            return [d.payload async for d in source], source.counters

    delivered, counters = run(scenario())
    assert len(delivered) == 2 and counters.dropped == 3


def test_udp_bad_address_is_a_transport_error():
    async def scenario():
        await UdpSource("203.0.113.7", 0).open()  # not an address of this machine

    with pytest.raises(TransportError, match="cannot open UDP"):
        run(scenario())


def _loopback_multicast_works() -> str | None:
    """None if plain sockets can do multicast on 127.0.0.1, else the reason they cannot."""
    try:
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx,
        ):
            rx.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            rx.bind((GROUP, 0))
            mreq = socket.inet_aton(GROUP) + socket.inet_aton(LOOPBACK)
            rx.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
            rx.settimeout(2.0)
            tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(LOOPBACK))
            tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 0)
            tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
            tx.sendto(b"probe", (GROUP, rx.getsockname()[1]))
            if rx.recv(64) != b"probe":
                return "multicast probe returned other bytes"
    except OSError as exc:
        return f"kernel refuses multicast on loopback ({exc})"
    return None


def test_udp_multicast_on_loopback():
    reason = _loopback_multicast_works()
    if reason is not None:
        pytest.skip(reason)

    async def scenario():
        source = UdpSource(LOOPBACK, 0, multicast_group=GROUP, interface=LOOPBACK)
        async with source:
            sender = UdpSender(
                GROUP, source.local_port, multicast_interface=LOOPBACK, multicast_ttl=0
            )
            with sender:
                for i in range(3):
                    sender.send(b"mc%d" % i)
                return await collect(source, 3)

    received = run(scenario())
    assert sorted(d.payload for d in received) == [b"mc0", b"mc1", b"mc2"]


# --- TCP ------------------------------------------------------------------------------------


async def read_until(chunks, total: int) -> tuple[bytes, set[int]]:
    """Read chunks from an async iterator until `total` bytes arrived."""
    data, connections = b"", set()
    while len(data) < total:
        chunk: ReceivedChunk = await anext(chunks)
        data += chunk.data
        connections.add(chunk.connection)
    return data, connections


def test_tcp_client_reconnects_after_the_server_closes():
    async def scenario():
        async with TcpServerSender(LOOPBACK, 0) as server:
            client = TcpClientSource(
                LOOPBACK, server.port_bound, initial_backoff_s=0.01, rng=np.random.default_rng(7)
            )
            chunks = client.chunks()
            first = asyncio.ensure_future(read_until(chunks, 6))
            assert await server.wait_for_clients(1, TIMEOUT_S)
            await server.send(b"abc")
            await server.send(b"def")
            part1 = await first
            await server.disconnect_clients()
            second = asyncio.ensure_future(read_until(chunks, 4))
            assert await server.wait_for_clients(1, TIMEOUT_S)
            assert await server.send(b"ghij") == 1
            part2 = await second
            client.close()
            await chunks.aclose()
            return part1, part2, client.counters, server.counters

    (d1, c1), (d2, c2), counters, server_counters = run(scenario())
    assert d1 == b"abcdef" and c1 == {1}
    assert d2 == b"ghij" and c2 == {2}
    assert counters.connects == 2 and counters.reconnects == 1
    assert counters.disconnects == 2 and counters.bytes == 10
    assert server_counters.connects == 2 and server_counters.messages == 3


def test_tcp_client_gives_up_after_max_attempts():
    port = free_tcp_port()  # nothing listens there

    async def scenario():
        client = TcpClientSource(
            LOOPBACK, port, initial_backoff_s=0.001, max_backoff_s=0.004, max_attempts=3
        )
        with pytest.raises(TransportError, match="3 attempts"):
            async for _ in client:
                pass
        return client.counters

    counters = run(scenario())
    assert counters.errors == 3 and counters.connects == 0


def test_tcp_client_close_ends_the_iteration_while_waiting():
    async def scenario():
        async with TcpServerSender(LOOPBACK, 0) as server:
            client = TcpClientSource(LOOPBACK, server.port_bound)
            reader = asyncio.ensure_future(collect(client, 1))
            assert await server.wait_for_clients(1, TIMEOUT_S)
            client.close()
            return await reader, client.counters

    received, counters = run(scenario())
    assert received == [] and counters.connects == 1 and counters.disconnects == 1


def test_tcp_client_treats_a_silent_server_as_lost():
    async def scenario():
        async with TcpServerSender(LOOPBACK, 0) as server:
            client = TcpClientSource(
                LOOPBACK, server.port_bound, initial_backoff_s=0.01, idle_timeout_s=0.05
            )
            reader = asyncio.ensure_future(collect(client, 1))
            await until(lambda: server.counters.connects >= 2)
            client.close()
            await reader
            return client.counters

    counters = run(scenario())
    assert counters.connects >= 2 and counters.messages == 0


def test_tcp_server_drops_a_client_that_does_not_read():
    async def scenario():
        async with TcpServerSender(LOOPBACK, 0, max_backlog_bytes=1 << 20) as server:
            _, writer = await asyncio.open_connection(LOOPBACK, server.port_bound)
            assert await server.wait_for_clients(1, TIMEOUT_S)
            await server.send(bytes(64 << 20))  # far more than the kernel buffers hold
            reached = await server.send(b"more")
            writer.close()
            return reached, server.counters, server.client_count

    reached, counters, clients = run(scenario())
    assert reached == 0 and counters.dropped == 1 and clients == 0


def test_backoff_is_capped_exponential_with_optional_seeded_jitter():
    plain = [d for d, _ in zip(backoff_delays(0.5, 4.0), range(6), strict=False)]
    assert plain == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]

    def jittered(seed):
        delays = backoff_delays(0.5, 4.0, np.random.default_rng(seed))
        return [next(delays) for _ in range(6)]

    a = jittered(3)
    assert a == jittered(3) and a != jittered(4)
    assert all(0.5 * p <= d < p for d, p in zip(a, plain, strict=True))


# --- replay ---------------------------------------------------------------------------------

recordings = st.lists(st.tuples(st.floats(0.0, 1000.0), st.binary(max_size=40)), max_size=30).map(
    lambda items: sorted(items, key=lambda item: item[0])
)


@settings(deadline=None, max_examples=30)
@given(recordings)
def test_replay_as_fast_as_possible_keeps_order_and_content(chunks):
    async def replay_all():
        return [c async for c in FileReplay(iter(chunks), speed=math.inf)]

    assert run(replay_all()) == chunks
    replay = FileReplay(chunks, speed=math.inf)
    assert list(replay) == chunks
    assert replay.counters.messages == len(chunks)
    assert replay.counters.bytes == sum(len(b) for _, b in chunks)


class FakeClock:
    """Monotonic clock that moves only when the replay sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(("speed", "expected"), [(1.0, [1.0, 2.0, 0.5]), (4.0, [0.25, 0.5, 0.125])])
def test_replay_paces_by_recorded_time_over_speed(monkeypatch, speed, expected):
    clock = FakeClock()
    monkeypatch.setattr(transport.time, "sleep", clock.sleep)
    chunks = [(10.0, b"a"), (11.0, b"b"), (13.0, b"c"), (13.0, b"d"), (13.5, b"e")]
    out = list(FileReplay(chunks, speed=speed, monotonic=clock.monotonic))
    assert out == chunks
    assert clock.sleeps == pytest.approx(expected)


def test_replay_async_paces_and_counts_time_going_backwards():
    chunks = [(5.0, b"a"), (5.002, b"b"), (4.0, b"late"), (5.004, b"c")]

    async def replay_all(replay):
        return [c async for c in replay]

    replay = FileReplay(chunks, speed=1.0)
    assert run(replay_all(replay)) == chunks
    assert replay.counters.errors == 1


@pytest.mark.parametrize("speed", [0.0, -1.0, float("nan")])
def test_replay_rejects_bad_speed(speed):
    with pytest.raises(InputError, match="speed"):
        FileReplay([], speed=speed)


def test_counters_are_a_plain_dict():
    counters = transport.TransportCounters(messages=2, bytes=10)
    d = counters.as_dict()
    assert d["messages"] == 2 and d["bytes"] == 10 and set(d) >= {"errors", "reconnects"}


def test_udp_allow_from_counts_and_drops_other_senders():
    async def scenario(allow):
        async with UdpSource(LOOPBACK, 0, allow_from=allow) as source:
            with UdpSender(LOOPBACK, source.local_port) as sender:
                for k in range(5):
                    sender.send(bytes([k]))
                await until(lambda: source.counters.messages + source.counters.refused == 5)
            return source.counters

    refused = run(scenario(["192.0.2.7", "10.0.0.0/8"]))  # the loopback sender is not listed
    assert refused.refused == 5 and refused.messages == 0
    allowed = run(scenario(["192.0.2.7", "127.0.0.0/8"]))
    assert allowed.refused == 0 and allowed.messages == 5
    assert allowed.as_dict()["refused"] == 0  # shown in /health under the source's transport
