"""The pipeline's tick with fusion: flags and sources per track, and the sources audit."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from skywarden.detections import SourceKind, make_detections, remote_id_identity
from skywarden.pipeline import Pipeline
from skywarden.site_config import site_config_from_dict


def test_cooperative_claim_300_m_off_the_radar_track_is_flagged() -> None:
    config = site_config_from_dict({"site": {"lat": 47.0, "lon": 8.0}}, Path("."))
    pipeline = Pipeline(config, clock=lambda: 0.0)
    rid = remote_id_identity("SIM00001")
    rng = np.random.default_rng(0)
    snapshot = None
    for k in range(20):
        t = 1_750_000_000.0 + k
        truth = np.array([[500.0 + 10.0 * k, 200.0, 80.0]])
        radar = make_detections(t, truth + rng.normal(0, 5, (1, 3)), 5.0, kind=SourceKind.RADAR)
        claim = make_detections(
            t + 0.5, truth + [[300.0, 0.0, 0.0]], 50.0, kind=SourceKind.REMOTE_ID, identity=rid
        )
        pipeline.process(t, radar, end_of_scan=False)
        snapshot, _ = pipeline.process(t + 0.5, claim)
    tracks = snapshot.tracks
    flagged = {int(i): f for i, f in zip(tracks.id, tracks.flags, strict=True)}
    assert any("cooperative_inconsistent" in f for f in flagged.values())
    doc = snapshot.to_json()
    assert any("remote_id" in t["sources"] for t in doc["tracks"])
    some = int(tracks.id[0])
    view = pipeline.track_sources(some)
    assert view is not None and view["reports"]
    assert pipeline.track_sources(10**9) is None
    assert dataclasses.is_dataclass(snapshot)


def test_flock_rule_needs_a_majority_bird_cluster() -> None:
    from skywarden.classify.trained import TrainedClassifier

    clf = TrainedClassifier(flock_radius_m=200.0, flock_min_tracks=3)
    # track 0 with four neighbours within 200 m, three of them birds; track 5 far away alone
    pos = np.array(
        [[0, 0, 100], [50, 0, 100], [0, 60, 100], [-40, 0, 100], [0, -70, 100], [5000, 0, 100]],
        dtype=float,
    )
    bird = np.array([False, True, True, True, False, True])
    flock = clf._in_flock(pos, bird)
    assert flock[0] and not flock[5]
    # a lone pair of birds is no flock
    assert not clf._in_flock(pos[[0, 1, 5]], bird[[0, 1, 5]]).any()
