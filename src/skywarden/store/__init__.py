"""History store (DuckDB): raw inputs, detections, track states, alerts, audit and rejects.

:class:`HistoryWriter` appends in batched transactions; :class:`HistoryReader` queries time
windows; :func:`replay_alerts` re-runs recorded inputs and diffs the alerts; :func:`export`
writes GeoJSON/CSV. The schema is documented in :mod:`skywarden.store.schema`.
"""

from skywarden.store.export import export
from skywarden.store.history import AlertChangeFilter, HistoryCounters, HistoryWriter
from skywarden.store.reader import HistoryMeta, HistoryReader, RawInput
from skywarden.store.replay import AlertDiff, AlertSummary, replay_alerts
from skywarden.store.schema import SCHEMA_VERSION, HistoryError

__all__ = [
    "SCHEMA_VERSION",
    "AlertChangeFilter",
    "AlertDiff",
    "AlertSummary",
    "HistoryCounters",
    "HistoryError",
    "HistoryMeta",
    "HistoryReader",
    "HistoryWriter",
    "RawInput",
    "export",
    "replay_alerts",
]
