"""Why a track has its class, on demand: TrainedClassifier.explain, Pipeline.explain_track and
GET /api/v1/tracks/{id}/classification over a real pipeline run of the simulator's mixed
scenario. Feature names are read from the package, never written here (the feature set grows).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from skywarden.classify import FEATURE_NAMES, features_from_window
from skywarden.classify.model import load_model, predict_with_reasons
from skywarden.classify.trained import TrainedClassifier, identity_and_speed_classes
from skywarden.detections import SourceKind, make_detections
from skywarden.evaluate.demo_site import default_demo_site
from skywarden.pipeline import Pipeline
from skywarden.server import ServiceBackend, create_app
from skywarden.simulate import build_scenario
from skywarden.site_config import site_config_from_dict
from skywarden.snapshot import Snapshot
from tests.server.test_api import Client

START = 1_750_000_000.0
N_SCANS = 30


@pytest.fixture(scope="module")
def run() -> tuple[Pipeline, Snapshot]:
    """The mixed scenario (seed 1) through the pipeline, one tick per scan, for 30 scans."""
    scenario = build_scenario("mixed", 1, n_scans=N_SCANS)
    clock = [START]
    pipeline = Pipeline(default_demo_site(scenario), clock=lambda: clock[0])
    assert isinstance(pipeline.classifier, TrainedClassifier)
    snapshot = pipeline.snapshot()
    for s, t in enumerate(scenario.times.tolist()):
        clock[0] = START + t
        d = scenario.detections_at(s)
        d = replace(d, t=d.t + START)
        snapshot, _ = pipeline.process(clock[0], d, end_of_scan=True)
    assert len(snapshot.tracks) >= 5
    return pipeline, snapshot


def test_explain_track_gives_k_sorted_reasons_for_every_shown_track(run) -> None:
    pipeline, snapshot = run
    shown = snapshot.to_json()["tracks"]
    for track in shown:
        why = pipeline.explain_track(track["id"])
        assert why is not None, track["id"]
        json.dumps(why, allow_nan=False)  # strict JSON
        assert why["track_id"] == track["id"]
        assert snapshot.t - 1.0 < why["t"] <= snapshot.t  # both halves run at each scan
        assert why["class"] == track["class"] and why["behaviour"] == track["behaviour"]
        assert why["p"] == pytest.approx(track["p"], abs=1e-3)
        assert set(why["model_p"]) == {"drone", "bird", "aircraft", "unknown"}
        assert sum(why["model_p"].values()) == pytest.approx(1.0)
        assert list(why["features"]) == list(FEATURE_NAMES)
        top = why["top_features"]
        assert len(top) == 3
        assert all(r["name"] in FEATURE_NAMES for r in top)
        assert len({r["name"] for r in top}) == 3
        contributions = [r["contribution"] for r in top]
        assert contributions == sorted(contributions, reverse=True)
        for r in top:
            assert r["value"] == why["features"][r["name"]]


def test_explain_agrees_with_the_model_on_the_whole_window(run) -> None:
    """Oracle: the one-row explanation equals row i of the model run on the classifier's
    whole half-window (features are per row, so taking the row first changes nothing)."""
    pipeline, snapshot = run
    clf = pipeline.classifier
    for half in (0, 1):
        window = clf.states[half].window
        assert len(window) > 0
        X = features_from_window(window)
        p, names, scores = predict_with_reasons(X, 4)
        for i, track_id in enumerate(window.id.tolist()):
            why = clf.explain(track_id, k=4)
            assert why is not None and track_id % 2 == half
            assert list(why["model_p"].values()) == pytest.approx(p[i].tolist())
            assert [r["name"] for r in why["top_features"]] == names[i].tolist()
            assert [r["contribution"] for r in why["top_features"]] == pytest.approx(scores[i])
            values = [np.nan if v is None else v for v in why["features"].values()]
            np.testing.assert_allclose(values, X[i], equal_nan=True)


def test_explain_with_k_all_features_ranks_every_model_feature(run) -> None:
    pipeline, snapshot = run
    names = load_model().feature_names
    why = pipeline.classifier.explain(int(snapshot.tracks.id[0]), k=len(names))
    assert why is not None
    assert sorted(r["name"] for r in why["top_features"]) == sorted(names)
    contributions = [r["contribution"] for r in why["top_features"]]
    assert contributions == sorted(contributions, reverse=True)
    assert contributions[0] > 0.0 > contributions[-1]  # some push for, some against


def test_unknown_track_has_no_explanation(run) -> None:
    pipeline, snapshot = run
    unknown = int(snapshot.tracks.id.max()) + 1001  # odd and even ids both absent
    for track_id in (unknown, unknown + 1, -3, 10**30):
        assert pipeline.explain_track(track_id) is None
        assert pipeline.classifier.explain(track_id) is None


def test_classification_endpoint_over_the_pipeline(run) -> None:
    pipeline, snapshot = run
    assert isinstance(pipeline, ServiceBackend)
    client = Client(create_app(pipeline))
    track_id = int(snapshot.tracks.id[0])
    r = client.get(f"/api/v1/tracks/{track_id}/classification")
    assert r.status_code == 200
    body = r.json()
    assert body == json.loads(json.dumps(pipeline.explain_track(track_id)))
    assert body["track_id"] == track_id and len(body["top_features"]) == 3
    r = client.get("/api/v1/tracks/987654/classification")
    assert r.status_code == 404 and r.json()["detail"] == "unknown track id 987654"


def test_no_trained_classifier_means_no_explanation_and_a_clear_404() -> None:
    config = site_config_from_dict({"site": {"lat": 47.0, "lon": 8.0}}, Path("."))
    pipeline = Pipeline(config, classifier=identity_and_speed_classes, clock=lambda: START)
    rng = np.random.default_rng(3)
    snapshot = pipeline.snapshot()
    for k in range(12):
        truth = np.array([[800.0 + 12.0 * k, -300.0, 90.0]])
        z = truth + rng.normal(0.0, 5.0, (1, 3))
        radar = make_detections(START + k, z, 5.0, kind=SourceKind.RADAR)
        snapshot, _ = pipeline.process(START + k, radar)
    assert len(snapshot.tracks) == 1
    track_id = int(snapshot.tracks.id[0])
    assert pipeline.explain_track(track_id) is None
    r = Client(create_app(pipeline)).get(f"/api/v1/tracks/{track_id}/classification")
    assert r.status_code == 404
    assert "no trained classifier in use" in r.json()["detail"]
