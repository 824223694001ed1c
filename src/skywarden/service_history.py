"""The live service's history: what it stores, its flush task with backoff, the retention
policy, restart continuity and the last flush at shutdown.

Wiring only (skywarden.service builds the service and calls these): the writer is
:class:`skywarden.store.history.HistoryWriter`, its write health
:mod:`skywarden.store.write_health`, the raw-input cap :mod:`skywarden.store.raw_budget`, the
retention :mod:`skywarden.store.retention`, the restart :mod:`skywarden.restart`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from skywarden.snapshot import Snapshot
from skywarden.warn import AuditEntry

log = logging.getLogger(__name__)


def store_snapshot(service: Any, snapshot: Snapshot, events: tuple[AuditEntry, ...]) -> None:
    """Per snapshot: track states, alert changes, audit events and the sources' new rejects
    (which also tell the raw-input cap which sources are rejecting)."""
    history = service.history
    history.add_snapshot(snapshot)
    history.add_audit(events)
    for src in service.sources:
        rejects = src.feed.counters.rejects
        history.add_reject_totals(snapshot.t, src.name, rejects)
        if service.raw_budget is not None:
            service.raw_budget.note_rejects(
                src.name, sum(rejects.values()), src.feed.counters.records
            )


def record_history(service: Any, config: Any) -> None:
    """What the history stores besides snapshots: the detections each tick consumed, the
    sources' new rejects per snapshot, raw input (capped for rejecting sources,
    skywarden.store.raw_budget); and its health under /health ``history``."""
    from skywarden.store.raw_budget import RawRejectBudget

    history, pipeline = service.history, service.pipeline
    service.raw_budget = RawRejectBudget(config.history.raw_reject_kb_s * 1000.0)
    pipeline.detection_listeners.append(history.add_detections)
    pipeline.health_parts["history"] = lambda: {
        **history.status(),
        "raw_inputs_skipped": service.raw_budget.skipped.as_dict(),
    }


def resume_from_history(service: Any) -> None:
    """Track and alert numbers go on from the history and open alerts come back with their
    operator states (skywarden.restart); every flush then stores the id reservation."""
    from skywarden.restart import IdReservation, restart_state, resume

    pipeline = service.pipeline
    t = pipeline.clock()
    state = restart_state(service.history.reader(), pipeline.frame, t)
    service.history.add_audit(resume(pipeline, state, t))
    service.history.meta_source = IdReservation(
        lambda: (pipeline.tracks.next_id, pipeline.book.next_id)
    )


def raw_recorder(service: Any) -> Callable[[str, float, bytes], None] | None:
    if service.history is None:
        return None
    history, budget = service.history, service.raw_budget

    def record(source: str, t: float, data: bytes) -> None:
        if budget is None or budget.admit(source, t, len(data)):
            history.add_raw(t, source, data)

    return record


async def flush_history(service: Any, every_s: float) -> None:
    """Flush every every_s. A failed flush is logged at once (ERROR), shown in /health as
    degraded (``history``), and retried with exponential backoff (at most 30 s) while the
    rows wait in memory, bounded and counted (skywarden.store.write_health); the recovery is
    logged too. The pipeline, and so the warning, goes on all the while."""
    from skywarden.store.history import HistoryError

    history = service.history
    recoveries = 0
    retention = _Retention(service)
    while True:
        await asyncio.sleep(history.health.backoff_s(every_s))
        await retention.maybe_run()
        try:
            await asyncio.to_thread(history.flush)
        except HistoryError as exc:
            h = history.health
            if h.consecutive == 1 or h.consecutive % 10 == 0:
                log.error("history: %s (failure %d in a row; %d rows held, %d dropped; "
                          "retry in %.1f s)", exc, h.consecutive, history.pending_rows,
                          history.counters.dropped_rows, h.backoff_s(every_s))  # fmt: skip
            continue
        if history.health.recoveries > recoveries:
            recoveries = history.health.recoveries
            log.warning("history: writes work again (%d rows dropped while they failed)",
                        history.counters.dropped_rows)  # fmt: skip


class _Retention:
    """Runs the history's retention policy every RETENTION_EVERY_S (in a thread)."""

    def __init__(self, service: Any) -> None:
        from skywarden.store.retention import RETENTION_EVERY_S

        self.service, self.every_s = service, RETENTION_EVERY_S
        policy = service.pipeline.config.history
        self.needed = policy.retention_days > 0 or policy.max_size_mb > 0
        self.next = time.monotonic()

    async def maybe_run(self) -> None:
        from skywarden.store.history import HistoryError

        if not self.needed or time.monotonic() < self.next:
            return
        self.next = time.monotonic() + self.every_s
        history, pipeline = self.service.history, self.service.pipeline
        try:
            result = await asyncio.to_thread(
                history.apply_retention, pipeline.config.history, pipeline.clock()
            )
        except HistoryError as exc:
            log.error("history: %s", exc)
            return
        if result.deleted:
            log.info("history retention: deleted %s; %.1f MB in use", result.deleted,
                     result.used_bytes / 1e6)  # fmt: skip


def close_history(history: Any) -> None:
    """The last flush and close at shutdown; a failing disk is logged, not raised."""
    from skywarden.store.history import HistoryError

    try:
        history.close()
    except HistoryError as exc:
        log.error("history: the last flush failed, %d rows not stored: %s",
                  history.pending_rows, exc)  # fmt: skip
