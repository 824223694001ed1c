"""The core role: the site's tracker, fed from the raw stream, publishing the picture.

Start-up, so that a ``kill -9`` loses no raw input and tracks re-form:

1. **Warm-up.** The durable consumer ``core`` on ``SW_<SITE>_RAW`` remembers the last
   acknowledged message (its ack floor; for a new consumer, the stream's last message). The
   raw messages of the ``[bus] replay_window_s`` before it are replayed through a fresh
   pipeline on their own receive times (skywarden.loop.replay_inputs), so tracks re-form;
   nothing is published for them (it was, before the restart).
2. **Catch-up.** The durable consumer is re-created from the ack floor + 1 (so unacknowledged
   messages come at once and in order, not after an ack wait) and everything up to the
   stream's end at start-up is replayed the same way, now publishing and acknowledging.
3. **Live.** The rest runs through the single-process code path (skywarden.service.serve and
   skywarden.loop.run_live: reorder buffer, scans, history, sinks) with each sensor's chunks
   taken from the bus; each message is acknowledged as the loop takes it (after the chunks
   before it were processed; a restart's warm-up covers the reorder buffer's short wait).
   The loop's clock is the raw stream's time (skywarden.bus.core_clock: the edge's receive
   time of the newest datagram taken, advancing with the wall clock, never ahead of it), so
   a core that falls behind for a moment does not widen its reorder window for every later
   alert. Fetches return as soon as a message is there (:func:`fetch_available`).

Bad raw messages (no or bad headers, unknown sensor, larger than ``max_raw_bytes``) are counted
per reason, acknowledged and dropped. Snapshots go to ``skywarden.<site>.picture`` (coalesced:
the newest one when the previous publish is done), alert events and the audit trail to their
durable streams, health to ``skywarden.<site>.health.core``; operator actions and queries are
answered on ``skywarden.<site>.rpc`` (skywarden.bus.rpc). No HTTP port is opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import logging
import math
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from skywarden.bus.connection import connect, declare_streams
from skywarden.bus.core_clock import CoreClock
from skywarden.bus.picture_process import Encoded, PictureEncoder, encode_without_collecting
from skywarden.bus.rpc import answer
from skywarden.bus.settings import BusConfig
from skywarden.bus.subjects import HEADER_CONNECTION, HEADER_T, SiteSubjects, token
from skywarden.gc_pauses import freeze_start_up
from skywarden.site_config import SiteConfig
from skywarden.snapshot import Snapshot
from skywarden.warn import AuditEntry

log = logging.getLogger(__name__)
FETCH_BATCH = 512
LIVE_FETCH_WAIT_S = 0.25  # the live fetch's long poll (returns as soon as a message comes)
WARM_UP_PATIENCE = 10  # fetches of 1 s without a message before the warm-up gives up
REPLAY_BATCH_S = 0.25  # warm-up and catch-up: raw input of this span per tick
MAX_IN_FLIGHT = 20_000  # raw messages handed to the loop and not yet taken by it
HEALTH_PERIOD_S = 2.0
IDLE_CHECK_S = 1.0  # the publisher's longest wait
ALERT_PICTURE_GAP_S = 0.1  # pictures for alert changes: at most this often besides the rate


@dataclass
class CoreCounters:
    """What the core took from the bus (health)."""

    warm_up: int = 0
    catch_up: int = 0
    live: int = 0
    acked: int = 0
    rejects: Counter = field(default_factory=Counter)
    alerts_published: int = 0
    pictures_published: int = 0
    publish_failed: int = 0
    rpc_requests: int = 0
    picture_encoder: Callable[[], dict] | None = None  # its health (picture_process.py)

    def as_dict(self) -> dict[str, Any]:
        out = {k: dict(v) if isinstance(v, Counter) else v for k, v in self.__dict__.items()}
        out["picture_encoder"] = self.picture_encoder() if self.picture_encoder else None
        return out


class RawMessages:
    """Parses raw bus messages into ``(t, sensor, data, connection)`` (or counts a reject)."""

    def __init__(self, config: SiteConfig, bus: BusConfig, counters: CoreCounters) -> None:
        self.sensors = {token(s.name): s.name for s in config.sensors}
        self.max_bytes = bus.max_raw_bytes
        self.counters = counters

    def parse(self, msg: Any) -> tuple[float, str, bytes, int] | None:
        reason = None
        sensor = self.sensors.get(msg.subject.rsplit(".", 1)[-1])
        headers = msg.headers or {}
        try:
            t = float(headers[HEADER_T])
            connection = int(headers.get(HEADER_CONNECTION, 0))
        except (KeyError, ValueError):
            reason, t, connection = "bad_header", 0.0, 0
        if reason is None and not t == t:  # NaN
            reason = "bad_header"
        if sensor is None:
            reason = "unknown_sensor"
        elif len(msg.data) > self.max_bytes:
            reason = "oversized"
        if reason is not None:
            self.counters.rejects[reason] += 1
            return None
        return t, sensor, bytes(msg.data), connection


async def run_core(
    config: SiteConfig, bus: BusConfig, stop: asyncio.Event, *, classifier: Callable | None = None
) -> CoreCounters:
    """Run the site's core until ``stop`` (see the module docstring)."""
    from skywarden.service import build_service, serve

    subjects = SiteSubjects.of(config.name)
    nc = await connect(bus, f"skywarden-core-{subjects.site}")
    js = nc.jetstream()
    await declare_streams(js, subjects, bus)
    counters = CoreCounters()
    encoder = PictureEncoder(encode_without_collecting)
    encoder.start()  # its child starts (imports) while the core warms up
    counters.picture_encoder = encoder.health
    raw = RawMessages(config, bus, counters)
    clock = CoreClock()
    feeder = LiveFeeder(raw, counters, clock)
    service = build_service(config, classifier=classifier, with_server=False, clock=clock,
                            streams=feeder.stream_for)  # fmt: skip
    pipeline = service.pipeline
    feeds = {s.name: s.feed for s in service.sources}
    log.info("core: pipeline built")
    floor = await _ack_floor(js, subjects)
    log.info("core: ack floor %d", floor)
    counters.warm_up = await _warm_up(js, subjects, bus, raw, pipeline, feeds, clock, floor)
    psub = await _durable(js, subjects, floor)
    log.info("core: durable consumer from %d", floor + 1)
    publisher = Publisher(js, nc, subjects, counters, 1.0 / config.live_rate_hz, encoder.encode)
    pipeline.listeners.append(publisher.on_snapshot)
    counters.catch_up = await _catch_up(js, subjects, psub, raw, pipeline, feeds, clock, counters)
    clock.fixed = None
    service.raw_listeners.append(feeder.taken)
    freeze_start_up()  # then what start-up built, which lives on, is left out of every later
    # full collection: those came with the picture's ~100k new objects a second
    rpc = await nc.subscribe(subjects.rpc, cb=_rpc_handler(pipeline, counters))
    tasks = [
        asyncio.create_task(feeder.fetch(psub, stop)),
        asyncio.create_task(feeder.acknowledge()),
        asyncio.create_task(publisher.run()),
        asyncio.create_task(_health(nc, subjects, pipeline, counters)),
        asyncio.create_task(_relay(stop, service.stop)),
    ]
    log.info("core %s: warm-up %d, catch-up %d raw messages; live", subjects.site,
             counters.warm_up, counters.catch_up)  # fmt: skip
    try:
        await serve(service)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await feeder.flush_acks()
        await rpc.unsubscribe()
        await _close(nc)
        encoder.close()
    return counters


async def _ack_floor(js: Any, subjects: SiteSubjects) -> int:
    """The last acknowledged raw message (stream sequence); for a new consumer, the stream's
    last message (a new core starts now, after warming up on the recent window)."""
    from nats.js.errors import NotFoundError

    try:
        info = await js.consumer_info(subjects.stream("raw"), subjects.core_consumer)
        return int(info.ack_floor.stream_seq)
    except NotFoundError:
        pass
    try:  # a core died between deleting and re-creating the consumer: the floor it noted
        noted = await js.get_last_msg(subjects.stream("core"), subjects.core_floor)
        return int(noted.data)
    except (NotFoundError, ValueError):
        info = await js.stream_info(subjects.stream("raw"))
        return int(info.state.last_seq)


async def _warm_up(js, subjects, bus, raw, pipeline, feeds, clock, floor: int) -> int:
    """Replay the window before the ack floor (nothing published); returns the count."""
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
    from nats.js.errors import NotFoundError

    if floor <= 0 or bus.replay_window_s <= 0:
        return 0
    stream = subjects.stream("raw")
    try:
        last = await js.get_msg(stream, floor)
        t_floor = float((last.headers or {}).get(HEADER_T, time.time()))
    except (NotFoundError, ValueError):
        return 0  # expired from the stream: nothing recent to re-form from
    start = datetime.datetime.fromtimestamp(t_floor - bus.replay_window_s, datetime.UTC)
    config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=start,
                            ack_policy=AckPolicy.NONE, inactive_threshold=30.0)  # fmt: skip
    sub = await js.pull_subscribe(subjects.raw_all, stream=stream, config=config)
    count, waits = 0, 0
    try:
        while True:
            try:
                msgs = await sub.fetch(FETCH_BATCH, timeout=1.0)
            except TimeoutError:  # nats' or asyncio's; a busy server can be slow: the window
                waits += 1  # up to the floor is there, so wait a while before giving up
                if waits >= WARM_UP_PATIENCE:
                    log.warning("core: warm-up stopped: nothing delivered for %d s", waits)
                    break
                continue
            waits = 0
            msgs = [m for m in msgs if m.metadata.sequence.stream <= floor]
            count += _replay(pipeline, feeds, clock, [raw.parse(m) for m in msgs])
            if not msgs or msgs[-1].metadata.sequence.stream >= floor:
                break
    finally:
        await sub.unsubscribe()
    return count


async def _durable(js: Any, subjects: SiteSubjects, floor: int) -> Any:
    """The durable consumer, re-created to deliver from floor + 1 at once."""
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
    from nats.js.errors import NotFoundError

    stream = subjects.stream("raw")
    await js.publish(subjects.core_floor, str(floor).encode())  # noted before the delete
    try:
        await js.delete_consumer(stream, subjects.core_consumer)
    except NotFoundError:
        pass
    config = ConsumerConfig(
        durable_name=subjects.core_consumer, deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=floor + 1, ack_policy=AckPolicy.EXPLICIT, ack_wait=60.0,
        max_ack_pending=MAX_IN_FLIGHT * 2,
    )  # fmt: skip
    return await js.pull_subscribe(
        subjects.raw_all, durable=subjects.core_consumer, stream=stream, config=config
    )


async def _catch_up(js, subjects, psub, raw, pipeline, feeds, clock, counters) -> int:
    """Process (publishing, acknowledging) what arrived up to the stream's end at start."""
    end = int((await js.stream_info(subjects.stream("raw"))).state.last_seq)
    count = 0
    while True:
        try:
            msgs = await psub.fetch(FETCH_BATCH, timeout=0.5)
        except TimeoutError:  # nats' own (a subclass) or asyncio's, both seen
            break
        count += _replay(pipeline, feeds, clock, [raw.parse(m) for m in msgs])
        for m in msgs:
            await m.ack()
        counters.acked += len(msgs)
        if msgs[-1].metadata.sequence.stream >= end:
            break
    return count


def _replay(pipeline, feeds, clock: CoreClock, parsed: list) -> int:
    """Run parsed raw messages (None: rejected) through the pipeline on their own receive
    times, in ticks of REPLAY_BATCH_S (the live loop's 20 ms ticks would make a restarted
    core's warm-up and catch-up as slow as the live rate; the tracker still takes the
    detections in time order); returns how many were taken."""
    from skywarden.loop import replay_inputs

    def inputs():
        for item in parsed:
            if item is not None:
                t, sensor, data, _ = item
                clock.fixed = t
                yield t, sensor, data

    for _ in replay_inputs(
        pipeline, feeds, inputs(), batch_window_s=REPLAY_BATCH_S, batch_quiet_s=math.inf
    ):
        pass
    return sum(item is not None for item in parsed)


async def fetch_available(psub: Any, pending: int, timeout_s: float) -> list:
    """The next messages of a pull consumer as soon as there are any.

    nats-py's ``fetch(n)`` for n > 1 with nothing waiting makes a lingering request and then
    holds the first message that arrives until n have come or ``timeout_s`` is over: live,
    where datagrams trickle in, that added up to ``timeout_s`` to every message's latency.
    So: when the server said nothing more was pending, wait for ONE message (returned the
    moment it arrives); when it said ``pending`` more were waiting, ask for exactly those
    (at most FETCH_BATCH), which the server delivers at once."""
    batch = min(FETCH_BATCH, pending) if pending > 0 else 1
    return await psub.fetch(batch, timeout=timeout_s)


def _num_pending(msg: Any) -> int:
    """Messages the consumer still had for us when ``msg`` was delivered (0 if unknown)."""
    try:
        return int(msg.metadata.num_pending)
    except Exception:  # no JetStream reply subject (NotJSMessageError) or a malformed one
        return 0


class LiveFeeder:
    """Hands the durable consumer's messages to each sensor's stream of the live loop and
    acknowledges each one when the loop takes it (``taken``, a raw listener)."""

    def __init__(self, raw: RawMessages, counters: CoreCounters, clock: CoreClock) -> None:
        self.raw = raw
        self.counters = counters
        self.clock = clock
        self.queues: dict[str, asyncio.Queue] = {}
        self.pending: dict[str, deque] = {}  # per sensor: messages handed out, in order
        self.to_ack: deque = deque()
        self.ack_ready = asyncio.Event()
        self.in_flight = 0
        self.server_pending = 0  # what the server still had for us after the last fetch

    def stream_for(self, sensor: Any) -> tuple[AsyncIterator[tuple], Any]:
        queue: asyncio.Queue = asyncio.Queue()
        self.queues[sensor.name] = queue
        self.pending[sensor.name] = deque()
        return self._stream(sensor.name, queue), None

    async def _stream(self, name: str, queue: asyncio.Queue) -> AsyncIterator[tuple]:
        while True:
            msg, t, data, connection = await queue.get()
            self.pending[name].append(msg)
            yield t, data, connection

    def taken(self, source: str, t: float, data: bytes) -> None:
        self.clock.took(t)
        pending = self.pending.get(source)
        if pending:
            self.to_ack.append(pending.popleft())
            self.in_flight -= 1
            self.ack_ready.set()
        self._note_caught_up()

    def _note_caught_up(self) -> None:
        """The clock advances with the wall clock only when nothing is left to take."""
        self.clock.caught_up = self.in_flight <= 0 and self.server_pending == 0

    async def fetch(self, psub: Any, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if self.in_flight > MAX_IN_FLIGHT:
                await asyncio.sleep(0.005)
                continue
            try:
                msgs = await fetch_available(psub, self.server_pending, LIVE_FETCH_WAIT_S)
            except TimeoutError:  # nats' own (a subclass) or asyncio's, both seen
                self.server_pending = 0
                self._note_caught_up()
                continue
            except Exception as exc:  # reconnecting: try again shortly (on the wall clock)
                log.warning("core: fetch: %r", exc)
                self.server_pending = 0
                self._note_caught_up()
                await asyncio.sleep(0.5)
                continue
            self.server_pending = _num_pending(msgs[-1])
            for msg in msgs:
                item = self.raw.parse(msg)
                if item is None:
                    self.to_ack.append(msg)  # counted and dropped
                    continue
                t, sensor, data, connection = item
                self.counters.live += 1
                self.in_flight += 1
                self.queues[sensor].put_nowait((msg, t, data, connection))
            self._note_caught_up()
            self.ack_ready.set()

    async def acknowledge(self) -> None:
        while True:
            await self.ack_ready.wait()
            self.ack_ready.clear()
            await self.flush_acks()

    async def flush_acks(self) -> None:
        while self.to_ack:
            msg = self.to_ack.popleft()
            try:
                await msg.ack()
                self.counters.acked += 1
            except Exception as exc:  # redelivered after a restart: no loss
                log.debug("core: ack: %r", exc)


class Publisher:
    """Alert events and audit entries onto the bus as they happen; the newest picture every
    ``picture_period_s`` (the WebSocket's rate: encoding a large picture per tick would cost
    the tracker its CPU), and one more at once (``ALERT_PICTURE_GAP_S`` after the previous one
    at the earliest, at most one between two on the period, so at most twice the rate) after
    a tick or an operator action that changed an alert: api nodes show alerts from the
    picture, so on the period alone a console saw a new alert up to a whole period late."""

    def __init__(
        self, js: Any, nc: Any, subjects: SiteSubjects, counters: CoreCounters,
        picture_period_s: float, encode: Callable[[Snapshot], Any] | None = None,
    ) -> None:  # fmt: skip
        self.js, self.nc, self.subjects, self.counters = js, nc, subjects, counters
        self.encode = encode or _encode_in_thread  # async: snapshot -> (payload, headers)
        self.period_s = picture_period_s
        self.next_picture = 0.0  # monotonic s
        self.last_picture = -float("inf")  # monotonic s
        self.alert_changed = False  # a snapshot since the last picture came with alert events
        self.early_allowed = True  # no early picture since the last one on the period
        self.latest: Snapshot | None = None
        self.events: deque[tuple[str, bytes]] = deque()
        self.ready = asyncio.Event()

    def on_snapshot(self, snapshot: Snapshot, events: tuple[AuditEntry, ...]) -> None:
        """A pipeline listener: called for each tick and each operator action."""
        self.latest = snapshot
        self.alert_changed = self.alert_changed or bool(events)
        views = {a.id: a for a in snapshot.alerts}
        for e in events:
            entry = audit_json(e)
            self.events.append((self.subjects.audit, json.dumps(entry).encode()))
            view = views.get(e.alert_id)
            alert = {**entry, "alert": view.to_json() if view is not None else None}
            self.events.append((self.subjects.alerts, json.dumps(alert).encode()))
        self.ready.set()

    async def run(self) -> None:
        # Stops when cancelled, even where a wait swallowed the cancellation (Python 3.11's
        # timeouts can, when they expire at that moment): it used to wait on ``ready`` for
        # ever then, and run_core never returned (a core that ignored SIGTERM). So the task's
        # own cancelling() is checked, and no wait is longer than IDLE_CHECK_S.
        # The picture goes in a task of its own: alert events never wait for its encoding
        # (measured: a tick's alert waited up to 112 ms for the picture before it).
        task = asyncio.current_task()
        picture: asyncio.Task | None = None
        try:
            while task is None or not task.cancelling():
                busy = picture is not None and not picture.done()
                wait = (IDLE_CHECK_S if self.latest is None or busy
                        else self._picture_due() - time.monotonic())  # fmt: skip
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(min(wait, IDLE_CHECK_S)):
                            await self.ready.wait()
                self.ready.clear()
                await self.flush_events()
                if picture is None or picture.done():
                    snapshot = self._take_picture()
                    if snapshot is not None:
                        picture = asyncio.create_task(self._send_picture(snapshot, True))
        finally:
            if picture is not None:
                picture.cancel()

    def _picture_due(self) -> float:
        """When the next picture may go (monotonic s)."""
        if self.alert_changed and self.early_allowed:
            return min(self.next_picture, self.last_picture + ALERT_PICTURE_GAP_S)
        return self.next_picture

    async def flush(self) -> None:
        """The events, then the picture if one is due (awaited)."""
        await self.flush_events()
        snapshot = self._take_picture()
        if snapshot is not None:
            await self._send_picture(snapshot)

    async def flush_events(self) -> None:
        """Publish the alert events and audit entries waiting, and await JetStream's acks."""
        futures = []
        while self.events:
            subject, payload = self.events.popleft()
            try:
                futures.append(await self.js.publish_async(subject, payload, wait_stall=5.0))
            except Exception as exc:
                self.counters.publish_failed += 1
                log.warning("core: publish %s: %r", subject, exc)
        if futures:
            done = await asyncio.gather(*futures, return_exceptions=True)
            failed = sum(isinstance(d, BaseException) for d in done)
            self.counters.publish_failed += failed
            self.counters.alerts_published += (len(done) - failed) // 2

    def _take_picture(self) -> Snapshot | None:
        """The snapshot to send now, if a picture is due (and the schedule moved on)."""
        if self.latest is None or time.monotonic() < self._picture_due():
            return None
        snapshot, self.latest, self.alert_changed = self.latest, None, False
        self.last_picture = time.monotonic()
        self.early_allowed = self.last_picture >= self.next_picture  # this one on the period
        self.next_picture = self.last_picture + self.period_s
        return snapshot

    async def _send_picture(self, snapshot: Snapshot, wake: bool = False) -> None:
        """Encode (~37 ms of CPU at 1,000 tracks, ~22 of it holding the GIL: in a child
        process, picture_process.py) and publish; ``wake``: tell run() when done."""
        try:
            payload, headers = await self.encode(snapshot)
            await self.nc.publish(self.subjects.picture, payload, headers=headers or None)
            self.counters.pictures_published += 1
        except Exception as exc:
            self.counters.publish_failed += 1
            log.warning("core: picture: %r", exc)
        finally:
            if wake:
                self.ready.set()


async def _encode_in_thread(snapshot: Snapshot) -> Encoded:
    return await asyncio.to_thread(encode_without_collecting, snapshot)


async def _relay(stop: asyncio.Event, service_stop: asyncio.Event) -> None:
    await stop.wait()
    service_stop.set()


async def _close(nc: Any) -> None:
    """Send what is buffered (acknowledgements last), then close (a drain would wait for the
    cancelled fetch's subscription)."""
    try:
        await nc.flush(timeout=2)
    except Exception as exc:
        log.warning("core: flush at exit: %r", exc)
    await nc.close()


def audit_json(e: AuditEntry) -> dict[str, Any]:
    return {"t": e.t, "alert_id": e.alert_id, "action": e.action, "who": e.who,
            "role": e.role, "state": e.state.name.lower(), "zone_id": e.zone_id,
            "note": e.note}  # fmt: skip


def _rpc_handler(pipeline: Any, counters: CoreCounters) -> Callable:
    async def handle(msg: Any) -> None:
        counters.rpc_requests += 1
        reply = answer(pipeline, msg.data, counters.rejects)
        if msg.reply:
            await msg.respond(reply)

    return handle


async def _health(nc: Any, subjects: SiteSubjects, pipeline: Any, counters: CoreCounters):
    while True:
        body = {"role": "core", "t": time.time(), "pipeline": pipeline.health(),
                "bus": counters.as_dict()}  # fmt: skip
        try:
            await nc.publish(subjects.health("core"), json.dumps(body).encode())
        except Exception as exc:
            log.debug("core health: %r", exc)
        await asyncio.sleep(HEALTH_PERIOD_S)
