"""Held-out real trajectories (re-sampled as a 1 s radar, tracked) classified by the shipped model.

The real held-out split holds drones (ArduPilot tlog 2018-09-25, UZH-FPV flights 7 and 10, the
Parrot hover) and aircraft (CAT048 and SBS addresses of the test split), each rendered at
radar noise 2, 5, 10, 15 and 20 m; no real radar-rate bird track exists. The issue's target is
balanced accuracy >= 0.92 at 10 s and ECE <= 0.05; the shipped model reaches 0.925 and
0.010 (measured when it was trained).
"""

from __future__ import annotations

import numpy as np

from skywarden.classify.corpus import real_samples
from skywarden.classify.evaluation import at_age, balanced_accuracy, expected_calibration_error
from skywarden.classify.model import predict_proba
from skywarden.track.params import TrackerParams


def test_heldout_real_trajectories(shared_data):
    s = real_samples(shared_data, "test", TrackerParams())
    assert {0, 2} <= set(np.unique(s.y).tolist())
    p = predict_proba(s.X)
    pred = p.argmax(axis=1)
    ten = at_age(s.age, 10.0)
    assert balanced_accuracy(s.y[ten], pred[ten]) >= 0.92
    assert balanced_accuracy(s.y[at_age(s.age, 30.0)], pred[at_age(s.age, 30.0)]) >= 0.95
    aircraft = ten & (s.y == 2)
    assert np.mean(pred[aircraft] == 2) >= 0.98
    assert expected_calibration_error(p, s.y) <= 0.05
    assert set(np.unique(s.noise_m[ten]).tolist()) == {2.0, 5.0, 10.0, 15.0, 20.0}
