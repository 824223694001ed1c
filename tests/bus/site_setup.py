"""The bus tests' site: the simulated demo site (radar CAT048, ADS-B CAT021 and Remote ID over
real UDP on loopback) with a 3 km protected zone, written as a site TOML with a [bus] table."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from skywarden.demo import DemoPorts, demo_site
from skywarden.simulate import build_scenario
from skywarden.simulate.emit import LivePorts
from skywarden.simulate.emit_site import SiteSetup
from skywarden.simulate.scenarios import Scenario
from skywarden.site_config import site_config_to_dict
from tests.bus.nats_server import TOKEN, free_port
from tests.bus.site_files import write_site


@dataclass
class BusSite:
    path: Path
    scenario: Scenario
    setup: SiteSetup
    live: LivePorts
    http_port: int


def bus_site(tmp_path: Path, nats_url: str, *, scans: int, start_in_s: float = 3.0) -> BusSite:
    scenario = build_scenario("mixed", 2, n_scans=scans)
    setup = SiteSetup(start_posix=float(int(time.time() + start_in_s)),
                      remote_id_classes=frozenset({"drone"}))  # fmt: skip
    udp = socket.SOCK_DGRAM
    ports = DemoPorts(
        radar_udp=free_port(udp), adsb_udp=free_port(udp), remote_id_udp=free_port(udp),
        sbs_tcp=free_port(), http=free_port(),
    )  # fmt: skip
    config = demo_site(scenario, ports, setup, None)
    doc = site_config_to_dict(config)
    zones = config.zones_geojson
    features = [dict(f) for f in zones["features"]]
    features[0] = {**features[0], "properties": {**features[0]["properties"], "radius_m": 3000.0}}
    (tmp_path / "zones.geojson").write_text(json.dumps({**zones, "features": features}))
    by_name = {s.name: s for s in config.sensors}
    sensors = []
    for s in doc["sensors"]:
        if s["name"] == "adsb-sbs":
            continue  # UDP sensors only here
        s.update(host="127.0.0.1", port=by_name[s["name"]].port)
        sensors.append(s)
    site = {
        "site": doc["site"],
        "service": {"bind": f"127.0.0.1:{ports.http}", "scan_period_s": 1.0},
        "zones": {"file": "zones.geojson"},
        "tracker": doc["tracker"],
        "classifier": doc["classifier"],
        "bus": {"url": nats_url, "token": TOKEN, "replay_window_s": 30.0},
        "sensors": sensors,
        "alert_rules": doc["alert_rules"],
    }
    live = LivePorts(radar_udp=ports.radar_udp, adsb_cat021_udp=ports.adsb_udp,
                     remote_id_udp=ports.remote_id_udp, sbs_tcp=None, beast_tcp=None)  # fmt: skip
    path = write_site(tmp_path / "site.toml", site)
    return BusSite(path, scenario, setup, live, ports.http)
