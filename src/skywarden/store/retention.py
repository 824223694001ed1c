"""How much history is kept: the ``[storage]`` policy keys and the retention that applies them.

``[storage]`` keys (beside ``path`` and ``flush_s``), all optional:

=====================  ========================================================================
``retention_days``     rows older than this many days are deleted (0: kept forever; default 0)
``max_size_mb``        the history's used size is kept under this (0: no cap; default 0): the
                       oldest bulk rows (raw inputs, then detections, then track states and
                       rejects) go first, in proportion to the excess (DuckDB frees whole row
                       groups, so the size falls in steps of ~120k rows)
``max_pending_mb``     memory held for the history while its writes fail (default 256; beyond
                       it rows are dropped and counted: :mod:`skywarden.store.write_health`)
``memory_limit_mb``    DuckDB's memory for the history (its buffer cache, and queries beyond it
                       spill to disk; default 64). Without a limit DuckDB caches up to 80 %
                       of the machine's memory, so a long run's RSS grows with the file; at
                       256 it grew for an hour (measured: RSS +224 MB while 240 MB of raw input
                       were written, against +45 MB at 64, flat after the first 10 minutes)
``raw_reject_kb_s``    raw input of a source whose last decoded data had rejects is stored at
                       most at this rate, kB/s (default 64; 0: none of it); the rest is counted
                       (``raw_inputs_skipped``), so a flood of garbage cannot fill the disk
=====================  ========================================================================

The retention runs every ``RETENTION_EVERY_S`` in the flush task. ``changes`` (the runtime
settings a restart restores) and ``meta`` are never deleted; the id reservation in ``meta``
keeps track and alert numbers going on when their old rows are gone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

RETENTION_EVERY_S = 60.0
POLICY_KEYS = frozenset(
    {"retention_days", "max_size_mb", "max_pending_mb", "memory_limit_mb", "raw_reject_kb_s"}
)
# table -> its time column, in the order the size cap deletes from
TIME_COLUMNS = {
    "raw_inputs": "t_receive",
    "detections": "t_tick",
    "track_states": "t",
    "rejects": "t",
    "alerts": "t",
    "audit": "t",
}
BULK_TABLES = ("raw_inputs", "detections", "track_states", "rejects")
MB = 1024 * 1024


@dataclass(frozen=True)
class HistoryPolicy:
    """The ``[storage]`` policy keys (see the module docstring); 0 means no limit."""

    retention_days: float = 0.0
    max_size_mb: float = 0.0
    max_pending_mb: float = 256.0
    memory_limit_mb: float = 64.0
    raw_reject_kb_s: float = 64.0

    def to_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in sorted(POLICY_KEYS)}


def history_policy(
    storage: dict[str, Any], number: Callable[..., float], prefix: str = "storage"
) -> HistoryPolicy:
    """The policy of a ``[storage]`` table; ``number(table, key, prefix, lo, hi, default)``
    checks one value (skywarden.config.ConfigKeys.number)."""
    d = HistoryPolicy()
    return HistoryPolicy(
        retention_days=number(storage, "retention_days", prefix, 0.0, 36500.0, d.retention_days),
        max_size_mb=number(storage, "max_size_mb", prefix, 0.0, 1e9, d.max_size_mb),
        max_pending_mb=number(storage, "max_pending_mb", prefix, 1.0, 65536.0, d.max_pending_mb),
        memory_limit_mb=number(storage, "memory_limit_mb", prefix, 32.0, 1e6, d.memory_limit_mb),
        raw_reject_kb_s=number(storage, "raw_reject_kb_s", prefix, 0.0, 1e6, d.raw_reject_kb_s),
    )


@dataclass(frozen=True)
class RetentionResult:
    """What one retention pass deleted (rows per table) and the used size after it (bytes)."""

    deleted: dict[str, int]
    used_bytes: int


def used_bytes(con: Any) -> int:
    """Bytes of the DuckDB file in use (blocks not free); deleted rows free their blocks at
    the next checkpoint, and the file reuses them instead of growing."""
    row = con.execute("SELECT block_size, used_blocks FROM pragma_database_size()").fetchone()
    if row is None or row[0] is None:
        return 0
    return int(row[0]) * int(row[1])


def _delete_before(con: Any, table: str, t: float) -> int:
    column = TIME_COLUMNS[table]
    n = con.execute(f"SELECT count(*) FROM {table} WHERE {column} < ?", [t]).fetchone()[0]
    if n:
        con.execute(f"DELETE FROM {table} WHERE {column} < ?", [t])
    return int(n)


def _oldest_part(con: Any, table: str, fraction: float) -> float | None:
    """The time before which the oldest ``fraction`` of the table's rows lie (None: empty)."""
    column = TIME_COLUMNS[table]
    row = con.execute(f"SELECT quantile_disc({column}, ?) FROM {table}", [fraction]).fetchone()
    if row is None or row[0] is None:
        return None
    return float(row[0]) + 1e-6


def apply_retention(con: Any, policy: HistoryPolicy, now: float) -> RetentionResult:
    """Delete what the policy does not keep at POSIX time ``now``, then checkpoint (so the
    freed blocks are reused). ``con`` is the writer's DuckDB connection (its lock held)."""
    deleted = dict.fromkeys(TIME_COLUMNS, 0)
    if policy.retention_days > 0:
        cutoff = now - policy.retention_days * 86400.0
        for table in TIME_COLUMNS:
            deleted[table] += _delete_before(con, table, cutoff)
        con.execute("CHECKPOINT")
    if policy.max_size_mb > 0:
        cap = policy.max_size_mb * MB
        for _ in range(40):  # each pass removes the oldest part of one table
            used = used_bytes(con)
            if used <= cap:
                break
            table = next(
                (t for t in BULK_TABLES
                 if con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] > 0),
                None,
            )  # fmt: skip
            if table is None:
                break
            cut = _oldest_part(con, table, min(max(0.1, 1.2 * (used - cap) / used), 1.0))
            if cut is not None:
                deleted[table] += _delete_before(con, table, cut)
            con.execute("CHECKPOINT")
    return RetentionResult({k: v for k, v in deleted.items() if v}, used_bytes(con))
