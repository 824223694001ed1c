"""/api/v1/health is computed and encoded once per snapshot (and again after its maximum age),
however often it is polled, and carries the same document as the backend's health."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

from skywarden.server import create_app
from skywarden.server.health_cache import HealthCache
from tests.server.fake_backend import FakeBackend, static_snapshot
from tests.server.test_api import Client


def test_health_is_encoded_once_per_snapshot() -> None:
    backend = FakeBackend()
    now = [0.0]
    cache = HealthCache(backend, max_age_s=0.5, clock=lambda: now[0])
    first = json.loads(cache.body({"live": {"clients": 1}}))
    for k in range(20):
        body = json.loads(cache.body({"live": {"clients": k}}))
        assert body["live"] == {"clients": k}  # the per-request part is always current
    assert (cache.encodings, backend.health_calls) == (1, 1)
    expected = dict(backend.health())
    expected["sensors"] = [s.to_json() for s in backend.snapshot().sensors]
    assert {k: v for k, v in body.items() if k != "live"} == json.loads(json.dumps(expected))
    assert first["uptime_s"] == body["uptime_s"]
    backend.publish(static_snapshot(seq=2))  # a new snapshot: computed again
    cache.body({})
    assert cache.encodings == 2
    now[0] += 0.6  # no new snapshot, but older than max_age_s: computed again
    assert json.loads(cache.body({})) == json.loads(cache.body({}))
    assert cache.encodings == 3


def test_health_endpoint_serves_the_cached_document() -> None:
    backend = FakeBackend()
    client = Client(create_app(backend))
    bodies = [client.get("/api/v1/health") for _ in range(5)]
    assert all(r.status_code == 200 for r in bodies)
    assert all(r.headers["content-type"] == "application/json" for r in bodies)
    doc = bodies[-1].json()
    assert {"sources", "tick_latency_ms", "sensors", "live", "security"} <= set(doc)
    assert backend.health_calls == 1
    backend.failure = "decoder crashed"
    r = client.get("/api/v1/health")
    assert r.status_code == 503 and r.json()["reason"] == "decoder crashed"


def test_the_health_a_snapshot_carries_is_not_computed_again() -> None:
    """The pipeline's snapshots carry its health (the live stream sends it): that document is
    encoded, and the backend is not asked again."""
    backend = FakeBackend()
    backend.health_in_snapshot = True  # type: ignore[attr-defined]
    carried = {"status": "ok", "sources": {"radar": {"messages": 7}}, "snapshot_seq": 2}
    backend.publish(replace(static_snapshot(seq=2), health=carried))
    body = json.loads(HealthCache(backend).body({}))
    assert backend.health_calls == 0
    assert body["sources"] == {"radar": {"messages": 7}} and body["snapshot_seq"] == 2
    assert [s["name"] for s in body["sensors"]] == [s.name for s in backend.snapshot().sensors]


def test_following_encodes_as_snapshots_come_and_requests_only_splice() -> None:
    backend = FakeBackend()
    cache = HealthCache(backend, max_age_s=60.0)

    async def run() -> list[int]:
        follower = asyncio.create_task(cache.follow())
        await asyncio.sleep(0)
        seen = [cache.encodings]  # the current snapshot, encoded at the start
        for k in range(3):
            backend.publish(static_snapshot(seq=2 + k))
            for _ in range(10_000):  # the follower takes the snapshot (polls every 5 ms)
                if cache._key == 2 + k:
                    break
                await asyncio.sleep(0.001)
            for _ in range(5):
                cache.body({"live": {"clients": k}})
            seen.append(cache.encodings)
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
        return seen

    seen = asyncio.run(run())
    assert seen == [1, 2, 3, 4]  # one encoding per snapshot; none for the 15 requests
    assert not cache.following
