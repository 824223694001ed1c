"""The loops that drive the pipeline's tick: live (sockets, the wall clock) and replay (recorded
raw inputs, their own receive times).

:func:`run_live` gathers what the sources deliver, decodes it in the feeds and calls
:meth:`~skywarden.pipeline.Pipeline.process`, closing a scan every ``scan_period_s``;
:func:`replay_inputs` does the same from recorded ``(t_receive, source, bytes)`` inputs.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from skywarden.detections import Detections
from skywarden.reorder import DEFAULT_REORDER_WINDOW_S, ReorderBuffer
from skywarden.scan_closes import scans_due
from skywarden.snapshot import Snapshot
from skywarden.source_health import note_sources
from skywarden.sources.feeds import Feed
from skywarden.tick_thread import process_off_loop

if TYPE_CHECKING:
    from skywarden.pipeline import Pipeline

# A batch ends batch_window_s after its first chunk, or earlier once no chunk has come for
# BATCH_QUIET_S, if the previous batch ended at least batch_window_s before: a radar sends each
# sector's datagrams in one burst (the simulator's scale-1000: 3 at once, every 31 ms), which
# the whole 20 ms window only made wait, while chunks that come more often than once a window
# are still gathered into at most one tick per window, as before (the tick's cost at 1,000
# tracks is mostly per tick, not per detection).
BATCH_QUIET_S = 0.002


@dataclass
class LiveSource:
    """One configured input: its feed (decoder state) and its byte stream.

    ``stream`` yields ``(receive_time_s, bytes[, connection])`` tuples (UdpSource,
    TcpClientSource, or a replay); ``transport`` exposes ``counters`` for /health.
    """

    name: str
    feed: Feed
    stream: AsyncIterable[tuple]
    transport: Any = None


async def run_live(
    pipeline: Pipeline,
    sources: Sequence[LiveSource],
    stop: asyncio.Event,
    *,
    batch_window_s: float = 0.02,
    batch_quiet_s: float = BATCH_QUIET_S,
    on_raw: Callable[[str, float, bytes], None] | None = None,
    max_queue: int = 200_000,
    reorder_window_s: float = DEFAULT_REORDER_WINDOW_S,
    receive_times_on_clock: bool = True,
) -> None:
    """Drive the pipeline from live sources until ``stop`` is set.

    Data is processed as it arrives: the loop waits for the first chunk, gathers whatever else
    arrives within ``batch_window_s`` (until ``batch_quiet_s`` pass with none), decodes it and runs
    :meth:`Pipeline.process`; a scan is closed every ``scan_period_s`` of the pipeline's clock even
    when nothing arrives. The latency recorded for /health is from when the loop took the earliest
    of the released detections (on the pipeline's clock) to the end of their processing (alerts
    out), so it includes the reorder wait. A full queue drops chunks and counts them per source.
    With ``receive_times_on_clock`` (the transports stamp on the pipeline's clock: the wall
    clock, a recording's, the bus core's) a detection's delay and latency start when its
    transport received it; otherwise (a test's sped-up clock) when the loop took it.
    Detections wait in a reorder buffer (reorder.py; at most ``reorder_window_s``, as long as
    the sensors' recent delays need) so that the tracker takes them in time order at their
    own times.
    """
    queue: asyncio.Queue[tuple[int, float, bytes, int]] = asyncio.Queue(max_queue)
    dropped = [0] * len(sources)
    pumps = [
        asyncio.create_task(_pump(i, src, queue, dropped), name=f"source:{src.name}")
        for i, src in enumerate(sources)
    ]
    period = pipeline.config.scan_period_s
    scan_end = pipeline.clock() + period
    reorder = ReorderBuffer(reorder_window_s)
    t_tick = -math.inf  # the last tick's time
    gathered = -math.inf  # when the last batch was gathered (monotonic s)
    try:
        while not stop.is_set():
            wait = min(scan_end - pipeline.clock(), reorder.window_s if len(reorder) else math.inf)
            items = await _gather(
                queue, stop, wait, batch_window_s, batch_quiet_s, gathered + batch_window_s
            )
            gathered = time.monotonic() if items else gathered
            per_source: dict[int, list[tuple[float, bytes, int]]] = {}
            taken_at = pipeline.clock()
            for i, t, data, connection in items:
                if on_raw is not None:  # history times on the pipeline's clock, for replay
                    on_raw(sources[i].name, t if receive_times_on_clock else taken_at, data)
                per_source.setdefault(i, []).append((t, data, connection))
            batches = [
                (sources[i].feed.feed_many(chunks), [c[0] for c in chunks])
                for i, chunks in per_source.items()
            ]
            now = pipeline.clock()
            for source, (detections, received) in zip(per_source, batches, strict=True):
                # when the transport received them: queueing in the loop is not the sensor's
                # delay (with a clock the transports do not share, the loop's now)
                if receive_times_on_clock:
                    reorder.add_chunks(detections, received, now, source)
                else:
                    reorder.add(detections, now)
            until, ready, taken = reorder.release(now)
            scans = scans_due(now, scan_end, period)  # > 1 after a long tick: closes them all
            end_of_scan = scans > 0
            scan_end += scans * period  # the next scan end after now
            pipeline.queue_depth = queue.qsize()
            note_sources(pipeline, sources, dropped)  # before the tick: its snapshot shows it
            if len(ready) or end_of_scan:
                # never back in time: the release time (now - window) may step back
                t_process = max(until, pipeline.tracks.t, t_tick)
                t_tick = t_process
                started = time.perf_counter()
                tick = await process_off_loop(pipeline, t_process, ready, scans)
                pipeline.tick_wall_ms.append((time.perf_counter() - started) * 1e3)
                pipeline.tick_cpu_ms.append(tick.cpu_ms)
            if len(ready):
                pipeline.latency_ms.append((pipeline.clock() - taken) * 1e3)
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)


def replay_inputs(
    pipeline: Pipeline,
    feeds: dict[str, Feed],
    inputs: Iterable[tuple[float, str, bytes]],
    *,
    batch_window_s: float = 0.02,
    before_tick: Callable[[float], None] | None = None,
    reorder_window_s: float = DEFAULT_REORDER_WINDOW_S,
    batch_quiet_s: float = BATCH_QUIET_S,
) -> Iterator[Snapshot]:
    """Drive the pipeline offline from recorded raw inputs ``(t_receive, source, bytes)`` in receive
    order, as :func:`run_live` does on the live clock: inputs are batched (within
    ``batch_window_s``, a batch ending at a gap over ``batch_quiet_s``), decoded, held in the same
    reorder buffer (at most ``reorder_window_s``) and processed in time order at their own times,
    with a scan closed every ``scan_period_s`` of receive time. The receive times play the live
    clock's part, so a replay takes each detection when the live loop could have: a detection that
    reached the live service late is late in the replay too. Inputs of unknown sources are counted
    in ``pipeline.source_health['unknown']``. Yields each snapshot. ``before_tick(t)`` runs before
    each tick at receive time t (replay applies the recorded runtime changes there)."""
    sources = [LiveSource(name, feed, ()) for name, feed in feeds.items()]
    replay = _Replay(pipeline, sources, before_tick, ReorderBuffer(reorder_window_s))
    period = pipeline.config.scan_period_s
    scan_end: float | None = None
    batch: dict[str, list[tuple[float, bytes, int]]] = {}
    batch_start = batch_last = 0.0
    last_batch = -math.inf  # when the previous batch ended (its last input's receive time)
    unknown = 0
    for t, source, payload in inputs:
        if scan_end is None:
            scan_end = t + period
        quiet_end = max(batch_last + batch_quiet_s, last_batch + batch_window_s)
        if batch and (t - batch_start > batch_window_s or t > quiet_end):  # as _gather
            yield from replay.step(batch_last, replay.decode(feeds, batch), batch_last >= scan_end)
            scan_end = _next_scan_end(scan_end, batch_last, period)
            batch, last_batch = {}, batch_last
        while True:  # the live loop's wake-ups with no data: held detections, ended scans
            wake = replay.wake_up(scan_end)
            if wake >= t:
                break
            yield from replay.step(wake, [], wake >= scan_end)
            if wake >= scan_end:
                scan_end += period
        feed = feeds.get(source)
        if feed is None:
            unknown += 1
            pipeline.source_health["unknown"] = {"messages": unknown}
            continue
        if not batch:
            batch_start = t
        batch.setdefault(source, []).append((t, payload, 0))
        batch_last = t
    if scan_end is None:
        return
    if batch:
        yield from replay.step(batch_last, replay.decode(feeds, batch), batch_last >= scan_end)
    yield from replay.drain()


class _Replay:
    """replay_inputs' reorder buffer and ticks (run_live's, with receive times as the clock)."""

    def __init__(
        self,
        pipeline: Pipeline,
        sources: list[LiveSource],
        before_tick: Callable[[float], None] | None,
        reorder: ReorderBuffer,
    ) -> None:
        self.pipeline = pipeline
        self.sources = sources  # the feeds, for identity labels and health as live
        self.before_tick = before_tick if before_tick is not None else (lambda t: None)
        self.reorder = reorder
        self.now = -math.inf  # the receive time of the last step
        self.t_tick = -math.inf  # the last tick's time

    def wake_up(self, scan_end: float) -> float:
        """When the live loop, idle since ``now``, would next tick: at the scan's end, or
        after the reorder window while detections are held."""
        held = self.now + self.reorder.window_s if len(self.reorder) else math.inf
        return min(scan_end, held)

    def decode(
        self, feeds: dict[str, Feed], batch: dict[str, list[tuple[float, bytes, int]]]
    ) -> list[tuple[int, Detections, list[float]]]:
        """Each source's decoded batch: (source index, detections, its chunks' receive times)."""
        index = {src.name: k for k, src in enumerate(self.sources)}
        return [
            (index[name], feeds[name].feed_many(chunks), [c[0] for c in chunks])
            for name, chunks in batch.items()
        ]

    def step(
        self, now: float, decoded: list[tuple[int, Detections, list[float]]], end_of_scan: bool
    ) -> Iterator[Snapshot]:
        """Hold decoded batches (received at their chunks' times) and tick at receive time now."""
        self.now = now
        for source, d, chunk_times in decoded:
            self.reorder.add_chunks(d, chunk_times, now, source)
        until, ready, _ = self.reorder.release(now)
        if len(ready) or end_of_scan:
            self.before_tick(now)
            note_sources(self.pipeline, self.sources, [0] * len(self.sources))
            t = max(until, self.pipeline.tracks.t, self.t_tick)  # as run_live: never back
            self.t_tick = t
            snapshot, _ = self.pipeline.process(t, ready, end_of_scan=end_of_scan)
            yield snapshot

    def drain(self) -> Iterator[Snapshot]:
        """The end of the inputs: process what the window still holds."""
        while len(self.reorder):
            yield from self.step(self.now + self.reorder.max_window_s, [], False)


def _next_scan_end(scan_end: float, t: float, period: float) -> float:
    return max(scan_end + period, t) if t >= scan_end else scan_end


async def _gather(
    queue: asyncio.Queue,
    stop: asyncio.Event,
    timeout_s: float,
    window_s: float,
    quiet_s: float = BATCH_QUIET_S,
    quiet_from: float = -math.inf,
) -> list[tuple[int, float, bytes, int]]:
    """Wait up to timeout_s for a chunk, then take what arrives within window_s, ending early
    once quiet_s pass with no chunk, from the monotonic time quiet_from on (BATCH_QUIET_S: the
    previous batch's end plus the window). When chunks were already waiting (they
    arrived during the previous tick: the loop is behind), take them at once: waiting the
    window as well would only add to their latency."""
    if not queue.empty():
        items = []
        while not queue.empty():
            items.append(queue.get_nowait())
        await asyncio.sleep(0)  # let the server answer between back-to-back ticks
        return items
    items = []
    try:
        items.append(await asyncio.wait_for(queue.get(), timeout=max(timeout_s, 0.0)))
    except TimeoutError:
        return items
    last = time.monotonic()  # when a chunk was last taken
    deadline = last + window_s
    while time.monotonic() < deadline and not stop.is_set():
        if not queue.empty():
            while not queue.empty():
                items.append(queue.get_nowait())
            last = time.monotonic()
        elif time.monotonic() - last >= quiet_s and time.monotonic() >= quiet_from:
            break
        await asyncio.sleep(min(0.002, window_s))
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


async def _pump(index: int, source: LiveSource, queue: asyncio.Queue, dropped: list[int]) -> None:
    """Move one source's chunks into the shared queue; a full queue drops and counts."""
    async for item in source.stream:
        t, data = float(item[0]), bytes(item[1])
        connection = int(item[2]) if len(item) > 2 and isinstance(item[2], int) else 0
        try:
            queue.put_nowait((index, t, data, connection))
        except asyncio.QueueFull:
            dropped[index] += 1
