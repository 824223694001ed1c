"""HistoryWriter / HistoryReader: round trip, transactional flush, crash safety, time windows."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.detections import make_detections
from skywarden.errors import InputError
from skywarden.snapshot import CLASS_NAMES
from skywarden.store import SCHEMA_VERSION, HistoryError, HistoryReader, HistoryWriter
from skywarden.warn.alerts import AlertState, AuditEntry
from tests.store.snapshot_builders import SITE, make_alert, make_batch, make_snapshot

T0 = 1_700_000_000.0


def _write_run(path, rng):
    """Three ticks of everything; returns what was written."""
    snaps = [
        make_snapshot(1, T0, [1, 2, 3], (make_alert(1, T0),)),
        make_snapshot(
            2, T0 + 1, [1, 2, 3, 4], (make_alert(1, T0 + 1, probability=0.9, t_raised=T0),)
        ),
        make_snapshot(
            3,
            T0 + 2,
            [2, 4],
            (
                make_alert(1, T0 + 2, "acknowledged", t_raised=T0),
                make_alert(2, T0 + 2, "cleared", zone_id="Z2"),
            ),
        ),
        make_snapshot(4, T0 + 3, [4], ()),
    ]
    batches = [make_batch(T0 + k, 5 + k, rng) for k in range(3)]
    raw = [
        (T0 + 0.1, "radar", b"\x30\x00\x10garbage\x00"),
        (T0 + 0.1, "adsb", b""),
        (T0 + 0.05, "adsb", b"*8D4840D6202CC371C32CE0576098;"),
        (T0 + 1.2, "radar", b"x" * 3000),
    ]
    audit = [
        AuditEntry(T0, 1, "raised", "system", AlertState.ACTIVE, "Z1", 7 << 60 | 1, "p=0.80"),
        AuditEntry(T0 + 2, 1, "acknowledged", "alice", AlertState.ACKNOWLEDGED, "Z1", 7 << 60 | 1),
    ]
    with HistoryWriter(path, site=SITE, config_text="[site]\nlat = 51.5\n") as w:
        for t, source, payload in raw:
            w.add_raw(t, source, payload)
        for k, b in enumerate(batches):
            w.add_detections(T0 + k, b)
        for s in snaps:
            w.add_snapshot(s)
        w.add_audit(audit)
        w.add_rejects(
            T0 + 0.1, "radar", {"bad_length": 2, "unknown_cat": 0}, {"bad_length": b"\x30\x00"}
        )
        w.flush()
        w.add_reject_totals(T0 + 1.5, "adsb", {"crc": 3})
        w.add_reject_totals(T0 + 2.5, "adsb", {"crc": 5})
    return snaps, batches, raw, audit


def test_round_trip(tmp_path):
    path = tmp_path / "h.duckdb"
    snaps, batches, raw, audit = _write_run(path, np.random.default_rng(1))
    with HistoryReader(path) as r:
        meta = r.meta()
        assert (
            meta.site == SITE
            and meta.config_text.startswith("[site]")
            and meta.schema_version == SCHEMA_VERSION == 4
        )
        got = list(r.raw_inputs())
        expected = sorted(enumerate(raw), key=lambda x: (x[1][0], x[0]))
        assert [(g.t_receive, g.source, g.payload) for g in got] == [e for _, e in expected]

        d = r.detections()
        for name in ("t", "z", "R", "v", "sensor", "kind", "identity", "evidence"):
            want = np.concatenate([getattr(b, name) for b in batches])
            np.testing.assert_array_equal(getattr(d, name), want, err_msg=name)
        assert d.R.shape == (18, 3, 3) and d.sensor.dtype == np.int32

        c = r.track_states()
        rows = sorted(
            ((int(s.tracks.id[i]), s.t, s, i) for s in snaps for i in range(len(s.tracks))),
            key=lambda x: x[:2],
        )
        assert len(c["t"]) == len(rows) == 10
        for k, (tid, _, s, i) in enumerate(rows):
            assert c["track_id"][k] == tid and c["t"][k] == s.t and c["seq"][k] == s.seq
            np.testing.assert_array_equal(
                [c[x][k] for x in ("e", "n", "u", "ve", "vn", "vu")], s.tracks.enu[i]
            )
            assert (c["lat"][k], c["lon"][k], c["alt_m"][k]) == (
                s.tracks.lat[i],
                s.tracks.lon[i],
                s.tracks.alt_m[i],
            )
            np.testing.assert_array_equal(
                [c[f"p_{x}"][k] for x in ("drone", "bird", "aircraft", "unknown")],
                s.tracks.p_class[i],
            )
            assert (
                c["class"][k] == CLASS_NAMES[s.tracks.target_class[i]]
                and c["status"][k] == "confirmed"
            )
            assert c["identity"][k] == s.tracks.identity[i] and c["callsign"][k] == (
                s.tracks.callsign[i] or ""
            )
            assert (
                c["behaviour"][k] == s.tracks.behaviour[i]
                and c["t_update"][k] == s.tracks.t_update[i]
            )

        alerts = r.alerts()
        # alert 1: raised, (probability-only change: no row), acknowledged, then gone -> removed;
        # alert 2: first seen cleared, then gone: no 'removed' row.
        assert [(a["alert_id"], a["t"], a["state"]) for a in alerts] == [
            (1, T0, "active"),
            (1, T0 + 2, "acknowledged"),
            (2, T0 + 2, "cleared"),
            (1, T0 + 3, "removed"),
        ]
        assert (
            alerts[0]["zone_id"] == "Z1"
            and alerts[0]["probability"] == 0.8
            and alerts[0]["object"] == "track:1"
        )
        assert alerts[1]["t_raised"] == T0 and alerts[0]["inside"] is False

        got_audit = r.audit()
        assert [
            (
                a["t"],
                a["alert_id"],
                a["action"],
                a["who"],
                a["state"],
                a["zone_id"],
                a["object_key"],
                a["note"],
            )
            for a in got_audit
        ] == [
            (
                e.t,
                e.alert_id,
                e.action,
                e.who,
                e.state.name.lower(),
                e.zone_id,
                e.object_key,
                e.note,
            )
            for e in audit
        ]

        rejects = r.rejects()
        assert [(x["source"], x["reason"], x["count"], x["sample"]) for x in rejects] == [
            ("radar", "bad_length", 2, b"\x30\x00"),
            ("adsb", "crc", 3, b""),
            ("adsb", "crc", 2, b""),
        ]
        assert r.reject_totals() == {"radar": {"bad_length": 2}, "adsb": {"crc": 5}}
        assert r.time_span() == (T0, T0 + 3)


def test_flush_is_one_transaction(tmp_path, monkeypatch):
    path = tmp_path / "h.duckdb"
    rng = np.random.default_rng(2)
    w = HistoryWriter(path)
    w.add_raw(T0, "radar", [b"a", b"b"])
    w.add_snapshot(make_snapshot(1, T0, [1, 2]))
    assert w.flush() == 4
    w.add_raw([T0 + 1, T0 + 1.5], "radar", [b"c", b"d"])
    w.add_detections(T0 + 1, make_batch(T0 + 1, 4, rng))
    w.add_snapshot(make_snapshot(2, T0 + 1, [1, 2, 3], (make_alert(1, T0 + 1),)))
    real_insert = w._insert

    def failing_insert(table, rows):
        if table == "track_states":  # raw_inputs and detections are already inserted by now
            raise duckdb.IOException("disk full (simulated)")
        real_insert(table, rows)

    monkeypatch.setattr(w, "_insert", failing_insert)
    with pytest.raises(HistoryError, match="disk full"):
        w.flush()
    assert w.counters.flush_failures == 1 and w.pending_rows == 2 + 4 + 3 + 1
    reader = w.reader()
    counts = {t: reader.count(t) for t in ("raw_inputs", "detections", "track_states", "alerts")}
    assert counts == {"raw_inputs": 2, "detections": 0, "track_states": 2, "alerts": 0}

    monkeypatch.setattr(w, "_insert", real_insert)
    w.add_raw(T0 + 2, "adsb", b"e")  # arrives after the failure: written after the kept batch
    assert w.flush() == 3 + 4 + 3 + 1
    assert [x.payload for x in reader.raw_inputs()] == [b"a", b"b", b"c", b"d", b"e"]
    assert reader.count("track_states") == 5 and reader.count("alerts") == 1
    assert reader.count("detections") == 4
    assert w.counters.rows["raw_inputs"] == 5 and w.counters.flushes == 2
    w.close()


def test_crash_between_flushes_loses_only_the_unflushed_batch(tmp_path):
    path = tmp_path / "h.duckdb"
    script = textwrap.dedent(
        f"""
        import os
        from skywarden.store import HistoryWriter
        w = HistoryWriter({str(path)!r})
        w.add_raw(1.0, "radar", [b"one", b"two"])
        w.flush()
        w.add_raw(2.0, "radar", b"three")
        os._exit(3)  # killed before the next flush: no close, no cleanup
        """
    )
    done = subprocess.run([sys.executable, "-c", script], timeout=60, capture_output=True)
    assert done.returncode == 3, done.stderr.decode()
    with HistoryReader(path) as r:
        assert [x.payload for x in r.raw_inputs()] == [b"one", b"two"]
    with HistoryWriter(path) as w:  # a restarted service appends after what survived
        w.add_raw(3.0, "radar", b"four")
    with HistoryReader(path) as r:
        assert [x.payload for x in r.raw_inputs()] == [b"one", b"two", b"four"]


def test_time_windows(tmp_path):
    path = tmp_path / "h.duckdb"
    with HistoryWriter(path) as w:
        for k in range(20):
            t = T0 + k
            w.add_raw(t, "radar", f"m{k}".encode())
            alerts = (make_alert(1, t, "active" if k < 10 else "cleared", t_raised=T0),)
            w.add_snapshot(make_snapshot(k, t, [1, 2] if k < 15 else [2], alerts))
            w.add_audit([AuditEntry(t, 1, "note", "bob", AlertState.ACTIVE, "Z1", 1)])
    with HistoryReader(path) as r:
        assert [x.payload for x in r.raw_inputs(T0 + 5, T0 + 7)] == [b"m5", b"m6", b"m7"]
        assert [x.payload for x in r.raw_inputs(T0 + 18)] == [b"m18", b"m19"]
        assert [x.payload for x in r.raw_inputs(chunk_rows=3)][-1] == b"m19"
        tracks = r.tracks_between(T0 + 10, T0 + 16)
        assert [t["id"] for t in tracks] == [1, 2]
        assert tracks[0]["t"] == [T0 + k for k in range(10, 15)] and tracks[1]["t1"] == T0 + 16
        assert len(tracks[1]["lat"]) == len(tracks[1]["lon"]) == len(tracks[1]["alt_m"]) == 7
        assert tracks[0]["class"] == "drone" and tracks[0]["class_seq"] == ["drone"] * 5
        thinned = r.tracks_between(T0, T0 + 19, step_s=5.0)
        assert thinned[0]["t"] == [T0, T0 + 5, T0 + 10]
        assert thinned[1]["t"] == [T0, T0 + 5, T0 + 10, T0 + 15]
        assert r.tracks_between(T0 + 100, T0 + 200) == []
        assert [a["state"] for a in r.alerts(T0 + 5, T0 + 12)] == ["cleared"]
        assert len(r.audit(T0 + 3, T0 + 4)) == 2


def test_reader_in_the_same_process_sees_only_flushed_rows():
    w = HistoryWriter(":memory:")
    r = w.reader()
    w.add_raw(T0, "radar", b"a")
    assert r.count("raw_inputs") == 0 and w.pending_rows == 1
    w.flush()
    assert r.count("raw_inputs") == 1 and w.pending_rows == 0
    w.close()


def test_pending_rows_are_bounded_while_flushes_fail():
    w = HistoryWriter(":memory:", max_pending_rows=5)
    w.add_raw(T0, "radar", [b"1", b"2", b"3", b"4"])
    w.add_raw(T0, "radar", [b"5", b"6"])  # would exceed: dropped and counted
    w.add_raw(T0, "radar", b"7")
    assert w.pending_rows == 5 and w.counters.dropped_rows == 2
    w.close()


def test_bad_files_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="no such history file"):
        HistoryReader(tmp_path / "missing.duckdb")
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE x (a INTEGER)")
    con.close()
    with pytest.raises(InputError, match="not a skywarden history"):
        HistoryReader(other)
    future = tmp_path / "future.duckdb"
    HistoryWriter(future).set_meta({"schema_version": "99"})
    with pytest.raises(HistoryError, match="schema 99"):
        HistoryWriter(future)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 50).map(lambda k: T0 + k / 4),
            st.sampled_from(["radar", "adsb", "rid"]),
            st.binary(max_size=64),
        ),
        max_size=40,
    ),
    st.integers(1, 7),
)
def test_raw_inputs_come_back_in_receive_order(items, flush_every):
    w = HistoryWriter(":memory:")
    for k, (t, source, payload) in enumerate(items):
        w.add_raw(t, source, payload)
        if k % flush_every == 0:
            w.flush()
    w.flush()
    got = [tuple(x) for x in w.reader().raw_inputs(chunk_rows=5)]
    assert got == sorted(items, key=lambda x: x[0])  # sorted() is stable: ties keep order
    w.close()


def test_a_schema_2_file_is_migrated_in_place(tmp_path) -> None:
    path = tmp_path / "old.duckdb"
    with HistoryWriter(path, site=SITE) as w:
        w.add_audit([AuditEntry(T0, 1, "acknowledged", "alice", AlertState.ACKNOWLEDGED, "Z1", 1)])
    with duckdb.connect(str(path)) as con:  # make it what schema 2 wrote
        con.execute("DROP TABLE changes")
        con.execute("ALTER TABLE audit DROP COLUMN role")
        con.execute("ALTER TABLE detections DROP COLUMN evidence")
        con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    with HistoryReader(path) as r:  # readable as it is: no changes, no roles
        assert r.changes() == [] and "role" not in r.audit()[0]
    with HistoryWriter(path, site=SITE) as w:
        entry = AuditEntry(T0 + 1, 1, "cleared", "bob", AlertState.CLEARED, "Z1", 1, role="admin")
        w.add_audit([entry])
    with HistoryReader(path) as r:
        assert r.meta().schema_version == SCHEMA_VERSION == 4
        assert [(a["who"], a["role"]) for a in r.audit()] == [("alice", ""), ("bob", "admin")]


def test_a_schema_3_file_gains_the_evidence_column(tmp_path) -> None:
    path = tmp_path / "old.duckdb"
    with HistoryWriter(path, site=SITE):
        pass
    with duckdb.connect(str(path)) as con:  # make it what schema 3 wrote
        con.execute("ALTER TABLE detections DROP COLUMN evidence")
        con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    with HistoryWriter(path, site=SITE) as w:
        w.add_detections(T0, make_detections(T0, np.zeros((2, 3)), 4.0, evidence=5))
    with HistoryReader(path) as r:
        assert r.meta().schema_version == 4
        assert r.detections(T0 - 1, T0 + 1).evidence.tolist() == [5, 5]
