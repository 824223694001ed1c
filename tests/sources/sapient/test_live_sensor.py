"""A kind = "sapient" sensor in the live service: a SAPIENT peer (a middleware stand-in that
serves every client) sends DetectionReports of a moving object over TCP; the service's feed,
tracker and snapshot turn them into one confirmed track where the object is."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path

import numpy as np

from skywarden.geo import LocalFrame
from skywarden.service import build_service, serve
from skywarden.site_config import site_config_from_dict
from skywarden.sources.sapient.bindings import sapient
from skywarden.sources.sapient.framing import frame
from skywarden.sources.senders import TcpServerSender

SITE = (51.5, -0.1, 45.0)
NODE = "7d3c0a52-1111-4c4e-9c1e-2b1a7c3f4e5d"


def report(t: float, lat: float, lon: float, h: float, ve: float, vn: float) -> bytes:
    msg = sapient().SapientMessage(node_id=NODE)
    msg.timestamp.seconds, msg.timestamp.nanos = int(t), int((t % 1) * 1e9)
    rep = msg.detection_report
    rep.report_id, rep.object_id = (
        f"01HF{int(t * 1000) % 10**22:022d}",
        "01HF0000000000000000000OBJ",
    )
    loc = rep.location
    loc.x, loc.y, loc.z, loc.coordinate_system, loc.datum = lon, lat, h, 1, 1
    loc.x_error = loc.y_error = 10.0 / 111_320.0
    loc.z_error = 10.0
    rep.enu_velocity.east_rate, rep.enu_velocity.north_rate = ve, vn
    rep.classification.add(type="UAV", confidence=0.8)
    return frame(msg.SerializeToString())


def test_sapient_reports_become_a_track_in_the_live_service() -> None:
    asyncio.run(asyncio.wait_for(_live(), timeout=60))


async def _live() -> None:
    middleware = TcpServerSender()
    await middleware.start()
    doc = {"site": {"lat": SITE[0], "lon": SITE[1], "height_m": SITE[2]},
           "service": {"scan_period_s": 0.25},
           "sensors": [{"name": "rf-detector", "kind": "sapient", "transport": "tcp",
                        "host": "127.0.0.1", "port": middleware.port_bound}]}  # fmt: skip
    service = build_service(site_config_from_dict(doc, Path(".")), with_server=False)
    serving = asyncio.create_task(serve(service))
    assert await middleware.wait_for_clients(1, 10.0)
    frame_ = LocalFrame(*SITE)
    t0 = time.time()
    for _ in range(16):
        t = time.time()
        e, n, u = 800.0 + 12.0 * (t - t0), 300.0, 120.0
        lat, lon, h = frame_.enu_to_geodetic(np.array([[e, n, u]]))
        await middleware.send(report(t, float(lat[0]), float(lon[0]), float(h[0]), 12.0, 0.0))
        await asyncio.sleep(0.25)
    deadline = time.monotonic() + 20.0  # until the service has taken all 16 (not a timing test)
    while service.pipeline.source_health.get("rf-detector", {}).get("records", 0) < 16:
        assert time.monotonic() < deadline, service.pipeline.source_health
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # a scan closes: the last report is in the track
    snap = service.pipeline.snapshot()
    health = service.pipeline.health()["sources"]["rf-detector"]
    service.stop.set()
    await serving
    await middleware.close()
    assert health["records"] == 16 and health["detections"] == 16 and not health["rejects"]
    confirmed = snap.tracks.take(np.isin(snap.tracks.status, (1, 2)))  # confirmed or coasting
    assert len(confirmed) == 1 and confirmed.identity[0] == "track_number"
    e_now = 800.0 + 12.0 * (snap.t - t0)
    assert math.dist(confirmed.enu[0, :2], (e_now, 300.0)) < 40.0
    assert abs(confirmed.enu[0, 3] - 12.0) < 3.0
