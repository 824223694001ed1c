"""The live loop's gathering: chunks that were already waiting when a tick ended (the loop is
behind) go into the next tick at once, without the gathering window on top of their wait."""

from __future__ import annotations

import asyncio

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
