"""``/api/v1/health`` served from bytes encoded once per snapshot, not recomputed per request.

A monitoring system may poll health many times a second while the pipeline is busy at 1,000
tracks. The backend's health (percentiles, counters of every source, the history's state)
and the sensors of the current snapshot are encoded to JSON once per snapshot, and again
after at most ``max_age_s`` (so that ages and uptimes stay current when no snapshot comes,
e.g. an api node whose core has stopped). Per request only the server's own small counters
(live clients, security) are encoded and spliced in.

* **Not computed twice.** A backend whose snapshots carry its whole health document (the
  pipeline's: ``health_in_snapshot = True``; it computes ``health()`` for every snapshot,
  which the live stream carries) is not asked again: the snapshot's document is encoded.
  Other backends (the bus api node adds its own counters) are asked once per snapshot.
* **Precomputed.** While :meth:`HealthCache.follow` runs (the app's lifespan starts it) the
  bytes are encoded as each snapshot is published, and a
  request only splices: nothing is computed on request. Without it (an app whose lifespan
  did not run) a request encodes at most once per snapshot.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from skywarden.server.backend import ServiceBackend
from skywarden.snapshot import Snapshot, json_safe

HEALTH_MAX_AGE_S = 0.5


class HealthCache:
    """The encoded health of the backend's current snapshot (see the module docstring)."""

    def __init__(
        self,
        backend: ServiceBackend,
        *,
        max_age_s: float = HEALTH_MAX_AGE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend = backend
        self.max_age_s = max_age_s
        self.clock = clock
        self.encodings = 0  # times the backend's health was computed and encoded
        self.following = False  # follow() keeps the bytes current: requests only splice
        self._key: int | None = None
        self._at = -float("inf")
        self._body = b"{}"

    async def follow(self) -> None:
        """Encode the health of each published snapshot (well under a millisecond: the
        document does not grow with the tracks), and again after max_age_s without one,
        until cancelled."""
        self.following = True
        try:
            while True:
                self._encode(self.backend.snapshot())
                seq = self._key if self._key is not None else -1
                try:
                    await asyncio.wait_for(self.backend.next_snapshot(seq), self.max_age_s)
                except TimeoutError:
                    continue
        finally:
            self.following = False

    def _encode(self, snapshot: Snapshot) -> None:
        if getattr(self.backend, "health_in_snapshot", False) and snapshot.health:
            doc = dict(snapshot.health)
        else:
            doc = dict(self.backend.health())
        doc["sensors"] = [s.to_json() for s in snapshot.sensors]
        self._body = json.dumps(json_safe(doc), separators=(",", ":")).encode()
        self._key, self._at = snapshot.seq, self.clock()
        self.encodings += 1

    def body(self, extra: dict[str, Any]) -> bytes:
        """The health document as JSON bytes: the cached backend part with ``extra``'s keys
        (small, per request) added."""
        if not self.following:
            snapshot = self.backend.snapshot()
            if snapshot.seq != self._key or self.clock() - self._at > self.max_age_s:
                self._encode(snapshot)
        if not extra:
            return self._body
        tail = json.dumps(json_safe(extra), separators=(",", ":")).encode()
        if self._body == b"{}":
            return tail
        return self._body[:-1] + b"," + tail[1:]
