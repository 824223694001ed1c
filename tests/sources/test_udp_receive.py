"""Real sockets on loopback: exclusive UDP binds, the kernel's drop count, the receive buffer,
and reject counts that survive TCP reconnects."""

from __future__ import annotations

import asyncio
import select
import socket

import pytest

from skywarden.geo import LocalFrame
from skywarden.sources.feeds import SbsFeed
from skywarden.sources.transport import TcpClientSource, TransportError, UdpSource, bind_all
from skywarden.sources.udp_socket import kernel_drops

LOOPBACK = "127.0.0.1"


def _linux_drops_available() -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        return kernel_drops(s) is not None


def test_a_second_receiver_on_a_port_fails_with_a_clear_reason() -> None:
    first = UdpSource(LOOPBACK, 0)
    first.bind()
    try:
        second = UdpSource(LOOPBACK, first.local_port)
        with pytest.raises(TransportError, match="in use"):
            second.bind()
        assert not second.connected
    finally:
        first.close()


def test_bind_all_closes_what_it_bound_when_one_fails() -> None:
    taken = UdpSource(LOOPBACK, 0)
    taken.bind()
    ok = UdpSource(LOOPBACK, 0)
    try:
        with pytest.raises(TransportError, match=f"{LOOPBACK}:{taken.local_port}"):
            bind_all([ok, object(), UdpSource(LOOPBACK, taken.local_port)])
        assert not ok.connected  # closed again: nothing half-started
    finally:
        taken.close()


def test_an_unknown_local_address_fails_to_bind() -> None:
    with pytest.raises(TransportError, match="cannot open UDP 192.0.2.1"):
        UdpSource("192.0.2.1", 0).bind()  # TEST-NET-1: no local interface has it


def test_the_receive_buffer_is_asked_for_and_reported() -> None:
    small, large = UdpSource(LOOPBACK, 0, receive_buffer_bytes=65_536), UdpSource(LOOPBACK, 0)
    try:
        small.bind()
        large.bind()
        assert small.counters.receive_buffer_bytes >= 65_536
        assert large.counters.receive_buffer_bytes > small.counters.receive_buffer_bytes
    finally:
        small.close()
        large.close()


@pytest.mark.skipif(not _linux_drops_available(), reason="needs Linux /proc/net/udp drop counts")
def test_kernel_drops_are_counted_and_nothing_else_is_lost() -> None:
    """Datagrams sent into a full socket buffer: those delivered plus those the kernel
    counted as dropped are exactly those sent."""
    sent = 3000

    async def run() -> UdpSource:
        source = UdpSource(LOOPBACK, 0, receive_buffer_bytes=16_384, queue_size=sent)
        source.bind()  # bound, not read yet: the socket buffer fills and the kernel drops
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            for k in range(sent):
                tx.sendto(k.to_bytes(4, "big") * 50, (LOOPBACK, source.local_port))
        assert source.refresh_kernel_drops(0.0) > 0
        got = 0
        async with source:
            stream = aiter(source)
            while got + source.counters.kernel_dropped < sent:
                await asyncio.wait_for(anext(stream), timeout=10.0)
                got += 1
        return source

    source = asyncio.run(run())
    counters = source.counters
    assert counters.kernel_dropped > 0
    assert counters.messages + counters.kernel_dropped == sent
    assert counters.dropped == 0


def test_every_waiting_datagram_is_read_at_one_turn_of_the_loop() -> None:
    """A busy loop turns rarely (a tick, 50 WebSocket sends): all the datagrams waiting on
    the socket are read when it is readable, not one per turn (asyncio's datagram transport),
    which left most of a 1,000-target radar's plots waiting in the socket for seconds."""
    sent = 500

    async def run() -> UdpSource:
        source = UdpSource(LOOPBACK, 0)
        await source.open()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            for k in range(sent):
                tx.sendto(k.to_bytes(4, "big"), (LOOPBACK, source.local_port))
        assert source._sock is not None
        select.select([source._sock], [], [], 10.0)  # readable: the loop's next turn reads
        for _ in range(3):  # three turns of the loop
            await asyncio.sleep(0)
        source.close()
        return source

    source = asyncio.run(run())
    assert source.counters.messages == sent
    assert source.counters.kernel_dropped == 0


def test_reject_counts_are_cumulative_across_tcp_reconnects() -> None:
    """A server that sends two bad lines and one good one per connection, then hangs up."""
    good = (
        b"MSG,3,1,1,4B1234,1,2024/01/01,12:00:00.000,2024/01/01,12:00:00.000,,3000,,,"
        b"47.01000,8.01000,,,,,,0\r\n"
    )

    async def run() -> tuple[SbsFeed, TcpClientSource]:
        async def serve_once(reader, writer) -> None:
            writer.write(b"bad line one\nbad line two\n" + good + b"MSG,3,partial")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(serve_once, LOOPBACK, 0)
        port = server.sockets[0].getsockname()[1]
        feed = SbsFeed(LocalFrame(47.0, 8.0, 400.0), 0)
        source = TcpClientSource(LOOPBACK, port, initial_backoff_s=0.01, max_backoff_s=0.02)
        async for t, data, connection in source:
            feed.feed(t, data, connection)
            if source.counters.connects >= 3 and feed.counters.detections >= 3:
                source.close()
        server.close()
        await server.wait_closed()
        return feed, source

    feed, source = asyncio.run(run())
    assert source.counters.connects >= 3
    assert feed.counters.detections == source.counters.connects  # one good line each
    # cumulative: two bad lines per connection; the cut partial lines are dropped, not glued
    assert feed.counters.rejects == {"not_sbs": 2 * source.counters.connects}
