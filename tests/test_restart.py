"""Restart continuity (skywarden.restart): after a real ``kill -9`` of ``skywarden run`` and a
restart on the same history, track and alert numbers go on (never reused), and the open alert
an operator acknowledged comes back acknowledged, with the same id."""

from __future__ import annotations

import socket
from pathlib import Path

import duckdb
import numpy as np

from skywarden.geo import LocalFrame
from skywarden.restart import (
    MIN_ALERT_BLOCK,
    RESERVED_ALERT,
    RESERVED_TRACK,
    IdReservation,
    restart_state,
)
from skywarden.store import HistoryReader
from skywarden.store.history import HistoryWriter
from skywarden.warn.alerts import AlertState, AuditEntry
from tests.live_site import LAT, LON, DroneSender, RunningSite, free_port, write_site

A = ("RESTARTTEST-A", (LAT + 0.002, LON + 0.002, 60.0))  # ~270 m from the origin: inside
B = ("RESTARTTEST-B", (LAT - 0.002, LON - 0.001, 80.0))


def _alerts(site: RunningSite) -> list[dict]:
    return site.get("/alerts")["alerts"]


def _alert_of(site: RunningSite, serial: str) -> dict | None:
    return next((a for a in _alerts(site) if serial in a["object"]), None)


def test_kill_9_and_restart_continue_ids_and_restore_acknowledged_alerts(tmp_path: Path) -> None:
    http, rid = free_port(), free_port(socket.SOCK_DGRAM)
    site_toml = write_site(tmp_path, http, rid)
    with DroneSender(rid) as sender:
        sender.drones[A[0]] = A[1]
        first = RunningSite(site_toml, http)
        try:
            alert = first.wait_for(lambda: _alert_of(first, A[0]))
            acked = first.post(f"/alerts/{alert['id']}/acknowledge", {"who": "alice"})
            assert acked["state"] == "acknowledged"
            tracks_before = {t["id"] for t in first.get("/tracks")["tracks"]}
            first.flushed_after(3)
        finally:
            first.kill9()  # SIGKILL: no flush, no close
        sender.drones[B[0]] = B[1]
        second = RunningSite(site_toml, http)
        try:
            second.wait_for(lambda: _alert_of(second, B[0]))
            again = _alert_of(second, A[0])
            assert again is not None and again["id"] == alert["id"]
            assert again["state"] == "acknowledged"
            new = _alert_of(second, B[0])
            assert new["id"] > alert["id"] and new["state"] == "active"
            tracks_after = {t["id"] for t in second.get("/tracks")["tracks"]}
            assert tracks_after and min(tracks_after) > max(tracks_before)
            audit = second.get("/audit")
            assert any(e["action"] == "restored" and e["alert_id"] == alert["id"] for e in audit)
            second.flushed_after(2)
        finally:
            assert second.terminate() == 0, second.output()
    con = duckdb.connect(str(tmp_path / "history.duckdb"), read_only=True)
    try:
        # every alert number names one object in one zone, across both runs
        rows = con.execute(
            "SELECT alert_id, count(DISTINCT object), count(DISTINCT zone_id) FROM alerts "
            "GROUP BY alert_id"
        ).fetchall()
        assert rows and all(n_obj == 1 and n_zone == 1 for _, n_obj, n_zone in rows)
        # and each object has one alert id: A's alert went on, it was not raised again
        per_object = con.execute(
            "SELECT object, count(DISTINCT alert_id) FROM alerts GROUP BY object"
        ).fetchall()
        assert all(n == 1 for _, n in per_object), per_object
    finally:
        con.close()


def _entry(t: float, alert_id: int, action: str, state: AlertState) -> AuditEntry:
    return AuditEntry(t, alert_id, action, "alice", state, "core", 1234, "")


def test_restart_state_reads_ids_and_the_latest_operator_state(tmp_path: Path) -> None:
    path = tmp_path / "h.duckdb"
    with HistoryWriter(path) as writer:
        writer.meta_source = IdReservation(lambda: (40, 7))
        writer.add_audit([_entry(10.0, 6, "raised", AlertState.ACTIVE),
                          _entry(12.0, 6, "acknowledged", AlertState.ACKNOWLEDGED),
                          _entry(13.0, 5, "cleared", AlertState.CLEARED)])  # fmt: skip
        writer.flush()
    with HistoryReader(path) as reader:
        meta = reader.meta().values
        assert int(meta[RESERVED_TRACK]) >= 40 and int(meta[RESERVED_ALERT]) == 7 + MIN_ALERT_BLOCK
        state = restart_state(reader, LocalFrame(LAT, LON, 0.0), 100.0)
    assert state.next_track_id == int(meta[RESERVED_TRACK])
    assert state.next_alert_id == 7 + MIN_ALERT_BLOCK
    assert state.alerts == ()  # no alert rows: nothing to rebuild from the audit alone


def test_reservation_grows_with_the_rate_ids_are_used() -> None:
    ids = [np.array([1, 1])]
    reserve = IdReservation(lambda: (int(ids[0][0]), int(ids[0][1])))
    first = reserve()
    ids[0] = np.array([1 + 50_000, 1 + 5])
    second = reserve()
    assert int(first[RESERVED_TRACK]) == 1 + 10_000
    assert int(second[RESERVED_TRACK]) == 50_001 + 4 * 50_000
