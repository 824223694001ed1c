"""The regional picture's inputs and outputs: covariances and members survive the bus's
JSON, a picture from an older core (no covariance) still fuses, regional columns follow the
stated rules."""

from __future__ import annotations

import dataclasses

import numpy as np

from skywarden.bus.picture import decode_picture, encode_picture
from skywarden.fuse.regional_picture import SitePicture, regional_picture
from skywarden.fuse.track_to_track import Membership
from skywarden.simulate.overlapping_sites import overlapping_sites
from skywarden.snapshot import Snapshot

SITES = [("north", 50.86, 4.30), ("south", 50.80, 4.36)]
REGION = (50.83, 4.33)


def _scene(n: int = 60):
    return overlapping_sites(np.random.default_rng(11), n, SITES, REGION, t=50.0)


def test_covariance_and_members_round_trip_through_the_picture_json() -> None:
    scene = _scene()
    tracks, alerts, _ = regional_picture(scene.pictures, scene.region, Membership.empty(), 50.0)
    snap = Snapshot(3, 50.0, (REGION[0], REGION[1], 0.0), tracks, alerts)
    back = decode_picture(*encode_picture(snap)).tracks
    np.testing.assert_allclose(back.cov, tracks.cov, atol=6e-4)
    assert list(back.members) == list(tracks.members)
    site = decode_picture(*encode_picture(scene.pictures[0].snapshot)).tracks
    assert site.members is None  # a site picture has no members ...
    np.testing.assert_allclose(site.cov, scene.pictures[0].snapshot.tracks.cov, atol=6e-4)
    assert "members" not in site.to_json()[0]


def test_a_picture_without_covariance_still_fuses_from_sigma() -> None:
    scene = _scene()
    old = [SitePicture(p.name, dataclasses.replace(p.snapshot, tracks=dataclasses.replace(
        p.snapshot.tracks, cov=None))) for p in scene.pictures]  # fmt: skip
    doc = old[0].snapshot.tracks.to_json()[0]
    assert "cov" not in doc  # ... and an older core's picture has no covariance
    decoded = decode_picture(*encode_picture(old[0].snapshot))
    assert decoded.tracks.cov is None
    tracks, _, _ = regional_picture(old, scene.region, Membership.empty(), 50.0)
    assert len(tracks) == np.union1d(*scene.seen).size
    assert sum(len(m) == 2 for m in tracks.members) == np.intersect1d(*scene.seen).size


def test_class_is_pooled_when_members_disagree_and_kept_when_they_agree() -> None:
    scene = _scene(20)
    pics = []
    for k, p in enumerate(scene.pictures):
        tr = p.snapshot.tracks
        n = len(tr)
        pc = np.tile([0.7, 0.1, 0.1, 0.1] if k == 0 else [0.45, 0.35, 0.1, 0.1], (n, 1))
        cls = np.full(n, 1 if k == 0 else 0, np.int8)  # drone at north, unknown at south
        tr = dataclasses.replace(tr, p_class=pc, target_class=cls)
        pics.append(SitePicture(p.name, dataclasses.replace(p.snapshot, tracks=tr)))
    tracks, _, _ = regional_picture(pics, scene.region, Membership.empty(), 50.0)
    both = np.array([len(m) == 2 for m in tracks.members])
    expected = np.sqrt(np.array([0.7, 0.1, 0.1, 0.1]) * np.array([0.45, 0.35, 0.1, 0.1]))
    expected /= expected.sum()
    np.testing.assert_allclose(tracks.p_class[both], np.tile(expected, (both.sum(), 1)))
    assert (tracks.target_class[both] == 1).all()  # pooled drone 0.58 >= 0.5
    only_north = np.array([m[0][0] == "north" and len(m) == 1 for m in tracks.members])
    assert (tracks.target_class[only_north] == 1).all()


def test_no_tracks_anywhere_gives_an_empty_picture() -> None:
    scene = _scene(5)
    empty = [SitePicture(p.name, dataclasses.replace(p.snapshot, tracks=p.snapshot.tracks.take(
        np.zeros(len(p.snapshot.tracks), bool)))) for p in scene.pictures]  # fmt: skip
    tracks, alerts, membership = regional_picture(empty, scene.region, Membership.empty(), 50.0)
    assert len(tracks) == 0 and alerts == () and membership.key.size == 0
