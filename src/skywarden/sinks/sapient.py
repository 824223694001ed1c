"""SAPIENT sink: skywarden as a SAPIENT node over TCP (``[sinks] sapient = "tcp://HOST:PORT"``).

The messages are built in :mod:`skywarden.sinks.sapient_messages`; this module queues and
sends them, framed as the standard says (a 4-byte little-endian length, then the protobuf,
skywarden.sources.sapient.framing). On every (re)connection the Registration goes first. A
StatusReport follows every ``status_interval_s`` of snapshot time, a DetectionReport for each
confirmed track whose measurement time advanced, and an Alert for each alert change.

It never blocks the pipeline: submitting builds and queues bytes; a full queue drops its oldest
message (counted in ``dropped``); one task writes the queue, connecting with capped exponential
backoff and reconnecting when the peer closes. What the peer sends (RegistrationAck, tasks) is
read and counted by kind (``received``); skywarden accepts no tasks.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from skywarden.sinks.reconnecting import ReconnectingSender
from skywarden.sinks.sapient_messages import (
    CONFIRMED,
    alert_message,
    detection_reports,
    node_uuid,
    registration,
    status_report,
)
from skywarden.snapshot import AlertView, Snapshot
from skywarden.sources.sapient.framing import FrameDecoder, frame
from skywarden.sources.sapient.reports import parse_messages


@dataclass
class SapientCounters:
    """Running counts of the SAPIENT sink (for /health)."""

    queued: int = 0
    sent: int = 0
    dropped: int = 0  # oldest messages pushed out of a full queue
    connects: int = 0
    disconnects: int = 0
    errors: int = 0  # failed connects and writes
    registrations: int = 0
    detection_reports: int = 0
    status_reports: int = 0
    alerts: int = 0
    last_error: str = ""  # the last failed connect or write

    def as_dict(self) -> dict[str, int | str]:
        return asdict(self)


class SapientSink(ReconnectingSender):
    """Send skywarden's picture as a SAPIENT node to host:port (a SAPIENT middleware or
    fusion node). ``node_id`` defaults to a UUID derived from ``site_name``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        site_name: str = "site",
        node_id: str | None = None,
        max_queue: int = 5000,
        initial_backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        connect_timeout_s: float = 5.0,
        status_interval_s: float = 5.0,
    ) -> None:
        self.host, self.port = host, port
        self.site_name = site_name
        self.node_id = node_id or node_uuid(site_name)
        self.initial_backoff_s, self.max_backoff_s = initial_backoff_s, max_backoff_s
        self.connect_timeout_s = connect_timeout_s
        self.status_interval_s = status_interval_s
        self.counters = SapientCounters()
        self.received: Counter[str] = Counter()
        self.received_rejects: Counter[str] = Counter()
        self.object_ids: dict[int, str] = {}
        self.alert_objects: dict[int, str] = {}
        self._sent_update: dict[int, float] = {}
        self._last_status_t = -math.inf
        self._latest_t = 0.0
        self._queue: collections.deque[bytes] = collections.deque(maxlen=max_queue)
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None

    # --- producing (called by the pipeline; never blocks) -----------------------------------

    def submit(self, message: Any) -> None:
        """Queue one SapientMessage (framed now); a full queue drops its oldest message."""
        if len(self._queue) == self._queue.maxlen:
            self.counters.dropped += 1
        self._queue.append(frame(message.SerializeToString()))
        self.counters.queued += 1
        self._idle.clear()
        self._ready.set()

    def submit_tracks(self, snapshot: Snapshot) -> int:
        """Queue a DetectionReport per confirmed track updated since it was last sent (and a
        StatusReport when one is due); returns how many DetectionReports."""
        self._latest_t = snapshot.t
        if snapshot.t - self._last_status_t >= self.status_interval_s:
            self._last_status_t = snapshot.t
            self.submit(status_report(self.node_id, snapshot.t, snapshot.site))
            self.counters.status_reports += 1
        tr = snapshot.tracks
        ids = tr.id.astype(np.int64)
        last = np.array([self._sent_update.get(int(i), -math.inf) for i in ids])
        rows = np.flatnonzero((tr.status == CONFIRMED) & (tr.t_update > last)
                              & np.isfinite(tr.lat) & np.isfinite(tr.lon))  # fmt: skip
        for msg in detection_reports(snapshot, self.node_id, self.object_ids, rows):
            self.submit(msg)
        sent = {int(i): self._sent_update.get(int(i), -math.inf) for i in ids}  # live tracks only
        sent.update({int(ids[r]): float(tr.t_update[r]) for r in rows})
        self._sent_update = sent
        live = set(self._sent_update)
        self.object_ids = {k: v for k, v in self.object_ids.items() if k in live}
        self.counters.detection_reports += int(rows.size)
        return int(rows.size)

    def submit_alert(self, alert: AlertView, t: float, note: str = "") -> bool:
        """Queue the Alert of an alert raised or changed at time t (POSIX s)."""
        oid = self.object_ids.get(alert.track_id) or self.alert_objects.get(alert.id)
        if oid is not None:
            self.alert_objects[alert.id] = oid
        if alert.state == "cleared":
            self.alert_objects.pop(alert.id, None)
        self.submit(alert_message(alert, t, self.node_id, oid, note))
        self.counters.alerts += 1
        return True

    # --- sending ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the writer task (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"sapient {self.host}:{self.port}")

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    async def _connect(self) -> bool:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.connect_timeout_s
            )
            reg = registration(self.node_id, self._latest_t, self.site_name,
                               status_interval_s=self.status_interval_s)  # fmt: skip
            writer.write(frame(reg.SerializeToString()))
            await writer.drain()
        except (OSError, TimeoutError) as exc:
            self.counters.errors += 1
            self.counters.last_error = f"connect: {type(exc).__name__}: {exc}"
            return False
        self._writer = writer
        self._reader_task = asyncio.create_task(self._watch(reader, writer))
        self.counters.connects += 1
        self.counters.registrations += 1
        return True

    async def _watch(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read what the peer sends (counted by kind); notice when it closes the connection."""
        decoder = FrameDecoder()
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                parse_messages(decoder.feed(data), self.received_rejects, self.received)
        self.received_rejects.update(decoder.rejects)
        if self._writer is writer:
            self._drop_connection()
        self._ready.set()

    async def _send(self, data: bytes) -> bool:
        return await self._write(data)

    def health(self) -> dict[str, Any]:
        return {
            **self._link_health(),
            "received": dict(self.received),
            "received_rejects": dict(self.received_rejects),
        }

    def output_health(self) -> dict[str, dict[str, Any]]:
        """This output's counters under its label (skywarden.sinks.delivery_health)."""
        return {f"sapient tcp://{self.host}:{self.port}": self.health()}

    async def close(self, timeout_s: float = 2.0) -> None:
        """Try to drain for up to timeout_s, then stop and close the connection."""
        await self._stop_tasks(timeout_s)
        self._drop_connection()

    async def __aenter__(self) -> SapientSink:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
