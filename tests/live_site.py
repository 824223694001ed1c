"""A real `skywarden run` subprocess on loopback with a Remote ID sensor, and a sender of
Remote ID Wi-Fi beacons for hovering drones (for the restart and disk-error tests)."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from skywarden.sources.remote_id.encode import encode_message_pack, encode_wifi_beacon
from skywarden.sources.remote_id.messages import BasicId, IdType, Location, UaType

LAT, LON = 47.0, 8.0
ZONE_RADIUS_M = 800.0


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_site(folder: Path, http_port: int, rid_port: int, storage: str = "") -> Path:
    """A site with one protected circle of ZONE_RADIUS_M around the origin and one Remote ID
    sensor on UDP rid_port; history flushed every 0.2 s."""
    zone = {"type": "Feature", "id": "core",
            "properties": {"role": "protected", "floor_m": 0, "ceiling_m": 500,
                           "radius_m": ZONE_RADIUS_M},
            "geometry": {"type": "Point", "coordinates": [LON, LAT]}}  # fmt: skip
    (folder / "zones.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [zone]})
    )
    path = folder / "site.toml"
    path.write_text(
        f'[site]\nname = "t"\nlat = {LAT}\nlon = {LON}\n\n'
        f'[service]\nbind = "127.0.0.1:{http_port}"\nscan_period_s = 0.5\n\n'
        '[zones]\nfile = "zones.geojson"\n\n'
        f'[storage]\npath = "history.duckdb"\nflush_s = 0.2\n{storage}\n'
        '[[sensors]]\nname = "rid"\nkind = "remote_id"\ntransport = "udp"\n'
        f'host = "127.0.0.1"\nport = {rid_port}\n'
    )
    return path


def beacon(serial: str, k: int, lat: float, lon: float, alt_m: float, t: float, n: int) -> bytes:
    """One Wi-Fi beacon with a Basic ID and a Location message of a hovering drone."""
    basic = BasicId(2, int(IdType.SERIAL_NUMBER), int(UaType.HELICOPTER_OR_MULTIROTOR), serial)
    loc = Location(
        version=2, status=2, height_type=0, direction_rad=0.0, speed_m_s=0.0,
        vertical_speed_m_s=0.0, lat_deg=lat, lon_deg=lon, pressure_altitude_m=math.nan,
        geodetic_altitude_m=alt_m, height_m=alt_m, horizontal_accuracy=11, vertical_accuracy=4,
        baro_accuracy=4, speed_accuracy=3, timestamp_s=math.fmod(t, 3600.0),
        timestamp_accuracy_s=0.1,
    )  # fmt: skip
    mac = f"02:53:49:4d:00:{k & 0xFF:02x}"
    return encode_wifi_beacon(encode_message_pack([basic, loc]), mac, n & 0xFF, sequence=n)


class DroneSender:
    """Sends beacons of the drones in ``drones`` (serial -> (lat, lon, alt)) every period_s
    from a thread, to UDP port; drones may be added while it runs. ``extra`` bytes (garbage)
    are sent beside each round when set."""

    def __init__(self, port: int, period_s: float = 0.2) -> None:
        self.port, self.period_s = port, period_s
        self.drones: dict[str, tuple[float, float, float]] = {}
        self.extra: Callable[[], list[bytes]] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.sent = 0

    def __enter__(self) -> DroneSender:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            n = 0
            while not self._stop.is_set():
                for k, (serial, (lat, lon, alt)) in enumerate(list(self.drones.items())):
                    s.sendto(
                        beacon(serial, k, lat, lon, alt, time.time(), n), ("127.0.0.1", self.port)
                    )
                    self.sent += 1
                if self.extra is not None:
                    for data in self.extra():
                        s.sendto(data, ("127.0.0.1", self.port))
                n += 1
                self._stop.wait(self.period_s)


class RunningSite:
    """``skywarden run site.toml`` as a subprocess; stderr goes to a file."""

    def __init__(self, site: Path, http_port: int, preexec: Callable[[], None] | None = None):
        self.site, self.port = site, http_port
        self.log = site.parent / f"run-{time.monotonic_ns()}.log"
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        src = str(Path(__file__).resolve().parents[1] / "src")
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
        self._log_file = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "skywarden.cli", "run", str(site)], cwd=site.parent,
            stdout=self._log_file, stderr=subprocess.STDOUT, env=env, preexec_fn=preexec,
        )  # fmt: skip
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{http_port}/api/v1", timeout=10)

    def get(self, path: str) -> Any:
        r = self.http.get(path)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: dict) -> Any:
        r = self.http.post(path, json=body)
        r.raise_for_status()
        return r.json()

    def wait_for(
        self, what: Callable[[], Any], timeout_s: float = 60.0, every_s: float = 0.1
    ) -> Any:
        """Poll until what() returns something truthy (connection errors retried); fails
        with the service's log after timeout_s."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"service exited {self.proc.returncode}:\n{self.output()}")
            try:
                value = what()
            except (httpx.HTTPError, KeyError, IndexError):
                value = None
            if value:
                return value
            time.sleep(every_s)
        raise AssertionError(f"timed out waiting; service log:\n{self.output()}")

    def flushed_after(self, count: int = 2) -> None:
        """Wait until the history has completed ``count`` more flushes than now."""
        start = self.get("/health")["history"]["flushes"]
        self.wait_for(lambda: self.get("/health")["history"]["flushes"] >= start + count)

    def output(self) -> str:
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log.read_text(errors="replace")

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        self.close()

    def terminate(self) -> int:
        self.proc.terminate()
        try:
            return self.proc.wait(30)
        finally:
            self.close()

    def close(self) -> None:
        self.http.close()
        self._log_file.close()
