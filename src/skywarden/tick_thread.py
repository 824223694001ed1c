"""The live tick's costly part in a worker thread, so that the event loop keeps serving.

At 1,000 targets a tick (tracker, classes, forecasts) takes tens to hundreds of ms of CPU. Run
on the event loop, it holds every reader back for that long: /api/v1/health waited for the
tick in progress (measured 96-1,580 ms at load 4-9), the live WebSocket fell behind its rate
and the sockets were read late. :func:`process_off_loop` runs
:meth:`~skywarden.pipeline.Pipeline.advance` (pure: tracks, classes, assessment; no listener,
no alert book) in a worker thread while the loop serves clients and reads the sockets, then
:meth:`~skywarden.pipeline.Pipeline.conclude` (alerts, snapshot, listeners) on the loop's own
thread as before. Operator actions change the alert book on the loop's thread, and only
``conclude`` writes it, so no action is lost to a tick.

One tick runs at a time (the live loop awaits each); the worker thread shares the GIL with
the loop, which gets it back at least every ``sys.getswitchinterval()`` (5 ms).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from skywarden.detections import Detections

if TYPE_CHECKING:
    from skywarden.classify.trained import Classes
    from skywarden.pipeline import Pipeline
    from skywarden.snapshot import Snapshot
    from skywarden.track.tracks import Tracks
    from skywarden.warn import Assessment, AuditEntry


@dataclass(frozen=True)
class TickWork:
    """What :meth:`Pipeline.advance` hands to :meth:`Pipeline.conclude`: the shown (confirmed,
    extrapolated) tracks, their classes and the zone assessment."""

    shown: Tracks
    classes: Classes
    assessment: Assessment


@dataclass(frozen=True)
class TickResult:
    """A processed tick: its snapshot, alert events and CPU time (ms, both threads; the
    machine's load does not change it, unlike the wall-clock latency)."""

    snapshot: Snapshot
    events: tuple[AuditEntry, ...]
    cpu_ms: float


async def process_off_loop(
    pipeline: Pipeline, t: float, detections: Detections, end_of_scan: bool | int
) -> TickResult:
    """:meth:`Pipeline.process`, with its costly part in a worker thread (module docstring)."""
    cpu0 = time.thread_time()
    detections = pipeline.take_in(t, detections)
    take_s = time.thread_time() - cpu0

    def advance() -> tuple[TickWork, float]:
        start = time.thread_time()
        work = pipeline.advance(t, detections, end_of_scan)
        return work, time.thread_time() - start

    work, worker_s = await asyncio.to_thread(advance)
    cpu1 = time.thread_time()  # (the loop's thread served others meanwhile: not counted)
    snapshot, events = pipeline.conclude(t, work)
    conclude_s = time.thread_time() - cpu1
    return TickResult(snapshot, events, (take_s + worker_s + conclude_s) * 1e3)
