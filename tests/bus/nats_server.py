"""A real ``nats-server -js`` for the bus tests: temporary store, free loopback port, a token.

The binary is Debian's ``nats-server`` (``./quickstart test`` installs it when missing); tests
skip with a clear message only when it is absent (and the quickstart could not install it)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

TOKEN = "s3cret-test-token"


def nats_binary() -> str | None:
    found = shutil.which("nats-server")
    if found is None and Path("/usr/sbin/nats-server").is_file():
        found = "/usr/sbin/nats-server"
    return found


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class NatsServer:
    process: subprocess.Popen
    port: int
    store: Path

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"


def start_nats(store: Path, token: str = TOKEN) -> NatsServer:
    binary = nats_binary()
    if binary is None:
        pytest.skip("nats-server is not installed (./quickstart test installs it with apt-get)")
    port = free_port()
    store.mkdir(parents=True, exist_ok=True)
    log = open(store / "nats.log", "wb")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [binary, "-js", "-sd", str(store), "-a", "127.0.0.1", "-p", str(port), "--auth", token],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nats-server exited: {(store / 'nats.log').read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return NatsServer(process, port, store)
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("nats-server did not start listening")


def stop_nats(server: NatsServer) -> None:
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = start_nats(tmp_path / "nats")
    try:
        yield server
    finally:
        stop_nats(server)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


__all__ = ["TOKEN", "NatsServer", "free_port", "nats_server", "start_nats", "stop_nats", "os"]
