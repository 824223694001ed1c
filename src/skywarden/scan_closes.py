"""Closing every scan that one tick's detections span, not just one.

The live loop closes the tracker's scan (hits, misses, confirmation, deletion:
track/lifecycle.record_scan) when its clock passes the scan's end, at most once per tick. A
tick that runs long (the first scan on an empty tracker, a busy machine, a stalled bus core)
leaves several scan periods of detections for the next tick, and that tick closed one scan
for all of them: a track seen in one of those scans counted no miss for the others, a clutter
tentative track gathered plots of several scans as if of one (confirmed sooner), and misses
were under-counted until the tracker caught up -- if it caught up.

Now the loop counts the scan ends its clock passed (:func:`scans_due`), and the pipeline
closes that many scans: ``scans - 1`` closes at times that divide the span since its last
close evenly (:func:`close_times`), each between the groups of detections measured before and
after it, and the tick's own close at its time, as before. Each closed scan is then about one
period long, as when the loop keeps up. Callers that close one scan per call (replay,
``evaluate``, tests) pass ``True`` and get exactly one close.
"""

from __future__ import annotations

import math


def scans_due(now: float, scan_end: float, period_s: float) -> int:
    """How many scan ends (``scan_end``, ``scan_end + period_s``, ...; POSIX s) are at or
    before ``now``: 0 while the scan is open, 1 for a loop that keeps up."""
    if not now >= scan_end:
        return 0
    if not period_s > 0.0:
        return 1
    n = 1 + int(math.floor((now - scan_end) / period_s))
    while scan_end + n * period_s <= now:  # rounding: the next end (the loop's
        n += 1  # scan_end + n * period_s) is after now, the last one passed is not
    while n > 1 and scan_end + (n - 1) * period_s > now:
        n -= 1
    return n


def close_times(last_close: float | None, t: float, scans: int) -> list[float]:
    """The times (POSIX s, increasing) of the closes before the tick's own close at ``t``
    when it closes ``scans`` scans: ``scans - 1`` times dividing (``last_close``, ``t``)
    into ``scans`` equal scans; empty when there is nothing to divide: one scan or fewer, no
    close before (``last_close`` None) or one not before ``t``."""
    if scans <= 1 or last_close is None or not last_close < t:
        return []
    step = (t - last_close) / scans
    return [last_close + k * step for k in range(1, scans)]
