"""The history file's schema: one DuckDB database per run (or per site, appended across runs).

Every time is POSIX seconds (DOUBLE); positions are site ENU metres and WGS-84 degrees / metres
above the ellipsoid; velocities ENU m/s. Rows are appended in batches (one transaction per
flush), so each table is ordered by time within a batch and across batches.

========================  =================================================================
table                     columns (one row per ...)
========================  =================================================================
``raw_inputs``            ``seq`` (insertion order), ``t_receive``, ``source`` (input name),
                          ``payload`` (the bytes exactly as received: datagram or stream chunk;
                          a source sending mostly rejects is stored at a capped rate,
                          :mod:`skywarden.store.raw_budget`)
``detections``            ``t_tick`` (the tick that consumed it), ``t``, ``sensor``, ``kind``
                          (SourceKind), ``identity`` (key or -1), ``e n u``, ``ve vn vu``
                          (NaN: not reported), ``r_ee r_en r_eu r_nn r_nu r_uu`` (upper
                          triangle of R, m^2; sigma_e = sqrt(r_ee)), ``rcs_dbsm`` (radar
                          cross-section from the plot amplitude, dBsm; NaN: none; since
                          schema 2), ``evidence`` (:mod:`skywarden.evidence` bits; since
                          schema 4)
``track_states``          ``seq`` (snapshot), ``t``, ``track_id``, ``e n u ve vn vu``, ``lat lon
                          alt_m``, ``sigma_m``, ``status``, ``class``, ``p_drone p_bird
                          p_aircraft p_unknown``, ``behaviour``, ``identity``, ``callsign``,
                          ``t_update`` -- one row per confirmed track per stored snapshot
``alerts``                ``seq``, ``t``, ``alert_id``, ``zone_id``, ``track_id``, ``object``,
                          ``state``, ``priority``, ``probability``, ``time_to_entry_s``,
                          ``inside``, ``target_class``, ``lat lon alt_m``, ``t_raised``,
                          ``t_state`` -- one row per *change* of an alert (see
                          :class:`~skywarden.store.history.AlertChangeFilter`)
``audit``                 ``t``, ``alert_id``, ``action``, ``who``, ``state``, ``zone_id``,
                          ``object_key``, ``note``, ``role`` (the principal's role, '' without
                          authentication; since schema 3) -- who did what to which alert, when
``changes``               ``t``, ``who``, ``role``, ``kind`` ('zones'), ``document`` (the setting
                          in force afterwards, JSON), ``base`` (digest of the configured
                          setting it replaced) -- runtime setting changes (since schema 3;
                          :class:`~skywarden.warn.changes.SettingChange`)
``rejects``               ``t``, ``source``, ``reason``, ``count`` (new rejections since the
                          previous row of that source and reason), ``sample`` (raw bytes of
                          one rejected record, possibly empty)
``meta``                  ``key``, ``value``: ``schema_version``, ``site_lat``, ``site_lon``,
                          ``site_h_m``, ``config_text``, ``reserved_track_id`` and
                          ``reserved_alert_id`` (:mod:`skywarden.restart`)
========================  =================================================================
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from skywarden.errors import SkywardenError

# 2: detections.rcs_dbsm; 3: audit.role and the changes table; 4: detections.evidence
SCHEMA_VERSION = 4
OPTIONAL_TABLES = frozenset({"changes"})  # absent from older files that can still be read

TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "raw_inputs": (
        ("seq", "BIGINT"),
        ("t_receive", "DOUBLE"),
        ("source", "VARCHAR"),
        ("payload", "BLOB"),
    ),
    "detections": (
        ("t_tick", "DOUBLE"),
        ("t", "DOUBLE"),
        ("sensor", "INTEGER"),
        ("kind", "TINYINT"),
        ("identity", "BIGINT"),
        *((c, "DOUBLE") for c in ("e", "n", "u", "ve", "vn", "vu")),
        *((c, "DOUBLE") for c in ("r_ee", "r_en", "r_eu", "r_nn", "r_nu", "r_uu")),
        ("rcs_dbsm", "DOUBLE"),
        ("evidence", "INTEGER"),
    ),
    "track_states": (
        ("seq", "BIGINT"),
        ("t", "DOUBLE"),
        ("track_id", "BIGINT"),
        *((c, "DOUBLE") for c in ("e", "n", "u", "ve", "vn", "vu", "lat", "lon", "alt_m")),
        ("sigma_m", "DOUBLE"),
        ("status", "VARCHAR"),
        ("class", "VARCHAR"),
        *((c, "DOUBLE") for c in ("p_drone", "p_bird", "p_aircraft", "p_unknown")),
        ("behaviour", "VARCHAR"),
        ("identity", "VARCHAR"),
        ("callsign", "VARCHAR"),
        ("t_update", "DOUBLE"),
    ),
    "alerts": (
        ("seq", "BIGINT"),
        ("t", "DOUBLE"),
        ("alert_id", "BIGINT"),
        ("zone_id", "VARCHAR"),
        ("track_id", "BIGINT"),
        ("object", "VARCHAR"),
        ("state", "VARCHAR"),
        ("priority", "INTEGER"),
        ("probability", "DOUBLE"),
        ("time_to_entry_s", "DOUBLE"),
        ("inside", "BOOLEAN"),
        ("target_class", "VARCHAR"),
        ("lat", "DOUBLE"),
        ("lon", "DOUBLE"),
        ("alt_m", "DOUBLE"),
        ("t_raised", "DOUBLE"),
        ("t_state", "DOUBLE"),
    ),
    "audit": (
        ("t", "DOUBLE"),
        ("alert_id", "BIGINT"),
        ("action", "VARCHAR"),
        ("who", "VARCHAR"),
        ("state", "VARCHAR"),
        ("zone_id", "VARCHAR"),
        ("object_key", "BIGINT"),
        ("note", "VARCHAR"),
        ("role", "VARCHAR"),
    ),
    "changes": (
        ("t", "DOUBLE"),
        ("who", "VARCHAR"),
        ("role", "VARCHAR"),
        ("kind", "VARCHAR"),
        ("document", "VARCHAR"),
        ("base", "VARCHAR"),
    ),
    "rejects": (
        ("t", "DOUBLE"),
        ("source", "VARCHAR"),
        ("reason", "VARCHAR"),
        ("count", "BIGINT"),
        ("sample", "BLOB"),
    ),
}


class HistoryError(SkywardenError):
    """The history file cannot be opened, has another schema, or a flush failed."""


_ARROW = {
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "TINYINT": pa.int8(),
    "DOUBLE": pa.float64(),
    "VARCHAR": pa.string(),
    "BLOB": pa.binary(),
    "BOOLEAN": pa.bool_(),
}


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of one history table (same column order as the SQL table)."""
    return pa.schema([(name, _ARROW[sql]) for name, sql in TABLES[table]])


def column_list(table: str) -> str:
    """The table's quoted column names, comma separated, for INSERT/SELECT."""
    return ", ".join(f'"{name}"' for name, _ in TABLES[table])


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table that does not exist yet (idempotent)."""
    for table, columns in TABLES.items():
        body = ", ".join(f'"{name}" {sql}' for name, sql in columns)
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
    con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")


def migrate(con: duckdb.DuckDBPyConnection, version: int) -> bool:
    """Bring a file of an older schema up to SCHEMA_VERSION in place; False if it cannot be
    (then it is refused). Schema 2 -> 3 adds ``audit.role`` ('' for old rows) and ``changes``;
    3 -> 4 adds ``detections.evidence`` (0, no evidence bits, for old rows)."""
    if version == SCHEMA_VERSION:
        return True
    if version not in (2, 3):
        return False
    if version == 2:
        con.execute("ALTER TABLE audit ADD COLUMN IF NOT EXISTS role VARCHAR DEFAULT ''")
        create_tables(con)
    con.execute("ALTER TABLE detections ADD COLUMN IF NOT EXISTS evidence INTEGER DEFAULT 0")
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])
    return True
