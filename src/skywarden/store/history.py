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

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from skywarden.detections import Detections
from skywarden.snapshot import CLASS_NAMES, STATUS_NAMES, AlertView, Snapshot
from skywarden.store.reader import HistoryReader
from skywarden.store.schema import (
    SCHEMA_VERSION,
    TABLES,
    HistoryError,
    arrow_schema,
    column_list,
    create_tables,
    migrate,
)

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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_ALERT_KEY = ("state", "zone_id", "track_id", "object", "priority", "inside")


class AlertChangeFilter:
    """Turns the per-tick alert views into one row per *change* of an alert.

    A row is emitted when an alert first appears or when any of its state, zone, track,
    object, priority or inside flag differs from its previous row (probability, time to entry
    and position ride along but do not make a row by themselves). An alert that disappears from
    the snapshot without being cleared gets one last row with state ``"removed"``.
    """

    def __init__(self) -> None:
        self._last: dict[int, AlertView] = {}

    def changes(self, alerts: Sequence[AlertView]) -> list[AlertView]:
        rows: list[AlertView] = []
        seen: set[int] = set()
        for view in alerts:
            seen.add(view.id)
            previous = self._last.get(view.id)
            if previous is None or any(
                getattr(view, k) != getattr(previous, k) for k in _ALERT_KEY
            ):
                rows.append(view)
            self._last[view.id] = view
        for gone in [k for k in self._last if k not in seen]:
            view = self._last.pop(gone)
            if view.state.lower() not in ("cleared", "removed"):
                rows.append(replace(view, state="removed"))
        return rows


def alert_rows(seq: int, t: float, views: Sequence[AlertView]) -> pa.Table:
    """The ``alerts`` table rows of the given alert views at snapshot seq / time t."""
    cols: dict[str, list[Any]] = {name: [] for name, _ in TABLES["alerts"]}
    for v in views:
        cols["seq"].append(seq)
        cols["t"].append(t)
        cols["alert_id"].append(v.id)
        cols["state"].append(v.state.lower())
        for name in ("zone_id", "track_id", "object", "priority", "probability"):
            cols[name].append(getattr(v, name))
        for name in ("time_to_entry_s", "inside", "target_class", "lat", "lon", "alt_m"):
            cols[name].append(getattr(v, name))
        cols["t_raised"].append(v.t_raised)
        cols["t_state"].append(v.t_state)
    return pa.table(cols, schema=arrow_schema("alerts"))


def _strings(values: np.ndarray) -> pa.Array:
    """Object array of str/None -> Arrow strings with '' for None."""
    return pc.fill_null(pa.array(np.asarray(values, dtype=object), type=pa.string()), "")


def track_rows(snapshot: Snapshot) -> pa.Table:
    """The ``track_states`` rows of a snapshot's tracks (vectorised, no loop per track)."""
    tr = snapshot.tracks
    n = len(tr)
    enu = np.asarray(tr.enu, dtype=np.float64).reshape(n, 6)
    p = np.asarray(tr.p_class, dtype=np.float64).reshape(n, 4)
    class_names = np.asarray(CLASS_NAMES, dtype=object)
    status_names = np.asarray(STATUS_NAMES, dtype=object)
    cols: dict[str, Any] = {
        "seq": np.full(n, snapshot.seq, dtype=np.int64),
        "t": np.full(n, snapshot.t, dtype=np.float64),
        "track_id": np.asarray(tr.id, dtype=np.int64),
    }
    for k, name in enumerate(("e", "n", "u", "ve", "vn", "vu")):
        cols[name] = enu[:, k]
    cols |= {"lat": tr.lat, "lon": tr.lon, "alt_m": tr.alt_m, "sigma_m": tr.sigma_m}
    cols["status"] = _strings(status_names[np.asarray(tr.status, dtype=np.intp)])
    cols["class"] = _strings(class_names[np.asarray(tr.target_class, dtype=np.intp)])
    for k, name in enumerate(("p_drone", "p_bird", "p_aircraft", "p_unknown")):
        cols[name] = p[:, k]
    for name in ("behaviour", "identity", "callsign"):
        cols[name] = _strings(getattr(tr, name))
    cols["t_update"] = tr.t_update
    return pa.table(cols, schema=arrow_schema("track_states"))


def detection_rows(t_tick: float, d: Detections) -> pa.Table:
    """The ``detections`` rows of one batch consumed at tick time t_tick."""
    n = len(d)
    cols: dict[str, Any] = {
        "t_tick": np.full(n, t_tick, dtype=np.float64),
        "t": d.t,
        "sensor": np.asarray(d.sensor, dtype=np.int32),
        "kind": np.asarray(d.kind, dtype=np.int8),
        "identity": np.asarray(d.identity, dtype=np.int64),
    }
    for k, name in enumerate(("e", "n", "u")):
        cols[name] = d.z[:, k]
    for k, name in enumerate(("ve", "vn", "vu")):
        cols[name] = d.v[:, k]
    for name, (i, j) in zip(
        ("r_ee", "r_en", "r_eu", "r_nn", "r_nu", "r_uu"),
        ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)),
        strict=True,
    ):
        cols[name] = np.ascontiguousarray(d.R[:, i, j])
    cols["rcs_dbsm"] = np.asarray(d.rcs_dbsm, dtype=np.float64)
    cols["evidence"] = np.asarray(d.evidence, dtype=np.int32)
    return pa.table(cols, schema=arrow_schema("detections"))


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

    def extend(self, older: _Pending) -> None:
        """Put an older (failed) batch in front of this one."""
        self.raw_t[:0] = older.raw_t
        self.raw_source[:0] = older.raw_source
        self.raw_payload[:0] = older.raw_payload
        for k, parts in older.tables.items():
            self.tables[k][:0] = parts
        self.rows += older.rows


class HistoryWriter:
    """Append-only writer of one history file (created with its schema if new).

    Args:
        path: the ``.duckdb`` file (``":memory:"`` for tests).
        site: (lat deg, lon deg, h m) of the site origin, stored in ``meta``.
        config_text: the configuration text in force (stored so that a replay can rebuild it).
        track_interval_s: store track states at most this often (0: every snapshot).
        max_pending_rows: rows kept while flushes fail; beyond it new rows are dropped (counted).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        site: tuple[float, float, float] | None = None,
        config_text: str | None = None,
        track_interval_s: float = 0.0,
        max_pending_rows: int = 2_000_000,
    ) -> None:
        self.path = str(path)
        try:
            self._con = duckdb.connect(self.path)
        except duckdb.Error as exc:
            raise HistoryError(f"cannot open history {self.path}: {exc}") from exc
        self._db_lock = threading.Lock()
        self._lock = threading.Lock()
        self._pending = _Pending()
        self._alerts = AlertChangeFilter()
        self._reject_totals: dict[tuple[str, str], int] = {}
        self._last_track_t = -math.inf
        self.track_interval_s = float(track_interval_s)
        self.max_pending_rows = int(max_pending_rows)
        self.counters = HistoryCounters()
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

    def _room(self, n: int) -> bool:
        if self._pending.rows + n > self.max_pending_rows:
            self.counters.dropped_rows += n
            return False
        self._pending.rows += n
        return True

    def _append(self, table: str, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        with self._lock:
            if self._room(rows.num_rows):
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
        with self._lock:
            if self._room(n):
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
        if batch.rows == 0:
            return 0
        with self._db_lock:
            written: dict[str, int] = {}
            try:
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
                self._con.commit()
            except Exception as exc:
                self._rollback()
                with self._lock:
                    self._pending.extend(batch)
                self.counters.flush_failures += 1
                raise HistoryError(f"history flush to {self.path} failed: {exc}") from exc
        self._seq += len(batch.raw_t)
        self.counters.flushes += 1
        for table, n in written.items():
            self.counters.rows[table] += n
        return sum(written.values())

    def _rollback(self) -> None:
        try:
            self._con.rollback()
        except duckdb.Error:
            pass  # no transaction was open (begin itself failed)

    def reader(self) -> HistoryReader:
        """A reader on this writer's database (sees what has been flushed)."""

        with self._db_lock:
            return HistoryReader(self._con.cursor())

    def close(self) -> None:
        """Flush what is buffered, then close the file (idempotent)."""
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            with self._db_lock:
                self._con.close()

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
