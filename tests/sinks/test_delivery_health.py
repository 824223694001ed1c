"""/health "outputs": a receiver that is down is visible (degraded, with a reason, logged once)
and a receiver that comes back is ok again; real sinks against real loopback receivers."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from skywarden.sinks import CotSink
from skywarden.sinks.delivery_health import DeliveryWatch
from skywarden.sinks.sapient import SapientSink
from skywarden.sinks.webhook import WebhookSink
from tests.sinks.http_receiver import Receiver
from tests.sinks.tak_listener import TakListener
from tests.sinks.test_cot import snapshot, wait_until

SBS_LINE = (
    b"MSG,3,1,1,4B1234,1,2024/01/01,12:00:00.000,2024/01/01,12:00:00.000,,3000,,,"
    b"47.01000,8.01000,,,,,,0\r\n"
)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def closed_port() -> int:
    """A loopback TCP port nobody listens on (bound, read, released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cot_receiver_down_then_up(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        port = closed_port()
        sink = CotSink("127.0.0.1", port, initial_backoff_s=0.05, max_backoff_s=0.1)
        clock = Clock()
        watch = DeliveryWatch([sink], hold_s=5.0, clock=clock)
        label = f"cot tcp://127.0.0.1:{port}"
        idle = watch.health()  # nothing to send yet: ok (the sink connects on demand)
        assert (idle["status"], idle["targets"][label]["connected"]) == ("ok", False)
        await sink.start()
        sink.submit(b'<event uid="x"></event>')
        await wait_until(lambda: sink.counters.errors >= 2)
        with caplog.at_level(logging.INFO, logger="skywarden.outputs"):
            health = watch.health()
            watch.health()  # the same state again: logged once only
        target = health["targets"][label]
        assert health["status"] == "degraded" and target["status"] == "degraded"
        assert target["reason"].startswith("not connected, 1 waiting")
        assert "connect: ConnectionRefusedError" in target["last_error"]
        assert label in health["error"]
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and label in warnings[0].getMessage()

        listener = TakListener()
        await listener.start(port)
        await wait_until(lambda: len(listener.events) == 1)
        clock.t = 4.0  # the connect errors are recent: still degraded for hold_s
        assert watch.health()["status"] == "degraded"
        assert "errors, failures or drops so far" in watch.health()["error"]
        clock.t = 100.0
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="skywarden.outputs"):
            assert watch.health()["status"] == "ok"
        assert [r.getMessage() for r in caplog.records] == [f"output {label} delivers again"]
        await sink.close()
        await listener.close()

    asyncio.run(main())


def test_webhook_failing_url_is_shown_without_its_secrets() -> None:
    async def main() -> None:
        failing, good = Receiver(always=503), Receiver()
        secret_url = failing.url.replace("http://", "http://user:pw@") + "?token=SECRET"
        sink = WebhookSink([secret_url, good.url], max_attempts=2, initial_backoff_s=0.01)
        watch = DeliveryWatch([sink], hold_s=30.0, clock=Clock())
        await sink.start()
        sink.submit({"event": "raised"})
        await wait_until(lambda: sink.counters[secret_url].failed == 1)
        health = watch.health()
        assert "SECRET" not in str(health) and "pw" not in str(health)
        bad = health["targets"][f"webhook {failing.url}"]
        assert bad["status"] == "degraded" and bad["last_error"] == "HTTP 503"
        assert health["targets"][f"webhook {good.url}"]["status"] == "ok"
        assert health["status"] == "degraded"
        await sink.close()
        failing.close()
        good.close()

    asyncio.run(main())


def test_sapient_receiver_down_is_degraded() -> None:
    async def main() -> None:
        port = closed_port()
        sink = SapientSink("127.0.0.1", port, initial_backoff_s=0.05, max_backoff_s=0.1)
        watch = DeliveryWatch([sink], clock=Clock())
        await sink.start()
        sink.submit_tracks(snapshot())  # a StatusReport and DetectionReports
        await wait_until(lambda: sink.counters.errors >= 1)
        target = watch.health()["targets"][f"sapient tcp://127.0.0.1:{port}"]
        assert target["status"] == "degraded" and "not connected" in target["reason"]
        await sink.close(timeout_s=0.1)

    asyncio.run(main())


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_outputs_no_watch() -> None:
    assert not DeliveryWatch([object()])


def test_service_health_is_degraded_while_its_cot_receiver_is_down(tmp_path) -> None:
    """The live service's /health (the pipeline's health, carried by every snapshot) gains
    ``outputs``; a CoT receiver that refuses makes it degraded within a tick or two."""
    from skywarden.service import build_service, serve
    from skywarden.site_config import site_config_from_dict

    port, sbs_port = closed_port(), free_udp_port()
    doc = {"site": {"name": "outputs", "lat": 47.0, "lon": 8.0, "height_m": 400.0},
           "sensors": [{"name": "adsb", "kind": "sbs", "transport": "udp",
                        "host": "127.0.0.1", "port": sbs_port}],
           "sinks": {"cot": f"tcp://127.0.0.1:{port}"}}  # fmt: skip
    service = build_service(site_config_from_dict(doc, tmp_path), with_server=False)
    seen: list[dict] = []

    async def send_sbs() -> None:  # the loop ticks on data: an aircraft's SBS lines
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            while True:
                tx.sendto(SBS_LINE, ("127.0.0.1", sbs_port))
                await asyncio.sleep(0.1)

    async def run() -> None:
        serving = asyncio.create_task(serve(service))
        sending = asyncio.create_task(send_sbs())
        await wait_until(lambda: "outputs" in service.pipeline.snapshot().health)
        seen.append(service.pipeline.snapshot().health)
        (cot,) = service.sinks
        cot.submit(b'<event uid="x"></event>')
        await wait_until(lambda: cot.counters.errors >= 1)
        await wait_until(lambda: service.pipeline.snapshot().health["status"] == "degraded")
        seen.append(service.pipeline.snapshot().health)
        sending.cancel()
        service.stop.set()
        await serving

    asyncio.run(run())
    before, after = seen
    assert before["outputs"]["status"] == "ok"
    assert after["degraded"] == [f"outputs: cot tcp://127.0.0.1:{port} (not connected, 1 waiting)"]
