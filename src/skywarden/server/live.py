"""Live snapshots to every WebSocket client: encoded once, sent at a fixed maximum rate.

One broadcast task waits for each new snapshot (``backend.next_snapshot``: newer than the one
current when the first client subscribed, then newer than the last one sent), takes its
pre-encoded ``json_bytes`` (computed once per snapshot, whatever the number of clients) and
offers that same ``bytes`` object to every subscriber's bounded queue. It then sleeps so that
broadcasts are at least ``1 / rate_hz`` seconds apart; snapshots that arrive meanwhile are
skipped (the next broadcast takes the latest). A subscriber whose queue is full is dropped
rather than allowed to slow anyone else: its ``dropped`` event is set and it is forgotten.

Encodings (``/api/v1/live?encoding=...``): ``json`` (the default: the snapshot's JSON as is),
``deflate`` (that JSON compressed once per snapshot, zlib format, for every client that asks:
~3-5x smaller), ``delta`` (a keyframe, then compressed JSON deltas against the previous
broadcast with sequence numbers: skywarden.server.live_delta) or ``compact`` (the map's:
quantised binary columns, only what changed, compressed: skywarden.server.live_compact; ~20
kB a message at 1,000 moving tracks where ``deflate`` sends ~450 kB). Compression happens
once per broadcast snapshot, in a worker thread, never once per client: the server runs
without permessage-deflate (which compressed every message again for every client: at 50
clients that was most of the service's CPU).

Clocks: the pace is kept with ``asyncio.sleep`` (the event loop's monotonic clock): broadcasts
are due every ``1 / rate_hz`` seconds from the previous one (not that long after it was sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from skywarden.server.auth import Authenticator, websocket_token
from skywarden.server.backend import ServiceBackend
from skywarden.server.live_compact import MAX_STRINGS, CompactState
from skywarden.server.live_compact import encode as compact_encode
from skywarden.server.live_delta import DeltaEncoder

log = logging.getLogger(__name__)


ENCODINGS = ("json", "deflate", "delta", "compact")


def encoded(snapshot: Any, encoding: str) -> bytes:
    """The snapshot's bytes in ``json`` or ``deflate`` (each computed once per snapshot; the
    ``delta`` encoding depends on the previous broadcast: LiveBroadcaster encodes it)."""
    return snapshot.deflate_bytes if encoding == "deflate" else snapshot.json_bytes


@dataclass(eq=False)
class Subscription:
    """One client's bounded queue of pre-encoded snapshots (bytes, oldest first)."""

    queue: asyncio.Queue[bytes]
    dropped: asyncio.Event = field(default_factory=asyncio.Event)
    encoding: str = "json"

    def offer(self, data: bytes) -> bool:
        """Queue data without waiting; False (and ``dropped`` set) if the client is too slow."""
        if self.dropped.is_set():
            return False
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.dropped.set()
            return False
        return True

    async def get(self) -> bytes | None:
        """The next snapshot's bytes, or None once the subscription has been dropped."""
        if self.dropped.is_set():
            return None
        getter = asyncio.ensure_future(self.queue.get())
        dropped = asyncio.ensure_future(self.dropped.wait())
        try:
            await asyncio.wait({getter, dropped}, return_when=asyncio.FIRST_COMPLETED)
        finally:  # also when the caller is cancelled: leave no task behind
            dropped.cancel()
            if not getter.done():
                getter.cancel()
        return getter.result() if getter.done() and not getter.cancelled() else None


class LiveBroadcaster:
    """Fans each new snapshot's bytes out to all subscribers at most ``rate_hz`` times a second."""

    def __init__(self, backend: ServiceBackend, rate_hz: float = 2.0, queue_size: int = 4):
        if not rate_hz > 0.0:
            raise ValueError(f"live rate must be positive, got {rate_hz} Hz")
        if queue_size < 1:
            raise ValueError(f"per-client queue size must be at least 1, got {queue_size}")
        self.backend = backend
        self.rate_hz = float(rate_hz)
        self.queue_size = int(queue_size)
        self.sent = 0  # broadcasts so far
        self.dropped_clients = 0
        self._subs: set[Subscription] = set()
        self._has_subs = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_seq = -1  # the newest snapshot already sent (or current when clients joined)
        self.delta = DeltaEncoder()  # keyframes and deltas (skywarden.server.live_delta)
        # the compact encoding's client state after the last broadcast, the snapshot it is
        # of, and a joining client's keyframe of it; changed only under _compact_lock
        self.compact: CompactState | None = None
        self._compact_snapshot: Any = None
        self._compact_join: tuple[CompactState, bytes] | None = None
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    @property
    def clients(self) -> int:
        return len(self._subs)

    def subscribe(self, encoding: str = "json") -> Subscription:
        """A new client's subscription; starts the broadcast task if it is not running."""
        if encoding not in ENCODINGS:
            raise ValueError(f"unknown live encoding {encoding!r} (use {' or '.join(ENCODINGS)})")
        sub = Subscription(asyncio.Queue(maxsize=self.queue_size), encoding=encoding)
        if not self._subs:  # the first client gets the current snapshot from its endpoint
            self._last_seq = max(self._last_seq, self.backend.snapshot().seq)
        self._subs.add(sub)
        self._has_subs.set()
        self.start()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)
        if not self._subs:
            self._has_subs.clear()

    def start(self) -> None:
        """Start the broadcast task in the running loop (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name="live-broadcast")

    async def stop(self) -> None:
        """Cancel the broadcast task and wait for it to end."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def publish(self, data: bytes | dict[str, bytes]) -> None:
        """Offer the same bytes object (per encoding: ``{encoding: bytes}``) to every
        subscriber; drop those that are full. A subscriber whose encoding is not in ``data``
        (it joined while the broadcast was encoded, after its first message) waits for the
        next one."""
        for sub in list(self._subs):
            payload = data if isinstance(data, bytes) else data.get(sub.encoding)
            if payload is None:  # joined while this broadcast was encoded: the next one
                continue
            if not sub.offer(payload):
                self.unsubscribe(sub)
                self.dropped_clients += 1
                log.warning("live: dropped a WebSocket client that could not keep up")
        self.sent += 1

    async def run(self) -> None:
        """Broadcast forever: wait for clients and a new snapshot, publish, keep the pace."""
        period = 1.0 / self.rate_hz
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            await self._has_subs.wait()
            try:
                snapshot = await self.backend.next_snapshot(self._last_seq)
                self._last_seq = snapshot.seq
                async with self._compact_lock():  # no client joins between encode and publish
                    self.publish(await self._encode(snapshot))
            except asyncio.CancelledError:
                raise
            except Exception:  # a backend fault must not end the live feed for good
                log.exception("live: failed to get or encode a snapshot; retrying")
            due = max(due + period, loop.time())  # broadcasts at least one period apart
            await asyncio.sleep(due - loop.time())

    async def _encode(self, snapshot: Any) -> dict[str, bytes]:
        """The snapshot's bytes in each encoding a subscriber uses, encoded in a worker
        thread (the JSON of 1,000 tracks takes tens of ms: not on the event loop)."""
        wanted = {sub.encoding for sub in self._subs}  # (no JSON for compact-only clients)

        base = self.compact

        def encode_all() -> tuple[dict[str, bytes], CompactState | None]:
            out = {e: encoded(snapshot, e) for e in wanted if e not in ("delta", "compact")}
            if "delta" in wanted:
                out["delta"] = self.delta.encode(snapshot.to_json())
            state = None
            if "compact" in wanted:  # a keyframe for all when the string table is full
                fresh = base is None or base.n_strings > MAX_STRINGS
                out["compact"], state = compact_encode(None if fresh else base, snapshot)
            return out, state

        out, state = await asyncio.to_thread(encode_all)
        if state is not None:
            self.compact, self._compact_snapshot = state, snapshot
        return out

    def _compact_lock(self) -> asyncio.Lock:
        """The running loop's lock over the compact state (tests run several loops in turn)."""
        loop = asyncio.get_running_loop()
        if loop not in self._locks:
            self._locks = {loop: asyncio.Lock()}
        return self._locks[loop]

    async def join_compact(self, current: Any) -> tuple[Subscription, bytes]:
        """A ``compact`` client's subscription and first message: a keyframe of the state
        the next broadcast's delta applies to (of ``current`` before any broadcast)."""
        async with self._compact_lock():
            state = self.compact
            if state is None:
                first, state = await asyncio.to_thread(compact_encode, None, current)
                self.compact, self._compact_snapshot = state, current
                self._compact_join = (state, first)
            elif self._compact_join is None or self._compact_join[0] is not state:
                snapshot = self._compact_snapshot
                first, _ = await asyncio.to_thread(compact_encode, None, snapshot, state.table)
                self._compact_join = (state, first)
            first = self._compact_join[1]
            return self.subscribe("compact"), first

    async def first_message(self, snapshot: Any, encoding: str) -> bytes:
        """A joining client's first message: the snapshot, or for ``delta`` a keyframe that
        the next broadcast's delta applies to."""
        if encoding == "delta":
            return await asyncio.to_thread(self.delta.first_message, snapshot.to_json())
        return await asyncio.to_thread(encoded, snapshot, encoding)


def live_endpoint(
    backend: ServiceBackend, broadcaster: LiveBroadcaster, auth: Authenticator
) -> Callable[[WebSocket], Any]:
    """The ``/api/v1/live`` WebSocket handler: authenticate, send the current snapshot, then
    every broadcast until the client leaves or falls behind (closed 1013)."""

    async def live(websocket: WebSocket) -> None:
        """Each new snapshot's JSON (binary frames, UTF-8; ``?encoding=deflate``: that JSON
        zlib-compressed; ``?encoding=compact``: skywarden.server.live_compact's messages), at
        most live_rate_hz a second; authenticated (see
        skywarden.server.auth) before the first one."""
        token, subprotocol = websocket_token(websocket)
        principal = auth.remembered(token)
        if principal is None and token:
            principal = await asyncio.to_thread(auth.principal, token)
        if principal is None:
            await websocket.close(1008, "sign in: a viewer token is needed")
            return
        encoding = websocket.query_params.get("encoding", "json")
        if encoding not in ENCODINGS:
            await websocket.close(
                1008, f"unknown encoding {encoding[:40]!r}: json, deflate, delta or compact"
            )
            return
        await websocket.accept(subprotocol=subprotocol)
        if encoding == "compact":
            sub, first_bytes = await broadcaster.join_compact(backend.snapshot())
        else:
            sub = broadcaster.subscribe(encoding)
        tasks: list[asyncio.Task[Any]] = []
        try:
            if encoding != "compact":
                first_bytes = await broadcaster.first_message(backend.snapshot(), encoding)
            await websocket.send_bytes(first_bytes)
            tasks = [
                asyncio.create_task(_pump(websocket, sub)),
                asyncio.create_task(_until_disconnect(websocket)),
                asyncio.create_task(sub.dropped.wait()),
            ]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if sub.dropped.is_set():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(websocket.close(1013, "client too slow"), 5.0)
        except (WebSocketDisconnect, ConnectionError):
            pass
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)  # retrieve their errors
            broadcaster.unsubscribe(sub)

    return live


async def _pump(websocket: WebSocket, sub: Subscription) -> None:
    while (data := await sub.get()) is not None:
        await websocket.send_bytes(data)


async def _until_disconnect(websocket: WebSocket) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
