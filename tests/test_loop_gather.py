"""The live loop's gathering: chunks that were already waiting when a tick ended (the loop is
behind) go into the next tick at once, without the gathering window on top of their wait."""

from __future__ import annotations

import asyncio
import math

from skywarden.loop import _gather


def test_waiting_chunks_are_taken_without_the_window() -> None:
    async def run() -> list:
        queue: asyncio.Queue = asyncio.Queue()
        for k in range(5):
            queue.put_nowait((0, float(k), b"x", 0))
        stop = asyncio.Event()
        # a window of an hour: the guard below would end the test if it were waited
        return await asyncio.wait_for(_gather(queue, stop, 10.0, 3600.0), timeout=60.0)

    behind = asyncio.run(run())
    assert [item[1] for item in behind] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_a_burst_is_taken_once_the_queue_stays_quiet() -> None:
    """A sensor's burst (a radar sector's datagrams, sent at once) ends the gathering once no
    chunk follows for BATCH_QUIET_S, not after the whole window."""

    async def run() -> list:
        queue: asyncio.Queue = asyncio.Queue()
        stop = asyncio.Event()

        async def burst() -> None:
            await asyncio.sleep(0.01)
            for k in range(3):
                queue.put_nowait((0, float(k), b"x", 0))

        sender = asyncio.create_task(burst())
        # a window of an hour: the guard below would end the test if it were waited
        items = await asyncio.wait_for(_gather(queue, stop, 10.0, 3600.0), timeout=60.0)
        await sender
        return items

    assert [item[1] for item in asyncio.run(run())] == [0.0, 1.0, 2.0]


def test_replay_batches_end_at_the_same_quiet_gaps(monkeypatch) -> None:
    """Replay batches as the live loop gathers: within the window, up to a gap of more than
    BATCH_QUIET_S between inputs if the previous batch ended a window before; a stream denser
    than that is batched by the window alone."""
    from skywarden.demo import DemoPorts, demo_site
    from skywarden.loop import BATCH_QUIET_S, _Replay, replay_inputs
    from skywarden.pipeline import Pipeline
    from skywarden.service import make_feed
    from skywarden.simulate import build_scenario
    from skywarden.simulate.emit import scenario_messages
    from skywarden.simulate.emit_site import RADAR, SiteSetup

    scenario = build_scenario("mixed", 4, n_scans=3)
    setup = SiteSetup(start_posix=1_750_000_000.0)
    config = demo_site(scenario, DemoPorts(), setup, None)
    radar = [m.data for m in scenario_messages(scenario, setup, {RADAR: "radar"})]
    window, quiet = 0.02, BATCH_QUIET_S
    t0 = setup.start_posix
    a = [t0, t0, t0 + 0.5 * quiet]  # a burst, then a quiet gap: taken at once
    b = [a[-1] + 2.3 * quiet] * 2  # another: but within a window of the first batch's end
    c = [b[-1] + 2.5 * quiet] * 2  # so b waits for c (one tick per window at most)
    step = 0.75 * quiet  # then a stream denser than the quiet gap: batched by the window
    dense = [t0 + 2.5 * window + step * k for k in range(20)]
    in_window = int(window // step) + 1
    assert c[-1] < a[-1] + window and c[-1] - t0 <= window
    sizes: list[int] = []
    decode = _Replay.decode

    def counted(self, feeds, batch):
        sizes.append(sum(len(chunks) for chunks in batch.values()))
        return decode(self, feeds, batch)

    monkeypatch.setattr(_Replay, "decode", counted)
    for batch_quiet_s in (quiet, math.inf):
        pipeline = Pipeline(config, clock=lambda: 0.0)
        feeds = {s.name: make_feed(s, i, pipeline.frame) for i, s in enumerate(config.sensors)}
        times = a + b + c + dense
        inputs = [(t, "radar", radar[k % len(radar)]) for k, t in enumerate(times)]
        list(replay_inputs(pipeline, feeds, inputs, batch_window_s=window,
                           batch_quiet_s=batch_quiet_s))  # fmt: skip
        sizes.append(0)
    rest = 20 - in_window
    assert sizes == [3, 4, in_window, rest, 0, 7, in_window, rest, 0]  # without: the window
