"""The core's picture encoder: a child process that gives encode_picture's bytes, a thread
when the child fails (counted, and a new child started), and the thread's collector pause,
which overlapping encodes share."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import threading
import time

import pytest

from skywarden.bus import picture_process
from skywarden.bus.picture import encode_picture
from skywarden.bus.picture_process import PictureEncoder, encode_without_collecting
from skywarden.snapshot import Snapshot
from tests.bus.test_picture_decode import _tracks


def _snapshot(n: int, seq: int = 1) -> Snapshot:
    return Snapshot(seq, 2.0, (50.0, 4.0, 0.0), _tracks([6] * n, False), ())


class CountingFallback:
    """encode_without_collecting, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, snapshot: Snapshot):
        self.calls += 1
        return encode_without_collecting(snapshot)


def test_the_child_gives_encode_pictures_bytes_and_the_thread_is_not_used() -> None:
    fallback = CountingFallback()
    encoder = PictureEncoder(fallback)
    encoder.start()
    try:
        got = [asyncio.run(encoder.encode(_snapshot(n, n + 1))) for n in (0, 40, 300)]
        niceness = encoder._pool.submit(os.nice, 0).result(timeout=30)  # the child's
    finally:
        encoder.close()
    assert got == [encode_picture(_snapshot(n, n + 1)) for n in (0, 40, 300)]
    assert got[2][1] == {"Sw-Encoding": "deflate"}  # large enough to be deflated
    assert fallback.calls == 0
    assert encoder.health() == {"in_process": False, "failures": 0, "restarts": 0}
    assert niceness == min(os.nice(0) + picture_process.CHILD_NICE, 19)  # yields to the core


def _alive(pid: int) -> bool:
    """The process runs (a zombie no one reaps yet counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _wait_dead(pid: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.02)


def test_a_killed_child_is_counted_the_picture_encoded_in_a_thread_and_a_new_child_started():
    fallback = CountingFallback()
    encoder = PictureEncoder(fallback)
    encoder.start()

    async def run() -> list:
        out = [await encoder.encode(_snapshot(5))]
        (pid,) = list(encoder._pool._processes)  # the child
        os.kill(pid, signal.SIGKILL)
        await asyncio.to_thread(_wait_dead, pid)
        out.append(await encoder.encode(_snapshot(6)))  # the dead child's: in a thread
        out.append(await encoder.encode(_snapshot(7)))  # the new child's
        return out

    try:
        got = asyncio.run(run())
        assert encoder.health() == {"in_process": True, "failures": 1, "restarts": 1}
    finally:
        encoder.close()
    assert got == [encode_picture(_snapshot(n)) for n in (5, 6, 7)]
    assert fallback.calls == 1


def test_an_error_in_the_child_is_raised_by_the_thread_too_and_counted() -> None:
    encoder = PictureEncoder(CountingFallback())
    encoder.start()
    try:
        with pytest.raises(AttributeError):
            asyncio.run(encoder.encode(None))  # type: ignore[arg-type]
        assert encoder.failures == 1
        assert asyncio.run(encoder.encode(_snapshot(2))) == encode_picture(_snapshot(2))
    finally:
        encoder.close()


def test_after_too_many_failed_children_every_picture_is_encoded_in_a_thread(monkeypatch):
    fallback = CountingFallback()
    encoder = PictureEncoder(fallback)
    monkeypatch.setattr(picture_process, "MAX_RESTARTS", 0)
    encoder.start()
    try:
        asyncio.run(encoder.encode(_snapshot(1)))
        encoder._pool.shutdown(wait=True)  # a pool that will not take work any more
        for n in (2, 3):
            assert asyncio.run(encoder.encode(_snapshot(n))) == encode_picture(_snapshot(n))
    finally:
        encoder.close()
    assert fallback.calls == 2
    assert encoder.health()["in_process"] is False


def test_without_a_child_every_picture_is_encoded_in_a_thread() -> None:
    fallback = CountingFallback()
    encoder = PictureEncoder(fallback, in_process=False)
    encoder.start()
    assert asyncio.run(encoder.encode(_snapshot(3))) == encode_picture(_snapshot(3))
    assert fallback.calls == 1


def test_overlapping_thread_encodes_keep_the_collector_paused_until_the_last_ends(
    monkeypatch, request
) -> None:
    """Encode A starts, encode B starts, A ends while B still runs: the collector must stay
    off for B (each encode restoring its own view turned it on in the middle of B), and be on
    again when B ends."""
    inside_b = threading.Event()
    a_done = threading.Event()
    seen_in_b: list[bool] = []

    def encode(snapshot):
        if snapshot == "b":
            inside_b.set()
            a_done.wait(10)
            seen_in_b.append(gc.isenabled())
        else:
            inside_b.wait(10)
        return b"", {}

    monkeypatch.setattr(picture_process, "encode_picture", encode)
    if not gc.isenabled():
        gc.enable()
        request.addfinalizer(gc.disable)
    b = threading.Thread(target=encode_without_collecting, args=("b",))
    a = threading.Thread(target=lambda: (encode_without_collecting("a"), a_done.set()))
    a.start()
    time.sleep(0.01)  # A pauses first (the check holds whichever does)
    b.start()
    a.join(10)
    b.join(10)
    assert seen_in_b == [False]
    assert gc.isenabled()


CORE = """
import asyncio, time
from skywarden.bus.picture_process import PictureEncoder, _EMPTY, encode_without_collecting
encoder = PictureEncoder(encode_without_collecting)
encoder.start()
asyncio.run(encoder.encode(_EMPTY))
print(*encoder._pool._processes, flush=True)
time.sleep(120)
"""


def test_the_child_exits_when_the_core_is_killed() -> None:
    """kill -9 of the core: its child does not stay behind (one orphan per restart)."""
    import subprocess
    import sys

    core = subprocess.Popen([sys.executable, "-c", CORE], stdout=subprocess.PIPE, text=True)
    try:
        child = int(core.stdout.readline())
        assert _alive(child)  # while the core is
    finally:
        core.kill()
        core.wait()
    _wait_dead(child, 30.0)
    assert not _alive(child)
