"""WebhookSink against real HTTP servers on 127.0.0.1: retry, backoff, drops, dead URLs."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest

from skywarden.sinks import WebhookSink, webhook_alert_event
from skywarden.warn.alerts import AlertState, AuditEntry
from tests.sinks.http_receiver import Receiver
from tests.store.snapshot_builders import make_alert

T0 = 1_700_000_000.0


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(*args, **kwargs):
        made.append(Receiver(*args, **kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


def refused_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


async def wait_until(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def _events(n: int) -> list[dict]:
    return [{"event": "raised", "alert_id": k, "t": T0 + k} for k in range(n)]


def test_retries_then_succeeds(receivers):
    flaky = receivers(statuses=[503, 503])

    async def run():
        async with WebhookSink([flaky.url], initial_backoff_s=0.01, max_attempts=5) as sink:
            assert all(sink.submit(e) for e in _events(3))
            assert await sink.drain(10.0)
            return sink.counters[flaky.url]

    counters = asyncio.run(run())
    assert flaky.bodies() == [_events(3)[0]] * 3 + _events(3)[1:]
    keys = [h["Idempotency-Key"] for h, _ in flaky.requests]
    assert keys[0] == keys[1] == keys[2] and len(set(keys)) == 3
    assert all(h["Content-Type"] == "application/json" for h, _ in flaky.requests)
    assert (counters.submitted, counters.sent, counters.retries, counters.failed) == (3, 3, 2, 0)
    assert counters.last_error == "HTTP 503"


def test_gives_up_after_max_attempts_and_on_client_errors(receivers):
    broken = receivers(always=500)
    picky = receivers(always=400)

    async def run():
        sink = WebhookSink([broken.url, picky.url], initial_backoff_s=0.01, max_attempts=3)
        await sink.start()
        sink.submit({"event": "raised"})
        assert await sink.drain(10.0)
        await sink.close()
        return sink

    sink = asyncio.run(run())
    assert len(broken.requests) == 3 and len(picky.requests) == 1  # 400 is not retried
    assert (sink.counters[broken.url].failed, sink.counters[broken.url].retries) == (1, 2)
    assert (sink.counters[picky.url].failed, sink.counters[picky.url].retries) == (1, 0)
    assert sink.counters[picky.url].sent == 0 and sink.health()[picky.url]["queued"] == 0


def test_a_dead_url_blocks_neither_the_others_nor_the_caller(receivers):
    good = receivers()
    dead = refused_url()

    async def run():
        sink = WebhookSink([dead, good.url], max_queue=4, initial_backoff_s=5.0, max_attempts=10)
        await sink.start()
        for e in _events(4):
            sink.submit(e)
        await wait_until(lambda: len(good.requests) == 4)
        assert sink.counters[dead].sent == 0 and sink.queue_depth[dead] == 3  # one in backoff
        started = time.monotonic()
        accepted = [sink.submit(e) for e in _events(3)]  # the dead URL's queue is full
        assert time.monotonic() - started < 1.0
        await wait_until(lambda: len(good.requests) == 7)
        await sink.close(timeout_s=0.2)  # does not wait out the dead URL's backoff
        return sink, accepted

    sink, accepted = asyncio.run(run())
    assert accepted == [True, False, False]
    assert sink.counters[dead].dropped == 2 and sink.counters[good.url].dropped == 0
    assert sink.counters[good.url].sent == 7 and "ConnectError" in sink.counters[dead].last_error


def test_events_that_are_not_json_are_counted_not_raised():
    sink = WebhookSink(["http://127.0.0.1:9/none"])
    assert not sink.submit({"t": float("nan")}) and not sink.submit({"x": object()})
    assert sink.invalid == 2 and sink.queue_depth["http://127.0.0.1:9/none"] == 0


def test_alert_event_json():
    entry = AuditEntry(T0 + 3, 7, "acknowledged", "alice", AlertState.ACKNOWLEDGED, "Z1", 5, "seen")
    event = webhook_alert_event(entry, make_alert(7, T0 + 3, "acknowledged", t_raised=T0))
    assert event["event"] == "acknowledged" and event["state"] == "acknowledged"
    assert (event["alert_id"], event["who"], event["zone_id"], event["note"]) == (
        7,
        "alice",
        "Z1",
        "seen",
    )
    assert event["alert"]["id"] == 7 and event["alert"]["t_raised"] == T0
    assert json.loads(json.dumps(event, allow_nan=False)) == event
    assert webhook_alert_event(entry)["alert"] is None
