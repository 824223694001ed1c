"""End to end over real sockets on loopback: simulated radar (CAT034/CAT048 over UDP), ADS-B
(CAT021 over UDP, SBS over TCP) and Remote ID (Wi-Fi frames over UDP) in; alerts out over the
WebSocket, a webhook and Cursor-on-Target to a small TAK listener; history written to DuckDB.
Garbage on a sensor port is counted, never fatal."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from skywarden.demo import DemoPorts, demo_site
from skywarden.service import build_service, replay_history, serve
from skywarden.simulate import build_scenario
from skywarden.simulate.emit import LivePorts, stream_scenario
from skywarden.simulate.emit_site import SiteSetup
from skywarden.store.reader import HistoryReader
from tests.sinks.http_receiver import Receiver
from tests.sinks.tak_listener import TakListener

SPEED = 8.0  # the stream and the service's clock both run 8x real time
SCANS = 48


def _free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ScaledClock:
    """POSIX time that runs SPEED times faster than the wall, from a start time."""

    def __init__(self, start: float) -> None:
        self.start, self.m0 = start, time.monotonic()

    def __call__(self) -> float:
        return self.start + (time.monotonic() - self.m0) * SPEED


async def _collect_ws(url: str, out: list[dict], stop: asyncio.Event) -> None:
    import websockets

    async with websockets.connect(url, max_size=None) as ws:
        while not stop.is_set():
            try:
                message = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            out.append(json.loads(message))


def test_sensors_in_alerts_out_history_written(tmp_path: Path) -> None:
    asyncio.run(asyncio.wait_for(_end_to_end(tmp_path), timeout=120))


async def _end_to_end(tmp_path: Path) -> None:
    scenario = build_scenario("mixed", 2, n_scans=SCANS)
    start = float(int(time.time()))
    setup = SiteSetup(start_posix=start, remote_id_classes=frozenset({"drone"}))
    ports = DemoPorts(
        radar_udp=_free_port(), adsb_udp=_free_port(), remote_id_udp=_free_port(),
        sbs_tcp=_free_port(socket.SOCK_STREAM), http=_free_port(socket.SOCK_STREAM),
    )  # fmt: skip
    receiver = Receiver()
    tak = TakListener()
    tak_port = await tak.start()
    config = dataclasses.replace(
        demo_site(scenario, ports, setup, tmp_path / "history.duckdb"),
        webhooks=(receiver.url,), cot=f"tcp://127.0.0.1:{tak_port}", flush_s=0.5,
    )  # fmt: skip
    # a protected zone of 3 km around the site: the mixed scenario's drones are inside it
    zones = config.zones_geojson
    zones["features"] = [dict(f) for f in zones["features"]]
    zones["features"][0] = {**zones["features"][0], "properties": {
        **zones["features"][0]["properties"], "radius_m": 3000.0}}  # fmt: skip
    service = build_service(config, clock=ScaledClock(start))
    serving = asyncio.create_task(serve(service, port=ports.http))
    await asyncio.sleep(0.5)
    ws_messages: list[dict] = []
    ws_stop = asyncio.Event()
    ws = asyncio.create_task(
        _collect_ws(f"ws://127.0.0.1:{ports.http}/api/v1/live", ws_messages, ws_stop)
    )
    live = LivePorts(
        radar_udp=ports.radar_udp, adsb_cat021_udp=ports.adsb_udp,
        remote_id_udp=ports.remote_id_udp, sbs_tcp=ports.sbs_tcp, beast_tcp=None,
    )  # fmt: skip
    garbage = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for n in range(20):  # random bytes on the radar port: counted rejects, not a crash
        garbage.sendto(np.random.default_rng(n).bytes(40), ("127.0.0.1", ports.radar_udp))
    garbage.close()
    await stream_scenario(scenario, setup, live, speed=SPEED, wait_for_client_s=5.0)
    await asyncio.sleep(1.5)
    ws_stop.set()
    await ws
    import httpx

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports.http}") as client:
        answer = await client.get("/api/v1/health")  # NaN-free JSON while data flows
        assert answer.status_code == 200, answer.text
        assert (await client.get("/api/v1/tracks")).status_code == 200
    health = service.pipeline.health()
    alert_ids = {a["id"] for m in ws_messages for a in m["alerts"]}
    service.stop.set()
    await serving
    cot_types = {e.get("type") for e in tak.events}
    await tak.close()
    receiver.close()

    # data came in on every channel and was decoded
    sources = health["sources"]
    assert sources["radar"]["detections"] > 0 and sources["adsb-cat021"]["detections"] > 0
    assert sources["remote-id"]["detections"] > 0 and sources["adsb-sbs"]["detections"] > 0
    assert sum(sources["radar"]["rejects"].values()) >= 20  # the garbage, counted
    # tracks and alerts went out over the WebSocket, the webhook and CoT
    assert max(len(m["tracks"]) for m in ws_messages) > 5
    assert alert_ids
    hooks = receiver.bodies()
    raised = {b["alert_id"] for b in hooks if b["event"] == "raised"}
    assert raised and raised & alert_ids, "the webhook got the alerts the map showed"
    assert "b-a-g" in cot_types and any(t.startswith("a-") for t in cot_types)
    # the history holds raw inputs, tracks and alerts
    with HistoryReader(tmp_path / "history.duckdb") as reader:
        assert reader.count("raw_inputs") > SCANS
        assert reader.count("track_states") > 0
        assert reader.count("alerts") > 0
    # replaying the recorded raw inputs through a fresh pipeline raises the same alerts for the
    # same objects and zones. The history stores each input at the time the live loop took it
    # on the service's clock (here 8x real time), so the replay takes it then too, with the
    # same reorder window; times still differ a little (the live batches were the loop's)
    diff = replay_history(tmp_path / "history.duckdb")
    recorded = len(diff.matched) + len(diff.changed) + len(diff.missing)
    assert diff.raw_inputs > SCANS and recorded > 0
    assert len(diff.matched) + len(diff.changed) >= 0.6 * recorded


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
