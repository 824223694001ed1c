"""`skywarden run` with its HTTP port taken by another server stops at start-up with one clear
line and exit status 2 (not uvicorn's own message and status 3 after the service started)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_stops_with_one_line_when_the_http_port_is_in_use(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        port = other.getsockname()[1]
        udp = free_udp_port()
        site = tmp_path / "site.toml"
        site.write_text(
            '[site]\nname = "busy http"\nlat = 47.0\nlon = 8.0\nheight_m = 400.0\n'
            f'[service]\nbind = "127.0.0.1:{port}"\n'
            f'[[sensors]]\nname = "adsb"\nkind = "sbs"\ntransport = "udp"\n'
            f'host = "127.0.0.1"\nport = {udp}\n'
        )
        env = dict(os.environ, PYTHONPATH=str(SRC))
        done = subprocess.run(
            [sys.executable, "-m", "skywarden.cli", "run", str(site)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert lines == [f"skywarden: error: cannot serve HTTP on 127.0.0.1:{port}: "
                     "the port is in use (another server listens on it)"]  # fmt: skip
    # the sensor's port was not taken either: nothing started
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(("127.0.0.1", udp))
