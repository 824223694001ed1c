"""Reading a DuckDB history: raw inputs in receive order, detections, track states for the map's
replay slider, alert changes, audit and rejects, all for a time window [t0, t1] (POSIX s,
inclusive; None means open-ended)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import numpy as np

from skywarden.detections import Detections
from skywarden.errors import InputError
from skywarden.store.schema import (
    OPTIONAL_TABLES,
    SCHEMA_VERSION,
    TABLES,
    HistoryError,
    column_list,
)


class RawInput(NamedTuple):
    """One recorded input: POSIX receive time (s), source name, the bytes as received."""

    t_receive: float
    source: str
    payload: bytes


@dataclass(frozen=True)
class HistoryMeta:
    """What the ``meta`` table says about the run."""

    schema_version: int
    site: tuple[float, float, float] | None  # lat, lon (deg), h (m above the ellipsoid)
    config_text: str | None
    values: dict[str, str]


def _window(column: str, t0: float | None, t1: float | None) -> tuple[str, list[float]]:
    """A WHERE clause (maybe empty) selecting column within [t0, t1], and its parameters."""
    terms, params = [], []
    if t0 is not None:
        terms.append(f"{column} >= ?")
        params.append(float(t0))
    if t1 is not None:
        terms.append(f"{column} <= ?")
        params.append(float(t1))
    return (" WHERE " + " AND ".join(terms)) if terms else "", params


def _json_floats(values: np.ndarray, digits: int) -> list[float | None]:
    """Rounded floats for JSON, None for NaN/inf."""
    values = np.round(np.asarray(values, dtype=np.float64), digits)
    out = values.tolist()
    if not np.isfinite(values).all():
        out = [v if math.isfinite(v) else None for v in out]
    return out


class HistoryReader:
    """Queries over one history file (opened read-only) or a writer's connection.

    ``HistoryReader(path)`` for files no process is writing (replay, export); in the running
    service use :meth:`~skywarden.store.history.HistoryWriter.reader` instead (DuckDB allows
    one writing process per file).
    """

    def __init__(self, source: str | Path | duckdb.DuckDBPyConnection) -> None:
        if isinstance(source, duckdb.DuckDBPyConnection):
            self._con, self.path = source, "<connection>"
        else:
            self.path = str(source)
            if not Path(self.path).is_file():
                raise InputError("no such history file", path=self.path)
            try:
                self._con = duckdb.connect(self.path, read_only=True)
            except duckdb.Error as exc:
                raise HistoryError(
                    f"cannot open history {self.path} (is a running service writing it?): {exc}"
                ) from exc
        missing = set(TABLES) - OPTIONAL_TABLES - self._tables()
        if missing:
            raise InputError(
                f"not a skywarden history (no {', '.join(sorted(missing))} table)", path=self.path
            )

    def _tables(self) -> set[str]:
        rows = self._con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        return {r[0] for r in rows}

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new DuckDB cursor on the history (for custom SQL; one per thread)."""
        return self._con.cursor()

    def _query(self, sql: str, params: list[Any]) -> dict[str, np.ndarray]:
        try:
            return self.cursor().execute(sql, params).fetchnumpy()
        except duckdb.Error as exc:  # e.g. out of memory under [storage] memory_limit_mb
            raise HistoryError(f"history query failed on {self.path}: {exc}") from exc

    def meta(self) -> HistoryMeta:
        """Schema version, site origin and configuration text of the run."""
        values = dict(self.cursor().execute("SELECT key, value FROM meta").fetchall())
        version = int(values.get("schema_version", SCHEMA_VERSION))
        site = None
        if {"site_lat", "site_lon", "site_h_m"} <= values.keys():
            site = (float(values["site_lat"]), float(values["site_lon"]), float(values["site_h_m"]))
        return HistoryMeta(version, site, values.get("config_text"), values)

    def time_span(self) -> tuple[float, float] | None:
        """(first, last) time of any raw input or track state; None for an empty history."""
        sql = (
            "SELECT min(t), max(t) FROM (SELECT t_receive AS t FROM raw_inputs "
            "UNION ALL SELECT t FROM track_states UNION ALL SELECT t FROM alerts)"
        )
        try:
            row = self.cursor().execute(sql).fetchone()
        except duckdb.Error as exc:
            raise HistoryError(f"history query failed on {self.path}: {exc}") from exc
        return None if row is None or row[0] is None else (float(row[0]), float(row[1]))

    def count(self, table: str) -> int:
        """Rows in one table."""
        if table not in TABLES:
            raise KeyError(table)
        return int(self.cursor().execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def raw_inputs(
        self, t0: float | None = None, t1: float | None = None, chunk_rows: int = 4096
    ) -> Iterator[RawInput]:
        """Recorded inputs in receive order (ties in recording order), streamed in chunks."""
        where, params = _window("t_receive", t0, t1)
        cur = self.cursor()
        cur.execute(
            f"SELECT t_receive, source, payload FROM raw_inputs{where} ORDER BY t_receive, seq",
            params,
        )
        while rows := cur.fetchmany(chunk_rows):
            for t, source, payload in rows:
                yield RawInput(float(t), str(source), bytes(payload))

    def detections(self, t0: float | None = None, t1: float | None = None) -> Detections:
        """Detections of the ticks in [t0, t1] as one batch (in recording order)."""
        where, params = _window("t_tick", t0, t1)
        c = self._query(f"SELECT * FROM detections{where} ORDER BY t_tick, rowid", params)
        n = len(c["t"])
        R = np.empty((n, 3, 3))
        for name, (i, j) in zip(
            ("r_ee", "r_en", "r_eu", "r_nn", "r_nu", "r_uu"),
            ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)),
            strict=True,
        ):
            R[:, i, j] = R[:, j, i] = c[name]
        return Detections(
            t=np.asarray(c["t"], dtype=np.float64),
            z=np.column_stack([c["e"], c["n"], c["u"]]).astype(np.float64).reshape(n, 3),
            R=R,
            v=np.column_stack([c["ve"], c["vn"], c["vu"]]).astype(np.float64).reshape(n, 3),
            sensor=np.asarray(c["sensor"], dtype=np.int32),
            kind=np.asarray(c["kind"], dtype=np.int8),
            identity=np.asarray(c["identity"], dtype=np.int64),
            # schema 1 files have no amplitude column
            rcs_dbsm=np.asarray(c.get("rcs_dbsm", np.full(n, np.nan)), dtype=np.float64),
            # schema 1-2 files have no evidence column
            evidence=np.asarray(c.get("evidence", np.zeros(n)), dtype=np.int32),
        )

    def track_states(
        self, t0: float | None = None, t1: float | None = None
    ) -> dict[str, np.ndarray]:
        """Track-state rows in [t0, t1] ordered by track then time, as columns (NumPy)."""
        where, params = _window("t", t0, t1)
        return self._query(
            f"SELECT {column_list('track_states')} FROM track_states{where} ORDER BY track_id, t",
            params,
        )

    def tracks_between(
        self, t0: float, t1: float, step_s: float | None = None
    ) -> list[dict[str, Any]]:
        """Track histories in [t0, t1] for the map's replay slider, JSON-ready.

        One dict per track: ``{"id", "class", "identity", "callsign", "t0", "t1", "t": [...],
        "lat": [...], "lon": [...], "alt_m": [...], "class_seq": [...]}`` (samples oldest first;
        ``class`` is the latest class, ``class_seq`` the class at each sample). With ``step_s``
        at most one sample per track per step_s seconds is kept (the first of each step).
        """
        c = self.track_states(t0, t1)
        ids = np.asarray(c["track_id"], dtype=np.int64)
        if ids.size == 0:
            return []
        keep = np.ones(ids.size, dtype=bool)
        if step_s is not None and step_s > 0:
            bins = np.floor((np.asarray(c["t"]) - t0) / step_s).astype(np.int64)
            keep[1:] = (ids[1:] != ids[:-1]) | (bins[1:] != bins[:-1])
        c = {k: np.asarray(v)[keep] for k, v in c.items()}
        ids = ids[keep]
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        ends = np.r_[starts[1:], ids.size]
        out = []
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            t = c["t"][a:b]
            out.append(
                {
                    "id": int(ids[a]),
                    "class": str(c["class"][b - 1]),
                    "identity": str(c["identity"][b - 1]),
                    "callsign": str(c["callsign"][b - 1]),
                    "t0": round(float(t[0]), 3),
                    "t1": round(float(t[-1]), 3),
                    "t": _json_floats(t, 3),
                    "lat": _json_floats(c["lat"][a:b], 7),
                    "lon": _json_floats(c["lon"][a:b], 7),
                    "alt_m": _json_floats(c["alt_m"][a:b], 1),
                    "class_seq": [str(x) for x in c["class"][a:b]],
                }
            )
        return out

    def _rows(self, table: str, order: str, t0: float | None, t1: float | None) -> list[dict]:
        where, params = _window("t", t0, t1)
        cur = self.cursor().execute(f"SELECT * FROM {table}{where} ORDER BY {order}", params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def alerts(self, t0: float | None = None, t1: float | None = None) -> list[dict[str, Any]]:
        """Alert change rows in [t0, t1], by time then alert id (one row per change)."""
        return self._rows("alerts", "t, seq, alert_id", t0, t1)

    def audit(self, t0: float | None = None, t1: float | None = None) -> list[dict[str, Any]]:
        """Audit entries in [t0, t1], oldest first."""
        return self._rows("audit", "t", t0, t1)

    def changes(self, t0: float | None = None, t1: float | None = None) -> list[dict[str, Any]]:
        """Runtime setting changes in [t0, t1], oldest first (none in files before schema 3);
        :meth:`skywarden.warn.changes.SettingChange.from_row` makes values of them."""
        if "changes" not in self._tables():
            return []
        return self._rows("changes", "t", t0, t1)

    def rejects(self, t0: float | None = None, t1: float | None = None) -> list[dict[str, Any]]:
        """Reject rows in [t0, t1] (``sample`` is bytes), oldest first."""
        return self._rows("rejects", "t", t0, t1)

    def reject_totals(self) -> dict[str, dict[str, int]]:
        """source -> reason -> total rejections over the whole history."""
        rows = (
            self.cursor()
            .execute("SELECT source, reason, sum(count) FROM rejects GROUP BY source, reason")
            .fetchall()
        )
        out: dict[str, dict[str, int]] = {}
        for source, reason, total in rows:
            out.setdefault(source, {})[reason] = int(total)
        return out

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> HistoryReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
