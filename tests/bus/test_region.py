"""The region role over a real nats-server: two sites' cores (their published pictures) and
a region node whose /api/v1/tracks shows one fused track per object with its members; bad
pictures are counted and dropped; the command line checks --sites."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from skywarden.bus.picture import encode_picture
from skywarden.bus.region import run_region
from skywarden.bus.subjects import SiteSubjects
from skywarden.simulate.overlapping_sites import overlapping_sites
from skywarden.site_config import load_site_config
from skywarden.snapshot import AlertView
from tests.bus.nats_server import TOKEN, NatsServer, free_port
from tests.bus.site_files import write_site

SITES = [("north", 50.86, 4.30), ("south", 50.80, 4.36)]
REGION = (50.83, 4.33)


def test_region_node_fuses_two_sites_pictures(tmp_path: Path, nats_server: NatsServer) -> None:
    asyncio.run(asyncio.wait_for(_region(tmp_path, nats_server), timeout=120))


def _region_file(tmp_path: Path, url: str, port: int) -> Path:
    return write_site(tmp_path / "region.toml", {
        "site": {"name": "region", "lat": REGION[0], "lon": REGION[1]},
        "service": {"bind": f"127.0.0.1:{port}"},
        "bus": {"url": url, "token": TOKEN},
    })  # fmt: skip


async def _publish(nc, config, scene, garbage: bool = False) -> None:
    from skywarden.bus.connection import declare_streams

    js = nc.jetstream()
    for picture in scene.pictures:
        subjects = SiteSubjects.of(picture.name)
        await declare_streams(js, subjects, config.bus)
        payload, headers = encode_picture(picture.snapshot)
        await js.publish(subjects.picture, payload, headers=headers or None)
        if garbage:
            await nc.publish(subjects.picture, b"{not a picture")
            await js.publish(subjects.alerts, b'{"event": "raised"}')
    await nc.flush()


async def _tracks_when(client: httpx.AsyncClient, ready, timeout_s: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            body = (await client.get("/tracks")).json()
            if ready(body):
                return body
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    raise TimeoutError("the region node did not show the expected picture")


async def _region(tmp_path: Path, nats_server: NatsServer) -> None:
    import nats

    port = free_port()
    config = load_site_config(_region_file(tmp_path, nats_server.url, port))
    rng = np.random.default_rng(7)
    scene = overlapping_sites(rng, 40, SITES, REGION, t=time.time(), extent_m=12000.0,
                              coverage_m=9000.0)  # fmt: skip
    nc = await nats.connect(nats_server.url, token=TOKEN)
    scene = _with_south_alert(scene)
    core = _FakeSouthCore(int(scene.pictures[1].snapshot.tracks.id[0]))
    await nc.subscribe(SiteSubjects.of("south").rpc, cb=core.respond)
    await _publish(nc, config, scene)  # before the region starts: read from the streams
    stop = asyncio.Event()
    region = asyncio.create_task(run_region(config, config.bus, ["north", "south"], stop))
    base = f"http://127.0.0.1:{port}/api/v1"
    objects = np.union1d(*scene.seen).size
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        first = await _tracks_when(client, lambda b: b["count"] == objects)
        # the sites publish again (later, moved on); one bad picture and an alert event each
        later = overlapping_sites(np.random.default_rng(8), 40, SITES, REGION, t=time.time(),
                                  coverage_m=9000.0, truth=_moved(scene.truth, 0.2))  # fmt: skip
        later = _same_ids(later, scene)
        await _publish(nc, config, later, garbage=True)
        second = await _tracks_when(client, lambda b: b["t"] > first["t"])
        health = (await client.get("/health")).json()
        alerts = (await client.get("/alerts")).json()
        regional_alert = 1_000_000_000 + 4  # south is the second of --sites
        acked = await client.post(f"/alerts/{regional_alert}/acknowledge",
                                  json={"who": "op-anna", "note": "seen"})  # fmt: skip
        unknown = await client.post("/alerts/5000000004/acknowledge", json={"who": "op-anna"})
        refused = await client.put("/zones", json={"type": "FeatureCollection", "features": []})
    stop.set()
    await region
    await nc.close()

    truth = {}
    for p, idx in zip(scene.pictures, scene.seen, strict=True):
        truth.update(
            {(p.name, int(t)): int(i) for t, i in zip(p.snapshot.tracks.id, idx, strict=True)}
        )
    both = np.intersect1d(*scene.seen).size
    assert both >= 10
    members = [[(m["site"], m["track_id"]) for m in tr["members"]] for tr in first["tracks"]]
    assert sum(len(m) == 2 for m in members) == both
    assert all(len({truth[k] for k in m}) == 1 for m in members), "one object per track"
    assert all(len(tr["cov"]) == 21 for tr in first["tracks"])
    # a regional id keeps its members from one picture to the next
    before = {tr["id"]: sorted(map(tuple, ([m["site"], m["track_id"]] for m in tr["members"])))
              for tr in first["tracks"]}  # fmt: skip
    after = {tr["id"]: sorted(map(tuple, ([m["site"], m["track_id"]] for m in tr["members"])))
             for tr in second["tracks"]}  # fmt: skip
    assert before == after
    sites = health["sites"]
    assert set(sites) == {"north", "south"}
    assert all(s["rejects"] == {"picture_bad": 1} for s in sites.values())
    assert all(s["alert_events"] == 1 and not s["stale"] for s in sites.values())
    assert health["bus"]["role"] == "region" and health["bus"]["fusions"] >= 2
    # alerts stay per site, with the regional track; an acknowledge goes to the site's core
    assert alerts["count"] == 1
    alert = alerts["alerts"][0]
    assert alert["id"] == regional_alert and alert["site"] == "south"
    holder = [
        tr["id"]
        for tr in second["tracks"]
        if ["south", core.track_id] in [[m["site"], m["track_id"]] for m in tr["members"]]
    ]
    assert alert["track_id"] == holder[0]
    assert acked.status_code == 200, acked.text
    assert acked.json()["id"] == regional_alert and acked.json()["state"] == "acknowledged"
    assert acked.json()["site"] == "south" and acked.json()["track_id"] == holder[0]
    assert core.calls == [(4, "op-anna", "seen")]
    assert unknown.status_code == 404
    assert refused.status_code in (400, 401, 403)


def _moved(truth: np.ndarray, dt: float) -> np.ndarray:
    out = truth.copy()
    out[:, :3] += dt * truth[:, 3:]
    return out


def _same_ids(later, scene):
    """The later pictures with the first pictures' track ids (the same site tracks)."""
    import dataclasses

    from skywarden.fuse.regional_picture import SitePicture

    pictures = []
    for new, old in zip(later.pictures, scene.pictures, strict=True):
        tracks = dataclasses.replace(new.snapshot.tracks, id=old.snapshot.tracks.id)
        snap = dataclasses.replace(new.snapshot, tracks=tracks, seq=2, alerts=old.snapshot.alerts)
        pictures.append(SitePicture(new.name, snap))
    return dataclasses.replace(later, pictures=tuple(pictures))


def _alert(track_id: int, state: str) -> AlertView:
    return AlertView(id=4, zone_id="harbour-gate", track_id=track_id, object="drone", state=state,
                     priority=1, probability=0.9, time_to_entry_s=30.0, inside=False,
                     target_class="drone", lat=50.8, lon=4.36, alt_m=120.0,
                     t_raised=time.time(), t_state=time.time())  # fmt: skip


def _with_south_alert(scene):
    import dataclasses

    from skywarden.fuse.regional_picture import SitePicture

    south = scene.pictures[1]
    alert = _alert(int(south.snapshot.tracks.id[0]), "active")
    snap = dataclasses.replace(south.snapshot, alerts=(alert,))
    return dataclasses.replace(scene, pictures=(scene.pictures[0], SitePicture("south", snap)))


class _FakeSouthCore:
    """The south core's operator actions (skywarden.bus.rpc's own answering code)."""

    def __init__(self, track_id: int) -> None:
        self.track_id = track_id
        self.calls: list[tuple[int, str, str]] = []

    def acknowledge(self, alert_id: int, who: str, note: str = "", role: str = "") -> AlertView:
        if alert_id != 4:
            raise KeyError(alert_id)
        self.calls.append((alert_id, who, note))
        return _alert(self.track_id, "acknowledged")

    async def respond(self, msg) -> None:
        from collections import Counter

        from skywarden.bus.rpc import answer

        await msg.respond(answer(self, msg.data, Counter()))


def test_sites_go_with_the_region_role_only(tmp_path: Path) -> None:
    from skywarden.bus.roles import run_role
    from skywarden.errors import ConfigError

    config = load_site_config(_region_file(tmp_path, "nats://127.0.0.1:1", free_port()))
    with pytest.raises(ConfigError, match="--sites"):
        run_role(config, "region")
    with pytest.raises(ConfigError, match="--sites"):
        run_role(config, "api", ("north",))
