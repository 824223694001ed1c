"""A `skywarden run` process fed over loopback, for the flood and soak benchmarks.

:class:`LiveService` writes a site with one sensor per live feed kind (a radar and a CAT021
station on ASTERIX/UDP, Remote ID on UDP, SBS and Beast on TCP, the service being the TCP
client as with dump1090), starts the TCP servers the service connects to, starts the service
as its own process (so its resident memory is its own) and reads its RSS (/proc) and
``/api/v1/health``. Linux only (RSS from /proc/PID/status).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skywarden.simulate.emit_site import ADSB_ASTERIX, BEAST, RADAR, REMOTE_ID, SBS, SiteSetup
from skywarden.simulate.emit_site import site_toml as to_toml
from skywarden.sources.senders import TcpServerSender

REPO = Path(__file__).resolve().parents[1]
NAMES = {RADAR: "radar", ADSB_ASTERIX: "adsb-cat021", REMOTE_ID: "remote-id", SBS: "sbs",
         BEAST: "beast"}  # fmt: skip


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_document(setup: SiteSetup, ports: dict[str, int], http: int, history: Path | None):
    """The site that receives every channel on loopback (scan period 1 s)."""
    radar = setup.radar_site
    sensors = [
        {"name": NAMES[RADAR], "kind": "asterix", "transport": "udp", "host": "127.0.0.1",
         "port": ports[RADAR], "lat": radar.lat_deg, "lon": radar.lon_deg,
         "height_m": radar.h_m, "range_m": setup.max_range_m},
        {"name": NAMES[ADSB_ASTERIX], "kind": "asterix", "transport": "udp",
         "host": "127.0.0.1", "port": ports[ADSB_ASTERIX], "lat": setup.lat_deg,
         "lon": setup.lon_deg, "height_m": setup.h_m},
        {"name": NAMES[REMOTE_ID], "kind": "remote_id", "transport": "udp",
         "host": "127.0.0.1", "port": ports[REMOTE_ID]},
        {"name": NAMES[SBS], "kind": "sbs", "transport": "tcp", "host": "127.0.0.1",
         "port": ports[SBS]},
        {"name": NAMES[BEAST], "kind": "beast", "transport": "tcp", "host": "127.0.0.1",
         "port": ports[BEAST]},
    ]  # fmt: skip
    doc: dict[str, Any] = {
        "site": {"name": "benchmark", "lat": setup.lat_deg, "lon": setup.lon_deg,
                 "height_m": setup.h_m},
        "service": {"bind": f"127.0.0.1:{http}", "scan_period_s": 1.0},
    }  # fmt: skip
    if history is not None:
        doc["storage"] = {"path": str(history), "flush_s": 1.0}
    doc["sensors"] = sensors
    return doc


@dataclass
class LiveService:
    """The service process and the loopback endpoints that feed it (use ``async with``)."""

    setup: SiteSetup = field(default_factory=lambda: SiteSetup(start_posix=time.time()))
    history: bool = False
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="skywarden-")))
    ports: dict[str, int] = field(default_factory=dict)
    http: int = 0
    servers: dict[str, TcpServerSender] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    async def __aenter__(self) -> LiveService:
        self.ports = {c: free_port() for c in (RADAR, ADSB_ASTERIX, REMOTE_ID)}
        for channel in (SBS, BEAST):
            server = TcpServerSender("127.0.0.1", 0)
            await server.start()
            self.servers[channel] = server
            self.ports[channel] = server.port_bound
        self.http = free_port(socket.SOCK_STREAM)
        history = self.folder / "history.duckdb" if self.history else None
        site = self.folder / "site.toml"
        site.write_text(to_toml(site_document(self.setup, self.ports, self.http, history)))
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "skywarden.cli", "run", str(site)],
            env=env, stdout=subprocess.DEVNULL, stderr=open(self.folder / "stderr.txt", "w"),
        )  # fmt: skip
        for _ in range(600):  # start-up (imports) can take many seconds on a busy machine
            await asyncio.sleep(0.2)
            try:
                if self.health()["sensors"] and all(s.client_count for s in self.servers.values()):
                    return self
            except OSError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited: {self.stderr()}")
        raise RuntimeError("service did not start")

    async def __aexit__(self, *exc_info: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            await asyncio.to_thread(self.process.wait, 60)
        for server in self.servers.values():
            await server.close()

    def stderr(self) -> str:
        return (self.folder / "stderr.txt").read_text()

    def udp(self, channel: str) -> tuple[str, int]:
        return ("127.0.0.1", self.ports[channel])

    def rss_mb(self) -> float:
        """The service's resident memory (MiB)."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
        raise RuntimeError("no VmRSS")

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http}/api/v1/health", timeout=30) as r:
            return json.load(r)

    def timed_health(self) -> tuple[dict[str, Any], float]:
        """The health document and how long it took to answer (ms)."""
        t0 = time.perf_counter()
        body = self.health()
        return body, (time.perf_counter() - t0) * 1e3

    def source(self, body: dict[str, Any], channel: str) -> dict[str, Any]:
        return body["sources"][NAMES[channel]]


def losses(source: dict[str, Any]) -> dict[str, int]:
    """A source's rejects and drops by reason (feed rejects, queue and kernel drops)."""
    out = dict(source.get("rejects", {}))
    transport = source.get("transport", {})
    for name, value in (("queue_full", source.get("dropped", 0)),
                        ("transport_queue_full", transport.get("dropped", 0)),
                        ("kernel_dropped", transport.get("kernel_dropped", 0))):  # fmt: skip
        if value:
            out[name] = value
    return out


async def settle(service: LiveService, channel: str, quiet_s: float = 3.0, limit_s: float = 900):
    """Wait until the channel's message count stops moving for quiet_s (bounded)."""
    last, still, waited = -1, 0.0, 0.0
    while still < quiet_s and waited < limit_s:
        await asyncio.sleep(0.5)
        waited += 0.5
        body = await asyncio.to_thread(service.health)
        source = service.source(body, channel)
        seen = source["messages"] + source.get("transport", {}).get("kernel_dropped", 0)
        still = still + 0.5 if seen == last else 0.0
        last = seen
    return await asyncio.to_thread(service.health)
