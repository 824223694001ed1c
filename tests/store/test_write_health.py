"""Failed history writes (skywarden.store.write_health): an OSError at the store boundary makes
the writer degraded at once, the rows wait in memory (bounded, drops counted per table, the
audit kept longest), and the next good flush writes them and clears the state."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from skywarden.store import HistoryError, HistoryReader, HistoryWriter
from skywarden.store.write_health import WriteHealth
from skywarden.warn.alerts import AlertState, AuditEntry


class Disk:
    """Stands in for the disk under the writer: fails every insert while ``full``."""

    def __init__(self, writer: HistoryWriter) -> None:
        self.full = False
        real = writer._insert

        def insert(table: str, rows: pa.Table) -> None:
            if self.full:
                raise OSError(28, "No space left on device")
            real(table, rows)

        writer._insert = insert  # type: ignore[method-assign]


def _audit(k: int) -> AuditEntry:
    return AuditEntry(float(k), k, "raised", "system", AlertState.ACTIVE, "core", 7, "")


def test_a_failed_write_is_degraded_at_once_held_bounded_and_recovered(tmp_path: Path) -> None:
    now = [100.0]
    writer = HistoryWriter(tmp_path / "h.duckdb", max_pending_rows=10, clock=lambda: now[0])
    disk = Disk(writer)
    writer.add_raw(1.0, "radar", [b"a", b"b", b"c"])
    assert writer.status()["status"] == "ok"
    disk.full = True
    with pytest.raises(HistoryError, match="No space left"):
        writer.flush()
    status = writer.status()
    assert status["status"] == "degraded" and "No space left" in status["error"]
    assert status["consecutive_failures"] == 1 and status["pending_rows"] == 3
    now[0] = 105.0
    writer.add_raw(2.0, "radar", [b"x"] * 9)  # 3 + 9 > 10: refused, counted
    writer.add_audit([_audit(k) for k in range(5)])  # the audit may use up to twice the limit
    with pytest.raises(HistoryError):
        writer.flush()
    status = writer.status()
    assert status["dropped_rows"] == {"raw_inputs": 9}
    assert status["failing_for_s"] == pytest.approx(5.0) and status["failures"] == 2
    assert status["pending_rows"] == 3 + 5
    disk.full = False
    assert writer.flush() == 8
    status = writer.status()
    assert status["status"] == "ok" and status["error"] == "" and status["recoveries"] == 1
    assert "No space left" in status["last_error"]
    writer.close()
    with HistoryReader(tmp_path / "h.duckdb") as reader:
        assert reader.count("raw_inputs") == 3 and reader.count("audit") == 5


def test_the_pending_bytes_are_bounded_too() -> None:
    writer = HistoryWriter(":memory:", max_pending_bytes=10_000)
    Disk(writer).full = True
    for _ in range(100):
        writer.add_raw(1.0, "radar", b"\0" * 1000)
    assert writer.status()["pending_bytes"] <= 10_000
    assert writer.status()["dropped_rows"]["raw_inputs"] >= 90


def test_backoff_doubles_per_failure_up_to_the_cap() -> None:
    h = WriteHealth()
    assert h.backoff_s(2.0) == 2.0
    waits = []
    for _ in range(6):
        h.failed("disk full", 0.0)
        waits.append(h.backoff_s(2.0, cap_s=30.0))
    assert waits == [4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert h.succeeded() == 6 and h.backoff_s(2.0) == 2.0 and not h.degraded


def test_close_after_a_failed_last_flush_raises_but_closes(tmp_path: Path) -> None:
    writer = HistoryWriter(tmp_path / "h.duckdb")
    Disk(writer).full = True
    writer.add_raw(1.0, "radar", b"x")
    with pytest.raises(HistoryError):
        writer.close()
    writer.close()  # idempotent: already closed
