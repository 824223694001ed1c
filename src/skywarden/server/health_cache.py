"""``/api/v1/health`` served from bytes encoded once per snapshot, not recomputed per request.

A monitoring system may poll health many times a second while the pipeline is busy at 1,000
tracks. The backend's health (percentiles, counters of every source, the history's state)
and the sensors of the current snapshot are encoded to JSON once per snapshot, and again
after at most ``max_age_s`` (so that ages and uptimes stay current when no snapshot comes,
e.g. an api node whose core has stopped). Per request only the server's own small counters
(live clients, security) are encoded and spliced in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from skywarden.server.backend import ServiceBackend
from skywarden.snapshot import json_safe

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
        self._key: int | None = None
        self._at = -float("inf")
        self._body = b"{}"

    def body(self, extra: dict[str, Any]) -> bytes:
        """The health document as JSON bytes: the cached backend part with ``extra``'s keys
        (small, per request) added."""
        snapshot = self.backend.snapshot()
        now = self.clock()
        if snapshot.seq != self._key or now - self._at > self.max_age_s:
            doc = dict(self.backend.health())
            doc["sensors"] = [s.to_json() for s in snapshot.sensors]
            self._body = json.dumps(json_safe(doc), separators=(",", ":")).encode()
            self._key, self._at = snapshot.seq, now
            self.encodings += 1
        if not extra:
            return self._body
        tail = json.dumps(json_safe(extra), separators=(",", ":")).encode()
        if self._body == b"{}":
            return tail
        return self._body[:-1] + b"," + tail[1:]
