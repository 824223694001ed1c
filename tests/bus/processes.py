"""The roles as real processes (``python -m skywarden run SITE --role R``) for the bus tests
and the benchmark, and what the core reports on the bus."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

SRC = Path(__file__).resolve().parents[2] / "src"


def start_role(site: Path, role: str, log_dir: Path, tag: str = "") -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        env.pop(var, None)
    log = open(log_dir / f"{role}{tag}.log", "wb")  # noqa: SIM115 (lives with the process)
    return subprocess.Popen(
        [sys.executable, "-m", "skywarden.cli", "run", str(site), "--role", role],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip


def stop_role(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


async def wait_api(base: str, timeout_s: float = 90.0) -> dict[str, Any]:
    """Wait until the api node answers and has heard the core's health; its health body."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        while time.monotonic() < deadline:
            try:
                body = (await client.get("/health")).json()
                if body.get("bus", {}).get("core_health_age_s") is not None:
                    return body
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise TimeoutError(f"api at {base} not ready with a core in {timeout_s} s")


class CoreWatch:
    """The newest health the core published (its bus counters), and raw stream state."""

    def __init__(self, url: str, token: str, subjects: Any) -> None:
        self.url, self.token, self.subjects = url, token, subjects
        self.latest: dict[str, Any] = {}
        self.nc: Any = None

    async def start(self) -> None:
        import nats

        self.nc = await nats.connect(self.url, token=self.token)

        async def on_health(msg: Any) -> None:
            self.latest = json.loads(msg.data)

        await self.nc.subscribe(self.subjects.health("core"), cb=on_health)

    async def raw_state(self) -> tuple[int, int, int, int]:
        """(stream messages, consumer ack floor, pending, ack pending)."""
        js = self.nc.jetstream()
        stream = await js.stream_info(self.subjects.stream("raw"))
        info = await js.consumer_info(self.subjects.stream("raw"), self.subjects.core_consumer)
        return (int(stream.state.messages), int(info.ack_floor.stream_seq),
                int(info.num_pending), int(info.num_ack_pending))  # fmt: skip

    async def close(self) -> None:
        if self.nc is not None:
            await self.nc.close()
