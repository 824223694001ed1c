"""The api role: REST, the WebSocket and the map, served from the bus (any number of them).

:class:`BusBackend` is a :class:`~skywarden.server.backend.ServiceBackend` whose picture is
the newest snapshot the core published on ``skywarden.<site>.picture`` (the last one is read
from the stream at start, so a new api node has the picture at once) and whose operator
actions and queries are requests to the core (skywarden.bus.rpc): the result, or the core's
error, comes back to the operator. Requests go through a connection of their own on a
background thread, so the server's synchronous handlers can wait for the answer without
blocking the loop that receives pictures. A picture that cannot be decoded is counted and
dropped; when the core does not answer, the request fails with a clear error (HTTP 500).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import socket
import threading
import time
from collections import Counter
from typing import Any

from skywarden.bus.connection import BusError, connect
from skywarden.bus.picture import BusMessageError, decode_picture
from skywarden.bus.rpc import decode_reply, encode_request
from skywarden.bus.settings import BusConfig
from skywarden.bus.subjects import SiteSubjects
from skywarden.site_config import SiteConfig
from skywarden.snapshot import AlertView, Snapshot, SnapshotSignal, TrackArrays

log = logging.getLogger(__name__)
MAX_HEALTH_BYTES = 4 * 1024 * 1024
# No health from the core for this long (s) and the api node says so: status "degraded" with
# the reason, and a warning in its log. The core publishes its health every
# skywarden.bus.core.HEALTH_PERIOD_S (2 s), so this is two and a half periods missed.
CORE_SILENT_S = 5.0


class _Requester:
    """A NATS connection on its own thread and loop, for blocking request/reply."""

    def __init__(self, bus: BusConfig, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()
        self.nc = self._run(connect(bus, name), 15.0)

    def _run(self, coro: Any, timeout_s: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def request(self, subject: str, payload: bytes, timeout_s: float) -> bytes:
        try:
            msg = self._run(self.nc.request(subject, payload, timeout=timeout_s), timeout_s + 2)
        except Exception as exc:  # no responders, timeout, connection closed
            raise BusError(f"the core did not answer ({type(exc).__name__})") from None
        return msg.data

    def close(self) -> None:
        try:
            self._run(self.nc.close(), 5.0)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5.0)


class PublishedSnapshot:
    """The newest snapshot of a bus-fed backend (api and region nodes): :meth:`_publish` replaces
    it and wakes the WebSocket writers waiting in :meth:`next_snapshot`."""

    def __init__(self, config: SiteConfig) -> None:
        site = (config.lat, config.lon, config.height_m)
        self._snapshot = Snapshot(0, time.time(), site, TrackArrays.empty())
        self._published = SnapshotSignal()

    def _publish(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._published.notify()

    def snapshot(self) -> Snapshot:
        return self._snapshot

    async def next_snapshot(self, after_seq: int) -> Snapshot:
        return await self._published.newer(self.snapshot, after_seq)


class BusBackend(PublishedSnapshot):
    """The server's backend on an api node (see the module docstring)."""

    def __init__(self, config: SiteConfig, bus: BusConfig, subjects: SiteSubjects) -> None:
        super().__init__(config)
        self.subjects = subjects
        self.timeout_s = bus.request_timeout_s
        self.failure: str | None = None
        self.core_health: dict[str, Any] = {}
        self.core_health_t = float("nan")
        self._core_was_silent = False  # for logging the change only
        self.pictures = 0
        self.rejects: Counter = Counter()
        self._requester: _Requester | None = None
        self._bus = bus

    # ------------------------------------------------------------------ bus in

    async def start(self, nc: Any) -> None:
        """Read the last picture from the stream, then follow new ones and the core's health."""
        from nats.js.errors import NotFoundError

        self._requester = await asyncio.to_thread(
            _Requester, self._bus, f"skywarden-api-rpc-{self.subjects.site}"
        )
        js = nc.jetstream()
        try:
            last = await js.get_last_msg(self.subjects.stream("picture"), self.subjects.picture)
            self.on_picture(last.data, last.headers)
        except (NotFoundError, BusError):
            pass
        await nc.subscribe(self.subjects.picture, cb=self._picture_cb)
        await nc.subscribe(self.subjects.health("core"), cb=self._health_cb)

    async def _picture_cb(self, msg: Any) -> None:
        self.on_picture(msg.data, msg.headers)

    async def _health_cb(self, msg: Any) -> None:
        if len(msg.data) > MAX_HEALTH_BYTES:
            self.rejects["health_oversized"] += 1
            return
        try:
            doc = json.loads(msg.data)
            self.core_health = dict(doc["pipeline"])
            self.core_health_t = time.time()
        except (ValueError, KeyError, TypeError):
            self.rejects["health_bad"] += 1

    def on_picture(self, payload: bytes, headers: dict[str, str] | None) -> None:
        """Take a picture message (a bad one is counted and dropped)."""
        try:
            snapshot = decode_picture(payload, headers)
        except BusMessageError as exc:
            self.rejects["picture_bad"] += 1
            log.warning("api: %s", exc)
            return
        # numbered here: a restarted core starts again at 1, the WebSocket needs growth
        encoded = snapshot.json_bytes
        self.pictures += 1
        snapshot = dataclasses.replace(snapshot, seq=self._snapshot.seq + 1)
        snapshot.__dict__["json_bytes"] = encoded
        self._publish(snapshot)

    def close(self) -> None:
        if self._requester is not None:
            self._requester.close()

    # ------------------------------------------------------------------ ServiceBackend

    def _call(self, method: str, **args: Any) -> Any:
        if self._requester is None:
            raise BusError("the api node is not connected to the bus yet")
        reply = self._requester.request(
            self.subjects.rpc, encode_request(method, **args), self.timeout_s
        )
        return decode_reply(method, reply, BusError)

    def acknowledge(self, alert_id: int, who: str, note: str = "", role: str = "") -> AlertView:
        return self._call("acknowledge", alert_id=alert_id, who=who, note=note, role=role)

    def reject(self, alert_id: int, who: str, note: str = "", role: str = "") -> AlertView:
        return self._call("reject", alert_id=alert_id, who=who, note=note, role=role)

    def ignore(self, alert_id: int, who: str, note: str = "", role: str = "") -> AlertView:
        return self._call("ignore", alert_id=alert_id, who=who, note=note, role=role)

    def zones_geojson(self) -> dict[str, Any]:
        return self._call("zones_geojson")

    def put_zones(self, geojson: dict[str, Any], who: str = "", role: str = "") -> dict[str, Any]:
        return self._call("put_zones", geojson=geojson, who=who, role=role)

    def rules_json(self) -> list[dict[str, Any]]:
        return self._call("rules_json")

    def put_rules(self, rules: Any, who: str = "", role: str = "") -> list[dict[str, Any]]:
        return self._call("put_rules", rules=rules, who=who, role=role)

    def allow_json(self) -> list[dict[str, Any]]:
        return self._call("allow_json")

    def put_allow(self, allow: Any, who: str = "", role: str = "") -> list[dict[str, Any]]:
        return self._call("put_allow", allow=allow, who=who, role=role)

    def health(self) -> dict[str, Any]:
        """The core's last reported health and this node's bus counters. A core that has
        not been heard from for CORE_SILENT_S (dead, stalled, cut off from the bus), or not
        yet, makes the status "degraded" with the reason: its last "ok" is no longer news."""
        body = dict(self.core_health) or {"sources": {}, "queue_depth": 0}
        age = time.time() - self.core_health_t
        silent = self._core_silence(age)
        if silent:
            body["status"] = "degraded"
            body["degraded"] = [*body.get("degraded", []), silent]
        body["bus"] = {"role": "api", "pictures": self.pictures, "rejects": dict(self.rejects),
                       "core_health_age_s": None if age != age else round(age, 3)}  # fmt: skip
        return body

    def _core_silence(self, age: float) -> str:
        """The reason the core counts as silent ("" when it is heard), logged once per
        silence (a warning) and once when it is heard again."""
        if age != age:
            reason = "core: no health heard from the core yet"
        elif age > CORE_SILENT_S:
            reason = f"core: no health from the core for {age:.0f} s (it reports every 2 s)"
        else:
            reason = ""
        if bool(reason) != self._core_was_silent:
            self._core_was_silent = bool(reason)
            if reason and age == age:
                log.warning("api: %s: the picture and alerts shown are not current", reason)
            elif not reason:
                log.info("api: the core's health is heard again")
        return reason

    def audit(self, since_t: float | None = None) -> list[dict[str, Any]]:
        return self._call("audit", since_t=since_t)

    def history_tracks(
        self, t0: float, t1: float, step_s: float | None = None
    ) -> list[dict[str, Any]]:
        return self._call("history_tracks", t0=t0, t1=t1, step_s=step_s)

    def track_sources(self, track_id: int) -> dict | None:
        return self._call("track_sources", track_id=track_id)

    def explain_track(self, track_id: int) -> dict | None:
        return self._call("explain_track", track_id=track_id)

    def history_span(self) -> tuple[float, float] | None:
        return self._call("history_span")


async def run_api(
    config: SiteConfig, bus: BusConfig, stop: asyncio.Event, *, port: int | None = None
) -> None:
    """Serve the site's REST, WebSocket and map from the bus on ``[service] bind`` (or
    ``port``) until ``stop``."""
    from skywarden.server.auth import check_bind
    from skywarden.server.http_bind import bind_http

    check_bind(config.bind_host, config.security.users)
    http_socket = bind_http(config.bind_host, port or config.bind_port)  # in use: one line
    subjects = SiteSubjects.of(config.name)
    try:
        nc = await connect(bus, f"skywarden-api-{subjects.site}")
    except BaseException:
        http_socket.close()
        raise
    backend = BusBackend(config, bus, subjects)
    try:
        await backend.start(nc)
        await serve_backend(backend, config, stop, port=port, http_socket=http_socket)
    finally:
        await asyncio.to_thread(backend.close)
        await nc.close()
        http_socket.close()


async def serve_backend(
    backend: Any,
    config: SiteConfig,
    stop: asyncio.Event,
    *,
    port: int | None = None,
    http_socket: socket.socket | None = None,
) -> None:
    """Serve ``backend`` (REST, WebSocket, map) on ``[service] bind`` (or ``port``) with the
    site's TLS and authentication until ``stop``; on ``http_socket`` if given (bound already),
    else on a socket bound here (a port in use is one clear line, skywarden.server.http_bind)."""
    import uvicorn

    from skywarden.server.http_bind import bind_http
    from skywarden.service import _app

    own = http_socket is None
    if http_socket is None:
        http_socket = bind_http(config.bind_host, port or config.bind_port)
    tls = config.security
    server = uvicorn.Server(
        uvicorn.Config(
            _app(backend, config), host=config.bind_host, port=port or config.bind_port,
            log_level="warning", lifespan="on",
            ssl_certfile=str(tls.tls_cert) if tls.tls_cert else None,
            ssl_keyfile=str(tls.tls_key) if tls.tls_key else None,
        )
    )  # fmt: skip
    serving = asyncio.create_task(server.serve(sockets=[http_socket]))
    try:
        await asyncio.wait(
            {serving, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        server.should_exit = True
        await asyncio.gather(serving, return_exceptions=True)
        if own:
            http_socket.close()
