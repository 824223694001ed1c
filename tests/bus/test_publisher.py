"""The core's publisher: alert events at once, the picture on its period, and one picture at
once (at most one between two on the period) after a snapshot that changed an alert."""

from __future__ import annotations

import asyncio

import pytest

from skywarden.bus import core as core_module
from skywarden.bus.core import ALERT_PICTURE_GAP_S, CoreCounters, Publisher
from skywarden.bus.subjects import SiteSubjects
from skywarden.snapshot import Snapshot
from skywarden.warn import AuditEntry
from skywarden.warn.alerts import AlertState
from tests.bus.test_picture_decode import _tracks

PERIOD_S = 0.5


class FakeBus:
    """Records what was published: (subject, monotonic s)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, float]] = []

    async def publish(self, subject, payload, headers=None) -> None:  # core NATS (pictures)
        self.sent.append((subject, core_module.time.monotonic()))  # the test's Clock

    async def publish_async(self, subject, payload, **kwargs) -> asyncio.Future:  # JetStream
        self.sent.append((subject, core_module.time.monotonic()))  # the test's Clock
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


class Clock:
    """The core module's ``time`` (monotonic s set by the test; asyncio keeps its own)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(core_module, "time", c)
    return c


def _snapshot(seq: int) -> Snapshot:
    return Snapshot(seq, 2.0, (50.0, 4.0, 0.0), _tracks([2, 3], False), ())


def _raised(t: float) -> tuple[AuditEntry, ...]:
    return (AuditEntry(t, 7, "raised", "system", AlertState.ACTIVE, "zone-0", 1),)


def _pictures(bus: FakeBus, subjects: SiteSubjects) -> list[float]:
    return [t for subject, t in bus.sent if subject == subjects.picture]


def test_a_changed_alert_sends_a_picture_at_once_but_not_twice_per_period(clock) -> None:
    subjects = SiteSubjects.of("site")
    bus = FakeBus()
    publisher = Publisher(bus, bus, subjects, CoreCounters(), PERIOD_S)

    async def run() -> None:
        publisher.on_snapshot(_snapshot(1), ())
        await publisher.flush()  # the first picture goes at once
        assert _pictures(bus, subjects) == [1000.0]
        clock.now += 0.05
        publisher.on_snapshot(_snapshot(2), ())
        await publisher.flush()  # no alert change: waits for the period
        assert len(_pictures(bus, subjects)) == 1
        publisher.on_snapshot(_snapshot(3), _raised(2.0))
        await publisher.flush()  # an alert change, but within the gap
        assert len(_pictures(bus, subjects)) == 1
        assert [s for s, _ in bus.sent].count(subjects.alerts) == 1  # the event went at once
        clock.now = 1000.0 + ALERT_PICTURE_GAP_S
        await publisher.flush()  # the gap is over: the picture with the new alert goes now
        assert _pictures(bus, subjects) == [1000.0, 1000.0 + ALERT_PICTURE_GAP_S]
        clock.now += 0.05
        publisher.on_snapshot(_snapshot(4), _raised(2.1))
        await publisher.flush()  # one early picture per period: this one waits for it
        assert len(_pictures(bus, subjects)) == 2
        clock.now = 1000.0 + ALERT_PICTURE_GAP_S + PERIOD_S
        await publisher.flush()
        assert len(_pictures(bus, subjects)) == 3
        clock.now += ALERT_PICTURE_GAP_S
        publisher.on_snapshot(_snapshot(5), _raised(2.2))
        await publisher.flush()  # after one on the period, an early one is allowed again
        assert len(_pictures(bus, subjects)) == 4

    asyncio.run(run())


def test_pictures_on_the_period_alone_without_alert_changes(clock) -> None:
    subjects = SiteSubjects.of("site")
    bus = FakeBus()
    publisher = Publisher(bus, bus, subjects, CoreCounters(), PERIOD_S)

    async def run() -> None:
        for k in range(16):  # a snapshot every 62.5 ms for 1 s
            publisher.on_snapshot(_snapshot(k + 1), ())
            await publisher.flush()
            clock.now += 0.0625

    asyncio.run(run())
    sent = _pictures(bus, subjects)
    assert len(sent) == 2
    assert sent[1] - sent[0] == pytest.approx(PERIOD_S)


def test_alert_events_do_not_wait_for_a_picture_being_encoded(clock) -> None:
    """run(): a picture's encoding (tens of ms in the core's child process) is its own task;
    an alert event that comes meanwhile is published at once, not after the picture."""
    subjects = SiteSubjects.of("site")
    bus = FakeBus()
    encoding, release = asyncio.Event(), asyncio.Event()

    async def slow_encode(snapshot: Snapshot):
        encoding.set()
        await release.wait()
        return b"{}", {}

    publisher = Publisher(bus, bus, subjects, CoreCounters(), PERIOD_S, slow_encode)

    async def run() -> list[str]:
        task = asyncio.create_task(publisher.run())
        publisher.on_snapshot(_snapshot(1), ())  # the first picture: due at once
        await asyncio.wait_for(encoding.wait(), 5)
        publisher.on_snapshot(_snapshot(2), _raised(2.0))
        for _ in range(100):  # the event loop's turns, no clock
            await asyncio.sleep(0)
        during = [s for s, _ in bus.sent]
        release.set()
        for _ in range(100):
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return during

    during = asyncio.run(run())
    assert during.count(subjects.alerts) == 1  # published while the picture was encoding
    assert subjects.picture not in during
    assert _pictures(bus, subjects)  # and the picture went once its encoding was done
