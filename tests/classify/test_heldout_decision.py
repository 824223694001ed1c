"""The label policy per held-out data source (skywarden.classify.heldout_decision)."""

from __future__ import annotations

import numpy as np

from skywarden.classify.dataset import Samples
from skywarden.classify.heldout_decision import (
    decision_by_source,
    format_decision,
    policy_labels,
)


def test_policy_labels_say_unknown_below_the_confidences():
    p = np.array(
        [
            [0.95, 0.05, 0.0, 0.0],  # drone
            [0.85, 0.15, 0.0, 0.0],  # under 0.9: unknown
            [0.005, 0.995, 0.0, 0.0],  # bird at 0.99
            [0.05, 0.95, 0.0, 0.0],  # a lone bird under 0.99: unknown
            [0.0, 0.0, 1.0, 0.0],  # aircraft
        ]
    )
    assert policy_labels(p, 0.9, 0.99).tolist() == [
        "drone", "unknown", "bird", "unknown", "aircraft"
    ]  # fmt: skip
    assert policy_labels(p, 0.5, 0.5).tolist() == ["drone", "drone", "bird", "bird", "aircraft"]
    assert policy_labels(np.zeros((0, 4))).shape == (0,)


def _samples(y, age, track, source):
    n = len(y)
    return Samples(
        np.zeros((n, 1)), np.asarray(y), np.asarray(age, float), np.asarray(track),
        np.asarray(source, dtype=object), np.full(n, 5.0),
    )  # fmt: skip


def test_decision_by_source_counts_scans_and_tracks_from_10_s():
    # two drone tracks of one source: track 1 drone, drone, unknown (one scan under 10 s is
    # left out); track 2 bird-like then drone; one aircraft track of another source
    p = np.array(
        [
            [0.0, 0.0, 0.0, 1.0],  # age 5: not counted
            [0.95, 0.05, 0.0, 0.0],
            [0.95, 0.05, 0.0, 0.0],
            [0.6, 0.4, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.92, 0.08, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
        ]
    )
    s = _samples(
        [0, 0, 0, 0, 0, 0, 2],
        [5, 10, 11, 12, 10, 11, 20],
        [1, 1, 1, 1, 2, 2, 3],
        ["real-drone"] * 6 + ["real-aircraft"],
    )
    r = decision_by_source(p, s, 0.9, 0.99)
    assert set(r["by_source"]) == {"real-drone/drone", "real-aircraft/aircraft"}
    d = r["by_source"]["real-drone/drone"]
    assert d["n"] == 5 and d["tracks"] == 2
    assert np.isclose(d["scans"]["drone"], 3 / 5) and np.isclose(d["scans"]["bird"], 1 / 5)
    assert d["ever"] == {"drone": 2, "bird": 1, "aircraft": 0, "unknown": 1}
    assert d["mostly"] == {"drone": 2, "bird": 1, "aircraft": 0, "unknown": 0}
    a = r["by_source"]["real-aircraft/aircraft"]
    assert a["scans"]["aircraft"] == 1.0 and a["ever"]["drone"] == 0
    lines = format_decision(r)
    assert "decision_confidence 0.9" in lines[0] and len(lines) == 3
