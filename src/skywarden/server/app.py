"""The FastAPI application: versioned REST under /api/v1, the live WebSocket and the map page.

Build it with :func:`create_app` around any :class:`~skywarden.server.backend.ServiceBackend`
and serve it with uvicorn, e.g. ``uvicorn.run(create_app(backend), host=..., port=...)``.

Bad input gets a clear 4xx with a JSON ``{"detail": ...}`` body and never stops the service:
422 for a malformed request (bad JSON, wrong field types, bad query values), 400 for a zone
document that is not valid GeoJSON (the message names the feature and the problem), 404 for an
unknown alert, track or zone id (also one out of the id range), 409 for an alert action the
alert cannot take, 413 for a body larger than ``max_body_bytes``, 422 for a zone value out of
its bounds or JSON nested deeper than the policy allows. An unexpected fault in a handler is a
JSON 500.

With an :class:`~skywarden.server.auth.Authenticator` on a users file every ``/api/v1`` route
needs a bearer token (401 without, 403 for a role too low; see :mod:`skywarden.server.auth`).
``/healthz`` is an open liveness check that says nothing about the picture: 200, or 503 with
the reason once the pipeline has stopped (``backend.failure``), as ``/api/v1/health`` does.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response

from skywarden.errors import ConfigError, SkywardenError
from skywarden.server import map_page, schemas
from skywarden.server.actions import (
    alert_action,
    get_setting,
    json_body,
    known_range,
    put_setting,
    recorded_role,
)
from skywarden.server.auth import Authenticator, Principal, requires
from skywarden.server.backend import ServiceBackend
from skywarden.server.health_cache import HealthCache
from skywarden.server.http_security import BodyLimit, HttpPolicy, HttpSecurity
from skywarden.server.live import LiveBroadcaster, live_endpoint
from skywarden.server.map_page import add_map_page
from skywarden.snapshot import CLASS_NAMES, AlertView, json_safe
from skywarden.warn.zones import ZoneLimitError

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": schemas.ErrorBody, "description": text}
    for code, text in (
        (400, "bad document"),
        (404, "unknown id"),
        (409, "illegal transition"),
        (413, "body too large"),
        (401, "no or wrong token (authentication on)"),
        (403, "role too low"),
    )
}


def create_app(
    backend: ServiceBackend,
    *,
    live_rate_hz: float = 2.0,
    max_body_bytes: int = 1_000_000,
    tile_url: str | None = None,
    auth: Authenticator | None = None,
    policy: HttpPolicy | None = None,
    basemap: Path | None = None,
) -> FastAPI:
    """The service around backend.

    Args:
        backend: the running system (or a test fake).
        live_rate_hz: maximum rate of WebSocket snapshot broadcasts.
        max_body_bytes: larger request bodies get 413.
        tile_url: optional raster tile URL template ({z}/{x}/{y}) for the map background;
            None draws the offline map (grid, range rings, zones, sensors) only.
        auth: token checks (None: authentication off, every route open).
        policy: Host/Origin checks, JSON depth limit and security headers (None: the
            defaults of :class:`~skywarden.server.http_security.HttpPolicy`, any Host).
        basemap: the site's basemap, one PMTiles file, served at /basemap.pmtiles (None:
            the bundled world layer only).
    """
    if max_body_bytes < 1:
        raise ValueError(f"max_body_bytes must be positive, got {max_body_bytes}")
    broadcaster = LiveBroadcaster(backend, rate_hz=live_rate_hz)
    auth = auth if auth is not None else Authenticator(None)
    policy = policy if policy is not None else HttpPolicy(tile_url=tile_url)

    health = HealthCache(backend)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        following = asyncio.create_task(health.follow(), name="health-follow")
        yield
        following.cancel()
        # a Ctrl-C while the server is still starting cancels this task too, here: that is a
        # normal stop, not an error to print (seen as a CancelledError traceback from uvicorn)
        with suppress(asyncio.CancelledError):
            await asyncio.gather(following, return_exceptions=True)
        await broadcaster.stop()

    app = FastAPI(
        title="skywarden",
        version="1",
        summary="Drone early warning: tracks, alerts, zones and sensor health.",
        description=(
            "Live picture: the WebSocket `/api/v1/live` sends each snapshot (tracks, alerts, "
            "sensors) as UTF-8 JSON in binary frames, at most `live_rate_hz` times a second. "
            'Errors are JSON `{"detail": ...}`. The map page is served at `/`.'
        ),
        lifespan=lifespan,
        docs_url=None,  # served below, from the vendored Swagger UI when present (offline)
        redoc_url=None,
    )
    app.state.backend = backend
    app.state.broadcaster = broadcaster
    app.state.auth = auth
    app.state.basemap = basemap
    refused: Counter[str] = Counter()  # requests refused by kind (host, origin, json_depth)
    app.add_middleware(HttpSecurity, policy=policy, counters=refused)  # inside BodyLimit
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_exception_handler(Exception, _internal_error)
    app.include_router(
        _api_router(backend, broadcaster, live_rate_hz, tile_url, auth, refused, health)
    )
    app.add_api_websocket_route(f"{API_PREFIX}/live", live_endpoint(backend, broadcaster, auth))
    app.add_api_route("/healthz", _liveness(backend), methods=["GET"], tags=["health"])
    add_map_page(app, basemap)
    return app


# --- REST --------------------------------------------------------------------------------------


def _api_router(
    backend: ServiceBackend,
    broadcaster: LiveBroadcaster,
    rate_hz: float,
    tile_url: str | None,
    auth: Authenticator,
    refused: Counter[str],
    health: HealthCache,
) -> APIRouter:
    router = APIRouter(
        prefix=API_PREFIX,
        responses={422: {"description": "malformed request"}},
        dependencies=[requires(auth, "viewer")],
    )
    admin = requires(auth, "admin")

    @router.get("/tracks", response_model=schemas.TrackList, tags=["tracks"])
    def get_tracks(
        bbox: Annotated[
            str | None, Query(description="min_lon,min_lat,max_lon,max_lat (degrees)")
        ] = None,
        target_class: Annotated[
            list[str] | None,
            Query(alias="class", description=f"repeat or comma-separate: {', '.join(CLASS_NAMES)}"),
        ] = None,
        min_alt_m: Annotated[float | None, Query(description="metres, WGS-84")] = None,
        max_alt_m: Annotated[float | None, Query(description="metres, WGS-84")] = None,
    ) -> JSONResponse:
        """Tracks of the latest snapshot, optionally inside a box, of some classes, in a band."""
        snap = backend.snapshot()
        tracks = snap.tracks.select(_parse_bbox(bbox), _parse_classes(target_class))
        if min_alt_m is not None or max_alt_m is not None:
            lo = -math.inf if min_alt_m is None else min_alt_m
            hi = math.inf if max_alt_m is None else max_alt_m
            tracks = tracks.take((tracks.alt_m >= lo) & (tracks.alt_m <= hi))
        body = tracks.to_json()
        return JSONResponse({"seq": snap.seq, "t": snap.t, "count": len(body), "tracks": body})

    @router.get(
        "/tracks/{track_id}", response_model=schemas.Track, responses=ERRORS, tags=["tracks"]
    )
    def get_track(track_id: int) -> JSONResponse:
        """One track of the latest snapshot."""
        known_range(track_id, "track")
        tracks = backend.snapshot().tracks
        hit = np.flatnonzero(tracks.id == track_id)
        if hit.size == 0:
            raise HTTPException(404, f"unknown track id {track_id}")
        return JSONResponse(tracks.take(hit[:1]).to_json()[0])

    @router.get("/tracks/{track_id}/sources", responses=ERRORS, tags=["tracks"])
    def get_track_sources(track_id: int) -> JSONResponse:
        """Which sensor reports fed a track and when (auditable fusion): the recent reports
        (time, sensor, kind), the last report per source kind, report counts, and the
        cooperative-consistency test (radar-only estimate vs the cooperative claims)."""
        known_range(track_id, "track")
        view = backend.track_sources(track_id)
        if view is None:
            raise HTTPException(404, f"unknown track id {track_id}")
        return JSONResponse(json_safe(view))

    @router.get(
        "/tracks/{track_id}/classification",
        response_model=schemas.TrackClassification,
        responses=ERRORS,
        tags=["tracks"],
    )
    def get_track_classification(track_id: int) -> JSONResponse:
        """Why a track has its class: the features that pushed the classifier most towards
        it (value and contribution in logit units, largest first), the single-scan model
        output behind them, every feature's value, and the track's current class,
        probabilities and behaviour. Computed on demand from the track's recent states."""
        known_range(track_id, "track")
        view = backend.explain_track(track_id)
        if view is not None:
            return JSONResponse(json_safe(view))
        if track_id not in backend.snapshot().tracks.id:
            raise HTTPException(404, f"unknown track id {track_id}")
        raise HTTPException(
            404,
            f"no classification reasons for track {track_id}: no trained classifier in use, "
            "or the track is not classified yet",
        )

    @router.get("/alerts", response_model=schemas.AlertList, tags=["alerts"])
    def get_alerts(
        state: Annotated[
            str | None, Query(description="only alerts in this state, e.g. active")
        ] = None,
    ) -> JSONResponse:
        """Alerts of the latest snapshot, most urgent first (priority, then time to entry)."""
        snap = backend.snapshot()
        alerts = [a for a in snap.alerts if state is None or a.state == state]
        body = [a.to_json() for a in sorted(alerts, key=_alert_urgency)]
        return JSONResponse({"seq": snap.seq, "t": snap.t, "count": len(body), "alerts": body})

    @router.get(
        "/alerts/{alert_id}", response_model=schemas.Alert, responses=ERRORS, tags=["alerts"]
    )
    def get_alert(alert_id: int) -> JSONResponse:
        """One alert of the latest snapshot."""
        known_range(alert_id, "alert")
        for alert in backend.snapshot().alerts:
            if alert.id == alert_id:
                return JSONResponse(alert.to_json())
        raise HTTPException(404, f"unknown alert id {alert_id}")

    for action in ("acknowledge", "reject", "ignore"):
        router.add_api_route(
            f"/alerts/{{alert_id}}/{action}",
            alert_action(getattr(backend, action), action, auth),
            methods=["POST"],
            response_model=schemas.Alert,
            responses=ERRORS,
            tags=["alerts"],
            name=f"{action}_alert",
        )

    @router.get("/zones", response_model=schemas.FeatureCollection, tags=["zones"])
    def get_zones() -> JSONResponse:
        """The zones in force (GeoJSON FeatureCollection, [lon, lat] degrees)."""
        return JSONResponse(backend.zones_geojson())

    @router.get("/clutter", response_model=schemas.FeatureCollection, tags=["health"])
    def get_clutter() -> JSONResponse:
        """The tracker's learnt clutter map: one polygon per cell ([lon, lat] degrees; range x
        azimuth around a radar, a square grid otherwise) with ``rate_per_km2_per_scan``."""
        return JSONResponse(backend.clutter_geojson())

    @router.get("/zones/{zone_id}", responses=ERRORS, tags=["zones"])
    def get_zone(zone_id: Annotated[str, PathParam(max_length=200)]) -> JSONResponse:
        """One zone as a GeoJSON Feature."""
        features = backend.zones_geojson().get("features", [])
        for feature in features:
            if _feature_id(feature) == zone_id:
                return JSONResponse(feature)
        known = ", ".join(repr(_feature_id(f)) for f in features) or "none"
        raise HTTPException(404, f"unknown zone id {zone_id!r} (known: {known})")

    @router.put(
        "/zones",
        response_model=schemas.FeatureCollection,
        responses=ERRORS,
        tags=["zones"],
        openapi_extra=_json_body_doc(schemas.FeatureCollection),
    )
    async def put_zones(request: Request, principal: Principal = admin) -> JSONResponse:
        """Replace every zone with a GeoJSON FeatureCollection (400 names what is wrong, 422 a
        value out of its bounds). Needs the admin role; recorded with the principal."""
        document = await json_body(request)
        try:
            zones = backend.put_zones(document, who=principal.name, role=recorded_role(principal))
        except ZoneLimitError as exc:
            raise HTTPException(422, str(exc)) from exc
        except ConfigError as exc:
            raise HTTPException(400, str(exc)) from exc
        return JSONResponse(zones)

    for kind, what in (("rules", "alert rules ([[alert_rules]] tables)"),
                       ("allow", "allow-list entries ([[allow]] tables)")):  # fmt: skip
        router.add_api_route(f"/{kind}", get_setting(backend, kind, what), methods=["GET"],
                             tags=["zones"], name=f"get_{kind}")  # fmt: skip
        router.add_api_route(
            f"/{kind}", put_setting(backend, kind, what, admin), methods=["PUT"],
            responses=ERRORS, tags=["zones"], name=f"put_{kind}",
            openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                "schema": {"type": "array", "items": {"type": "object"}}}}}},
        )  # fmt: skip

    @router.get("/health", response_model=schemas.Health, tags=["health"])
    async def get_health() -> Response:
        """Per-source message and reject counters, tick latency, queue depth, live clients;
        503 with the reason once the pipeline has stopped. Encoded once per snapshot
        (skywarden.server.health_cache): cheap however often it is polled."""
        failure = getattr(backend, "failure", None)
        if failure:
            return JSONResponse({"status": "stopped", "reason": failure}, status_code=503)
        live = {
            "clients": broadcaster.clients,
            "sent": broadcaster.sent,
            "dropped_clients": broadcaster.dropped_clients,
            "rate_hz": broadcaster.rate_hz,
        }
        security = {"auth_failures": auth.failures, "refused_requests": dict(refused)}
        body = health.body({"live": live, "security": security})
        return Response(body, media_type="application/json")

    @router.get("/audit", response_model=list[schemas.AuditEntry], tags=["alerts"])
    def get_audit(
        since_t: Annotated[float | None, Query(description="POSIX s; only later entries")] = None,
    ) -> JSONResponse:
        """Who did what to which alert, and when (oldest first)."""
        return JSONResponse(backend.audit(since_t))

    @router.get("/history/tracks", responses={501: {"description": "no store"}}, tags=["tracks"])
    def get_history(
        t0: Annotated[float, Query(description="POSIX s")],
        t1: Annotated[float, Query(description="POSIX s, after t0")],
        step_s: Annotated[
            float | None,
            Query(
                gt=0,
                allow_inf_nan=False,
                description="s; at most one sample per track per step (thinning)",
            ),
        ] = None,
    ) -> JSONResponse:
        """Stored track states between t0 and t1 (for replay), optionally thinned to one
        sample per track per ``step_s`` seconds (long windows)."""
        if not (math.isfinite(t0) and math.isfinite(t1) and t1 > t0):
            raise HTTPException(422, f"need finite t0 < t1, got t0={t0}, t1={t1}")
        try:
            return JSONResponse(backend.history_tracks(t0, t1, step_s))
        except NotImplementedError as exc:
            raise HTTPException(501, "no track history store is configured") from exc
        except SkywardenError as exc:  # the store refused (e.g. a window beyond its memory)
            raise HTTPException(503, f"{exc}; try a shorter window or a larger step_s") from exc

    @router.get("/history/span", responses={501: {"description": "no store"}}, tags=["tracks"])
    def get_history_span() -> JSONResponse:
        """First and last stored time (POSIX s); both null for an empty history."""
        try:
            span = backend.history_span()
        except NotImplementedError as exc:
            raise HTTPException(501, "no track history store is configured") from exc
        except SkywardenError as exc:
            raise HTTPException(503, str(exc)) from exc
        t0, t1 = span if span is not None else (None, None)
        return JSONResponse({"t0": t0, "t1": t1})

    @router.get("/me", tags=["map"])
    def get_me(request: Request) -> dict[str, Any]:
        """Who is signed in: name and role (``authenticated`` false when authentication is
        off: then everyone may do everything, and names the operator in each action)."""
        found: Principal = request.state.principal
        return {"name": found.name, "role": found.role, "authenticated": found.authenticated}

    @router.get("/map-config", response_model=schemas.MapConfig, tags=["map"])
    def get_map_config(request: Request) -> dict[str, Any]:
        """What the map page needs to draw itself: site, optional tile URL and basemap, live
        rate."""
        lat, lon, h = backend.snapshot().site
        return {
            "tile_url": tile_url,
            "basemap": map_page.BASEMAP_URL if request.app.state.basemap else None,
            "live_rate_hz": rate_hz,
            "site": {"lat": lat, "lon": lon, "h_m": h},
            "maplibre": (map_page.VENDOR_DIR / "maplibre-gl.js").is_file(),
        }

    return router


def _liveness(backend: ServiceBackend) -> Callable[[], JSONResponse]:
    def healthz() -> JSONResponse:
        """Liveness, open to all: ``{"status": "ok"}``, or 503 with the reason once the
        pipeline has stopped. Says nothing about tracks, alerts or sensors."""
        failure = getattr(backend, "failure", None)
        if failure:
            return JSONResponse({"status": "stopped", "reason": failure}, status_code=503)
        return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})

    return healthz


def _parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise HTTPException(422, f"bbox must be min_lon,min_lat,max_lon,max_lat numbers: {text!r}")
    lo_lon, lo_lat, hi_lon, hi_lat = parts
    if not (lo_lon <= hi_lon and lo_lat <= hi_lat and -90 <= lo_lat and hi_lat <= 90):
        raise HTTPException(422, f"bbox needs min <= max and latitudes within -90..90: {text!r}")
    return lo_lon, lo_lat, hi_lon, hi_lat


def _parse_classes(values: list[str] | None) -> set[str] | None:
    if not values:
        return None
    names = {p.strip() for v in values for p in v.split(",") if p.strip()}
    unknown = sorted(names - set(CLASS_NAMES))
    if unknown:
        raise HTTPException(422, f"unknown class {unknown} (use {', '.join(CLASS_NAMES)})")
    return names


def _alert_urgency(alert: AlertView) -> tuple[int, float, int]:
    tte = alert.time_to_entry_s
    return alert.priority, tte if math.isfinite(tte) else math.inf, alert.id


def _feature_id(feature: Any) -> str | None:
    if not isinstance(feature, dict):
        return None
    raw = feature.get("id", (feature.get("properties") or {}).get("id"))
    return None if raw is None else str(raw)


def _json_body_doc(model: type[schemas.BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


# --- errors ------------------------------------------------------------------------------------


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("internal error serving %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": f"internal error: {type(exc).__name__}"}, status_code=500)
