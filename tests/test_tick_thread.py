"""The live tick's costly part runs off the event loop, with the same result as process()."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np

from skywarden.detections import SourceKind, make_detections
from skywarden.pipeline import Pipeline
from skywarden.site_config import site_config_from_dict
from skywarden.tick_thread import process_off_loop

T0 = 1_750_000_000.0


def _pipeline() -> Pipeline:
    config = site_config_from_dict({"site": {"lat": 47.0, "lon": 8.0}}, Path("."))
    return Pipeline(config, clock=lambda: T0)


def _scans(n: int) -> list:
    rng = np.random.default_rng(3)
    truth = np.array([[500.0, 200.0, 80.0], [-900.0, 1500.0, 120.0], [2000.0, -300.0, 60.0]])
    velocity = np.array([[10.0, 0.0, 0.0], [0.0, -8.0, 0.0], [-5.0, 5.0, 0.0]])
    return [
        (T0 + k, make_detections(T0 + k, truth + k * velocity + rng.normal(0, 5, truth.shape),
                                 5.0, kind=SourceKind.RADAR))
        for k in range(n)
    ]  # fmt: skip


def test_off_the_loop_gives_the_snapshots_of_process() -> None:
    on_loop, off_loop = _pipeline(), _pipeline()

    async def run() -> list:
        results = []
        for t, dets in _scans(8):
            expected, _ = on_loop.process(t, dets)
            tick = await process_off_loop(off_loop, t, dets, end_of_scan=True)
            results.append((expected, tick))
        return results

    for expected, tick in asyncio.run(run()):
        assert tick.snapshot.seq == expected.seq
        assert len(tick.snapshot.tracks) == len(expected.tracks)
        np.testing.assert_array_equal(tick.snapshot.tracks.id, expected.tracks.id)
        np.testing.assert_allclose(tick.snapshot.tracks.lat, expected.tracks.lat)
        assert tick.cpu_ms > 0.0
    assert len(expected.tracks) == 3
    assert off_loop.snapshot() is tick.snapshot


def test_the_event_loop_serves_others_while_the_tracker_runs() -> None:
    """advance() waits for a coroutine of the loop: run on the loop's thread it could never
    finish (the wait fails after 10 s); off the loop it finishes as soon as the loop runs."""
    pipeline = _pipeline()
    advanced = pipeline.advance
    loop_ran = threading.Event()
    threads: list[int] = []

    def advance(t, detections, end_of_scan=True):
        threads.append(threading.get_ident())
        assert loop_ran.wait(10.0), "the event loop did not run during the tick"
        return advanced(t, detections, end_of_scan)

    pipeline.advance = advance  # type: ignore[method-assign]

    async def run() -> None:
        async def other_client() -> None:
            loop_ran.set()

        t, dets = _scans(1)[0]
        tick, _ = await asyncio.gather(
            process_off_loop(pipeline, t, dets, end_of_scan=True), other_client()
        )
        assert tick.snapshot.seq == 1

    asyncio.run(run())
    assert threads and threads[0] != threading.get_ident()
