"""Senders: the send side of the transports, for the simulator's live streams and the tests.

* :class:`UdpSender` sends datagrams (unicast or multicast).
* :class:`TcpServerSender` listens and sends every chunk to each connected client (the way
  dump1090 serves SBS on 30003 and Beast on 30005).

Each keeps a :class:`~skywarden.sources.transport.TransportCounters`.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field

from skywarden.sources.transport import TransportCounters, TransportError


@dataclass
class UdpSender:
    """Send datagrams to ``host:port`` (unicast or a multicast group); plain non-blocking UDP.

    For multicast, ``multicast_interface`` picks the outgoing interface address,
    ``multicast_ttl`` the hop limit (1 = this link) and ``multicast_loop`` local delivery.
    """

    host: str
    port: int
    multicast_interface: str | None = None
    multicast_ttl: int = 1
    multicast_loop: bool = True
    counters: TransportCounters = field(default_factory=TransportCounters)
    _sock: socket.socket | None = field(default=None, init=False, repr=False)

    def _socket(self) -> socket.socket:
        if self._sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
            sock.setblocking(False)
            if self.multicast_interface is not None:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, self.multicast_ttl)
                sock.setsockopt(
                    socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, int(self.multicast_loop)
                )
                sock.setsockopt(
                    socket.IPPROTO_IP,
                    socket.IP_MULTICAST_IF,
                    socket.inet_aton(self.multicast_interface),
                )
            self._sock = sock
        return self._sock

    def send(self, payload: bytes) -> bool:
        """Send one datagram; False (and counted) if the socket refused it."""
        try:
            self._socket().sendto(payload, (self.host, self.port))
        except OSError:
            self.counters.errors += 1
            return False
        self.counters.messages += 1
        self.counters.bytes += len(payload)
        return True

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> UdpSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass
class TcpServerSender:
    """A TCP server that sends the same bytes to every connected client (like dump1090's
    30003/30005 outputs). ``port=0`` picks a free port (:attr:`port_bound`).

    A client whose unsent backlog exceeds ``max_backlog_bytes`` is dropped (counted in
    ``counters.dropped``) so that one slow reader cannot grow memory without bound.
    """

    host: str = "127.0.0.1"
    port: int = 0
    max_backlog_bytes: int = 4 * 1024 * 1024
    counters: TransportCounters = field(default_factory=TransportCounters)
    _server: asyncio.Server | None = field(default=None, init=False, repr=False)
    _clients: set[asyncio.StreamWriter] = field(default_factory=set, init=False, repr=False)
    _changed: asyncio.Condition | None = field(default=None, init=False, repr=False)
    _handlers: set[asyncio.Task] = field(default_factory=set, init=False, repr=False)

    async def start(self) -> None:
        """Listen; idempotent."""
        if self._server is not None:
            return
        self._changed = asyncio.Condition()
        try:
            self._server = await asyncio.start_server(self._on_client, self.host, self.port)
        except OSError as exc:
            raise TransportError(f"cannot listen on TCP {self.host}:{self.port}: {exc}") from exc

    @property
    def port_bound(self) -> int:
        if self._server is None:
            raise TransportError("TcpServerSender is not started")
        return self._server.sockets[0].getsockname()[1]

    @property
    def client_count(self) -> int:
        return len(self._clients)

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        self._clients.add(writer)
        self.counters.connects += 1
        try:
            await self._notify()
            while await reader.read(4096):  # clients send nothing we need; wait for EOF
                pass
        except OSError:
            self.counters.errors += 1
        except asyncio.CancelledError:
            # the loop is shutting down: end quietly (Python 3.11's stream callback calls
            # task.exception() on the handler and prints a CancelledError traceback)
            pass
        finally:
            self._handlers.discard(task)  # type: ignore[arg-type]
            if writer in self._clients:
                self._clients.discard(writer)
                self.counters.disconnects += 1
                writer.close()

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def _drop(self, writer: asyncio.StreamWriter) -> None:
        if writer in self._clients:
            self._clients.discard(writer)
            self.counters.disconnects += 1
            writer.close()
            await self._notify()

    async def wait_for_clients(self, count: int, timeout_s: float) -> bool:
        """Wait until at least ``count`` clients are connected; False on timeout."""
        assert self._changed is not None
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: len(self._clients) >= count), timeout_s
                )
            except TimeoutError:
                return False
        return True

    async def send(self, data: bytes) -> int:
        """Queue ``data`` to every client and let them drain; returns the number reached."""
        reached = 0
        for writer in list(self._clients):
            if writer.transport.get_write_buffer_size() > self.max_backlog_bytes:
                self.counters.dropped += 1
                await self._drop(writer)
                continue
            try:
                writer.write(data)
            except OSError:
                self.counters.errors += 1
                await self._drop(writer)
                continue
            reached += 1
        self.counters.messages += 1
        self.counters.bytes += len(data)
        await asyncio.sleep(0)
        return reached

    async def disconnect_clients(self) -> None:
        """Close every client connection (the server keeps listening)."""
        for writer in list(self._clients):
            await self._drop(writer)

    async def close(self) -> None:
        """Disconnect the clients, stop listening and let the client handlers end."""
        await self.disconnect_clients()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._handlers:  # each sees its connection closed (EOF) and returns
            await asyncio.wait(set(self._handlers), timeout=2.0)

    async def __aenter__(self) -> TcpServerSender:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
