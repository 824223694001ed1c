"""The class decision end to end: the site's decision_confidence and radar detection range
reach the classifier; tracks and alerts carry their probabilities and reasons in words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skywarden.classify.decision import DEFAULT_DECISION_CONFIDENCE
from skywarden.classify.trained import TrainedClassifier
from skywarden.detections import SourceKind, make_detections
from skywarden.errors import ConfigError
from skywarden.pipeline import Pipeline
from skywarden.site_config import radar_coverage, site_config_from_dict, site_config_to_dict
from skywarden.warn.rules import UNKNOWN_MIN_DRONE_PROBABILITY, TargetClass

RADAR = {"name": "r", "kind": "asterix", "port": 8600, "lat": 47.0, "lon": 8.01, "height_m": 0.0}


def _config(**extra) -> dict:
    return {"site": {"lat": 47.0, "lon": 8.0}} | extra


def test_defaults_hold_without_options():
    cfg = site_config_from_dict(_config(), Path("."))
    assert cfg.decision_confidence == DEFAULT_DECISION_CONFIDENCE
    assert radar_coverage(cfg) is None
    pipe = Pipeline(cfg, clock=lambda: 0.0)
    assert isinstance(pipe.classifier, TrainedClassifier)
    assert pipe.classifier.decision_confidence == DEFAULT_DECISION_CONFIDENCE
    assert pipe.classifier.coverage is None


def test_site_keys_reach_the_classifier_and_round_trip():
    doc = _config(
        classifier={"decision_confidence": 0.7},
        sensors=[RADAR | {"detection_range_m": 4000.0, "reference_rcs_dbsm": -25.0}],
    )
    cfg = site_config_from_dict(doc, Path("."))
    pipe = Pipeline(cfg, clock=lambda: 0.0)
    assert pipe.classifier.decision_confidence == 0.7
    cov = pipe.classifier.coverage
    assert cov.detection_range_m.tolist() == [4000.0] and cov.reference_rcs_dbsm.tolist() == [-25.0]
    assert 700.0 < cov.position[0, 0] < 800.0  # 0.01 degrees of longitude east at 47 N
    again = site_config_from_dict(site_config_to_dict(cfg), Path("."))
    assert again.decision_confidence == 0.7 and again.sensors[0].detection_range_m == 4000.0


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"classifier": {"decision_confidence": 0.1}}, "classifier.decision_confidence"),
        ({"classifier": {"confidence": 0.6}}, "classifier: unknown key(s) confidence"),
        ({"sensors": [RADAR | {"reference_rcs_dbsm": -20.0}]}, "detection_range_m: needed"),
        ({"sensors": [RADAR | {"detection_range_m": -5.0}]}, "detection_range_m: -5.0 is outside"),
        (
            {"sensors": [{"kind": "sbs", "port": 30003, "detection_range_m": 100.0}]},
            "only an asterix radar",
        ),
    ],
)
def test_bad_values_name_the_key(patch, message):
    with pytest.raises(ConfigError, match="site.toml") as err:
        site_config_from_dict(_config(**patch), Path("."), source="site.toml")
    assert message in str(err.value)


def _fly(pipe: Pipeline, n: int = 25, seen: list | None = None):
    """A slow, low object without identity flying at the site (scenario of a small drone).
    Each tick's snapshot is appended to ``seen`` when given; returns the last."""
    rng = np.random.default_rng(1)
    snap = None
    for k in range(n):
        t = 1_750_000_000.0 + k
        truth = np.array([[-900.0 + 12.0 * k, 0.0, 60.0]])
        z = truth + rng.normal(0, 3, (1, 3))
        snap, _ = pipe.process(t, make_detections(t, z, 3.0, kind=SourceKind.RADAR))
        if seen is not None:
            seen.append(snap)
    return snap


def test_tracks_and_alerts_say_their_probabilities_and_reasons():
    cfg = site_config_from_dict(
        _config(zones={"geojson": _circle(300.0)}, classifier={"decision_confidence": 0.99}),
        Path("."),
    )
    seen: list = []
    snap = _fly(Pipeline(cfg, clock=lambda: 1_750_000_000.0), seen=seen)
    doc = snap.to_json()
    track = doc["tracks"][0]
    assert "no transponder or Remote ID" in track["reasons"]
    assert track["summary"].startswith(track["class"] + ": ")
    assert "no transponder or Remote ID" in track["summary"]
    # at 0.99 the evidence does not decide: unknown; the default rule raises an alert on an
    # unknown non-cooperative track only at p_drone >= UNKNOWN_MIN_DRONE_PROBABILITY
    assert track["class"] == "unknown"
    # (an alert once raised holds while the track stays in the zone, so the question is
    # whether p_drone reached the floor on any tick before: the raise tick's p is recorded)
    floor = UNKNOWN_MIN_DRONE_PROBABILITY
    unknown_p = [
        float(s.tracks.p_class[0, 0])
        for s in seen
        if len(s.tracks.id) and s.tracks.target_class[0] == TargetClass.UNKNOWN
    ]
    raised = [a for s in seen for a in s.alerts]
    assert unknown_p and bool(raised) == (max(unknown_p) >= floor)
    if raised:  # raised when the track's p_drone was at the floor or above
        first = next(s for s in seen if s.alerts)
        assert float(first.tracks.p_class[0, 0]) >= floor
    every_unknown = _config(
        zones={"geojson": _circle(300.0)}, classifier={"decision_confidence": 0.99},
        alert_rules=[{"unknown_min_drone_probability": 0.0}],
    )  # fmt: skip
    cfg = site_config_from_dict(every_unknown, Path("."))
    doc = _fly(Pipeline(cfg, clock=lambda: 1_750_000_000.0)).to_json()
    track = doc["tracks"][0]
    assert doc["alerts"], "a rule without the floor alerts on every unknown track"
    alert = doc["alerts"][0]
    assert set(alert["p_class"]) == {"drone", "bird", "aircraft", "unknown"}
    assert alert["summary"] == track["summary"]


def _circle(radius: float) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "site",
                "properties": {"name": "site", "role": "protected", "radius_m": radius,
                               "floor_m": 0.0, "ceiling_m": 500.0, "altitude_ref": "agl"},
                "geometry": {"type": "Point", "coordinates": [8.0, 47.0]},
            }
        ],
    }  # fmt: skip


def test_beyond_detection_range_is_not_a_drone():
    """The same flight seen by a radar that could only see a small drone out to 200 m: the
    range evidence names itself and pushes p_drone down."""
    base = _config(zones={"geojson": _circle(300.0)})
    near = Pipeline(site_config_from_dict(base, Path(".")), clock=lambda: 0.0)
    far_cfg = site_config_from_dict(
        base | {"sensors": [RADAR | {"lon": 8.0, "detection_range_m": 200.0}]}, Path(".")
    )
    far = Pipeline(far_cfg, clock=lambda: 0.0)
    a, b = _fly(near).to_json()["tracks"][0], _fly(far).to_json()["tracks"][0]
    assert "too far for a small drone's radar echo" in b["reasons"]
    assert "too far for a small drone's radar echo" not in a["reasons"]
    assert b["p"]["drone"] < a["p"]["drone"]
