"""The live stream's delta encoding: applying a keyframe and then every delta in order
reproduces each snapshot's full JSON; a client that missed one waits for the next keyframe;
over a real server a ``?encoding=delta`` client rebuilds the backend's snapshot."""

from __future__ import annotations

import json
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect

from skywarden.server import create_app
from skywarden.server.live_delta import DeltaEncoder, apply, delta, keyframe, ordered_tracks
from tests.server.fake_backend import FakeBackend, static_snapshot
from tests.server.live_server import live_server
from tests.test_pipeline_tick_cost import T0, drones, make_pipeline


def normalised(doc: dict) -> dict:
    return {**doc, "tracks": ordered_tracks(doc)}


def decode(data: bytes) -> dict:
    return json.loads(zlib.decompress(data))


def test_deltas_rebuild_every_snapshot_of_a_real_pipeline() -> None:
    pipeline = make_pipeline()
    encoder = DeltaEncoder(keyframe_every=7)
    state, full_bytes, delta_bytes = None, 0, 0
    for k in range(30):
        n = 6 if k < 20 else 3  # three drones stop reporting: their tracks go away
        snapshot, _ = pipeline.process(T0 + k, drones(T0 + k, n))
        doc = json.loads(snapshot.json_bytes)
        message = encoder.encode(doc)
        state = apply(state, decode(message))
        assert normalised(state) == normalised(doc), k
        if decode(message)["type"] == "delta":  # the tracks' part (alerts go whole)
            full_bytes += len(json.dumps(doc["tracks"]))
            delta_bytes += len(json.dumps(decode(message)["upsert"]))
    assert len(snapshot.tracks) < 6  # tracks were removed on the way
    assert delta_bytes < full_bytes / 2


def test_a_client_that_missed_a_delta_waits_for_the_next_keyframe() -> None:
    docs = [static_snapshot(seq=s, t=1_700_000_000.0 + s).to_json() for s in (1, 2, 3)]
    state = apply(None, keyframe(docs[0]))
    assert apply(state, delta(docs[1], docs[2])) is None  # base 2, but it holds 1
    assert apply(None, delta(docs[0], docs[1])) is None  # nothing held yet
    assert apply(state, delta(docs[0], docs[1]))["seq"] == 2


def track(i: int, trail: list, x: float) -> dict:
    return {"id": i, "lat": x, "lon": 2.0 * x, "class": "drone" if i % 2 else "bird",
            "trail": trail, "predicted": [[x, x, 1.0]]}  # fmt: skip


points = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    ids=st.lists(st.sets(st.integers(1, 12), max_size=10), min_size=1, max_size=6),
    moves=st.lists(st.integers(0, 9), min_size=6, max_size=6),
    trails=st.lists(points, min_size=6, max_size=6),
)
def test_any_sequence_of_pictures_is_rebuilt(ids, moves, trails) -> None:
    """Tracks come and go, trails move on by any number of points (or change altogether),
    fields change or stay: the client always holds the sender's picture."""
    encoder = DeltaEncoder(keyframe_every=4)
    state, history = None, {}
    for seq, present in enumerate(ids, start=1):
        rows = []
        for i in sorted(present):
            old = history.get(i, [])
            new = [list(p) for p in trails[seq % 6]]
            trail = (old + new)[-5:] if moves[i % 6] % 3 else new  # moved on, or replaced
            history[i] = trail
            rows.append(track(i, trail, float(moves[(i + seq) % 6] // 4)))
        doc = {"schema": 1, "seq": seq, "t": float(seq), "site": {}, "tracks": rows,
               "alerts": [], "sensors": [], "health": {}}  # fmt: skip
        state = apply(state, decode(encoder.encode(doc)))
        assert normalised(state) == normalised(doc)


def test_delta_clients_rebuild_the_backend_snapshot_over_a_real_server() -> None:
    backend = FakeBackend(static_snapshot(seq=1, t=1_700_000_000.0))
    with live_server(create_app(backend, live_rate_hz=50.0)) as url:
        ws_url = url.replace("http", "ws") + "/api/v1/live?encoding=delta"
        with connect(ws_url, open_timeout=10, max_size=None) as ws:
            first = decode(ws.recv(timeout=10))
            assert first["type"] == "key"
            state = apply(None, first)
            for seq in (2, 3, 4):
                backend.publish(static_snapshot(seq=seq, t=1_700_000_000.0 + seq))
                while state["seq"] < seq:
                    state = apply(state, decode(ws.recv(timeout=10)))
                    assert state is not None
                expected = json.loads(backend.snapshot().json_bytes)
                assert normalised(state) == normalised(expected)
