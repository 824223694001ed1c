"""The edge role: sensor transports in, raw bytes onto the bus.

Each configured sensor's transport (UDP, TCP, a replayed file: skywarden.service.make_stream)
is forwarded chunk by chunk to ``skywarden.<site>.raw.<sensor>`` with its receive time (POSIX
s) and connection number as headers. Nothing is decoded here, so what the core sees, what the
stream keeps and what a later replay reads are the same bytes. Publishes are acknowledged by
JetStream (pipelined, at most ``MAX_PENDING`` in flight); a chunk larger than
``[bus] max_raw_bytes`` or one the server refused is counted per sensor, never fatal. Health
goes to ``skywarden.<site>.health.edge`` every ``HEALTH_PERIOD_S``. No HTTP port is opened.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

from skywarden.bus.connection import connect, declare_streams
from skywarden.bus.settings import BusConfig
from skywarden.bus.subjects import HEADER_CONNECTION, HEADER_T, SiteSubjects
from skywarden.site_config import SiteConfig

log = logging.getLogger(__name__)
MAX_PENDING = 4_000  # unacknowledged publishes in flight
STALL_S = 5.0  # a publish waiting longer than this for room is counted as failed
HEALTH_PERIOD_S = 2.0


@dataclass
class EdgeCounters:
    """Per sensor: chunks received, published (acknowledged), refused and oversized."""

    received: int = 0
    bytes: int = 0
    published: int = 0
    failed: int = 0
    oversized: int = 0


async def run_edge(config: SiteConfig, bus: BusConfig, stop: asyncio.Event) -> dict[str, Any]:
    """Forward every sensor's chunks until ``stop``; returns the final per-sensor counters."""
    from skywarden.service import make_stream

    subjects = SiteSubjects.of(config.name)
    nc = await connect(bus, f"skywarden-edge-{subjects.site}")
    js = nc.jetstream(publish_async_max_pending=MAX_PENDING)
    await declare_streams(js, subjects, bus)
    counters = {s.name: EdgeCounters() for s in config.sensors}
    transports: dict[str, Any] = {}
    tasks = []
    for sensor in config.sensors:
        stream, transports[sensor.name] = make_stream(sensor)
        tasks.append(asyncio.create_task(
            _forward(stream, js, subjects.raw(sensor.name), counters[sensor.name], bus),
            name=f"edge:{sensor.name}",
        ))  # fmt: skip
    tasks.append(asyncio.create_task(_health(nc, subjects, counters, transports)))
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await asyncio.wait_for(js.publish_async_completed(), timeout=STALL_S)
        except TimeoutError:
            log.warning("edge: %d publishes unacknowledged at exit", js.publish_async_pending())
        await nc.flush(timeout=2)
        await nc.close()
    return {name: asdict(c) for name, c in counters.items()}


async def _forward(stream: Any, js: Any, subject: str, counters: EdgeCounters, bus: BusConfig):
    def done(future: asyncio.Future) -> None:
        if future.cancelled() or future.exception() is not None:
            counters.failed += 1
        else:
            counters.published += 1

    async for item in stream:
        t, data = float(item[0]), bytes(item[1])
        connection = int(item[2]) if len(item) > 2 and isinstance(item[2], int) else 0
        counters.received += 1
        counters.bytes += len(data)
        if len(data) > bus.max_raw_bytes:
            counters.oversized += 1
            continue
        headers = {HEADER_T: repr(t), HEADER_CONNECTION: str(connection)}
        try:
            future = await js.publish_async(subject, data, wait_stall=STALL_S, headers=headers)
        except Exception as exc:  # stalled (server away) or the connection closed
            counters.failed += 1
            log.warning("edge: publish to %s failed: %r", subject, exc)
            continue
        future.add_done_callback(done)


async def _health(nc: Any, subjects: SiteSubjects, counters: dict, transports: dict) -> None:
    started = time.time()
    while True:
        sensors = {}
        for name, c in counters.items():
            entry: dict[str, Any] = asdict(c)
            transport_counters = getattr(transports.get(name), "counters", None)
            if transport_counters is not None:
                entry["transport"] = transport_counters.as_dict()
            sensors[name] = entry
        body = {"role": "edge", "t": time.time(), "uptime_s": time.time() - started,
                "sensors": sensors}  # fmt: skip
        try:
            await nc.publish(subjects.health("edge"), json.dumps(body).encode())
        except Exception as exc:  # reconnecting: the next period tries again
            log.debug("edge health: %r", exc)
        await asyncio.sleep(HEALTH_PERIOD_S)
