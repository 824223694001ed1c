"""Per-source health for /api/v1/health: the live counts of each feed and its transport.

Called by the live loop once per tick (cheap: a few sources, and only the identity labels
set since the last tick are copied). Everything here is cumulative for the life of the
service: a TCP reconnect keeps the feed (and its reject counts) and the transport's counts.

``sources[name]`` (pipeline.source_health) has the feed's counts (messages, bytes, records,
detections, rejects by reason, last_message_t), ``dropped`` (the loop's queue was full) and
``transport`` (TransportCounters: connects, errors, queue drops, refused senders, the kernel's
UDP drops, the granted receive buffer). ``sensors[]`` (the snapshot's SensorView) shows
connected (UDP bound / TCP connected / file replaying), messages, last message time and
every loss by reason: the feed's rejects plus ``queue_full``, ``transport_queue_full``,
``refused_sender`` and ``kernel_dropped``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from skywarden.loop import LiveSource
    from skywarden.pipeline import Pipeline


def note_sources(pipeline: Pipeline, sources: Sequence[LiveSource], dropped: Sequence[int]) -> None:
    """Refresh the pipeline's identity labels and per-source health from the live feeds."""
    live: dict[str, tuple[bool, dict[str, Any]]] = {}
    for i, src in enumerate(sources):
        pipeline.names.update(src.feed.names.take_new())
        pipeline.callsigns.update(src.feed.callsigns.take_new())
        health = src.feed.counters.as_dict()
        health["dropped"] = dropped[i]
        transport = src.transport
        refresh = getattr(transport, "refresh_kernel_drops", None)
        if refresh is not None:
            refresh()  # at most once a second: reads /proc/net/udp
        counters = getattr(transport, "counters", None)
        if counters is not None:
            health["transport"] = counters.as_dict()
        pipeline.source_health[src.name] = health
        live[src.name] = (bool(getattr(transport, "connected", True)), health)
    if live and pipeline.sensors:
        pipeline.sensors = tuple(_live_view(v, live.get(v.name)) for v in pipeline.sensors)


def losses(health: dict[str, Any]) -> dict[str, int]:
    """Every input lost on the way in, by reason (feed rejects and transport drops)."""
    out = dict(health.get("rejects", {}))
    transport = health.get("transport", {})
    for reason, count in (
        ("queue_full", health.get("dropped", 0)),
        ("transport_queue_full", transport.get("dropped", 0)),
        ("refused_sender", transport.get("refused", 0)),
        ("kernel_dropped", transport.get("kernel_dropped", 0)),
    ):
        if count:
            out[reason] = int(count)
    return out


def _live_view(view: Any, live: tuple[bool, dict[str, Any]] | None) -> Any:
    if live is None:
        return view
    connected, health = live
    return replace(
        view,
        connected=connected,
        messages=int(health["messages"]),
        rejects=losses(health),
        last_message_t=float(health["last_message_t"]),
    )
