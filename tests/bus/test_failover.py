"""edge, core and api as separate processes over a real nats-server: ``kill -9`` of the core
mid-stream and a restart lose no raw input (every raw message the edge published is
acknowledged by a core, after it was processed), tracks re-form, and an operator action
through the api node still reaches the restarted core."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from nats.js.errors import NotFoundError

from skywarden.bus.subjects import SiteSubjects
from skywarden.simulate.emit import stream_scenario
from skywarden.site_config import load_site_config
from tests.bus.nats_server import TOKEN, NatsServer
from tests.bus.processes import CoreWatch, start_role, stop_role, wait_api
from tests.bus.site_setup import bus_site

# the kill comes after the core has processed this many raw messages: ~9 s of the scenario
# (30 scans, ~1,900 raw messages), as the fixed 10 s after the stream's start gave when the
# edge publishes at once
KILL_AFTER_ACKED = 600


@pytest.mark.slow
def test_kill_core_mid_stream_loses_no_raw_input(tmp_path: Path, nats_server: NatsServer):
    site = bus_site(tmp_path, nats_server.url, scans=30, start_in_s=0.0)
    subjects = SiteSubjects.of(load_site_config(site.path).name)
    processes = {r: start_role(site.path, r, tmp_path) for r in ("edge", "core", "api")}
    try:
        asyncio.run(asyncio.wait_for(_failover(tmp_path, site, subjects, processes, nats_server),
                                     timeout=400))  # fmt: skip
    finally:
        for p in processes.values():
            stop_role(p)
        for log in sorted(tmp_path.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")


async def _failover(tmp_path, site, subjects, processes, nats_server) -> None:
    base = f"http://127.0.0.1:{site.http_port}/api/v1"
    watch = CoreWatch(nats_server.url, TOKEN, subjects)
    await watch.start()
    await wait_api(base)
    streaming = asyncio.create_task(
        stream_scenario(site.scenario, site.setup, site.live, speed=1.0, clock=time.time)
    )
    await _core_has_acknowledged(watch, KILL_AFTER_ACKED)
    processes["core"].kill()  # kill -9, mid-stream
    assert processes["core"].wait(10) == -9
    await asyncio.sleep(2.0)
    processes["core"] = start_role(site.path, "core", tmp_path, tag="-restarted")
    shown = [0]  # the most tracks in a picture of the restarted core (newer than the killed one's)
    polling = asyncio.create_task(_most_tracks(base, shown, await _picture_time(base)))
    await streaming
    # wait until the restarted core has taken everything the edge published
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            messages, floor, pending, ack_pending = await watch.raw_state()
        except (NotFoundError, TimeoutError):  # the restarting core re-creates its consumer;
            await asyncio.sleep(0.2)  # or a loaded server was slow to answer (nats' timeout)
            continue
        if watch.latest and floor == messages and pending == 0 and ack_pending == 0:
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(2.5)  # a health period: the counters after the last message
    polling.cancel()
    messages, floor, pending, ack_pending = await watch.raw_state()
    counters = watch.latest["bus"]
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        tracks = (await client.get("/tracks")).json()
        alerts = (await client.get("/alerts")).json()["alerts"]
        acted = None
        if alerts:
            acted = await client.post(f"/alerts/{alerts[0]['id']}/reject",
                                      json={"who": "op-ben", "note": "after restart"})  # fmt: skip
    await watch.close()

    # no raw input lost: every message in the raw stream was acknowledged after processing
    assert messages > 200
    assert (floor, pending, ack_pending) == (messages, 0, 0), (floor, pending, ack_pending)
    # the restarted core re-formed its tracks from the window before the kill, then caught up
    # with what arrived while it was down
    assert counters["warm_up"] > 0 and counters["catch_up"] > 0, counters
    assert not counters["rejects"], counters
    # tracks re-formed: seen through the api while the restarted core ran (once the stream has
    # ended they are deleted within seconds, so the count at the very end depends on how long
    # the catch-up took: 0 once in a fresh clone's CI run)
    assert shown[0] > 5, (shown, tracks["count"])
    assert alerts, "alerts flow again after the restart"
    assert acted is not None and acted.status_code == 200, acted.text if acted else None


async def _core_has_acknowledged(watch: CoreWatch, count: int, timeout_s: float = 90.0) -> None:
    """Wait until the core has acknowledged ``count`` raw messages (processed them): the kill
    is then mid-stream whatever the machine's load. A fixed 10 s was not: under load (3 busy
    processes beside the test on 2 cores) the raw stream was still empty 10 s after the
    scenario began to stream, so the restarted core had no window to warm up from."""
    deadline = time.monotonic() + timeout_s
    floor = 0
    while time.monotonic() < deadline:
        try:
            _, floor, _, _ = await watch.raw_state()
        except (NotFoundError, TimeoutError):  # no consumer yet; or a loaded server was slow
            pass  # to answer (nats' timeout)
        if floor >= count:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the core acknowledged {floor} raw messages in {timeout_s} s, not {count}")


async def _picture_time(base: str) -> float:
    """The time of the picture the api shows now (the killed core's last one)."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        return float((await client.get("/tracks")).json()["t"])


async def _most_tracks(base: str, shown: list[int], after_t: float) -> None:
    """Poll the api's /tracks every 0.5 s, keeping in shown[0] the largest count of a picture
    newer than after_t."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        while True:
            try:
                picture = (await client.get("/tracks")).json()
                if picture["t"] > after_t:
                    shown[0] = max(shown[0], picture["count"])
            except (httpx.HTTPError, KeyError, ValueError):
                pass  # the api answers again on the next poll
            await asyncio.sleep(0.5)
