"""Stated limits of the input side: every buffer and table that a feed's bytes can grow.

A sensor (or anyone who can send to its port) decides what arrives, so no state that input
creates may grow without bound. Each limit below is a fixed number with ageing where the
state belongs to an emitter; what does not fit is dropped, counted as a reject reason of the
feed (``FeedCounters.rejects``, per sensor in ``/api/v1/health``) and logged at most once per
:data:`OVERFLOW_LOG_INTERVAL_S` per reason and feed.

=============================  =========  ===================================================
state                          limit      at the limit (reject reason)
=============================  =========  ===================================================
SBS partial line               4 KiB      line dropped up to its newline (``line_too_long``)
Beast partial frame            44 bytes   by construction of the framing (never exceeded)
Remote ID transmitters         4,096      least recently heard forgotten
                                          (``remote_id_table_full``); idle ones are forgotten
                                          after 120 s (not a reject)
Remote ID duplicate memory     4,096 UAs  least recently heard forgotten (not counted: it only
                                          stops repeats of one Location being reported twice)
Mode S aircraft state          10,000     least recently heard forgotten
                                          (``modes_table_full``); idle ones after 600 s
identity names / callsigns     10,000     least recently set forgotten (``label_table_full``);
                                          the pipeline's merged tables hold 40,000
=============================  =========  ===================================================

Beyond the feeds: the loop's queue holds at most 200,000 chunks (more are dropped and counted
per source, ``queue_full``), each UDP socket at most ``queue_size`` datagrams
(``transport_queue_full``) and its kernel buffer (``kernel_dropped``); the tracker's
candidates (single unexplained detections) are dropped after ``tentative_max_misses`` scans
(track/candidates.py) and trails keep 30 points per live track (trails.py). The number of
tracks itself has no cap yet.

A real site sees at most a few thousand aircraft and a few hundred Remote ID transmitters,
so the limits are reached only by floods (spoofed or broken senders), never by traffic.
Measured (benchmarks/input_floods.py): a flood beyond every limit grows the service's RSS
once, to the limits' working set, and not again on a second flood.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

SBS_MAX_LINE_BYTES = 4096  # a real SBS line is < 200 bytes
BEAST_MAX_PARTIAL_BYTES = 2 + 2 * (7 + 14)  # 0x1A, type, every body byte escaped (long frame)
REMOTE_ID_MAX_TRANSMITTERS = 4096
REMOTE_ID_IDLE_S = 120.0  # a broadcasting UA sends its Basic ID at least every 3 s
REMOTE_ID_FORGET_EVERY_S = 1.0  # how often (feed time) the feed ages its Remote ID table
MODES_MAX_AIRCRAFT = 10_000
MAX_LABELS = 10_000  # identity key -> name, and -> callsign, per feed
PIPELINE_MAX_LABELS = 4 * MAX_LABELS  # the pipeline's merged tables (every feed's labels)
OVERFLOW_LOG_INTERVAL_S = 60.0

# the reject reasons that mean "a limit above was reached" (the feeds log these)
LINE_TOO_LONG = "line_too_long"
REMOTE_ID_TABLE_FULL = "remote_id_table_full"
MODES_TABLE_FULL = "modes_table_full"
LABEL_TABLE_FULL = "label_table_full"
OVERFLOW_REASONS = (LINE_TOO_LONG, REMOTE_ID_TABLE_FULL, MODES_TABLE_FULL, LABEL_TABLE_FULL)

log = logging.getLogger("skywarden.sources")


class BoundedLabels(Mapping[int, str]):
    """A mapping identity key -> label that keeps at most ``limit`` entries (least recently
    set forgotten first; ``evicted`` counts them) and remembers which keys were set since
    the last :meth:`take_new` (so readers copy only what changed)."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        self.limit = limit
        self.evicted = 0
        self._items: dict[int, str] = {}
        self._new: dict[int, str] = {}

    def __getitem__(self, key: int) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[int]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __setitem__(self, key: int, value: str) -> None:
        items = self._items
        if items.get(key) == value:
            items[key] = items.pop(key)  # most recently set goes last
            return
        items.pop(key, None)
        items[key] = value
        self._new[key] = value
        if len(items) > self.limit:
            del items[next(iter(items))]
            self.evicted += 1
        if len(self._new) > self.limit:
            del self._new[next(iter(self._new))]

    def update(self, other: Mapping[int, str] | Iterable[tuple[int, str]] = ()) -> None:  # type: ignore[override]
        """Set every pair of ``other`` (a mapping or (key, label) pairs), in order."""
        pairs = other.items() if isinstance(other, Mapping) else other
        for key, value in pairs:
            self[key] = value

    def take_new(self) -> dict[int, str]:
        """The entries set (or changed) since the last call; clears that list."""
        new, self._new = self._new, {}
        return new


@dataclass
class OverflowLog:
    """Logs a feed's limit rejects: the first at once, then at most one line per reason per
    ``interval_s`` of the feed's clock, each with the count since the last line."""

    name: str
    interval_s: float = OVERFLOW_LOG_INTERVAL_S

    def __post_init__(self) -> None:
        self._logged: dict[str, tuple[float, int]] = {}  # reason -> (time, count) last logged

    def note(self, t: float, rejects: Mapping[str, int]) -> None:
        """Check the overflow reasons in ``rejects`` (cumulative counts) at time t (s)."""
        for reason in OVERFLOW_REASONS:
            count = rejects.get(reason, 0)
            if not count:
                continue
            last_t, last_count = self._logged.get(reason, (-float("inf"), 0))
            if count > last_count and not t - last_t < self.interval_s:
                log.warning("%s: %d more %s rejects (input beyond a stated limit; %d in all)",
                            self.name, count - last_count, reason, count)  # fmt: skip
                self._logged[reason] = (t, count)
