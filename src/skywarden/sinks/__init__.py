"""Sinks: tracks and alerts out of skywarden (webhook JSON POSTs, Cursor-on-Target to TAK).

Sinks read snapshots and alert audit entries only; they never block the pipeline (bounded
queues with counted drops, asyncio tasks that retry and reconnect on their own).
"""

from skywarden.sinks.cot import CotCounters, CotSink, cot_time
from skywarden.sinks.cot import alert_event as cot_alert_event
from skywarden.sinks.cot import track_events as cot_track_events
from skywarden.sinks.webhook import WebhookCounters, WebhookSink
from skywarden.sinks.webhook import alert_event as webhook_alert_event

__all__ = [
    "CotCounters",
    "CotSink",
    "WebhookCounters",
    "WebhookSink",
    "cot_alert_event",
    "cot_time",
    "cot_track_events",
    "webhook_alert_event",
]
