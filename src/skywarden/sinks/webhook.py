"""Webhook sink: alert events as JSON POSTs to configured URLs, with retry and backoff.

The pipeline calls :meth:`WebhookSink.submit` (synchronous, O(1), never blocks and never
raises): the event is JSON-encoded once and put on one bounded queue per URL; a full queue
refuses the new event and counts it in ``dropped``. One asyncio task per URL posts its queue in
order with an ``httpx.AsyncClient``; connection errors, timeouts, 408/425/429 and 5xx answers
are retried after capped exponential backoff (a numeric ``Retry-After`` is honoured up to the
cap) until ``max_attempts``, then counted in ``failed``; other 4xx answers fail at once. A
dead URL therefore only fills its own queue: the other URLs and the pipeline go on.

Each request carries ``Content-Type: application/json`` and an ``Idempotency-Key`` header (a
hash of the body) so that a receiver can drop the duplicate a retry after a lost answer makes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from skywarden.snapshot import AlertView
    from skywarden.warn.alerts import AuditEntry

RETRY_STATUS = frozenset({408, 425, 429})


@dataclass
class WebhookCounters:
    """Running counts of one URL (for /health)."""

    submitted: int = 0  # events accepted into the queue
    sent: int = 0  # delivered (2xx)
    retries: int = 0  # attempts after the first
    failed: int = 0  # given up (attempts exhausted or a non-retryable answer)
    dropped: int = 0  # refused because the queue was full
    last_error: str = ""
    last_attempt_failed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def alert_event(entry: AuditEntry, alert: AlertView | None = None) -> dict[str, Any]:
    """The JSON event of one alert transition (raised, reopened, entered, acknowledged, rejected,
    ignored, cleared, merged, reassociated ...), with the alert as readers see it if given.

    ``{"event": action, "t": POSIX s, "alert_id", "state", "zone_id", "who", "note",
    "alert": AlertView.to_json() | None}``
    """
    state = getattr(entry.state, "name", str(entry.state)).lower()
    return {
        "event": entry.action,
        "t": entry.t,
        "alert_id": entry.alert_id,
        "state": state,
        "zone_id": entry.zone_id,
        "who": entry.who,
        "note": entry.note,
        "alert": alert.to_json() if alert is not None else None,
    }


class WebhookSink:
    """POST JSON events to each of ``urls`` (see the module docstring for the policy).

    Args:
        urls: http(s) URLs; each gets its own queue, worker and counters.
        max_queue: events waiting per URL before new ones are dropped.
        max_attempts: tries per event (1 = no retry).
        initial_backoff_s, max_backoff_s: first retry delay, doubled up to the cap.
        timeout_s: per request (connect, read, write).
        headers: extra request headers (e.g. an Authorization token).
        transport: an httpx transport (tests; default: real network).
    """

    def __init__(
        self,
        urls: Sequence[str],
        *,
        max_queue: int = 1000,
        max_attempts: int = 6,
        initial_backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        timeout_s: float = 5.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if max_attempts < 1 or max_queue < 1:
            raise ValueError("max_attempts and max_queue must be >= 1")
        self.urls = tuple(urls)
        self.max_attempts = max_attempts
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s
        self.counters = {url: WebhookCounters() for url in self.urls}
        self._queues: dict[str, asyncio.Queue[bytes]] = {
            url: asyncio.Queue(maxsize=max_queue) for url in self.urls
        }
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        self._timeout = timeout_s
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._workers: list[asyncio.Task[None]] = []
        self.invalid = 0  # events that could not be encoded as JSON

    async def start(self) -> None:
        """Start one worker per URL (idempotent)."""
        if self._client is not None:
            return
        self._client = httpx.AsyncClient(timeout=self._timeout, transport=self._transport)
        self._workers = [
            asyncio.create_task(self._work(url), name=f"webhook {url}") for url in self.urls
        ]

    def submit(self, event: Mapping[str, Any]) -> bool:
        """Queue one event for every URL; False if it could not be encoded or any queue was full.
        Never blocks, never raises."""
        try:
            body = json.dumps(event, separators=(",", ":"), allow_nan=False).encode()
        except (TypeError, ValueError):
            self.invalid += 1
            return False
        accepted = True
        for url, queue in self._queues.items():
            try:
                queue.put_nowait(body)
                self.counters[url].submitted += 1
            except asyncio.QueueFull:
                self.counters[url].dropped += 1
                accepted = False
        return accepted

    def submit_alert(self, entry: AuditEntry, alert: AlertView | None = None) -> bool:
        """:func:`alert_event` of one audit entry, queued for every URL."""
        return self.submit(alert_event(entry, alert))

    async def _work(self, url: str) -> None:
        queue = self._queues[url]
        while True:
            body = await queue.get()
            try:
                await self._deliver(url, body)
            finally:
                queue.task_done()

    async def _deliver(self, url: str, body: bytes) -> None:
        """POST one body with retries; counts the outcome."""
        assert self._client is not None
        counters = self.counters[url]
        headers = {
            **self._headers,
            "Idempotency-Key": hashlib.blake2b(body, digest_size=16).hexdigest(),
        }
        delay = self.initial_backoff_s
        for attempt in range(self.max_attempts):
            if attempt:
                counters.retries += 1
            wait = delay
            try:
                answer = await self._client.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                counters.last_error = f"{type(exc).__name__}: {exc}"
                counters.last_attempt_failed = True
            else:
                if answer.is_success:
                    counters.sent += 1
                    counters.last_attempt_failed = False
                    return
                counters.last_error = f"HTTP {answer.status_code}"
                counters.last_attempt_failed = True
                if answer.status_code not in RETRY_STATUS and answer.status_code < 500:
                    break
                wait = max(wait, _retry_after(answer))
            if attempt + 1 < self.max_attempts:
                await asyncio.sleep(min(wait, self.max_backoff_s))
                delay = min(self.max_backoff_s, delay * 2.0)
        counters.failed += 1

    @property
    def queue_depth(self) -> dict[str, int]:
        """Events waiting per URL."""
        return {url: q.qsize() for url, q in self._queues.items()}

    def health(self) -> dict[str, Any]:
        """Counters and queue depth per URL."""
        return {
            url: {**self.counters[url].as_dict(), "queued": self._queues[url].qsize()}
            for url in self.urls
        }

    def output_health(self) -> dict[str, dict[str, Any]]:
        """Each URL's counters under its label, without credentials or query
        (skywarden.sinks.delivery_health); ``queued_now``: events waiting."""
        return {
            f"webhook {_shown_url(url)}": {**health, "queued_now": health["queued"]}
            for url, health in self.health().items()
        }

    async def drain(self, timeout_s: float) -> bool:
        """Wait until every queued event is delivered or given up; False on timeout."""
        try:
            await asyncio.wait_for(
                asyncio.gather(*(q.join() for q in self._queues.values())), timeout_s
            )
        except TimeoutError:
            return False
        return True

    async def close(self, timeout_s: float = 5.0) -> None:
        """Give the queues up to timeout_s to drain, then stop the workers and the client."""
        if self._client is not None and self._workers:
            await self.drain(timeout_s)
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers = []
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> WebhookSink:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def _retry_after(answer: httpx.Response) -> float:
    """Seconds from a numeric Retry-After header (0 if absent or a date)."""
    try:
        return max(0.0, float(answer.headers.get("Retry-After", "0")))
    except ValueError:
        return 0.0


def _shown_url(url: str) -> str:
    """scheme://host[:port]/path of a URL: no user, password, query or fragment (they may hold
    secrets, and /health is readable by every operator)."""
    parts = httpx.URL(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.host}{port}{parts.path}"
