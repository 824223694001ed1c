"""The live stream's compact encoding: the reference client rebuilds every snapshot to the
stated quantisation (a real pipeline's, and any sequence hypothesis makes up); a client that
joins later holds the same state as one that followed from the start; over a real server a
``?encoding=compact`` client rebuilds the backend's snapshot."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect

from skywarden.server import create_app
from skywarden.server.live_compact import QUANTUM, encode
from skywarden.server.live_compact_reference import CompactClient, CompactStreamError
from skywarden.snapshot import Snapshot, TrackArrays
from tests.server.fake_backend import FakeBackend, static_snapshot
from tests.server.live_server import live_server
from tests.test_pipeline_tick_cost import T0, drones, make_pipeline

DEG, ALT = QUANTUM["lat"], QUANTUM["alt"]


def close(a: float | None, b: float | None, tol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol + 1e-9 * max(1.0, abs(b))


def assert_rebuilt(picture: dict, doc: dict) -> None:
    """The compact client's picture is the snapshot document to the encoding's quantisation:
    half a quantum (plus the JSON's own rounding) for every number; the predicted path's
    middle points within d^2 / 4R more (d: the path's length; R: the Earth's radius), as
    they are spaced evenly in degrees rather than in site ENU metres."""
    for k in ("schema", "seq", "t", "site", "alerts", "sensors", "health"):
        assert picture[k] == doc[k], k
    rows = sorted(doc["tracks"], key=lambda r: r["id"])
    assert [r["id"] for r in picture["tracks"]] == [r["id"] for r in rows]
    deg = DEG / 2 + 1e-7
    for got, want in zip(picture["tracks"], rows, strict=True):
        for k in ("status", "class", "behaviour", "identity", "callsign", "flags", "on_ground",
                  "evidence", "reasons", "summary", "members"):  # fmt: skip
            assert got.get(k) == want.get(k), (k, got, want)
        assert close(got["lat"], want["lat"], deg) and close(got["lon"], want["lon"], deg)
        assert close(got["alt_m"], want["alt_m"], ALT / 2 + 0.05)
        assert close(got["sigma_m"], want["sigma_m"], 0.05 + 0.05)
        assert close(got["t_update"], want["t_update"], 5e-4 + 5e-4)
        for k, v in want["p"].items():
            assert close(got["p"][k], v, 5e-4 + 5e-4)
        for a, b in zip(got["v_enu"], want["enu"][3:], strict=True):
            assert close(a, b, 0.005 + 0.005)
        if want["speed_mps"] is not None and want["speed_mps"] > 1.0:
            assert close(got["speed_mps"], want["speed_mps"], 0.02)
            turn = abs((got["course_deg"] - want["course_deg"] + 180.0) % 360.0 - 180.0)
            assert turn <= math.degrees(0.015 / want["speed_mps"]) + 0.1
        assert len(got["trail"]) == len(want["trail"])
        for p, w in zip(got["trail"], want["trail"], strict=True):
            assert close(p[0], w[0], deg) and close(p[1], w[1], deg)
            assert close(p[2], w[2], ALT / 2 + 0.05)
        if got["predicted"] or want["predicted"]:
            assert len(got["predicted"]) == len(want["predicted"])
            end = want["predicted"][-1]
            d = 111_320.0 * math.hypot(end[0] - want["lat"], end[1] - want["lon"])
            bend_m = d * d / (4.0 * 6.371e6)
            for p, w in zip(got["predicted"], want["predicted"], strict=True):
                bend = bend_m / 111_000.0
                assert close(p[0], w[0], 2 * deg + bend) and close(p[1], w[1], 2 * deg + 2 * bend)
                assert close(p[2], w[2], ALT + 0.05 + bend_m)


def test_a_real_pipelines_snapshots_are_rebuilt_to_the_quantisation() -> None:
    pipeline = make_pipeline()
    client, state, sizes = CompactClient(), None, []
    for k in range(30):
        n = 6 if k < 20 else 3  # three drones stop reporting: their tracks go away
        snapshot, _ = pipeline.process(T0 + k, drones(T0 + k, n))
        message, state = encode(state, snapshot)
        picture = client.apply(message)
        assert_rebuilt(picture, snapshot.to_json())
        sizes.append(len(message))
    assert len(snapshot.tracks) < 6  # tracks were removed on the way
    assert any(len(r["trail"]) > 3 for r in picture["tracks"])  # trails grew point by point
    assert max(sizes[10:]) < len(snapshot.deflate_bytes)


def test_a_client_joining_later_holds_what_one_following_from_the_start_holds() -> None:
    pipeline = make_pipeline()
    first, late, state, previous = CompactClient(), CompactClient(), None, None
    for k in range(12):
        snapshot, _ = pipeline.process(T0 + k, drones(T0 + k, 6))
        if k == 6:  # joins now: a keyframe of the last broadcast, with the running table
            late.apply(encode(None, previous, state.table)[0])
        message, state = encode(state, snapshot)
        first.apply(message)
        if k >= 6:
            assert late.apply(message) == first.picture()
        previous = snapshot


def test_a_delta_on_another_base_or_bad_bytes_are_refused() -> None:
    a, b, c = (static_snapshot(seq=s, t=1_700_000_000.0 + s) for s in (1, 2, 3))
    key, state = encode(None, a)
    _, state2 = encode(state, b)
    skipped, _ = encode(state2, c)
    client = CompactClient()
    client.apply(key)
    with pytest.raises(CompactStreamError, match="delta on 2"):
        client.apply(skipped)
    for bad in (b"", b"garbage", zlib.compress(b"SWC1\x00"), key[:-3]):
        with pytest.raises(CompactStreamError):
            CompactClient().apply(bad)


texts = st.sampled_from(["", "transit", "hover", "DLH4AB", "rid:ABC"])
numbers = st.one_of(st.floats(-1e3, 1e3), st.just(math.nan))


@st.composite
def pictures(draw) -> list[Snapshot]:
    """A sequence of snapshots: tracks come and go, trails grow, move on or are replaced,
    values jump or go missing (NaN), text changes."""
    out, trails, t = [], {}, 1_700_000_000.0
    width = draw(st.integers(0, 5))
    for seq in range(1, draw(st.integers(1, 6)) + 1):
        t += draw(st.floats(0.1, 5.0))
        ids = sorted(draw(st.sets(st.integers(1, 40), max_size=8)), reverse=draw(st.booleans()))
        n = len(ids)
        rows = []
        for i in ids:
            held = trails.get(i, [])
            new = [[50.0 + draw(numbers) * 1e-3, 4.0 + draw(numbers) * 1e-3, draw(numbers)]
                   for _ in range(draw(st.integers(0, 3)))]  # fmt: skip
            trail = (held + new)[-width:] if width and draw(st.booleans()) else new[:width]
            trails[i] = trail
            rows.append([[math.nan] * 3] * (width - len(trail)) + trail)

        def col(scale: float, n: int = n) -> np.ndarray:
            return np.array([draw(numbers) * scale for _ in range(n)], float)

        def words(n: int = n) -> np.ndarray:
            return np.array([draw(texts) for _ in range(n)], dtype=object)

        lat, lon, alt = 50.0 + col(1e-2), 4.0 + col(1e-2), col(1.0)
        step = np.column_stack([col(1e-4), col(1e-4), col(1.0)]) if n else np.zeros((0, 3))
        ahead = np.arange(1, draw(st.integers(0, 3)) + 1)[None, :, None]
        predicted = np.column_stack([lat, lon, alt])[:, None, :] + ahead * step[:, None, :]
        tuples = np.empty(n, dtype=object)
        tuples[:] = [tuple(draw(st.lists(texts, max_size=2))) for _ in ids]
        tracks = TrackArrays(
            id=np.array(ids, np.int64), enu=np.column_stack([col(1.0) for _ in range(6)]) if n
            else np.zeros((0, 6)), lat=lat, lon=lon, alt_m=alt,
            sigma_m=np.abs(col(0.1)), status=np.array([draw(st.integers(0, 2)) for _ in ids],
                                                      np.int8),
            target_class=np.array([draw(st.integers(0, 4)) for _ in ids], np.int8),
            p_class=np.abs(np.column_stack([col(1e-3) for _ in range(4)])) if n
            else np.zeros((0, 4)), behaviour=words(), identity=words(), callsign=words(),
            t_update=t - np.abs(col(1e-2)), trail=np.array(rows, float).reshape(n, width, 3),
            predicted=predicted,
            evidence=np.array([draw(st.integers(0, 255)) for _ in ids], np.int64),
            reasons=tuples, flags=tuples,
        )  # fmt: skip
        out.append(Snapshot(seq=seq, t=t, site=(50.0, 4.0, 10.0), tracks=tracks))
    return out


@settings(max_examples=150, deadline=None)
@given(snapshots=pictures())
def test_any_sequence_of_pictures_is_rebuilt(snapshots: list[Snapshot]) -> None:
    client, state = CompactClient(), None
    for snapshot in snapshots:
        message, state = encode(state, snapshot)
        assert_rebuilt(client.apply(message), snapshot.to_json())


def test_compact_clients_rebuild_the_backend_snapshot_over_a_real_server() -> None:
    backend = FakeBackend(static_snapshot(seq=1, t=1_700_000_000.0))
    with live_server(create_app(backend, live_rate_hz=50.0)) as url:
        ws_url = url.replace("http", "ws") + "/api/v1/live?encoding=compact"
        with connect(ws_url, open_timeout=10, max_size=None) as one:
            client = CompactClient()
            assert client.apply(one.recv(timeout=10))["seq"] == 1
            for seq in (2, 3, 4):
                backend.publish(static_snapshot(seq=seq, t=1_700_000_000.0 + seq))
                while client.seq < seq:
                    client.apply(one.recv(timeout=10))
                assert_rebuilt(client.picture(), backend.snapshot().to_json())
            with connect(ws_url, open_timeout=10, max_size=None) as two:  # joins later
                late = CompactClient()
                late.apply(two.recv(timeout=10))
                backend.publish(static_snapshot(seq=5, t=1_700_000_005.0))
                while client.seq < 5:
                    client.apply(one.recv(timeout=10))
                while late.seq < 5:
                    late.apply(two.recv(timeout=10))
                assert late.picture() == client.picture()


def test_a_full_string_table_gives_every_client_a_keyframe(monkeypatch) -> None:
    monkeypatch.setattr("skywarden.server.live.MAX_STRINGS", 1)  # always "full"
    backend = FakeBackend(static_snapshot(seq=1, t=1_700_000_000.0))
    with live_server(create_app(backend, live_rate_hz=50.0)) as url:
        ws_url = url.replace("http", "ws") + "/api/v1/live?encoding=compact"
        with connect(ws_url, open_timeout=10, max_size=None) as ws:
            client = CompactClient()
            client.apply(ws.recv(timeout=10))
            for seq in (2, 3):
                backend.publish(static_snapshot(seq=seq, t=1_700_000_000.0 + seq))
                while client.seq < seq:
                    client.apply(ws.recv(timeout=10))
                    assert client.header["type"] == "key"  # a fresh table each time
                    assert client.header["strings_from"] == 0
                assert_rebuilt(client.picture(), backend.snapshot().to_json())


def test_a_picture_from_the_bus_encodes_as_the_pipelines_snapshot_does() -> None:
    """The bus-fed API backend serves pictures decoded from the site's JSON: the compact
    client rebuilds them as well (the columns come back from JSON rows)."""
    from skywarden.bus.picture import decode_picture, encode_picture

    pipeline = make_pipeline()
    client, state = CompactClient(), None
    for k in range(8):
        snapshot, _ = pipeline.process(T0 + k, drones(T0 + k, 6))
        picture = decode_picture(*encode_picture(snapshot))
        message, state = encode(state, picture)
        assert_rebuilt(client.apply(message), snapshot.to_json())
    assert client.picture()["tracks"]
