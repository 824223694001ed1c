"""Transports: the only I/O of the sources stage (sockets, replayed recordings) and its clock.

asyncio-based and blocking-free, so the future FastAPI/uvicorn service can run them in its loop:

* :class:`UdpSource` receives datagrams (unicast, or multicast joined with IP_ADD_MEMBERSHIP)
  and yields :class:`ReceivedDatagram` ``(receive_time_s, payload, peer)``.
* :class:`TcpClientSource` connects to a byte-stream server (dump1090 30003/30005, an ASTERIX
  gateway), yields :class:`ReceivedChunk` ``(receive_time_s, data, connection)`` and reconnects
  with capped exponential backoff; ``connection`` increments on each new connection so a
  framing decoder knows to drop a partial frame.
* :class:`FileReplay` replays a recording of ``(t, bytes)`` at real time, N times faster or as
  fast as possible, paced by the monotonic clock; it yields the *recorded* times.

The send side (the simulator's streams, tests) is :mod:`skywarden.sources.senders`.

Every transport keeps a :class:`TransportCounters` (for the /health endpoint). Receive times
are POSIX seconds from ``clock`` (``time.time`` unless one is passed in).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import math
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import numpy as np

from skywarden.errors import InputError, SkywardenError, bind_failure
from skywarden.sources.udp_socket import (
    DEFAULT_RECEIVE_BUFFER_BYTES,
    kernel_drops,
    open_udp_socket,
)

Clock = Callable[[], float]
log = logging.getLogger(__name__)


class SenderAllowList:
    """Sender addresses and networks allowed to feed a UDP source (decisions cached)."""

    def __init__(self, entries: Iterable[str]) -> None:
        try:
            self.networks = tuple(ipaddress.ip_network(str(e), strict=False) for e in entries)
        except ValueError as exc:
            raise InputError(f"allow_from: {exc}") from None
        self._seen: dict[str, bool] = {}

    def allows(self, host: str) -> bool:
        known = self._seen.get(host)
        if known is None:
            try:
                address = ipaddress.ip_address(host.split("%", 1)[0])
            except ValueError:
                known = False
            else:
                if getattr(address, "ipv4_mapped", None) is not None:
                    address = address.ipv4_mapped
                known = any(address in n for n in self.networks)
            if len(self._seen) > 10_000:  # bounded memory under a spoofing flood
                self._seen.clear()
            self._seen[host] = known
        return known


class TransportError(SkywardenError):
    """A transport that cannot be opened or has given up (bad address, retries exhausted)."""


@dataclass
class TransportCounters:
    """Running counts of one transport (mutable; read them, never reset them in place)."""

    messages: int = 0  # datagrams / chunks delivered (or sent, for senders)
    bytes: int = 0
    errors: int = 0  # socket errors, failed connects
    connects: int = 0  # successful connections (TCP)
    disconnects: int = 0  # connections lost or closed (TCP)
    reconnects: int = 0  # successful connections after the first
    dropped: int = 0  # datagrams dropped on a full queue, clients dropped for being slow
    refused: int = 0  # datagrams from senders not in the allow-list (UDP allow_from)
    kernel_dropped: int = 0  # UDP: datagrams the kernel dropped (socket buffer full)
    receive_buffer_bytes: int = 0  # UDP: the socket receive buffer the kernel granted

    def as_dict(self) -> dict[str, int]:
        """Plain dict for JSON (/health)."""
        return asdict(self)


class ReceivedDatagram(NamedTuple):
    """One UDP datagram: POSIX receive time (s), payload and the sender's (host, port)."""

    receive_time_s: float
    payload: bytes
    peer: tuple[str, int]


class ReceivedChunk(NamedTuple):
    """Bytes read from a stream: POSIX receive time (s), data, connection number (1, 2, ...)."""

    receive_time_s: float
    data: bytes
    connection: int


_CLOSED = object()


def _udp_socket(
    host: str, port: int, group: str | None, interface: str, receive_buffer_bytes: int
) -> socket.socket:
    try:
        return open_udp_socket(host, port, group, interface, receive_buffer_bytes)
    except OSError as exc:
        where = f"{group or host}:{port}"
        in_use = "the port is in use (another receiver is bound to it; a port is never shared)"
        why = bind_failure(exc, in_use)
        raise TransportError(f"cannot open UDP {where} (interface {interface}): {why}") from exc


# At most this many datagrams are read per readiness of a socket (then other tasks run).
READ_BURST = 4096
_MAX_DATAGRAM = 65_535


@dataclass
class UdpSource:
    """UDP receiver. ``async with UdpSource(...) as src: async for d in src: ...``.

    ``port=0`` picks a free port (read it from :attr:`local_port`). With ``multicast_group``
    the socket joins that group on ``interface`` (an IPv4 address of a local interface).
    At most ``queue_size`` datagrams wait for the consumer; more are dropped and counted.
    The port is never shared (a second receiver on it fails to bind: :mod:`.udp_socket`);
    the socket asks for a ``receive_buffer_bytes`` buffer and ``counters.kernel_dropped``
    follows the kernel's drop count of the socket (:meth:`refresh_kernel_drops`).
    :meth:`bind` binds synchronously (start-up checks), :meth:`open` (or iterating) after.
    With ``allow_from`` (sender addresses or networks, e.g. ``("192.0.2.7", "10.1.0.0/16")``)
    datagrams from any other sender are counted in ``counters.refused`` and dropped (the first
    one is logged).
    """

    host: str
    port: int
    multicast_group: str | None = None
    interface: str = "0.0.0.0"
    queue_size: int = 10_000
    clock: Clock = time.time
    counters: TransportCounters = field(default_factory=TransportCounters)
    allow_from: Iterable[str] | None = None
    receive_buffer_bytes: int = DEFAULT_RECEIVE_BUFFER_BYTES
    _senders: SenderAllowList | None = field(default=None, init=False, repr=False)
    _sock: socket.socket | None = field(default=None, init=False, repr=False)
    _drops_read_at: float = field(default=-math.inf, init=False, repr=False)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False, repr=False)
    _queue: asyncio.Queue | None = field(default=None, init=False, repr=False)
    _local_port: int | None = field(default=None, init=False, repr=False)

    async def open(self) -> None:
        """Bind (and join the group); idempotent. A closed source cannot be reopened."""
        if self._queue is not None:
            if self._sock is None:
                raise TransportError("UdpSource was closed; make a new one")
            return
        if self.allow_from is not None:
            self._senders = SenderAllowList(self.allow_from)
        sock = self.bind()
        self._queue = asyncio.Queue(maxsize=self.queue_size + 1)
        self._loop = asyncio.get_running_loop()
        # Read with the loop's own reader, every waiting datagram at each readiness: asyncio's
        # datagram transport reads one datagram per loop iteration, so a loop busy with
        # ticks and WebSocket sends read 1,000 targets' plots seconds late (see _read_ready).
        self._loop.add_reader(sock.fileno(), self._read_ready)

    def bind(self) -> socket.socket:
        """Bind the socket now (idempotent): raises TransportError with the reason (port in
        use, no such address) so that a service can refuse to start."""
        if self._sock is None:
            sock = _udp_socket(self.host, self.port, self.multicast_group, self.interface,
                               self.receive_buffer_bytes)  # fmt: skip
            self._sock = sock
            self._local_port = sock.getsockname()[1]
            self.counters.receive_buffer_bytes = sock.getsockopt(
                socket.SOL_SOCKET, socket.SO_RCVBUF
            )
        return self._sock

    @property
    def connected(self) -> bool:
        """True while the socket is bound and receiving."""
        return self._sock is not None

    def refresh_kernel_drops(self, min_interval_s: float = 1.0) -> int:
        """Read the kernel's drop count of the socket into ``counters.kernel_dropped`` (at
        most every ``min_interval_s`` of the monotonic clock); returns the count."""
        now = time.monotonic()
        if self._sock is not None and now - self._drops_read_at >= min_interval_s:
            self._drops_read_at = now
            drops = kernel_drops(self._sock)
            if drops is not None:
                self.counters.kernel_dropped = drops
        return self.counters.kernel_dropped

    @property
    def local_port(self) -> int:
        """The bound port (useful with port=0); only after :meth:`open`."""
        if self._local_port is None:
            raise TransportError("UdpSource is not open")
        return self._local_port

    def _read_ready(self) -> None:
        """Take every datagram waiting on the socket (at most READ_BURST), stamped as read.

        One datagram per readiness (asyncio's ``create_datagram_endpoint``) reads only as
        many datagrams per second as the loop turns: measured with benchmarks/live_load.py at
        1,000 targets and 10-50 WebSocket clients, the service took 38-85 % of the radar
        datagrams by the stream's end, the rest waiting in the socket (not dropped: up to
        600 kB queued), arriving seconds late and refused by the tracker as late."""
        sock = self._sock
        if sock is None:
            return
        for _ in range(READ_BURST):
            try:
                data, addr = sock.recvfrom(_MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. an ICMP error queued on the socket
                self.counters.errors += 1
                return
            self._deliver(data, addr)

    def _deliver(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self._queue is not None
        if self._senders is not None and not self._senders.allows(addr[0]):
            self.counters.refused += 1
            if self.counters.refused == 1:
                log.warning("udp %s:%s: refused a datagram from %s (not in allow_from; "
                            "further ones counted)", self.host, self.port, addr[0])  # fmt: skip
            return
        if self._queue.qsize() >= self.queue_size:
            self.counters.dropped += 1
            return
        self.counters.messages += 1
        self.counters.bytes += len(data)
        self._queue.put_nowait(ReceivedDatagram(self.clock(), bytes(data), tuple(addr[:2])))

    def close(self) -> None:
        """Close the socket; a waiting iterator ends after the queued datagrams."""
        if self._sock is not None:
            self.refresh_kernel_drops(0.0)  # the final count
        if self._sock is not None and self._loop is not None:
            if not self._loop.is_closed():
                self._loop.remove_reader(self._sock.fileno())
            assert self._queue is not None
            self._queue.put_nowait(_CLOSED)
        if self._sock is not None:
            self._sock.close()
        self._sock = None

    async def datagrams(self) -> AsyncIterator[ReceivedDatagram]:
        """Yield datagrams until :meth:`close` (opens the socket if not yet open)."""
        if self._queue is None:
            await self.open()
        queue = self._queue
        assert queue is not None
        while True:
            item = await queue.get()
            if item is _CLOSED:
                return
            yield item

    def __aiter__(self) -> AsyncIterator[ReceivedDatagram]:
        return self.datagrams()

    async def __aenter__(self) -> UdpSource:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()


def bind_all(transports: Iterable[object]) -> None:
    """Bind every transport that binds a local port (UDP) now, before a service starts: the
    first failure closes those already bound and raises its TransportError."""
    bound = []
    for transport in transports:
        bind = getattr(transport, "bind", None)
        if bind is None:
            continue
        try:
            bind()
        except TransportError:
            for other in bound:
                other.close()
            raise
        bound.append(transport)


def backoff_delays(
    initial_s: float, maximum_s: float, rng: np.random.Generator | None = None
) -> Iterator[float]:
    """Endless capped exponential backoff: initial, 2x, 4x ... maximum (seconds).

    With ``rng`` each delay is scaled by a uniform factor in [0.5, 1) ("equal jitter") so that
    many clients do not reconnect in step.
    """
    delay = initial_s
    while True:
        yield delay * (0.5 + 0.5 * float(rng.random())) if rng is not None else delay
        delay = min(maximum_s, delay * 2.0)


@dataclass
class TcpClientSource:
    """TCP client that reads a byte stream and reconnects when it drops.

    Iterate it (``async for chunk in source``) to connect and read. A failed connect or a lost
    connection waits the next :func:`backoff_delays` delay (reset after a connection that
    delivered data), then tries again; ``max_attempts`` consecutive attempts without data raise
    :class:`TransportError` (None: try forever). ``idle_timeout_s`` treats a silent connection
    as lost. :meth:`close` ends the iteration.
    """

    host: str
    port: int
    initial_backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    rng: np.random.Generator | None = None
    max_attempts: int | None = None
    idle_timeout_s: float | None = None
    read_size: int = 65_536
    clock: Clock = time.time
    counters: TransportCounters = field(default_factory=TransportCounters)
    connected: bool = field(default=False, init=False)  # a connection is open now
    _stop: asyncio.Event | None = field(default=None, init=False, repr=False)

    def close(self) -> None:
        """Stop reading and reconnecting (the iterator ends soon after)."""
        if self._stop is None:
            self._stop = asyncio.Event()
        self._stop.set()

    def _stop_event(self) -> asyncio.Event:
        if self._stop is None:
            self._stop = asyncio.Event()
        return self._stop

    async def _wait_or_stop(self, delay_s: float) -> bool:
        """Sleep delay_s; True if close() was called meanwhile."""
        stop = self._stop_event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay_s)
        return stop.is_set()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        try:
            return await asyncio.open_connection(self.host, self.port)
        except OSError:
            self.counters.errors += 1
            return None

    async def _read(self, reader: asyncio.StreamReader) -> bytes | None:
        """Next bytes, or None when the connection is over (EOF, error, idle, stop)."""
        stop = self._stop_event()
        read = asyncio.ensure_future(reader.read(self.read_size))
        stopping = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait(
            {read, stopping}, timeout=self.idle_timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
        stopping.cancel()
        if read not in done:
            read.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await read
            return None
        try:
            data = read.result()
        except OSError:
            self.counters.errors += 1
            return None
        return data or None

    async def chunks(self) -> AsyncIterator[ReceivedChunk]:
        """Connect, yield chunks, reconnect; ends on :meth:`close`."""
        stop = self._stop_event()
        delays = backoff_delays(self.initial_backoff_s, self.max_backoff_s, self.rng)
        failures = 0
        while not stop.is_set():
            streams = await self._connect()
            if streams is not None:
                reader, writer = streams
                self.counters.connects += 1
                self.counters.reconnects = self.counters.connects - 1
                self.connected = True
                connection = self.counters.connects
                got_data = False
                try:
                    while (data := await self._read(reader)) is not None:
                        got_data = True
                        self.counters.messages += 1
                        self.counters.bytes += len(data)
                        yield ReceivedChunk(self.clock(), data, connection)
                finally:
                    self.counters.disconnects += 1
                    self.connected = False
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()
                if got_data:  # a working connection: start the backoff afresh
                    failures = -1
                    delays = backoff_delays(self.initial_backoff_s, self.max_backoff_s, self.rng)
            failures += 1
            if self.max_attempts is not None and failures >= self.max_attempts:
                raise TransportError(
                    f"TCP {self.host}:{self.port}: no data after {failures} attempts"
                )
            if await self._wait_or_stop(next(delays)):
                break

    def __aiter__(self) -> AsyncIterator[ReceivedChunk]:
        return self.chunks()


@dataclass
class FileReplay:
    """Replay a recording of ``(t, bytes)`` (t in POSIX seconds, non-decreasing).

    ``speed`` 1.0 is real time, N is N times faster, ``math.inf`` as fast as possible; the pace
    follows the monotonic clock from the first chunk. Yields the recorded ``(t, bytes)``, in
    order. A time that goes backwards is released at once and counted in ``counters.errors``.
    Iterate with ``async for`` (asyncio.sleep) or ``for`` (time.sleep; blocking, for scripts).
    """

    chunks: Iterable[tuple[float, bytes]]
    speed: float = 1.0
    monotonic: Clock = time.monotonic
    counters: TransportCounters = field(default_factory=TransportCounters)

    def __post_init__(self) -> None:
        if not self.speed > 0.0:  # also rejects NaN
            raise InputError(f"replay speed must be > 0 (or inf), got {self.speed}")

    def _paced(self) -> Iterator[tuple[float, tuple[float, bytes]]]:
        """(seconds to wait before releasing, chunk) for each chunk."""
        start_wall = start_t = last_t = None
        for t, data in self.chunks:
            t = float(t)
            if start_t is None:
                start_t, start_wall, last_t = t, self.monotonic(), t
            if t < last_t:
                self.counters.errors += 1
            last_t = max(last_t, t)
            wait = 0.0
            if math.isfinite(self.speed):
                due = start_wall + (t - start_t) / self.speed
                wait = max(0.0, due - self.monotonic())
            self.counters.messages += 1
            self.counters.bytes += len(data)
            yield wait, (t, bytes(data))

    async def replay(self) -> AsyncIterator[tuple[float, bytes]]:
        """Yield chunks at the replay pace without blocking the event loop."""
        for count, (wait, chunk) in enumerate(self._paced()):
            if wait > 0.0:
                await asyncio.sleep(wait)
            elif count % 256 == 0:
                await asyncio.sleep(0)  # let other tasks run during a fast replay
            yield chunk

    def __aiter__(self) -> AsyncIterator[tuple[float, bytes]]:
        return self.replay()

    def __iter__(self) -> Iterator[tuple[float, bytes]]:
        for wait, chunk in self._paced():
            if wait > 0.0:
                time.sleep(wait)
            yield chunk
