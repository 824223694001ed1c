"""edge -> core -> api over a real nats-server, the three roles in one process: a real UDP
sensor stream in, the site picture on the api node's REST API, an operator acknowledge
through the api node recorded by the core with the operator's name."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from skywarden.bus.api import run_api
from skywarden.bus.core import run_core
from skywarden.bus.edge import run_edge
from skywarden.simulate.emit import stream_scenario
from skywarden.site_config import load_site_config
from tests.bus.nats_server import NatsServer
from tests.bus.processes import wait_api
from tests.bus.site_setup import bus_site


def test_edge_core_api_over_nats(tmp_path: Path, nats_server: NatsServer) -> None:
    asyncio.run(asyncio.wait_for(_roles(tmp_path, nats_server), timeout=150))


async def _roles(tmp_path: Path, nats_server: NatsServer) -> None:
    site = bus_site(tmp_path, nats_server.url, scans=24)
    config = load_site_config(site.path)
    stop = asyncio.Event()
    edge = asyncio.create_task(run_edge(config, config.bus, stop))
    core = asyncio.create_task(run_core(config, config.bus, stop))
    api = asyncio.create_task(run_api(config, config.bus, stop))
    await wait_api(f"http://127.0.0.1:{site.http_port}/api/v1")  # the core is live
    await _garbage(nats_server.url, config)
    await stream_scenario(site.scenario, site.setup, site.live, speed=1.0, clock=time.time)
    await asyncio.sleep(2.0)
    base = f"http://127.0.0.1:{site.http_port}/api/v1"
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        tracks = (await client.get("/tracks")).json()
        alerts = (await client.get("/alerts")).json()["alerts"]
        health = (await client.get("/health")).json()
        zones = (await client.get("/zones")).json()
        assert alerts, "the mixed scenario's drones raise alerts in the 3 km zone"
        target = alerts[0]["id"]
        acked = await client.post(f"/alerts/{target}/acknowledge",
                                  json={"who": "op-anna", "note": "seen"})  # fmt: skip
        missing = await client.post("/alerts/999999/acknowledge", json={"who": "op-anna"})
        audit = (await client.get("/audit")).json()
    stop.set()
    edge_counts = await edge
    core_counts = await core
    await api

    # the site picture came through the bus to the api node
    assert tracks["count"] > 5, tracks["count"]
    assert all(len(tr["cov"]) == 21 for tr in tracks["tracks"])  # what a region node fuses
    assert zones["features"][0]["properties"]["radius_m"] == 3000.0
    assert health["sources"]["radar"]["detections"] > 0
    assert health["bus"]["pictures"] > 10
    assert health["bus"]["rejects"] == {"picture_bad": 1}  # counted, dropped, still serving
    # the operator's acknowledge went to the core and the result came back
    assert acked.status_code == 200, acked.text
    assert acked.json()["id"] == target and acked.json()["state"] == "acknowledged"
    assert missing.status_code == 404
    assert any(e["alert_id"] == target and e["who"] == "op-anna" and e["action"] == "acknowledged"
               for e in audit)  # fmt: skip
    # ... and is in the durable audit stream on the bus
    on_bus = await _audit_stream(nats_server.url, config.name)
    assert any(e["alert_id"] == target and e["who"] == "op-anna" for e in on_bus)
    # every received datagram was published, taken by the core and acknowledged
    received = sum(c["received"] for c in edge_counts.values())
    published = sum(c["published"] for c in edge_counts.values())
    assert received > 50 and published == received
    assert core_counts.live + core_counts.catch_up == published
    # the bad raw messages on the bus were counted, acknowledged and dropped
    assert core_counts.rejects == {"bad_header": 1, "unknown_sensor": 1, "oversized": 1}
    assert core_counts.acked == core_counts.live + core_counts.catch_up + 3


async def _audit_stream(url: str, site: str) -> list[dict]:
    import json

    import nats

    from skywarden.bus.subjects import SiteSubjects
    from tests.bus.nats_server import TOKEN

    subjects = SiteSubjects.of(site)
    nc = await nats.connect(url, token=TOKEN)
    sub = await nc.jetstream().pull_subscribe(subjects.audit, stream=subjects.stream("audit"))
    entries = []
    try:
        while True:
            entries += [json.loads(m.data) for m in await sub.fetch(100, timeout=1.0)]
    except TimeoutError:  # nats' own (a subclass) or asyncio's, both seen
        pass
    await nc.close()
    return entries


async def _garbage(url: str, config) -> None:
    """Bad raw messages (no headers, an unknown sensor, oversized) and a bad picture."""
    import nats

    from skywarden.bus.connection import declare_streams
    from skywarden.bus.subjects import HEADER_T, SiteSubjects
    from tests.bus.nats_server import TOKEN

    subjects = SiteSubjects.of(config.name)
    nc = await nats.connect(url, token=TOKEN)
    js = nc.jetstream()
    await declare_streams(js, subjects, config.bus)  # the roles may still be starting
    await js.publish(subjects.raw("radar"), b"\x30\x00")
    await js.publish(subjects.raw("nobody"), b"\x30\x00", headers={HEADER_T: "1.0"})
    big = b"\x30" * (config.bus.max_raw_bytes + 10)
    await js.publish(subjects.raw("radar"), big, headers={HEADER_T: "1.0"})
    await nc.publish(subjects.picture, b"{not a picture")
    await nc.flush()
    await nc.close()
