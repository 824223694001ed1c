"""Track-to-track association across sites: one regional track per object seen by two
sites with independent noise, distinct objects stay distinct, identity beats geometry,
regional ids and memberships are stable, and the fused position beats each site alone."""

from __future__ import annotations

import numpy as np
import pytest

from skywarden.fuse.regional_picture import ALERT_ID_STRIDE, SitePicture, regional_picture
from skywarden.fuse.site_frames import site_to_region
from skywarden.fuse.track_to_track import FusionParams, Membership, SiteTracks, fuse_site_tracks
from skywarden.geo import LocalFrame
from skywarden.simulate.overlapping_sites import SiteErrors, overlapping_sites
from skywarden.snapshot import AlertView

SITES = [("north", 50.86, 4.30), ("south", 50.80, 4.36)]
REGION = (50.83, 4.33)


def _scene(seed: int, n: int = 200, **kw):
    return overlapping_sites(np.random.default_rng(seed), n, SITES, REGION, t=1000.0, **kw)


def _truth_of(scene) -> dict[tuple[str, int], int]:
    out = {}
    for p, idx in zip(scene.pictures, scene.seen, strict=True):
        out.update(
            {(p.name, int(t)): int(i) for t, i in zip(p.snapshot.tracks.id, idx, strict=True)}
        )
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_two_sites_fuse_into_one_regional_track_per_object(seed: int) -> None:
    scene = _scene(seed)
    tracks, _, _ = regional_picture(scene.pictures, scene.region, Membership.empty(), 1000.0)
    truth = _truth_of(scene)
    seen_by_both = np.intersect1d(scene.seen[0], scene.seen[1])
    assert seen_by_both.size > 100
    assert len(tracks) == np.union1d(scene.seen[0], scene.seen[1]).size
    owners = [{truth[m] for m in members} for members in tracks.members]
    assert all(len(o) == 1 for o in owners), "a regional track mixes two objects"
    pairs = [
        o.pop() for o, members in zip(owners, tracks.members, strict=True) if len(members) == 2
    ]
    assert sorted(pairs) == sorted(seen_by_both.tolist())
    assert len(set(tracks.id.tolist())) == len(tracks)
    for members in tracks.members:
        assert len({site for site, _ in members}) == len(members)  # one member per site


def test_fused_position_beats_each_site_alone() -> None:
    scene = _scene(4, 400)
    tracks, _, _ = regional_picture(scene.pictures, scene.region, Membership.empty(), 1000.0)
    truth = _truth_of(scene)
    both = np.array([len(m) == 2 for m in tracks.members])
    who = np.array([truth[m[0]] for m in tracks.members])
    fused = np.linalg.norm(tracks.enu[both, :3] - scene.truth[who[both], :3], axis=1)
    for p, idx in zip(scene.pictures, scene.seen, strict=True):
        x, _ = site_to_region(p.snapshot.tracks.enu, p.snapshot.tracks.cov,
                              LocalFrame(*p.snapshot.site), scene.region)  # fmt: skip
        keep = np.isin(idx, who[both])
        alone = np.linalg.norm(x[keep, :3] - scene.truth[idx[keep], :3], axis=1)
        assert np.sqrt((fused**2).mean()) < 0.8 * np.sqrt((alone**2).mean())
    # CI stays consistent: the normalised position error is not above its dimension
    P = tracks.cov[both][:, :3, :3]
    y = tracks.enu[both, :3] - scene.truth[who[both], :3]
    nees = np.einsum("ni,ni->n", y, np.linalg.solve(P, y[..., None])[..., 0])
    assert nees.mean() < 3.0


def test_a_single_site_track_is_passed_through_unchanged() -> None:
    scene = _scene(5, 50, errors=SiteErrors())
    alone = [scene.pictures[0]]
    tracks, _, _ = regional_picture(alone, scene.region, Membership.empty(), 1000.0)
    site = scene.pictures[0].snapshot.tracks
    x, P = site_to_region(site.enu, site.cov, LocalFrame(*scene.pictures[0].snapshot.site),
                          scene.region)  # fmt: skip
    order = np.argsort([m[0][1] for m in tracks.members])
    back = np.argsort(site.id)
    np.testing.assert_allclose(tracks.enu[order], x[back], atol=1e-9)
    np.testing.assert_allclose(tracks.cov[order], P[back], atol=1e-9)


def _tracks(site, track_id, x, identity, sigma=10.0) -> SiteTracks:
    n = len(site)
    P = np.broadcast_to(np.diag([sigma**2] * 3 + [4.0] * 3), (n, 6, 6)).copy()
    return SiteTracks(np.array(site), np.array(track_id), np.array(x, float), P,
                      np.array(identity))  # fmt: skip


def _state(e: float, n: float = 0.0) -> list[float]:
    return [e, n, 100.0, 10.0, 0.0, 0.0]


def test_distinct_objects_close_together_stay_distinct() -> None:
    # two objects 200 m apart (20 sigma), each seen by both sites
    st = _tracks([0, 0, 1, 1], [1, 2, 7, 8], [_state(0), _state(200), _state(5), _state(195)],
                 [-1, -1, -1, -1])  # fmt: skip
    reg, _ = fuse_site_tracks(st, Membership.empty(), 2)
    assert len(reg) == 2
    assert reg.group[0] == reg.group[2] and reg.group[1] == reg.group[3]


def test_identity_beats_geometry() -> None:
    # same ICAO address 3 km apart (a bad position at one site): one regional track;
    # different identities at the same place: two regional tracks
    st = _tracks([0, 1, 0, 1], [1, 7, 2, 8], [_state(0), _state(3000), _state(9000), _state(9000)],
                 [0, 0, 1, 2])  # fmt: skip
    reg, _ = fuse_site_tracks(st, Membership.empty(), 2)
    assert len(reg) == 3
    assert reg.group[0] == reg.group[1]
    assert reg.group[2] != reg.group[3]


def test_membership_is_kept_with_hysteresis_and_ids_are_stable() -> None:
    st = _tracks([0, 1], [1, 7], [_state(0), _state(5)], [-1, -1])
    reg, mem = fuse_site_tracks(st, Membership.empty(), 2)
    assert len(reg) == 1
    first_id = int(reg.regional_id[0])
    # 75 m apart: outside the join gate (d2 = 75^2/200 = 28 > 22.5), inside the keep gate
    st2 = _tracks([0, 1], [1, 7], [_state(0), _state(75)], [-1, -1])
    reg2, mem2 = fuse_site_tracks(st2, mem, 2)
    assert len(reg2) == 1 and int(reg2.regional_id[0]) == first_id
    fresh, _ = fuse_site_tracks(st2, Membership.empty(), 2)
    assert len(fresh) == 2  # the same geometry without history does not join
    # far apart: the pair splits; the leader keeps the regional id, the other gets a new one
    st3 = _tracks([0, 1], [1, 7], [_state(0), _state(500)], [-1, -1])
    reg3, mem3 = fuse_site_tracks(st3, mem2, 2)
    assert len(reg3) == 2
    assert int(reg3.regional_id[reg3.group[0]]) == first_id
    assert int(reg3.regional_id[reg3.group[1]]) != first_id
    # and a regional id survives a picture in which its partner is missing
    st4 = _tracks([1], [7], [_state(500)], [-1])
    reg4, _ = fuse_site_tracks(st4, mem3, 2)
    assert int(reg4.regional_id[0]) == int(reg3.regional_id[reg3.group[1]])


def test_three_sites_one_object_is_one_regional_track() -> None:
    st = _tracks([0, 1, 2], [1, 1, 1], [_state(0), _state(8, 5), _state(-6, 3)], [-1, -1, -1])
    reg, _ = fuse_site_tracks(st, Membership.empty(), 3)
    assert len(reg) == 1
    # identical covariances: CI gains nothing (it cannot know the errors are independent)
    assert reg.P[0, 0, 0] == pytest.approx(100.0)
    assert -6.0 < reg.x[0, 0] < 8.0


def test_alerts_stay_per_site_with_regional_ids() -> None:
    scene = _scene(6, 30)
    alert = AlertView(id=4, zone_id="z", track_id=int(scene.pictures[1].snapshot.tracks.id[0]),
                      object="drone", state="active", priority=1, probability=0.9,
                      time_to_entry_s=10.0, inside=False, target_class="drone", lat=50.8,
                      lon=4.3, alt_m=100.0, t_raised=990.0, t_state=990.0)  # fmt: skip
    import dataclasses

    pictures = list(scene.pictures)
    pictures[1] = SitePicture("south", dataclasses.replace(pictures[1].snapshot, alerts=(alert,)))
    tracks, alerts, _ = regional_picture(pictures, scene.region, Membership.empty(), 1000.0)
    assert len(alerts) == 1
    a = alerts[0]
    assert a.site == "south" and a.id == ALERT_ID_STRIDE + 4 and a.state == "active"
    holder = [i for i, m in enumerate(tracks.members) if ("south", alert.track_id) in m]
    assert a.track_id == int(tracks.id[holder[0]])
    assert a.to_json()["site"] == "south"


def test_params_are_checked() -> None:
    with pytest.raises(ValueError):
        FusionParams(join_probability=0.9999, keep_probability=0.99)
