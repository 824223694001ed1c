"""The send loop shared by the stream sinks (Cursor-on-Target, SAPIENT): a bounded queue
drained over a connection that is re-opened with exponential backoff.

A sink class mixes in :class:`ReconnectingSender` and provides ``_queue`` (a bounded deque),
the events ``_idle`` and ``_ready``, ``connected``, ``_connect()``, ``_send(item)``, the
stream ``_writer`` (None while unconnected), ``counters`` (with ``sent``, ``errors``,
``last_error``, ``dropped`` and ``disconnects``), ``initial_backoff_s``, ``max_backoff_s``
and the tasks ``_task`` (this loop) and ``_reader_task``. The pipeline only appends to the
queue, so it never waits on the network.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def wait_idle(idle: asyncio.Event, timeout_s: float) -> bool:
    """Wait until ``idle`` is set (a sink's queue is empty); False on timeout."""
    try:
        await asyncio.wait_for(idle.wait(), timeout_s)
    except TimeoutError:
        return False
    return True


async def cancel(task: asyncio.Task | None) -> None:
    """Cancel a sink's task, if any, and wait until it has stopped."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class ReconnectingSender:
    """Mixin: :meth:`_run` (the send loop), :meth:`drain`, :meth:`_drop_connection` and
    :meth:`_stop_tasks`."""

    _queue: Any
    _idle: asyncio.Event
    _ready: asyncio.Event
    _task: asyncio.Task | None
    _reader_task: asyncio.Task | None
    _writer: asyncio.StreamWriter | None
    counters: Any
    initial_backoff_s: float
    max_backoff_s: float
    connected: bool

    async def _connect(self) -> bool:  # pragma: no cover - provided by the sink
        raise NotImplementedError

    async def _send(self, item: Any) -> bool:  # pragma: no cover - provided by the sink
        raise NotImplementedError

    async def _write(self, data: bytes) -> bool:
        """Write data on the stream connection; False on failure (see :meth:`_write_failed`)."""
        try:
            assert self._writer is not None
            self._writer.write(data)
            await self._writer.drain()
        except (OSError, AssertionError) as exc:
            return self._write_failed(exc)
        self.counters.sent += 1
        return True

    def _write_failed(self, exc: BaseException) -> bool:
        """Count a failed write, keep its reason in ``last_error``, drop the connection;
        returns False (the item goes back first in line)."""
        self.counters.errors += 1
        self.counters.last_error = f"write: {type(exc).__name__}: {exc}"
        self._drop_connection()
        return False

    def _link_health(self) -> dict[str, Any]:
        """The counters, the items waiting now and whether the connection is up (/health)."""
        return {**self.counters.as_dict(), "queued_now": len(self._queue),
                "connected": self.connected}  # fmt: skip

    def _drop_connection(self) -> None:
        """Close the stream connection, if any (counted as a disconnect)."""
        if self._writer is not None:
            self.counters.disconnects += 1
            self._writer.close()
            self._writer = None

    async def _run(self) -> None:
        """Send queued items in order; on a failed connect wait (doubling up to
        ``max_backoff_s``); a failed send puts the item back first in line (counted as a drop
        when the queue is full meanwhile)."""
        delay = self.initial_backoff_s
        while True:
            if not self._queue:
                self._idle.set()
                self._ready.clear()
                await self._ready.wait()
                continue
            if not self.connected and not await self._connect():
                await asyncio.sleep(delay)
                delay = min(self.max_backoff_s, delay * 2.0)
                continue
            delay = self.initial_backoff_s
            item = self._queue.popleft()
            if not await self._send(item):  # put it back: it goes first on the next connection
                if len(self._queue) == self._queue.maxlen:
                    self.counters.dropped += 1
                self._queue.appendleft(item)

    async def drain(self, timeout_s: float) -> bool:
        """Wait until the queue is empty (everything written); False on timeout."""
        return await wait_idle(self._idle, timeout_s)

    async def _stop_tasks(self, timeout_s: float) -> None:
        """Drain for up to timeout_s, then cancel the send loop and the reader."""
        if self._task is not None:
            await self.drain(timeout_s)
        await cancel(self._task)
        await cancel(self._reader_task)
        self._task = self._reader_task = None
