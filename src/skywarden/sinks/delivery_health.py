"""Whether the configured outputs (webhooks, Cursor-on-Target, SAPIENT, CAT062) deliver: the
``outputs`` part of ``/api/v1/health`` and a log line when one starts or stops failing.

An output whose receiver is down must not fail silently: operators would think their tools get
the warnings. Each sink reports its counters per target through ``output_health()`` (target
label -> counters); :class:`DeliveryWatch` turns them, once per tick, into a status:

- ``degraded`` while a stream output is not connected and has messages waiting, while a
  webhook's last attempt failed and events wait, or for ``hold_s`` seconds after any new
  error, failure or drop (``errors``, ``failed``, ``dropped`` grew);
- ``ok`` otherwise (an output with nothing to send yet is ``ok``: it connects on demand).

A degraded output makes the whole ``/health`` degraded (its ``degraded`` list names it), and
each change of an output's status is logged once: a warning with the reason when it starts
failing, an info line when it delivers again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

log = logging.getLogger("skywarden.outputs")

LOSS_COUNTERS = ("errors", "failed", "dropped")  # counters whose growth is a delivery failure


class ReportsDelivery(Protocol):
    def output_health(self) -> dict[str, dict[str, Any]]: ...


def _losses(counters: dict[str, Any]) -> int:
    return sum(int(counters.get(k, 0)) for k in LOSS_COUNTERS)


def _stuck(counters: dict[str, Any]) -> str:
    """Why an output cannot deliver now ("" if it can)."""
    waiting = int(counters.get("queued_now", 0))
    if counters.get("connected") is False and waiting > 0:
        return f"not connected, {waiting} waiting"
    if counters.get("last_attempt_failed") and waiting > 0:
        return f"last attempt failed ({counters.get('last_error', '')}), {waiting} waiting"
    return ""


class DeliveryWatch:
    """The delivery status of every output of ``sinks`` (see the module docstring).

    Args:
        sinks: objects with ``output_health()``; others are ignored.
        hold_s: seconds an output stays degraded after its last new error, failure or drop.
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(self, sinks: Iterable[Any], hold_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.sinks: Sequence[ReportsDelivery] = [
            s for s in sinks if callable(getattr(s, "output_health", None))
        ]
        self.hold_s = hold_s
        self.clock = clock
        self._losses: dict[str, int] = {}  # target -> errors + failed + dropped last look
        self._lost_at: dict[str, float] = {}  # target -> when that sum last grew
        self._reason: dict[str, str] = {}  # target -> why it is degraded ("" when ok)

    def __bool__(self) -> bool:
        return bool(self.sinks)

    def health(self) -> dict[str, Any]:
        """``{"status", "error", "targets": {label: {"status", "reason", counters...}}}``;
        logs each status change."""
        now = self.clock()
        targets: dict[str, dict[str, Any]] = {}
        for sink in self.sinks:
            for label, counters in sink.output_health().items():
                reason = self._judge(label, counters, now)
                targets[label] = {"status": "degraded" if reason else "ok",
                                  "reason": reason, **counters}  # fmt: skip
        failing = [f"{label} ({t['reason']})" for label, t in targets.items() if t["reason"]]
        return {
            "status": "degraded" if failing else "ok",
            "error": "; ".join(failing),
            "targets": targets,
        }

    def _judge(self, label: str, counters: dict[str, Any], now: float) -> str:
        losses = _losses(counters)
        grew = losses - self._losses.get(label, 0)
        self._losses[label] = losses
        if grew > 0:
            self._lost_at[label] = now
        reason = _stuck(counters)
        if not reason and now - self._lost_at.get(label, -float("inf")) < self.hold_s:
            error = counters.get("last_error") or "see counters"
            reason = f"{losses} errors, failures or drops so far, last: {error}"
        before = self._reason.get(label, "")
        if reason and not before:
            log.warning("output %s is failing: %s", label, reason)
        elif before and not reason:
            log.info("output %s delivers again", label)
        self._reason[label] = reason
        return reason
