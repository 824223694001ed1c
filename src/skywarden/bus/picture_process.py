"""The bus core's picture, encoded in a child process so that the tick keeps the interpreter.

Encoding a picture at 1,000 tracks with their trails (:func:`skywarden.bus.picture.
encode_picture`: the JSON document ~15 ms, msgspec ~7 ms, deflate ~15 ms of CPU, measured
with ``thread_time`` on one core) holds the GIL for ~22 ms of it (deflate lets go). In a
worker thread of the core that is ~22 ms the tick's own worker thread and the event loop
(fetching, gathering, acknowledging) wait for, twice a second and once more after every tick
that changed an alert, i.e. just when an alert is on its way out: traced one by one in
benchmarks/bus.py's latency run, every one of the slowest alerts a plot set off overlapped a
picture encode, and their tick took 100-160 ms of wall time for 14-35 ms of CPU.

A child process does the encoding instead: the core pickles the :class:`Snapshot` (NumPy
columns and a few small objects: ~1 ms at 1,000 tracks), the child builds, encodes and
deflates the document on another CPU and sends back the payload. The child is started with
``spawn`` (the core runs threads and a NATS connection: ``fork`` would copy their locks) when
the core starts, and warmed up with an empty picture, so the first live picture waits for
nothing. It runs at a lower CPU priority than the core (niceness +5: where CPUs are short, the
picture waits, not the tick), and exits by itself when the core is gone, ``kill -9``
included.

**Never fail silently, never lose a picture.** When the child cannot be started or dies (the
pool is broken, a snapshot does not pickle), the picture is encoded in a worker thread as
before (:func:`skywarden.bus.core.encode_without_collecting`), the failure is counted
(``failures``, in the core's health) and logged, and a new child is started for the next
one; after ``MAX_RESTARTS`` failed children every picture is encoded in a thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool

from skywarden.bus.picture import encode_picture
from skywarden.snapshot import Snapshot, TrackArrays

log = logging.getLogger(__name__)
MAX_RESTARTS = 5  # children started after failures before every picture is encoded in-thread
PARENT_CHECK_S = 0.5  # how often the child looks whether the core is still there
CHILD_NICE = 5  # the child's niceness above the core's (a lower CPU priority)

Encoded = tuple[bytes, dict[str, str]]


class PictureEncoder:
    """``await encode(snapshot)`` -> (payload, headers) of one picture message, encoded in a
    child process (module docstring); ``fallback`` encodes in a worker thread instead."""

    def __init__(self, fallback: Callable[[Snapshot], Encoded], *, in_process: bool = True):
        self.fallback = fallback
        self.in_process = in_process  # False: every picture in a worker thread (no child)
        self.failures = 0  # pictures the child did not encode (encoded in a thread instead)
        self.restarts = 0
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start the child and warm it up (imports, one empty picture); returns at once."""
        if not self.in_process or self._pool is not None:
            return
        try:
            context = multiprocessing.get_context("spawn")
            self._pool = concurrent.futures.ProcessPoolExecutor(
                1, mp_context=context, initializer=_child_start, initargs=(os.getpid(),)
            )
            self._pool.submit(_encode, _EMPTY)  # its failure shows at the first encode
        except (OSError, RuntimeError) as exc:  # no processes to be had: encode in a thread
            self._give_up(f"cannot start the picture encoder process: {exc!r}")

    async def encode(self, snapshot: Snapshot) -> Encoded:
        """The picture's payload and headers (the child's, or the fallback's on a failure)."""
        pool = self._pool
        if pool is not None:
            try:
                return await asyncio.wrap_future(pool.submit(_encode, snapshot))
            except (BrokenProcessPool, RuntimeError) as exc:  # the child died, or the pool
                self._failed(exc)  # was shut down: a new one (unless closed meanwhile)
                self._restart(pool)
            except Exception as exc:  # a snapshot that does not pickle, or the child's error
                self._failed(exc)  # (the fallback then raises it here, where it belongs)
        return await asyncio.to_thread(self.fallback, snapshot)

    def _failed(self, exc: BaseException) -> None:
        self.failures += 1
        log.warning("core: picture encoder process failed (%r); encoded in a thread", exc)

    def health(self) -> dict[str, object]:
        return {"in_process": self._pool is not None, "failures": self.failures,
                "restarts": self.restarts}  # fmt: skip

    def close(self) -> None:
        """Stop the child (what it is encoding is not waited for)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _restart(self, broken: concurrent.futures.ProcessPoolExecutor) -> None:
        if self._pool is not broken:  # another encode restarted it already
            return
        self.close()
        if self.restarts >= MAX_RESTARTS:
            self._give_up(f"{self.restarts} picture encoder processes failed")
            return
        self.restarts += 1
        self.start()

    def _give_up(self, why: str) -> None:
        log.error("core: %s; pictures are encoded in a worker thread from now on", why)
        self.in_process = False
        self._pool = None


def encode_without_collecting(snapshot: Snapshot) -> Encoded:
    """:func:`encode_picture` with the cyclic garbage collector paused (process-wide, for
    the ~30 ms it takes at 1,000 tracks): the fallback's encode, in a worker thread. The
    picture's JSON document is ~100k containers, alive until it is encoded and then freed by
    reference counting; counted as allocations, they set off collections of every generation
    in the middle of it, full ones (stopping every thread, the tick's too) included: measured
    16-32 full collections a minute, each pausing the core 34-42 ms (p50) and up to 380-450 ms
    at load 7-8. Paused, nothing is collected for them and nothing is lost: the counts fall
    back as the document is freed, and cyclic garbage made meanwhile by another thread waits
    for the next collection.

    Thread-safe: the pauses are counted under a lock, and the collector is turned back on
    when the last overlapping encode ends, and only if it was on when the first began (each
    encode restoring its own view turned it on in the middle of another's). Nothing here
    allocates a container while the collector is on and the pause begins (a context object
    made then could itself set a collection off)."""
    with _PAUSE_LOCK:
        if _PAUSE[0] == 0:
            _PAUSE[1] = gc.isenabled()
        _PAUSE[0] += 1
        gc.disable()
    try:
        return encode_picture(snapshot)
    finally:
        with _PAUSE_LOCK:
            _PAUSE[0] -= 1
            if _PAUSE[0] == 0 and _PAUSE[1]:
                gc.enable()


_PAUSE_LOCK = threading.Lock()
_PAUSE: list = [0, False]  # [encodes in progress, the collector was on when the first began]


def _child_start(parent: int) -> None:
    """In the child: yield the CPU to the core's tick (niceness CHILD_NICE: on a busy
    machine the picture, twice a second, waits rather than the alert), and exit once the
    core is gone. After a ``kill -9`` of the core the child would otherwise wait on its call
    queue for ever (the queue's pipe has a writer in the child itself, so no end of file
    comes), one more orphan per restart."""
    try:
        os.nice(CHILD_NICE)
    except OSError:  # not allowed here: the child runs at the core's priority
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="skywarden-parent-watch", daemon=True).start()


def _encode(snapshot: Snapshot) -> Encoded:
    """In the child: the picture as :func:`encode_picture` gives it (the child's collector
    is off: the document is freed by reference counting, and the child holds nothing else)."""
    gc.disable()
    return encode_picture(snapshot)


_EMPTY = Snapshot(0, 0.0, (0.0, 0.0, 0.0), TrackArrays.empty())
