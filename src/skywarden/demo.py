"""`skywarden demo`: a simulated site, end to end over real sockets.

The default scenario, ``site`` (skywarden.simulate.site_picture), has every kind of traffic at
once, so every sensor on the map is live: a loitering-munition salvo and a multirotor swarm
(radar), airliners (ADS-B as CAT021 and SBS), an inspection drone broadcasting Remote ID that
the site allow-lists, birds, and ground traffic near the site.

The scenario is put on the wire as real sensors would send it (a rotating radar's CAT034 and
CAT048 over UDP, ADS-B as CAT021 over UDP and SBS over TCP, Remote ID Wi-Fi frames over UDP),
streamed live on loopback at real time, and received by the full service: feeds, tracker,
classifier, warnings, the map on http://127.0.0.1:8080, webhook/CoT sinks if configured and the
history in DuckDB. Nothing in the service knows it is a simulation.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from skywarden.detections import remote_id_identity
from skywarden.evaluate.demo_site import DEMO_LAT, DEMO_LON
from skywarden.simulate import build_scenario
from skywarden.simulate.emit import LivePorts, stream_scenario
from skywarden.simulate.emit_site import SiteSetup, remote_id_serial
from skywarden.simulate.simulator import Scenario
from skywarden.simulate.site_picture import INSPECTION_KIND
from skywarden.site_config import SensorConfig, SiteConfig
from skywarden.warn.rules import AllowEntry


@dataclasses.dataclass(frozen=True)
class DemoPorts:
    """Loopback ports of the demo's simulated sensors and of the map server."""

    radar_udp: int = 8600
    adsb_udp: int = 8601
    remote_id_udp: int = 8602
    sbs_tcp: int = 30003
    http: int = 8080


def demo_site(
    scenario: Scenario, ports: DemoPorts, setup: SiteSetup, storage: Path | None
) -> SiteConfig:
    """The evaluated demo site (skywarden.evaluate.demo_site.default_demo_site: a 300 m
    protected zone around the site, a 1 km warning ring, drone and unknown-object rules) with
    the simulated radar, ADS-B and Remote ID receivers on loopback and the map on ports.http."""
    from skywarden.evaluate.demo_site import default_demo_site

    config = default_demo_site(scenario)
    allow = tuple(
        AllowEntry(remote_id_identity(remote_id_serial(int(k))), note="site inspection drone")
        for k in np.flatnonzero(np.asarray(scenario.target_kind, dtype=str) == INSPECTION_KIND)
    )
    radar = setup.radar_site
    sensors = (
        SensorConfig("radar", "asterix", "udp", "127.0.0.1", ports.radar_udp, lat=radar.lat_deg,
                     lon=radar.lon_deg, height_m=radar.h_m, range_m=setup.max_range_m,
                     rcs_calibration_dbm=setup.rcs_calibration_dbm),
        SensorConfig("adsb-cat021", "asterix", "udp", "127.0.0.1", ports.adsb_udp,
                     lat=radar.lat_deg, lon=radar.lon_deg, height_m=radar.h_m),
        SensorConfig("remote-id", "remote_id", "udp", "127.0.0.1", ports.remote_id_udp),
        SensorConfig("adsb-sbs", "sbs", "tcp", "127.0.0.1", ports.sbs_tcp),
    )  # fmt: skip
    return dataclasses.replace(
        config, name=f"demo ({scenario.name})", sensors=sensors, storage_path=storage,
        allow=config.allow + allow,
        bind_host="127.0.0.1", bind_port=ports.http,
        source_text=f"demo scenario {scenario.name} seed {scenario.seed}",
    )  # fmt: skip


async def run_demo(
    scenario_name: str = "site",
    seed: int = 1,
    *,
    out: Path = Path("out/demo"),
    ports: DemoPorts = DemoPorts(),
    once: bool = False,
    cooperative_drones: bool = False,
    report=print,
) -> dict[str, Any]:
    """Stream the scenario into the service; serve the map until interrupted (or, with
    ``once``, until the scenario ends). Returns a summary of what the service saw."""
    from skywarden.service import build_service, serve

    scenario = build_scenario(scenario_name, seed)
    out.mkdir(parents=True, exist_ok=True)
    setup = SiteSetup(
        start_posix=math.floor(time.time()) + 2.0,
        remote_id_classes=frozenset({"drone"}),
        remote_id_kinds=None if cooperative_drones else frozenset({INSPECTION_KIND}),
    )
    if (setup.lat_deg, setup.lon_deg) != (DEMO_LAT, DEMO_LON):
        raise AssertionError("the demo site and the simulated sensors must share the origin")
    config = demo_site(scenario, ports, setup, out / "history.duckdb")
    service = build_service(config)
    live = LivePorts(
        radar_udp=ports.radar_udp, adsb_cat021_udp=ports.adsb_udp,
        remote_id_udp=ports.remote_id_udp, sbs_tcp=ports.sbs_tcp, beast_tcp=None,
    )  # fmt: skip
    serving = asyncio.create_task(serve(service))
    report(
        f"skywarden demo: {scenario_name} (seed {seed}), {scenario.n_targets} targets over "
        f"{scenario.times[-1]:.0f} s; map on http://127.0.0.1:{ports.http}/ ; history in "
        f"{config.storage_path}"
    )
    await asyncio.sleep(max(0.0, setup.start_posix - time.time() - 1.0))
    counters = await stream_scenario(
        scenario, setup, live, speed=1.0, wait_for_client_s=5.0, clock=time.time
    )
    await asyncio.sleep(2.0)
    summary = _summary(service, counters)
    report(
        f"scenario done: {summary['tracks_seen']} tracks, {summary['alerts']} alerts "
        f"({summary['alerts_entered']} of them saw the target enter); sources: "
        f"{summary['sources']}"
    )
    if once:
        service.stop.set()
    await serving
    return summary


def _summary(service, counters) -> dict[str, Any]:
    pipeline = service.pipeline
    alerts = pipeline.book.alerts
    return {
        "tracks_seen": int(pipeline.tracks.next_id - 1),
        "alerts": len(alerts),
        "alerts_entered": sum(a.t_entered is not None for a in alerts),
        "sources": {name: h.get("detections", 0) for name, h in pipeline.source_health.items()},
        "late_detections": pipeline.late_detections,
        "sent": {k: v.as_dict()["messages"] for k, v in counters.items()},
    }
