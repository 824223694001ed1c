"""The bus core's clock: the raw stream's time, which is the wall clock when the core keeps up.

The live loop (skywarden.loop.run_live) holds detections in a reorder window and releases
them up to ``clock() - window``, the window being the 99th percentile of recent delays
``clock() - measurement time`` (skywarden.reorder). On the wall clock, a core that falls
behind the stream for a moment (a slow tick, a picture to encode, a busy machine) sees every
datagram it takes as late by that much: the window grows to its 0.5 s limit and holds every
later alert back by as much, long after the core has caught up.

The raw stream is in the order the edge received the datagrams, and each carries the edge's
receive time ``Sw-T``. So the core's clock reads the time of the newest datagram the loop took.
Only when the core has caught up (it took everything the server had, ``caught_up``) does it
advance with the wall clock from the moment that datagram was taken, so that scans close and
the window releases while nothing arrives; it is never ahead of the wall clock:

    clock = min(wall, t_edge + (wall - wall when it was taken if caught up else 0))

A core that keeps up reads (nearly) the wall clock; one that is behind reads the stream's
time, and its reorder window measures the sensors' delays to the edge, not its own backlog
nor how long it took to decode. Everything measured before ``t_edge - window`` reached the
edge before the datagram just taken, so it has been taken already: releasing up to there
makes no detection late.

The clock is not monotonic: read during a long tick (caught up, as far as the core knows), it
advances with the wall clock, and it steps back to the stream's time when the datagrams that
arrived meanwhile are fetched. (Kept monotonic, it would stay as far ahead of the stream as
the tick was long, which is what it is for to avoid.) It never goes back before the newest
datagram taken; the pipeline never moves its tracks back (it processes at ``max(release
time, tracks' time)``). While replaying (warm-up, catch-up) the clock is ``fixed`` at the
replayed message's time.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class CoreClock:
    """POSIX seconds: fixed while replaying, else the stream's time (see the module)."""

    follows_receive_times = True  # the edges' receive times (wall clock) are on this clock

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self.wall = wall
        self.fixed: float | None = None
        self._edge_t = -float("inf")  # Sw-T of the newest datagram taken
        self._taken_at = 0.0  # wall clock when it was taken
        self.caught_up = True  # the core took all the server had (skywarden.bus.core)

    def took(self, t_edge: float) -> None:
        """The live loop took a datagram the edge received at ``t_edge`` (POSIX s)."""
        if t_edge > self._edge_t:
            self._edge_t = t_edge
            self._taken_at = self.wall()

    def __call__(self) -> float:
        if self.fixed is not None:
            return self.fixed
        wall = self.wall()
        if self._edge_t == -float("inf"):  # nothing taken yet
            return wall
        advance = wall - self._taken_at if self.caught_up else 0.0
        return min(wall, self._edge_t + advance)

    def lag_s(self) -> float:
        """Seconds the clock is behind the wall clock (0 for a core that keeps up)."""
        return max(self.wall() - self(), 0.0) if self.fixed is None else 0.0
