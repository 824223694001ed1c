"""Writing the DuckDB history: raw inputs, detections, track states, alert changes, audit, rejects.

The pipeline calls the ``add_*`` methods every tick (they only append to in-memory buffers:
plain lists for raw inputs, NumPy/Arrow columns for the rest) and :meth:`HistoryWriter.flush`
every N ticks or seconds; a flush appends every buffered table as one Arrow batch per table
inside **one transaction**, so a crash between flushes loses at most the unflushed batch and a
failed flush leaves nothing half written (it is rolled back and kept for the next flush). The
schema is documented in :mod:`skywarden.store.schema`.

Threading: ``add_*`` may be called from the event loop while :meth:`~HistoryWriter.flush`
runs in a worker thread (``await asyncio.to_thread(writer.flush)``); a lock guards the buffers
and another the connection. Readers in the same process use :meth:`HistoryWriter.reader`.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa

from skywarden.detections import Detections
from skywarden.snapshot import Snapshot
from skywarden.store.reader import HistoryReader
from skywarden.store.retention import HistoryPolicy, RetentionResult, apply_retention
from skywarden.store.rows import AlertChangeFilter, alert_rows, detection_rows, track_rows
from skywarden.store.schema import (
    SCHEMA_VERSION,
    TABLES,
    HistoryError,
    arrow_schema,
    column_list,
    create_tables,
    migrate,
)
from skywarden.store.write_health import PRECIOUS_TABLES, PendingLimits, WriteHealth

if TYPE_CHECKING:
    from skywarden.warn.alerts import AuditEntry
    from skywarden.warn.changes import SettingChange


@dataclass
class HistoryCounters:
    """Running counts of one writer (for /health)."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    flushes: int = 0
    flush_failures: int = 0
    dropped_rows: int = 0  # rows refused because max_pending_rows was reached
    deleted: dict[str, int] = field(default_factory=dict)  # by the retention policy

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _state_name(state: Any) -> str:
    name = getattr(state, "name", None)
    return (name if name is not None else str(state)).lower()


class _Pending:
    """The unflushed batch: raw inputs as plain lists, every other table as Arrow tables."""

    def __init__(self) -> None:
        self.raw_t: list[float] = []
        self.raw_source: list[str] = []
        self.raw_payload: list[bytes] = []
        self.tables: dict[str, list[pa.Table]] = {k: [] for k in TABLES if k != "raw_inputs"}
        self.rows = 0
        self.bytes = 0

    def extend(self, older: _Pending) -> None:
        """Put an older (failed) batch in front of this one."""
        self.raw_t[:0] = older.raw_t
        self.raw_source[:0] = older.raw_source
        self.raw_payload[:0] = older.raw_payload
        for k, parts in older.tables.items():
            self.tables[k][:0] = parts
        self.rows += older.rows
        self.bytes += older.bytes


# One DuckDB thread for the history: its flushes and the API's history queries never compete
# with the live tick for cores, and a large sort spills to disk within the memory limit (with
# more threads each needs its own buffers: measured, a sorted export of 260 MB of raw input ran
# out of memory at 64 and at 128 MB with 2 threads and took 6.3 s at 64 MB with one).
DUCKDB_THREADS = 1


class HistoryWriter:
    """Append-only writer of one history file (created with its schema if new).

    Args:
        path: the ``.duckdb`` file (``":memory:"`` for tests).
        site: (lat deg, lon deg, h m) of the site origin, stored in ``meta``.
        config_text: the configuration text in force (stored so that a replay can rebuild it).
        track_interval_s: store track states at most this often (0: every snapshot).
        max_pending_rows, max_pending_bytes: what is held in memory while flushes fail; beyond
            it new rows are dropped and counted per table (:mod:`skywarden.store.write_health`:
            alerts, audit and changes are kept up to twice the limits).
        clock: the time source of the write health (monotonic seconds by default).
        memory_limit_mb: DuckDB's memory limit (its buffer cache is bounded by it; without one
            it grows with the file up to 80 % of the machine's memory). The connection runs
            one DuckDB thread (:data:`DUCKDB_THREADS`).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        site: tuple[float, float, float] | None = None,
        config_text: str | None = None,
        track_interval_s: float = 0.0,
        max_pending_rows: int = 2_000_000,
        max_pending_bytes: int = PendingLimits.max_bytes,
        clock: Callable[[], float] = time.monotonic,
        memory_limit_mb: float = 64.0,
    ) -> None:
        self.path = str(path)
        self._duckdb_config = {
            "memory_limit": f"{int(memory_limit_mb)}MB",
            "threads": DUCKDB_THREADS,
        }
        try:
            self._con = duckdb.connect(self.path, config=self._duckdb_config)
        except duckdb.Error as exc:
            raise HistoryError(f"cannot open history {self.path}: {exc}") from exc
        self._db_lock = threading.Lock()
        self._lock = threading.Lock()
        self._pending = _Pending()
        self._alerts = AlertChangeFilter()
        self._reject_totals: dict[tuple[str, str], int] = {}
        self._last_track_t = -math.inf
        self.track_interval_s = float(track_interval_s)
        self.limits = PendingLimits(int(max_pending_rows), int(max_pending_bytes))
        self.counters = HistoryCounters()
        self.health = WriteHealth()
        self.clock = clock
        self._reconnect = False
        # values stored in ``meta`` by every flush, in its transaction (skywarden.restart)
        self.meta_source: Callable[[], Mapping[str, str]] | None = None
        self._closed = False
        self._init_schema(site, config_text)

    def _init_schema(self, site: tuple[float, float, float] | None, config: str | None) -> None:
        con = self._con
        create_tables(con)
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is not None and not migrate(con, int(row[0])):
            self._con.close()
            raise HistoryError(
                f"{self.path} has history schema {row[0]}; this skywarden writes {SCHEMA_VERSION}"
            )
        meta = {"schema_version": str(SCHEMA_VERSION)}
        if site is not None:
            meta |= {
                "site_lat": repr(site[0]),
                "site_lon": repr(site[1]),
                "site_h_m": repr(site[2]),
            }
        if config is not None:
            meta["config_text"] = config
        self.set_meta(meta)
        self._seq = int(
            con.execute("SELECT coalesce(max(seq) + 1, 0) FROM raw_inputs").fetchone()[0]
        )

    def set_meta(self, values: Mapping[str, str]) -> None:
        """Store (or replace) key/value pairs in ``meta`` (written at once, not batched)."""
        with self._db_lock:
            self._con.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [(k, str(v)) for k, v in values.items()],
            )

    # --- buffering --------------------------------------------------------------------------

    @property
    def max_pending_rows(self) -> int:
        return self.limits.max_rows

    def _room(self, table: str, n: int, nbytes: int) -> bool:
        """Admit n rows of nbytes to the pending batch, or count them dropped."""
        factor = 2 if table in PRECIOUS_TABLES else 1
        p, limits = self._pending, self.limits
        if p.rows + n > factor * limits.max_rows or p.bytes + nbytes > factor * limits.max_bytes:
            self.counters.dropped_rows += n
            self.health.dropped(table, n)
            return False
        p.rows += n
        p.bytes += nbytes
        return True

    def _append(self, table: str, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        with self._lock:
            if self._room(table, rows.num_rows, rows.nbytes):
                self._pending.tables[table].append(rows)

    def add_raw(
        self, t: float | Sequence[float], source: str, payloads: bytes | Sequence[bytes]
    ) -> None:
        """Raw input bytes exactly as received: one payload (bytes) or several with one receive
        time each (t a float for all, or a sequence of the same length), POSIX s."""
        if isinstance(payloads, bytes | bytearray | memoryview):
            payloads = [payloads]
        n = len(payloads)
        times = [float(t)] * n if np.ndim(t) == 0 else [float(x) for x in t]  # type: ignore[union-attr]
        if len(times) != n:
            raise ValueError(f"add_raw: {len(times)} times for {n} payloads")
        nbytes = sum(len(x) for x in payloads) + 64 * n
        with self._lock:
            if self._room("raw_inputs", n, nbytes):
                p = self._pending
                p.raw_t.extend(times)
                p.raw_source.extend([source] * n)
                p.raw_payload.extend(bytes(x) for x in payloads)

    def add_detections(self, t: float, detections: Detections) -> None:
        """The detections consumed by the tick at time t (POSIX s)."""
        self._append("detections", detection_rows(t, detections))

    def add_snapshot(self, snapshot: Snapshot) -> None:
        """The snapshot's track states (at most every ``track_interval_s``) and alert changes."""
        if snapshot.t - self._last_track_t >= self.track_interval_s:
            self._last_track_t = snapshot.t
            self._append("track_states", track_rows(snapshot))
        changed = self._alerts.changes(snapshot.alerts)
        if changed:
            self._append("alerts", alert_rows(snapshot.seq, snapshot.t, changed))

    def add_audit(self, entries: Iterable[AuditEntry]) -> None:
        """Alert audit entries (:class:`~skywarden.warn.alerts.AuditEntry`: who did what, when)."""
        entries = list(entries)
        if not entries:
            return
        cols = {
            "t": [e.t for e in entries],
            "alert_id": [e.alert_id for e in entries],
            "action": [e.action for e in entries],
            "who": [e.who for e in entries],
            "state": [_state_name(e.state) for e in entries],
            "zone_id": [e.zone_id for e in entries],
            "object_key": [e.object_key for e in entries],
            "note": [e.note for e in entries],
            "role": [getattr(e, "role", "") for e in entries],
        }
        self._append("audit", pa.table(cols, schema=arrow_schema("audit")))

    def add_change(self, change: SettingChange) -> None:
        """A runtime setting change (who, role, the new setting) for audit, restart and replay."""
        cols = {k: [getattr(change, k)] for k, _ in TABLES["changes"]}
        self._append("changes", pa.table(cols, schema=arrow_schema("changes")))

    def add_rejects(
        self,
        t: float,
        source: str,
        counts: Mapping[str, int],
        samples: Mapping[str, bytes] | None = None,
    ) -> None:
        """New rejections of one source since its previous call: reason -> count, and optionally
        reason -> raw bytes of one rejected record (kept for inspection)."""
        samples = samples or {}
        reasons = [r for r, c in counts.items() if c > 0]
        if not reasons:
            return
        cols = {
            "t": [float(t)] * len(reasons),
            "source": [source] * len(reasons),
            "reason": reasons,
            "count": [int(counts[r]) for r in reasons],
            "sample": [bytes(samples.get(r, b"")) for r in reasons],
        }
        self._append("rejects", pa.table(cols, schema=arrow_schema("rejects")))

    def add_reject_totals(
        self,
        t: float,
        source: str,
        totals: Mapping[str, int],
        samples: Mapping[str, bytes] | None = None,
    ) -> None:
        """Like :meth:`add_rejects` but from running totals (a parser's Counter): only the
        increase since the previous call for this source is written."""
        deltas = {}
        for reason, total in totals.items():
            key = (source, reason)
            deltas[reason] = int(total) - self._reject_totals.get(key, 0)
            self._reject_totals[key] = int(total)
        self.add_rejects(t, source, deltas, samples)

    @property
    def pending_rows(self) -> int:
        """Rows buffered and not yet flushed."""
        return self._pending.rows

    def status(self) -> dict[str, Any]:
        """The writer's health for /health: ``status`` ("ok" or "degraded" while flushes
        fail), the error, failures, rows written, held and dropped per table."""
        with self._lock:
            pending = {"pending_rows": self._pending.rows, "pending_bytes": self._pending.bytes}
        return {
            **self.health.as_dict(self.clock()),
            **pending,
            "flushes": self.counters.flushes,
            "rows": dict(self.counters.rows),
            "deleted_rows": dict(self.counters.deleted),
        }

    # --- flushing ---------------------------------------------------------------------------

    def _raw_table(self, p: _Pending) -> pa.Table:
        n = len(p.raw_t)
        seq = np.arange(self._seq, self._seq + n, dtype=np.int64)
        cols = {
            "seq": seq,
            "t_receive": np.asarray(p.raw_t, dtype=np.float64),
            "source": pa.array(p.raw_source, type=pa.string()),
            "payload": pa.array(p.raw_payload, type=pa.binary()),
        }
        return pa.table(cols, schema=arrow_schema("raw_inputs"))

    def _insert(self, table: str, rows: pa.Table) -> None:
        """Append one Arrow table (inside the flush's transaction)."""
        name = f"_batch_{table}"
        self._con.register(name, rows)
        try:
            cols = column_list(table)
            self._con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}")
        finally:
            self._con.unregister(name)

    def flush(self) -> int:
        """Write everything buffered in one transaction; returns the rows written.

        Raises HistoryError (after rolling back and keeping the batch for the next flush) if the
        database refuses the batch.
        """
        with self._lock:
            batch, self._pending = self._pending, _Pending()
        meta = dict(self.meta_source()) if self.meta_source is not None else {}
        if batch.rows == 0 and not meta:
            return 0
        with self._db_lock:
            written: dict[str, int] = {}
            try:
                self._connect_again()
                self._con.begin()
                if batch.raw_t:
                    raw = self._raw_table(batch)
                    self._insert("raw_inputs", raw)
                    written["raw_inputs"] = raw.num_rows
                for table, parts in batch.tables.items():
                    if parts:
                        rows = pa.concat_tables(parts)
                        self._insert(table, rows)
                        written[table] = rows.num_rows
                if meta:
                    self._con.executemany(
                        "INSERT OR REPLACE INTO meta VALUES (?, ?)", list(meta.items())
                    )
                self._con.commit()
            except Exception as exc:
                self._rollback()
                with self._lock:
                    self._pending.extend(batch)
                self.counters.flush_failures += 1
                self.health.failed(f"{type(exc).__name__}: {exc}", self.clock())
                raise HistoryError(f"history flush to {self.path} failed: {exc}") from exc
        self._seq += len(batch.raw_t)
        self.health.succeeded()
        self.counters.flushes += 1
        for table, n in written.items():
            self.counters.rows[table] += n
        return sum(written.values())

    def _rollback(self) -> None:
        try:
            self._con.rollback()
        except duckdb.Error:
            pass  # no transaction was open (begin itself failed)
        try:
            self._con.execute("SELECT 1").fetchall()
        except duckdb.Error:
            self._reconnect = True  # DuckDB invalidates a database after some I/O errors

    def _connect_again(self) -> None:
        """Reopen the file after a failure that left the connection unusable."""
        if not self._reconnect:
            return
        with contextlib.suppress(duckdb.Error):
            self._con.close()
        self._con = duckdb.connect(self.path, config=self._duckdb_config)
        self._reconnect = False

    def apply_retention(self, policy: HistoryPolicy, now: float) -> RetentionResult:
        """Delete what the policy does not keep at POSIX time now
        (:func:`skywarden.store.retention.apply_retention`); HistoryError if the database
        refuses."""
        with self._db_lock:
            try:
                self._connect_again()
                result = apply_retention(self._con, policy, now)
            except duckdb.Error as exc:
                raise HistoryError(f"history retention on {self.path} failed: {exc}") from exc
        for table, n in result.deleted.items():
            self.counters.deleted[table] = self.counters.deleted.get(table, 0) + n
        return result

    def reader(self) -> HistoryReader:
        """A reader on this writer's database (sees what has been flushed)."""

        with self._db_lock:
            return HistoryReader(self._con.cursor())

    def close(self, flush: bool = True) -> None:
        """Flush what is buffered (unless flush is False), then close the file (idempotent).
        A failed last flush raises HistoryError after closing."""
        if self._closed:
            return
        try:
            if flush:
                self.flush()
        finally:
            self._closed = True
            with self._db_lock:
                self._con.close()

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
