"""The region role: one picture across sites (``skywarden run REGION.toml --role region
--sites a,b,c``), served like an api node (REST, WebSocket, map).

For each site it follows ``skywarden.<site>.picture`` (the last one read from the stream at
start) and the core's health through a :class:`~skywarden.bus.api.BusBackend`, and counts
the site's alert events (``skywarden.<site>.alerts``). Whenever a site publishes, the
latest picture of every site is fused into one regional picture
(skywarden.fuse.regional_picture: track-to-track association by identity or gate,
covariance intersection) in a worker thread, in the region's ENU frame (``[site]`` of the
region file), at most ``[service] live_rate_hz`` times a second. A site whose last picture
is older than ``STALE_PICTURE_S`` contributes no tracks (its health says ``stale``).

Alerts stay per site (with ``site`` set); an operator action on a regional alert id goes to
that site's core, whose answer comes back. Zones, rules and allow-lists are listed from
every site (with ``site`` set) and edited on the site's own api node, not here. History and
track replays are per site too (501 here).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from skywarden.bus.api import BusBackend, PublishedSnapshot, serve_backend
from skywarden.bus.connection import connect
from skywarden.bus.settings import BusConfig
from skywarden.bus.subjects import SiteSubjects, token
from skywarden.errors import ConfigError
from skywarden.fuse.regional_picture import ALERT_ID_STRIDE, SitePicture, regional_picture
from skywarden.fuse.track_to_track import Membership, site_keys
from skywarden.geo import LocalFrame
from skywarden.site_config import SiteConfig
from skywarden.snapshot import AlertView, Snapshot, TrackArrays

log = logging.getLogger(__name__)
STALE_PICTURE_S = 15.0
POLL_S = 0.1  # how often the region looks for new site pictures


class RegionBackend(PublishedSnapshot):
    """The server's backend on a region node (see the module docstring)."""

    def __init__(self, config: SiteConfig, bus: BusConfig, sites: Sequence[str]) -> None:
        if not sites:
            raise ConfigError("--role region needs --sites a,b,c (the sites' [site] names)")
        if len({token(s) for s in sites}) != len(sites):
            raise ConfigError(f"--sites names the same site twice: {', '.join(sites)}")
        super().__init__(config)
        self.names = tuple(sites)
        self.sites = tuple(BusBackend(config, bus, SiteSubjects.of(s)) for s in sites)
        self.frame = LocalFrame(config.lat, config.lon, config.height_m)
        self.period_s = 1.0 / config.live_rate_hz  # at most one regional picture per period
        self._membership = Membership.empty()
        self.alert_events: Counter = Counter()
        self.rejects: Counter = Counter()
        self.fusions = 0
        self.fuse_s = float("nan")
        self.failure: str | None = None

    # ------------------------------------------------------------------ bus in

    async def start(self, nc: Any) -> None:
        """Follow every site's picture, health and alert events."""
        for name, site in zip(self.names, self.sites, strict=True):
            await site.start(nc)
            await nc.subscribe(site.subjects.alerts, cb=self._alert_cb(name))

    def _alert_cb(self, name: str) -> Any:
        async def count(msg: Any) -> None:
            self.alert_events[name] += 1

        return count

    async def follow(self, stop: asyncio.Event) -> None:
        """Fuse the sites' latest pictures whenever one of them changes, until ``stop``."""
        seen: tuple[int, ...] = ()
        while not stop.is_set():
            counts = tuple(s.pictures for s in self.sites)
            if counts != seen and any(counts):
                seen = counts
                start = time.monotonic()
                try:
                    self._publish(await asyncio.to_thread(self.fuse, time.time()))
                except Exception as exc:  # a fusion bug must not stop the region's serving
                    self.rejects["fusion_error"] += 1
                    log.exception("region: fusion failed: %s", exc)
                await asyncio.sleep(max(0.0, start + self.period_s - time.monotonic()))
            await asyncio.sleep(POLL_S)

    def fuse(self, now: float) -> Snapshot:
        """One regional snapshot from the sites' latest pictures (runs in a worker thread)."""
        t0 = time.perf_counter()
        pictures = [
            SitePicture(n, s.snapshot()) for n, s in zip(self.names, self.sites, strict=True)
        ]
        live = [p.snapshot.t for p, s in zip(pictures, self.sites, strict=True)
                if s.pictures and now - p.snapshot.t <= STALE_PICTURE_S]  # fmt: skip
        t = max(live, default=now)
        pictures = [p if t - p.snapshot.t <= STALE_PICTURE_S else _without_tracks(p)
                    for p in pictures]  # fmt: skip
        tracks, alerts, self._membership = regional_picture(
            pictures, self.frame, self._membership, t
        )
        sensors = tuple(dataclasses.replace(v, name=f"{p.name}/{v.name}")
                        for p in pictures for v in p.snapshot.sensors)  # fmt: skip
        self.fuse_s = time.perf_counter() - t0
        self.fusions += 1
        return Snapshot(self._snapshot.seq + 1, t, self._snapshot.site, tracks, alerts, sensors,
                        {"sites": self._site_health(now)})  # fmt: skip

    def _site_health(self, now: float) -> dict[str, Any]:
        out = {}
        for name, s in zip(self.names, self.sites, strict=True):
            snap = s.snapshot()
            age = now - snap.t if s.pictures else None
            out[name] = {"pictures": s.pictures, "tracks": len(snap.tracks),
                         "alerts": len(snap.alerts), "alert_events": self.alert_events[name],
                         "picture_age_s": None if age is None else round(age, 3),
                         "stale": age is None or age > STALE_PICTURE_S,
                         "rejects": dict(s.rejects)}  # fmt: skip
        return out

    def close(self) -> None:
        for s in self.sites:
            s.close()

    # ------------------------------------------------------------------ ServiceBackend

    def _site_of(self, alert_id: int) -> tuple[int, int]:
        index, local = divmod(int(alert_id), ALERT_ID_STRIDE)
        if not 0 <= index < len(self.sites):
            raise KeyError(alert_id)
        return index, local

    def _alert_action(self, action: str, alert_id: int, **kwargs: Any) -> AlertView:
        index, local = self._site_of(alert_id)
        view = getattr(self.sites[index], action)(local, **kwargs)
        key = site_keys(np.array([index]), np.array([max(view.track_id, 0)]))
        track = int(self._membership.lookup(key)[0]) if view.track_id >= 0 else -1
        return dataclasses.replace(view, id=alert_id, track_id=track, site=self.names[index])

    def acknowledge(self, alert_id: int, who: str, note: str = "", role: str = "") -> AlertView:
        return self._alert_action("acknowledge", alert_id, who=who, note=note, role=role)

    def reject(self, alert_id: int, who: str, note: str = "", role: str = "") -> AlertView:
        return self._alert_action("reject", alert_id, who=who, note=note, role=role)

    def ignore(self, alert_id: int, who: str, note: str = "", role: str = "") -> AlertView:
        return self._alert_action("ignore", alert_id, who=who, note=note, role=role)

    def _each_site(self, method: str) -> list[tuple[str, Any]]:
        """(site, answer) of every site that answers (the others are counted, logged)."""
        out = []
        for name, s in zip(self.names, self.sites, strict=True):
            try:
                out.append((name, getattr(s, method)()))
            except Exception as exc:  # noqa: BLE001 (one site down must not hide the others)
                self.rejects[f"{method}_unanswered"] += 1
                log.warning("region: %s did not answer %s: %s", name, method, exc)
        return out

    def zones_geojson(self) -> dict[str, Any]:
        features = [{**f, "properties": {**(f.get("properties") or {}), "site": name}}
                    for name, doc in self._each_site("zones_geojson")
                    for f in doc.get("features", [])]  # fmt: skip
        return {"type": "FeatureCollection", "features": features}

    def clutter_geojson(self) -> dict[str, Any]:
        return {"type": "FeatureCollection", "features": []}

    def rules_json(self) -> list[dict[str, Any]]:
        return [{**r, "site": name} for name, rules in self._each_site("rules_json") for r in rules]

    def allow_json(self) -> list[dict[str, Any]]:
        return [{**r, "site": name} for name, rules in self._each_site("allow_json") for r in rules]

    def _edited_on_site(self, what: str) -> None:
        raise ConfigError(f"{what} are edited on the site's api node (--role api), not the region")

    def put_zones(self, geojson: dict[str, Any], who: str = "", role: str = "") -> dict[str, Any]:
        self._edited_on_site("zones")
        return {}

    def put_rules(self, rules: Any, who: str = "", role: str = "") -> list[dict[str, Any]]:
        self._edited_on_site("alert rules")
        return []

    def put_allow(self, allow: Any, who: str = "", role: str = "") -> list[dict[str, Any]]:
        self._edited_on_site("allow-lists")
        return []

    def health(self) -> dict[str, Any]:
        """The region's fusion counters and each site's picture flow."""
        return {
            "sources": {}, "queue_depth": 0,
            "bus": {"role": "region", "fusions": self.fusions, "rejects": dict(self.rejects),
                    "fuse_ms": None if self.fuse_s != self.fuse_s else round(1e3 * self.fuse_s, 2)},
            "sites": self._site_health(time.time()),
        }  # fmt: skip

    def audit(self, since_t: float | None = None) -> list[dict[str, Any]]:
        entries = []
        for index, (name, s) in enumerate(zip(self.names, self.sites, strict=True)):
            for e in s.audit(since_t):
                alert = e.get("alert_id")
                regional = index * ALERT_ID_STRIDE + alert if isinstance(alert, int) else alert
                entries.append({**e, "site": name, "alert_id": regional})
        return sorted(entries, key=lambda e: float(e.get("t") or 0.0))

    def history_tracks(self, t0: float, t1: float, step_s: float | None = None) -> list[dict]:
        raise NotImplementedError("history is kept per site: ask the site's api node")

    def history_span(self) -> tuple[float, float] | None:
        raise NotImplementedError("history is kept per site: ask the site's api node")

    def _member(self, track_id: int) -> tuple[int, int] | None:
        """(site index, site track id) of the regional track's leader, None if unknown."""
        tracks = self._snapshot.tracks
        hit = np.flatnonzero(tracks.id == track_id)
        if hit.size == 0 or tracks.members is None:
            return None
        site, track = tracks.members[hit[0]][0]
        return self.names.index(site), int(track)

    def track_sources(self, track_id: int) -> dict | None:
        member = self._member(track_id)
        found = None if member is None else self.sites[member[0]].track_sources(member[1])
        return None if found is None else {**found, "site": self.names[member[0]]}

    def explain_track(self, track_id: int) -> dict | None:
        member = self._member(track_id)
        found = None if member is None else self.sites[member[0]].explain_track(member[1])
        return None if found is None else {**found, "site": self.names[member[0]]}


def _without_tracks(picture: SitePicture) -> SitePicture:
    empty = dataclasses.replace(picture.snapshot, tracks=TrackArrays.empty())
    return SitePicture(picture.name, empty)


async def run_region(
    config: SiteConfig, bus: BusConfig, sites: Sequence[str], stop: asyncio.Event,
    *, port: int | None = None,
) -> None:  # fmt: skip
    """Serve one picture of ``sites`` (REST, WebSocket, map) on ``[service] bind`` (or
    ``port``) until ``stop``; the region's ENU frame is at ``[site]`` of ``config``."""
    from skywarden.server.auth import check_bind

    check_bind(config.bind_host, config.security.users)
    backend = RegionBackend(config, bus, sites)
    nc = await connect(bus, f"skywarden-region-{token(config.name)}")
    following = None
    try:
        await backend.start(nc)
        following = asyncio.create_task(backend.follow(stop))
        await serve_backend(backend, config, stop, port=port)
    finally:
        if following is not None:
            following.cancel()
            await asyncio.gather(following, return_exceptions=True)
        await asyncio.to_thread(backend.close)
        await nc.close()
