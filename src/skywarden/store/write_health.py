"""The health of the history's writes: failures, backoff and what was held or dropped meanwhile.

A full disk, a file size limit or a read-only directory makes a flush fail. The writer keeps
the unflushed rows (bounded: see :class:`PendingLimits`) and says so at once in ``/health``
(``history.status = "degraded"`` with the error); the service retries with exponential backoff
(:meth:`WriteHealth.backoff_s`) and, once a flush succeeds again, the held rows are written
and the status goes back to ``"ok"``. Rows that did not fit while writes failed are dropped and
counted per table (``dropped_rows``), never silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# tables kept (up to twice the limit) when the others are already dropped: they are small
# and are what an operator's audit needs
PRECIOUS_TABLES = frozenset({"alerts", "audit", "changes"})


@dataclass(frozen=True)
class PendingLimits:
    """How much the writer holds in memory between (failing) flushes.

    Attributes:
        max_rows: rows of all tables together.
        max_bytes: bytes (Arrow buffers plus raw payloads) of all tables together.
    Rows of PRECIOUS_TABLES are admitted up to twice these limits.
    """

    max_rows: int = 2_000_000
    max_bytes: int = 256 * 1024 * 1024


@dataclass
class WriteHealth:
    """Failures of one writer's flushes (times are the caller's clock, seconds)."""

    failures: int = 0  # failed flushes in all
    consecutive: int = 0  # failed flushes since the last good one
    last_error: str = ""
    failing_since: float | None = None
    recoveries: int = 0
    dropped_rows: dict[str, int] = field(default_factory=dict)

    def failed(self, error: str, now: float) -> None:
        self.failures += 1
        self.consecutive += 1
        self.last_error = error
        if self.failing_since is None:
            self.failing_since = now

    def succeeded(self) -> int:
        """A flush went through; returns how many failures in a row it ends (0: none)."""
        ended, self.consecutive = self.consecutive, 0
        if ended:
            self.recoveries += 1
            self.failing_since = None
        return ended

    def dropped(self, table: str, n: int) -> None:
        self.dropped_rows[table] = self.dropped_rows.get(table, 0) + n

    @property
    def degraded(self) -> bool:
        return self.consecutive > 0

    def backoff_s(self, base_s: float, cap_s: float = 30.0) -> float:
        """The wait before the next attempt: base_s, doubled per failure in a row, at most
        cap_s (never less than base_s)."""
        if self.consecutive == 0:
            return base_s
        return max(base_s, min(cap_s, base_s * 2.0 ** min(self.consecutive, 16)))

    def as_dict(self, now: float) -> dict[str, Any]:
        return {
            "status": "degraded" if self.degraded else "ok",
            "error": self.last_error if self.degraded else "",
            "last_error": self.last_error,
            "failures": self.failures,
            "consecutive_failures": self.consecutive,
            "failing_for_s": 0.0 if self.failing_since is None else now - self.failing_since,
            "recoveries": self.recoveries,
            "dropped_rows": dict(self.dropped_rows),
        }
