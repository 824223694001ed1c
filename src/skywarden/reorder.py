"""Reorder window of the live loop: detections are processed in time order at their own times.

Sensors stamp each detection with its measurement time, and datagrams from several sensors
arrive a little after it and in any order. If the tracker ran at the loop's clock, every
detection would be older than the tracks and be clamped to the tracker's time (counted as
late). Instead the live loop holds detections for a short window and moves the tracker only
up to ``now - window``: every detection measured before that time has then arrived (unless it
was later than the window, which is counted as late), and all of them are processed in time
order at their own times.

The window follows the sensors: it is the 99th percentile of the delays (receive time minus
measurement time) of the last ``HISTORY`` detections plus 10 ms, kept within
[``MIN_WINDOW_S``, ``max_window_s``]. The receive time is when the socket received the data
(run_live passes the transport's time), not when the loop got to it: a loop that falls behind
must not widen the window and so fall further behind. Delays beyond ``max_window_s`` are left
out of the percentile: no window within the budget would wait for them (they are late
whatever it is), and a few wild times (a sensor clock's jump, a corrupted time field) must not
hold every other detection for the whole budget. Latency budget: a detection waits at most
``max_window_s`` (default 0.5 s, half a typical scan; run_live's ``reorder_window_s``) plus
the loop's gathering window before it is processed, and only as long as the slowest ~1 % of
recent detections needed (a LAN radar: a few tens of ms); the picture shows the tracks at
``now - window``. About 1 % of detections (those slower than the window) count as late.

Detections stamped in the future (a sensor clock ahead of ours) are held as if measured on
arrival, so the buffer never holds anything longer than the window.

**Per source** (``add(..., source=i)``, as run_live does): each source delivers its
measurements in time order (a radar sector by sector, a receiver message by message), so
nothing a source sends later is older than the newest measurement it has sent (its
*watermark*) or than ``now`` minus its own p99 delay. Everything measured up to the smallest
of these bounds over the sources seen, ``min_s max(watermark_s, now - delay_s)``, has arrived
and is released at once (instead of at ``now - window``: a window from all sources' delays
together released a slow source's detections before they came when a fast source sent most
of the detections). A lone radar's plots then
wait for nothing (its watermark is its newest plot) rather than for the window (~43 ms at
scale-1000, 32 sectors a second: about the sector time); with a fast ADS-B receiver beside it
they wait for the radar's watermark; a silent source holds nothing back beyond its own delay.
A source that once sends a batch older than its watermark (several radars on one port, say)
is not taken to be in order any more: only its delay bound holds it back, as the window would;
the measurements of that first batch may be late (counted by the tracker), and so may the
first ones of a source never heard from before (nothing can wait for it).

**Sources that report velocity** (every detection with a finite ``v``: Remote ID, ADS-B)
hold no other source back: their bound is left out of the minimum. A Remote ID sender's
delay is its own (20-220 ms in the simulation, up to 1 s allowed by ASTM F3411), and waiting
for it held every radar plot, and every alert a plot sets off, that long (issue 14: the
reorder hold was the largest stage of detection-in to alert-out with Remote ID drones at
1,000 tracks). Such a report that comes after the tracker has moved past its time is
processed at the tracker's time, as the tracker's grouping already takes detections up to
``pipeline.GROUP_S`` (0.2 s) apart together, and is counted late: its own velocity says
where it went meanwhile (a few metres), which a radar plot cannot.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from skywarden.detections import Detections
from skywarden.units import FloatArray

DEFAULT_REORDER_WINDOW_S = 0.5  # the most a detection may be held: the latency budget
MIN_WINDOW_S = 0.02
HISTORY = 2000
QUANTILE = 0.99
MARGIN_S = 0.01


class ReorderBuffer:
    """Detections waiting for the reorder window, with their receive times (POSIX s)."""

    def __init__(self, max_window_s: float = DEFAULT_REORDER_WINDOW_S) -> None:
        if not max_window_s >= 0.0:
            raise ValueError(f"reorder window must be >= 0 s, not {max_window_s!r}")
        self.max_window_s = max_window_s
        self.window_s = min(MIN_WINDOW_S, max_window_s)
        self._held = Detections.empty()
        self._received: FloatArray = np.zeros(0)
        self._delays: FloatArray = np.zeros(0)
        self._sources: dict[int, _SourceClock] = {}
        self._untagged = False  # a batch without its source: per-source release is unsafe

    def __len__(self) -> int:
        return len(self._held)

    def add(
        self, detections: Detections, received: float | FloatArray, source: int | None = None
    ) -> None:
        """Hold a batch received at ``received`` (POSIX s: one time, or (D,) one per detection;
        measurement times after it are clamped to it) from ``source`` (an index: see the
        module docstring; None: unknown, only the window applies)."""
        if len(detections) == 0:
            return
        t = np.minimum(detections.t, received)
        batch = detections if np.array_equal(t, detections.t) else _with_times(detections, t)
        delays = np.broadcast_to(received - t, t.shape)
        within = delays[delays <= self.max_window_s]
        if len(within):
            self._delays = np.concatenate([self._delays, within])[-HISTORY:]
            self.window_s = self._window(self._delays)
        if source is None:
            self._untagged = True
        else:
            clock = self._sources.setdefault(source, _SourceClock(delay_s=self.max_window_s))
            if float(t.min()) < clock.watermark:  # not in order (several sensors on one port?)
                clock.ordered = False
            clock.watermark = max(clock.watermark, float(t.max()))
            clock.reports_velocity &= bool(np.isfinite(detections.v).all())
            if len(within):
                clock.delays = np.concatenate([clock.delays, within])[-HISTORY:]
                clock.delay_s = self._window(clock.delays)
        self._held = Detections.concat([self._held, batch])
        self._received = np.concatenate(
            [self._received, np.broadcast_to(np.asarray(received, dtype=np.float64), t.shape)]
        )

    def add_chunks(
        self,
        detections: Detections,
        chunk_received: Sequence[float],
        now: float,
        source: int | None = None,
    ) -> None:
        """Hold a source's batch decoded from chunks received at ``chunk_received`` (POSIX
        s): each detection as received with the earliest of its chunks that could carry it
        (:func:`receive_times`), never after ``now``."""
        if len(detections):
            at = receive_times(detections.t, np.asarray(chunk_received, dtype=np.float64))
            self.add(detections, np.minimum(at, now), source)

    def release(self, now: float) -> tuple[float, Detections, float]:
        """(release time now - window, the held detections measured up to it in time order,
        the earliest time one of them was added (inf if none))."""
        until = now - self.window_s
        if self._sources and not self._untagged:  # every source has passed this time
            passed = min(
                (
                    max(c.watermark if c.ordered else -math.inf, now - c.delay_s)
                    for c in self._sources.values()
                    if not c.reports_velocity
                ),
                default=now,
            )
            until = min(passed, now)
        ready = self._held.t <= until
        if not ready.any():
            return until, Detections.empty(), float("inf")
        out = self._held.take(ready)
        first = float(self._received[ready].min())
        self._held = self._held.take(~ready)
        self._received = self._received[~ready]
        order = np.argsort(out.t, kind="stable")
        return until, out.take(order), first

    def _window(self, delays: FloatArray) -> float:
        """The p99 of ``delays`` plus the margin, within [MIN_WINDOW_S, max_window_s]."""
        wanted = float(np.quantile(delays, QUANTILE)) + MARGIN_S
        return min(max(wanted, MIN_WINDOW_S), self.max_window_s)


@dataclass
class _SourceClock:
    """One source's newest measurement time (POSIX s) and recent delays (s)."""

    watermark: float = -math.inf
    ordered: bool = True  # False once a batch came older than the watermark: delay only
    reports_velocity: bool = True  # every detection so far had a velocity: holds none back
    delays: FloatArray = field(default_factory=lambda: np.zeros(0))
    delay_s: float = DEFAULT_REORDER_WINDOW_S


def _with_times(d: Detections, t: FloatArray) -> Detections:
    return dataclasses.replace(d, t=t)  # every other column as it is


def receive_times(measured: FloatArray, chunk_received: FloatArray) -> FloatArray:
    """Each detection's receive time (POSIX s, (D,)) estimated from the receive times of the
    chunks it was decoded from, when the decoder does not say which chunk gave which
    detection: the earliest of them at or after its measurement time (the newest for a time
    after all of them). Exact when a sensor sends each measurement at once; never later than
    the true receipt, so a loop that took a backlog in one batch does not count its own
    queueing as the sensor's delay (the newest chunk's time would: measured, p99 257 ms of
    "delay" for a sender 22 ms late)."""
    times = np.sort(np.asarray(chunk_received, dtype=np.float64))
    at = np.searchsorted(times, measured, side="left")
    return times[np.minimum(at, len(times) - 1)]
