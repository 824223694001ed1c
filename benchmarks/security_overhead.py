"""What the security checks cost: token checks, a request with and without authentication,
the JSON depth check against parsing, and a tick at the most zones a PUT may set.

* scrypt check of a new token (once per token, then remembered until the users file changes)
  vs a remembered token's check;
* GET /api/v1/tracks in-process (httpx ASGITransport) with a bearer token vs authentication
  off: the ratio is the per-request price of authentication and the security middleware;
* json_depth (the vectorised nesting check run on every state-changing body) vs json.loads of
  the same 1 MB zone document;
* Pipeline.process with 100 circle zones (the default max_zones) vs 4,000 (what the issue could
  PUT before): the bound keeps the tick about 40x cheaper.

    python benchmarks/security_overhead.py
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from skywarden.classify.trained import identity_and_speed_classes
from skywarden.detections import SourceKind, make_detections, remote_id_identity
from skywarden.pipeline import Pipeline
from skywarden.server import create_app
from skywarden.server.auth import Authenticator
from skywarden.server.http_security import json_depth
from skywarden.server.users import add_user
from skywarden.site_config import site_config_from_dict
from skywarden.warn.zones import ZoneLimits, parse_zones


def best(fn, repeat: int = 5, number: int = 1) -> float:
    """Best wall time of fn over ``repeat`` runs of ``number`` calls, seconds per call."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return min(times)


def requests_per_s(app, headers: dict[str, str], n: int = 300) -> float:
    async def go() -> float:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await client.get("/api/v1/tracks", headers=headers)  # warm (first token check)
            t0 = time.perf_counter()
            for _ in range(n):
                r = await client.get("/api/v1/tracks", headers=headers)
                assert r.status_code == 200
            return n / (time.perf_counter() - t0)

    return asyncio.run(go())


def circles(n: int) -> dict:
    rng = np.random.default_rng(0)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": f"z{i}",
         "properties": {"role": "protected", "floor_m": 0, "ceiling_m": 300, "radius_m": 300.0},
         "geometry": {"type": "Point", "coordinates": [8.0 + rng.uniform(-0.05, 0.05),
                                                       47.0 + rng.uniform(-0.05, 0.05)]}}
        for i in range(n)]}  # fmt: skip


def tick_s(n_zones: int) -> float:
    config = site_config_from_dict({"site": {"lat": 47.0, "lon": 8.0}}, Path("."))
    now = [1.75e9]
    pipeline = Pipeline(config, clock=lambda: now[0], classifier=identity_and_speed_classes)
    limits = ZoneLimits(max_zones=n_zones, max_vertices=10**6)
    pipeline.zones = parse_zones(circles(n_zones), pipeline.frame, limits=limits)
    rng = np.random.default_rng(1)
    start = rng.uniform(-4000, 4000, (20, 3)) * [1, 1, 0] + [0, 0, 100]
    velocity = rng.normal(0, 10, (20, 3)) * [1, 1, 0]
    ids = np.array([remote_id_identity(f"B{i}") for i in range(20)])
    times = []
    for k in range(15):
        now[0] += 1.0
        d = make_detections(now[0], start + k * velocity, 5.0, kind=SourceKind.REMOTE_ID,
                            identity=ids, v=velocity)  # fmt: skip
        t0 = time.perf_counter()
        pipeline.process(now[0], d)
        times.append(time.perf_counter() - t0)
    return float(np.median(times[5:]))


def main() -> None:
    from tests.server.fake_backend import FakeBackend

    with tempfile.TemporaryDirectory() as folder:
        users = Path(folder) / "users.json"
        token = add_user(users, "bench", "viewer")
        auth = Authenticator(users)
        fresh = best(lambda: Authenticator(users).principal(token), repeat=3)
        remembered = best(lambda: auth.principal(token), number=1000)
        print(f"token check: new {fresh * 1e3:.1f} ms (scrypt), remembered "
              f"{remembered * 1e6:.1f} us: ratio {fresh / remembered:.0f}x")  # fmt: skip
        open_rps = requests_per_s(create_app(FakeBackend()), {})
        authed = create_app(FakeBackend(), auth=auth)
        auth_rps = requests_per_s(authed, {"Authorization": f"Bearer {token}"})
        print(f"GET /api/v1/tracks: {open_rps:.0f}/s open, {auth_rps:.0f}/s with a token: "
              f"ratio {open_rps / auth_rps:.2f}")  # fmt: skip
    body = json.dumps(circles(2500)).encode()
    depth = best(lambda: json_depth(body), number=5)
    parse = best(lambda: json.loads(body), number=5)
    print(f"{len(body) / 1e6:.1f} MB body: json_depth {depth * 1e3:.1f} ms, json.loads "
          f"{parse * 1e3:.1f} ms: ratio {depth / parse:.2f}")  # fmt: skip
    small, large = tick_s(100), tick_s(4000)
    print(f"tick with 20 tracks: 100 zones {small * 1e3:.1f} ms, 4,000 zones "
          f"{large * 1e3:.1f} ms: ratio {large / small:.0f}x")  # fmt: skip


if __name__ == "__main__":
    main()
