"""`skywarden run`: assemble the live service from a site configuration.

Sources (UDP, TCP, recorded files) -> feeds -> :func:`skywarden.loop.run_live` -> the
pipeline's snapshots -> FastAPI/WebSocket server, DuckDB history, webhook and CoT sinks.
Recorded file sources are replayed on a clock that follows the recording (so their own
timestamps stay consistent); live sockets use the wall clock. Mixing both is refused.

Security (see skywarden.server.auth and skywarden.site_security): the service refuses to
listen beyond loopback without a users file, serves HTTPS/WSS with ``tls_cert``/``tls_key``,
restores the last runtime zone change from the history at start (unless the zone file changed
since), and if the pipeline task ever stops on its own, health answers 503 with the reason,
the log says it, and :func:`serve` raises :class:`PipelineStopped` (the command exits 2).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from skywarden.classify.model import load_model
from skywarden.classify.trained import TrainedClassifier
from skywarden.errors import ConfigError, SkywardenError
from skywarden.gc_pauses import freeze_start_up, thaw_start_up
from skywarden.geo import LocalFrame
from skywarden.loop import LiveSource, run_live
from skywarden.pipeline import Pipeline
from skywarden.service_history import (
    close_history,
    flush_history,
    raw_recorder,
    record_history,
    resume_from_history,
    store_snapshot,
)
from skywarden.site_config import SensorConfig, SiteConfig, site_config_to_dict
from skywarden.snapshot import SensorView, Snapshot
from skywarden.sources.asterix.detections import RadarSigmas, RadarSite
from skywarden.sources.feeds import AsterixFeed, BeastFeed, Feed, RemoteIdFeed, SbsFeed
from skywarden.sources.transport import FileReplay, TcpClientSource, UdpSource, bind_all
from skywarden.warn import AuditEntry
from skywarden.warn.changes import SettingChange

log = logging.getLogger(__name__)
FAILURE_GRACE_S = 2.0  # a stopped pipeline is reported (503) this long before the exit


class PipelineStopped(SkywardenError):
    """The live pipeline task ended on its own (a fault): the service must not go on."""


@dataclass
class Service:
    """The running parts, for tests and the CLI (``stop`` ends :func:`serve`)."""

    pipeline: Pipeline
    sources: list[LiveSource]
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    history: Any = None
    raw_budget: Any = None  # skywarden.store.raw_budget.RawRejectBudget with a history
    sinks: list[Any] = field(default_factory=list)
    app: Any = None
    # more consumers of each raw chunk as the loop takes it (the bus core acknowledges there)
    raw_listeners: list[Callable[[str, float, bytes], None]] = field(default_factory=list)
    # the transports' receive times are on the pipeline's clock (the wall clock, a recording's
    # or the bus core's), so the reorder window measures the sensors' delays from them
    receive_times_on_clock: bool = True


def make_feed(sensor: SensorConfig, index: int, frame: LocalFrame) -> Feed:
    """The decoder state for one configured sensor (named as the sensor in log lines)."""
    feed = _new_feed(sensor, index, frame)
    feed.name = sensor.name
    return feed


def _new_feed(sensor: SensorConfig, index: int, frame: LocalFrame) -> Feed:
    if sensor.kind == "asterix":
        radar = RadarSite(float(sensor.lat), float(sensor.lon), sensor.height_m)
        sigmas = RadarSigmas(range_m=sensor.sigma_range_m, azimuth_rad=sensor.sigma_azimuth_rad)
        return AsterixFeed(frame, index, radar, sigmas, sensor.rcs_calibration_dbm)
    if sensor.kind == "sbs":
        return SbsFeed(frame, index)
    if sensor.kind == "beast":
        return BeastFeed(frame, index)
    if sensor.kind == "remote_id":
        return RemoteIdFeed(frame, index)
    if sensor.kind == "sapient":
        from skywarden.sources.sapient.feed import SapientFeed
        from skywarden.sources.sapient.reports import SensorPlace

        return SapientFeed(frame, index, SensorPlace(sensor.lat, sensor.lon, sensor.height_m))
    raise ConfigError(f"sensor {sensor.name!r}: unknown kind {sensor.kind!r}")


def make_stream(sensor: SensorConfig) -> tuple[AsyncIterator[tuple], Any]:
    """The byte stream of one configured sensor and its transport object (counters)."""
    if sensor.transport == "udp":
        udp = UdpSource(
            sensor.host, sensor.port, multicast_group=sensor.group, allow_from=sensor.allow_from,
            receive_buffer_bytes=sensor.receive_buffer_bytes,
        )  # fmt: skip
        return _udp_stream(udp), udp
    if sensor.transport == "tcp":
        tcp = TcpClientSource(sensor.host, sensor.port)
        return aiter(tcp), tcp
    from skywarden.sources.recordings.recording import read_recording

    recording = read_recording(sensor.file)
    replay = FileReplay(recording.chunks(), speed=sensor.speed)
    return aiter(replay), replay


async def _udp_stream(udp: UdpSource) -> AsyncIterator[tuple]:
    async with udp:
        async for datagram in udp:
            yield datagram


class ReplayClock:
    """The clock of a replayed recording: the recorded time of the data being replayed.

    Its times are the recorded receive times that the file transports yield
    (``follows_receive_times``).

    It starts at the first recorded time and then runs ``speed`` times faster than the
    monotonic clock, but never behind the newest recorded time seen (so with ``speed`` = inf,
    or when the replay falls behind, it is the data's own time)."""

    follows_receive_times = True

    def __init__(self, speed: float) -> None:
        self.speed = speed if speed > 0 else 1.0
        self.origin: float | None = None
        self.latest = -math.inf
        self.m0 = time.monotonic()

    def note(self, t: float) -> None:
        """A chunk recorded at time t is being replayed."""
        if self.origin is None:
            self.origin, self.m0 = t, time.monotonic()
        self.latest = max(self.latest, t)

    def __call__(self) -> float:
        if self.origin is None:
            return 0.0
        if not math.isfinite(self.speed):
            return self.latest
        return max(self.origin + (time.monotonic() - self.m0) * self.speed, self.latest)


def build_service(
    config: SiteConfig,
    *,
    classifier: Callable | None = None,
    with_server: bool = True,
    clock: Callable[[], float] | None = None,
    streams: Callable[[SensorConfig], tuple[AsyncIterator[tuple], Any]] | None = None,
) -> Service:
    """Feeds, streams, the pipeline, history and sinks for a site configuration.

    ``clock`` overrides the wall clock (tests and sped-up simulations must give the clock the
    sensors' data follows); ``streams`` replaces :func:`make_stream` (the bus core reads each
    sensor's chunks from NATS instead of a socket)."""
    files = [s.transport == "file" for s in config.sensors]
    if any(files) and not all(files):
        raise ConfigError("sensors: mix of recorded files and live sockets is not supported")
    kwargs: dict[str, Any] = {}
    if classifier is not None:
        kwargs["classifier"] = classifier
    on_clock = clock is None or bool(getattr(clock, "follows_receive_times", False))
    if clock is None:
        clock = time.time
        if config.sensors and all(files):
            clock = ReplayClock(min(s.speed for s in config.sensors))
    pipeline = Pipeline(config, clock=clock, **kwargs)
    pipeline.sensors = tuple(_sensor_view(s, pipeline.frame) for s in config.sensors)
    sources = []
    for i, sensor in enumerate(config.sensors):
        stream, transport = (streams or make_stream)(sensor)
        if isinstance(clock, ReplayClock):
            stream = _clocked(stream, clock)
        sources.append(
            LiveSource(sensor.name, make_feed(sensor, i, pipeline.frame), stream, transport)
        )
    service = Service(pipeline, sources, receive_times_on_clock=on_clock)
    if config.storage_path is not None:
        from skywarden.store.history import HistoryWriter

        service.history = HistoryWriter(
            config.storage_path,
            site=pipeline.site,
            config_text=json.dumps(site_config_to_dict(config)),
            max_pending_bytes=int(config.history.max_pending_mb * 1024 * 1024),
            memory_limit_mb=config.history.memory_limit_mb,
        )
        pipeline.history_reader = service.history.reader
        record_history(service, config)
        pipeline.change_listeners.append(service.history.add_change)
        _restore_settings(service, config)
        resume_from_history(service)
    if with_server:
        from skywarden.server.auth import check_bind

        check_bind(config.bind_host, config.security.users)  # before anything is announced
        service.app = _app(pipeline, config)
    return service


def _app(pipeline: Pipeline, config: SiteConfig) -> Any:
    """The FastAPI app with the site's authentication, Host/Origin policy and bounds."""
    from skywarden.server.app import create_app
    from skywarden.server.auth import Authenticator
    from skywarden.server.http_security import HttpPolicy

    sec = config.security
    policy = HttpPolicy(
        allowed_hosts=sec.allowed_hosts(config.bind_host), allowed_origins=sec.origins,
        tile_url=config.tile_url, max_json_depth=sec.max_json_depth,
        hsts=sec.tls_cert is not None,
    )  # fmt: skip
    return create_app(
        pipeline, live_rate_hz=config.live_rate_hz, tile_url=config.tile_url,
        max_body_bytes=sec.max_body_bytes, auth=Authenticator(sec.users), policy=policy,
        basemap=config.basemap,
    )  # fmt: skip


def _restore_settings(service: Service, config: SiteConfig) -> None:
    """Runtime zone, rule and allow-list changes survive a restart (see
    skywarden.settings_changes.restore_settings); the settings in force are stored with the
    run's configuration (what replay starts from)."""
    from skywarden.settings_changes import restore_settings

    changes = [SettingChange.from_row(r) for r in service.history.reader().changes()]
    for line in restore_settings(service.pipeline, changes):
        log.warning("settings: %s", line)
    pipeline = service.pipeline
    in_force = replace(config, zones_geojson=pipeline.zones_geojson(),
                       rules=pipeline.config.rules, allow=pipeline.config.allow)  # fmt: skip
    if in_force != config:
        service.history.set_meta({"config_text": json.dumps(site_config_to_dict(in_force))})


async def _clocked(stream: AsyncIterator[tuple], clock: ReplayClock) -> AsyncIterator[tuple]:
    async for t, data in stream:
        clock.note(t)
        yield (t, data)
        await asyncio.sleep(0)  # let the pipeline run between chunks of a fast replay


def _sensor_view(sensor: SensorConfig, frame: LocalFrame) -> SensorView:
    lat = sensor.lat if sensor.lat is not None else frame.lat0_deg
    lon = sensor.lon if sensor.lon is not None else frame.lon0_deg
    return SensorView(
        name=sensor.name, kind=sensor.kind, lat=lat, lon=lon, alt_m=sensor.height_m,
        range_m=sensor.range_m, connected=True, messages=0,
    )  # fmt: skip


async def serve(service: Service, *, host: str | None = None, port: int | None = None) -> None:
    """Run sources, pipeline, sinks, history and (if built) the HTTP server until stopped.

    Raises ConfigError (before starting anything) for a non-loopback bind without a users
    file, HttpBindError or TransportError (before starting anything) for a port that cannot
    be bound, and PipelineStopped when the pipeline task ends on its own."""
    from skywarden.server.auth import check_bind
    from skywarden.server.http_bind import bind_http

    config = service.pipeline.config
    host = host or config.bind_host
    http_socket = None
    if service.app is not None:
        check_bind(host, config.security.users)
        http_socket = bind_http(host, port or config.bind_port)  # in use: stops the start here
    try:
        bind_all(src.transport for src in service.sources)  # a port in use stops the start here
    except BaseException:
        if http_socket is not None:
            http_socket.close()
        raise
    await _start_sinks(service)
    live = run_live(
        service.pipeline, service.sources, service.stop, on_raw=_raw_recorder(service),
        receive_times_on_clock=service.receive_times_on_clock,
    )  # fmt: skip
    tasks = [asyncio.create_task(live)]
    if service.history is not None:
        tasks.append(asyncio.create_task(flush_history(service, config.flush_s)))
    server = None
    if service.app is not None:
        import uvicorn

        tls = config.security
        server = uvicorn.Server(
            uvicorn.Config(
                service.app, host=host, port=port or config.bind_port,
                log_level="warning", lifespan="on",
                ws_per_message_deflate=False,  # the live stream compresses once per snapshot
                ssl_certfile=str(tls.tls_cert) if tls.tls_cert else None,
                ssl_keyfile=str(tls.tls_key) if tls.tls_key else None,
            )
        )  # fmt: skip
        tasks.append(asyncio.create_task(server.serve(sockets=[http_socket])))
    failure = None
    if isinstance(service.pipeline.classifier, TrainedClassifier):
        load_model()  # the classifier's trees and tables, built now rather than in a tick
    freeze_start_up()  # full collections skip what start-up built (gc_pauses.py)
    try:
        failure = await _until_stopped(service, tasks[0])
    finally:
        thaw_start_up()
        if server is not None:
            server.should_exit = True
        await asyncio.sleep(0)
        if not tasks[0].done():
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(asyncio.shield(tasks[0]), timeout=5.0)
        if server is not None:  # let uvicorn finish its shutdown (a cancelled one prints
            await asyncio.wait({tasks[-1]}, timeout=5.0)  # the lifespan's CancelledError)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for sink in service.sinks:
            await sink.close()
        if service.history is not None:
            close_history(service.history)
        if http_socket is not None:
            http_socket.close()
    if failure is not None:
        raise PipelineStopped(failure)


async def _until_stopped(service: Service, live: asyncio.Task) -> str | None:
    """Wait for ``service.stop``; if the pipeline task ends first, report why (health 503,
    an error in the log), keep serving that for FAILURE_GRACE_S, and return the reason."""
    stopping = asyncio.create_task(service.stop.wait())
    try:
        await asyncio.wait({live, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if service.stop.is_set() or not live.done():
        return None
    exc = None if live.cancelled() else live.exception()
    reason = f"pipeline stopped: {type(exc).__name__}: {exc}" if exc else "pipeline stopped"
    service.pipeline.failure = reason
    log.error("%s; health now answers 503 and the service exits", reason, exc_info=exc)
    await asyncio.sleep(FAILURE_GRACE_S)
    service.stop.set()
    return reason


def _raw_recorder(service: Service) -> Callable[[str, float, bytes], None] | None:
    """What takes each raw chunk as the loop takes it: the history (through its raw budget)
    first, then ``service.raw_listeners`` (the bus core acknowledges there)."""
    listeners = list(service.raw_listeners)
    stored = raw_recorder(service)
    if stored is not None:
        listeners.insert(0, stored)
    if not listeners:
        return None
    if len(listeners) == 1:
        return listeners[0]

    def record(source: str, t: float, data: bytes) -> None:
        for listener in listeners:
            listener(source, t, data)

    return record


async def _start_sinks(service: Service) -> None:
    config = service.pipeline.config
    pipeline = service.pipeline
    if config.webhooks:
        from skywarden.sinks.webhook import WebhookSink

        service.sinks.append(WebhookSink(list(config.webhooks)))
    if config.cot:
        from skywarden.sinks.cot import CotSink

        scheme, _, rest = config.cot.partition("://")
        host, _, port = rest.rpartition(":")
        service.sinks.append(CotSink(host, int(port), protocol=scheme or "tcp"))
    service.sinks.extend(_protocol_sinks(config))
    for sink in service.sinks:
        await sink.start()
    if service.sinks:  # /health "outputs": degraded while an output cannot deliver
        from skywarden.sinks.delivery_health import DeliveryWatch

        pipeline.health_parts["outputs"] = DeliveryWatch(service.sinks).health
    pipeline.listeners.append(_deliver(service))


def _protocol_sinks(config: SiteConfig) -> list[Any]:
    """The SAPIENT and CAT062 sinks the site configures."""
    sinks: list[Any] = []
    if config.sapient:
        from skywarden.sinks.sapient import SapientSink

        host, _, port = config.sapient.partition("://")[2].rpartition(":")
        sinks.append(SapientSink(host, int(port), site_name=config.name))
    if config.asterix_cat062:
        from skywarden.sinks.asterix_cat062 import Cat062Sink

        host, _, port = config.asterix_cat062.partition("://")[2].rpartition(":")
        sinks.append(Cat062Sink(host, int(port)))
    return sinks


def _deliver(service: Service) -> Callable[[Snapshot, tuple[AuditEntry, ...]], None]:
    """Per snapshot: history, tracks to CoT, alert events to every sink."""

    def deliver(snapshot: Snapshot, events: tuple[AuditEntry, ...]) -> None:
        if service.history is not None:
            store_snapshot(service, snapshot, events)
        views = {a.id: a for a in snapshot.alerts}
        for sink in service.sinks:
            if hasattr(sink, "submit_tracks"):
                sink.submit_tracks(snapshot)
            for entry in events:
                view = views.get(entry.alert_id)
                if hasattr(sink, "submit_alert") and hasattr(sink, "submit_tracks"):
                    if view is not None:
                        sink.submit_alert(view, entry.t, entry.note)
                else:
                    sink.submit_alert(entry, view)

    return deliver


def replay_history(history_path, *, classifier: Callable | None = None):
    """Re-run a history file's raw inputs through a fresh pipeline built from the stored site
    configuration, applying the recorded runtime zone changes at their times, and compare the
    alerts (skywarden.store.replay.AlertDiff)."""
    from skywarden.loop import replay_inputs
    from skywarden.settings_changes import apply_setting
    from skywarden.site_config import site_config_from_dict
    from skywarden.store.reader import HistoryReader
    from skywarden.store.replay import replay_alerts

    with HistoryReader(history_path) as reader:
        changes = [SettingChange.from_row(r) for r in reader.changes()]

    def run_pipeline(inputs, meta):
        if not meta.config_text:
            raise ConfigError(
                "the history has no stored site configuration", path=str(history_path)
            )
        try:
            doc = json.loads(meta.config_text)
        except json.JSONDecodeError:
            raise ConfigError(
                "the stored site configuration is not replayable (not JSON)", path=str(history_path)
            ) from None
        config = site_config_from_dict(doc, Path("."), source=f"{history_path} (stored config)")
        now = [0.0]
        kwargs = {"classifier": classifier} if classifier is not None else {}
        pipeline = Pipeline(config, clock=lambda: now[0], **kwargs)
        feeds = {s.name: make_feed(s, i, pipeline.frame) for i, s in enumerate(config.sensors)}

        def timed():
            for raw in inputs:
                now[0] = raw.t_receive
                yield raw.t_receive, raw.source, raw.payload

        pending = sorted(changes, key=lambda c: c.t)

        def apply_changes(t: float) -> None:  # the settings in force at time t, as live
            while pending and pending[0].t <= t:
                change = pending.pop(0)
                apply_setting(pipeline, change.kind, json.loads(change.document), record=False)

        return replay_inputs(pipeline, feeds, timed(), before_tick=apply_changes)

    return replay_alerts(history_path, run_pipeline)
