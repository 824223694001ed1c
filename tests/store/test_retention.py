"""History retention ([storage] retention_days, max_size_mb) and the raw-input cap of
rejecting sources (skywarden.store.retention, skywarden.store.raw_budget)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skywarden.errors import ConfigError
from skywarden.site_config import site_config_from_dict
from skywarden.store import HistoryReader, HistoryWriter
from skywarden.store.raw_budget import RawRejectBudget
from skywarden.store.retention import MB, HistoryPolicy, used_bytes
from skywarden.warn.alerts import AlertState, AuditEntry
from skywarden.warn.changes import SettingChange

DAY = 86400.0
NOW = 1_800_000_000.0


def _audit(t: float) -> AuditEntry:
    return AuditEntry(t, 1, "raised", "system", AlertState.ACTIVE, "core", 7, "")


def test_rows_older_than_retention_days_go_but_settings_changes_stay(tmp_path: Path) -> None:
    writer = HistoryWriter(tmp_path / "h.duckdb")
    for age_days in (10, 5, 1):
        t = NOW - age_days * DAY
        writer.add_raw(t, "radar", b"x" * 10)
        writer.add_audit([_audit(t)])
        writer.add_rejects(t, "radar", {"bad_block": 3})
        writer.add_change(SettingChange(t, "alice", "admin", "zones", "{}", ""))
    writer.flush()
    result = writer.apply_retention(HistoryPolicy(retention_days=3.0), NOW)
    assert result.deleted == {"raw_inputs": 2, "audit": 2, "rejects": 2}
    assert writer.status()["deleted_rows"] == {"raw_inputs": 2, "audit": 2, "rejects": 2}
    writer.close()
    with HistoryReader(tmp_path / "h.duckdb") as reader:
        assert [r.t_receive for r in reader.raw_inputs()] == [NOW - DAY]
        assert len(reader.changes()) == 3


def test_the_size_cap_deletes_the_oldest_bulk_rows_first(tmp_path: Path) -> None:
    writer = HistoryWriter(tmp_path / "h.duckdb")
    rng = __import__("numpy").random.default_rng(1)
    for k in range(40):  # 40 x 4000 incompressible payloads of 150 B (24 MB) over 40 s
        writer.add_raw(NOW + k, "radar", [rng.bytes(150) for _ in range(4000)])
    writer.add_audit([_audit(NOW)])
    writer.flush()
    before = writer.reader().count("raw_inputs")
    with writer._db_lock:
        writer._con.execute("CHECKPOINT")
        size = used_bytes(writer._con)
    cap_mb = size / MB / 2
    result = writer.apply_retention(HistoryPolicy(max_size_mb=cap_mb), NOW + 40)
    assert result.used_bytes <= cap_mb * MB
    reader = writer.reader()
    kept = [r.t_receive for r in reader.raw_inputs()]
    assert 0 < len(kept) < before and min(kept) > NOW  # the oldest went first
    assert reader.count("audit") == 1  # not a bulk table: kept
    writer.close()


def test_policy_keys_are_read_from_storage_and_checked(tmp_path: Path) -> None:
    doc = {"site": {"lat": 47.0, "lon": 8.0},
           "storage": {"path": "h.duckdb", "retention_days": 30, "max_size_mb": 2000,
                       "max_pending_mb": 64, "memory_limit_mb": 128,
                       "raw_reject_kb_s": 8}}  # fmt: skip
    config = site_config_from_dict(doc, tmp_path)
    assert config.history == HistoryPolicy(retention_days=30.0, max_size_mb=2000.0,
                                           max_pending_mb=64.0, memory_limit_mb=128.0,
                                           raw_reject_kb_s=8.0)  # fmt: skip
    assert site_config_from_dict({"site": doc["site"]}, tmp_path).history == HistoryPolicy()
    doc["storage"]["max_pending_mb"] = 0
    with pytest.raises(ConfigError, match="max_pending_mb"):
        site_config_from_dict(doc, tmp_path)
    doc["storage"] = {"retention": 3}
    with pytest.raises(ConfigError, match="retention_days"):  # the known keys are listed
        site_config_from_dict(doc, tmp_path)


def test_the_history_connection_has_a_memory_limit(tmp_path: Path) -> None:
    """Without one DuckDB's buffer cache grows with the file (up to 80 % of the machine):
    a long run's RSS would never level off. Measured: 25 x 1M rows, RSS 223 -> 1,016 MB
    unlimited, flat at 190-230 MB with 128 MB."""
    writer = HistoryWriter(tmp_path / "h.duckdb", memory_limit_mb=64)
    ((limit,),) = writer._con.execute("SELECT current_setting('memory_limit')").fetchall()
    assert limit == "61.0 MiB"  # 64 MB (10^6 bytes) as DuckDB shows it
    writer._connect_again()  # a reopened connection after a failure keeps it
    writer._reconnect = True
    writer._connect_again()
    ((again,),) = writer._con.execute("SELECT current_setting('memory_limit')").fetchall()
    assert again == limit
    writer.close()
    assert HistoryPolicy().memory_limit_mb == 64.0
    ((threads,),) = (
        HistoryWriter(tmp_path / "d.duckdb")
        ._con.execute("SELECT current_setting('threads')")
        .fetchall()
    )
    assert threads == 1  # a sort spills within the limit, and the live tick keeps its cores


def test_a_rejecting_source_is_stored_at_the_capped_rate_a_clean_one_in_full() -> None:
    budget = RawRejectBudget(1000.0)  # bytes/s
    budget.note_rejects("radar", 0, 0)
    budget.note_rejects("radar", 50, 2)  # more rejects than records: rejecting
    budget.note_rejects("adsb", 0, 0)
    budget.note_rejects("adsb", 1, 500)  # a reject among many records: clean
    stored = [budget.admit("radar", 10.0 + k * 0.01, 100) for k in range(100)]  # 10 kB in 1 s
    assert 10 <= sum(stored) <= 21  # one second's burst + one second's refill
    assert budget.skipped.chunks["radar"] == 100 - sum(stored)
    assert all(budget.admit("adsb", 10.0, 10_000) for _ in range(10))
    budget.note_rejects("radar", 50, 40)  # clean again: stored in full
    assert budget.admit("radar", 11.0, 100_000)


@given(st.lists(st.tuples(st.floats(0, 5), st.integers(1, 5000)), max_size=200))
def test_the_stored_bytes_never_exceed_burst_plus_rate_times_time(chunks) -> None:
    budget = RawRejectBudget(2000.0)
    budget.note_rejects("s", 0, 0)
    budget.note_rejects("s", 1, 0)
    t, stored = 0.0, 0
    for dt, n in chunks:
        t += dt
        if budget.admit("s", t, n):
            stored += n
    assert stored <= 2000.0 * (1.0 + t) + 1e-6
