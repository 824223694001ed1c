"""Clean shutdown with real processes: SIGTERM or Ctrl-C (SIGINT) of `skywarden run`, and the
end of a live simulator stream with TCP clients connected, print no traceback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src")}


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _quiet(stderr: str) -> bool:
    return "Traceback" not in stderr and "CancelledError" not in stderr


def _site(tmp_path: Path, http: int) -> Path:
    site = tmp_path / "site.toml"
    site.write_text(
        '[site]\nname = "shutdown"\nlat = 47.0\nlon = 8.0\nheight_m = 400.0\n'
        f'[storage]\npath = "{tmp_path / "history.duckdb"}"\nflush_s = 0.5\n'
        f'[service]\nbind = "127.0.0.1:{http}"\n'
        f'[[sensors]]\nname = "rid"\nkind = "remote_id"\ntransport = "udp"\n'
        f'host = "127.0.0.1"\nport = {_free_port(socket.SOCK_DGRAM)}\n'
        f'[[sensors]]\nname = "adsb"\nkind = "sbs"\ntransport = "tcp"\n'
        f'host = "127.0.0.1"\nport = {_free_port(socket.SOCK_STREAM)}\n'  # nobody listens
    )
    return site


def _run(site: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "skywarden.cli", "run", str(site)],
        env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_stops_without_a_traceback(tmp_path: Path, sig: signal.Signals) -> None:
    http = _free_port(socket.SOCK_STREAM)
    run = _run(_site(tmp_path, http))
    try:
        health = None
        for _ in range(240):  # bounded wait for the server (start-up is slow on a busy machine)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http}/api/v1/health") as r:
                    health = json.load(r)
                if health["sensors"]:  # the first tick has run
                    break
            except OSError:
                pass
            time.sleep(0.25)
        assert health is not None, run.stderr.read() if run.poll() is not None else "no server"
        run.send_signal(sig)
        _, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 0, err
    assert _quiet(err), err
    assert [s["name"] for s in health["sensors"]] == ["rid", "adsb"]
    assert health["sensors"][1]["connected"] is False  # the TCP sensor's server is absent


@pytest.mark.parametrize("delay_s", [0.5, 1.0, 1.5])
def test_run_stopped_while_starting_prints_no_traceback(tmp_path: Path, delay_s: float) -> None:
    """Ctrl-C while the HTTP server is still starting (its lifespan task used to be
    cancelled half-way and print a CancelledError)."""
    run = _run(_site(tmp_path, _free_port(socket.SOCK_STREAM)))
    try:
        assert "map on" in run.stdout.readline()  # printed just before the service starts
        time.sleep(delay_s)
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 0, err
    assert _quiet(err), err


STREAM = """
import asyncio, sys
from skywarden.simulate import build_scenario
from skywarden.simulate.emit import LivePorts, stream_scenario
from skywarden.simulate.emit_site import SiteSetup
scenario = build_scenario("crossing", 0)
ports = LivePorts(radar_udp=None, adsb_cat021_udp=None, sbs_tcp=int(sys.argv[1]),
                  beast_tcp=int(sys.argv[2]))
counters = asyncio.run(stream_scenario(scenario, SiteSetup(start_posix=1.7e9), ports,
                                       speed=1e6, wait_for_client_s=60.0))
print(counters["sbs"].connects, counters["beast"].connects)
"""


def test_the_end_of_a_stream_with_clients_connected_prints_no_traceback() -> None:
    ports = [_free_port(socket.SOCK_STREAM) for _ in range(2)]
    sim = subprocess.Popen(
        [sys.executable, "-c", STREAM, *map(str, ports)],
        env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    clients = []
    try:
        for port in ports:
            for _ in range(240):  # bounded wait for the simulator's servers
                try:
                    clients.append(socket.create_connection(("127.0.0.1", port), timeout=30))
                    break
                except OSError:
                    time.sleep(0.25)
        assert len(clients) == 2
        out, err = sim.communicate(timeout=120)  # the clients stay connected to the end
    finally:
        for client in clients:
            client.close()
        if sim.poll() is None:
            sim.kill()
            sim.communicate()
    assert sim.returncode == 0, err
    assert out.split() == ["1", "1"]
    assert _quiet(err), err
