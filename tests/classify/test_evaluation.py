"""Metrics against hand-computed values."""

from __future__ import annotations

import numpy as np

from skywarden.classify.evaluation import (
    balanced_accuracy,
    confusion_matrix,
    expected_calibration_error,
    reliability_diagram,
)


def test_confusion_and_balanced_accuracy():
    y = np.array([0, 0, 0, 0, 2, 2])
    pred = np.array([0, 0, 0, 1, 2, 0])
    cm = confusion_matrix(y, pred)
    assert cm[0].tolist() == [3, 1, 0, 0] and cm[2].tolist() == [1, 0, 1, 0]
    assert np.isclose(balanced_accuracy(y, pred), (3 / 4 + 1 / 2) / 2)  # absent classes ignored
    assert np.isnan(balanced_accuracy(np.zeros(0, int), np.zeros(0, int)))


def test_ece_of_calibrated_and_overconfident_predictions():
    # 10 predictions at confidence 0.8 of which 8 are right: perfectly calibrated bin
    p = np.tile([0.8, 0.2, 0.0, 0.0], (10, 1))
    y = np.array([0] * 8 + [1] * 2)
    assert np.isclose(expected_calibration_error(p, y), 0.0)
    # all at confidence 1.0 but half wrong: ECE 0.5
    p = np.tile([1.0, 0.0, 0.0, 0.0], (4, 1))
    assert np.isclose(expected_calibration_error(p, np.array([0, 0, 1, 1])), 0.5)
    # two bins: weights by bin size
    p = np.array([[0.9, 0.1, 0, 0]] * 3 + [[0.5, 0.5, 0, 0]])
    y = np.array([0, 0, 0, 1])
    assert np.isclose(expected_calibration_error(p, y), 3 / 4 * 0.1 + 1 / 4 * 0.5)


def test_reliability_png_is_written(tmp_path):
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), 300)
    y = rng.integers(0, 4, 300)
    out = tmp_path / "rel.png"
    reliability_diagram(p, y, out, "test")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_summary_splits_the_10_s_samples_by_radar_noise():
    from skywarden.classify.dataset import Samples
    from skywarden.classify.evaluation import format_report, summarise
    from skywarden.classify.features import FEATURE_NAMES, N_FEATURES

    # 4 samples at 10 s: at 2 m both right; at 20 m one drone called bird
    y = np.array([0, 2, 0, 2, 0])
    age = np.array([10.0, 10.2, 9.8, 10.0, 30.0])
    noise = np.array([2.0, 2.0, 20.0, 20.0, 20.0])
    p = np.array([[0.9, 0.1, 0, 0], [0, 0, 1, 0], [0.3, 0.7, 0, 0], [0, 0, 1, 0], [0.2, 0.8, 0, 0]])
    X = np.full((5, N_FEATURES), np.nan)
    X[[0, 2], FEATURE_NAMES.index("rcs_mean_dbsm")] = -20.0  # the 10 s drones have RCS
    s = Samples(X, y, age, np.arange(5), np.full(5, "x", object), noise)
    r = summarise(p, s)
    amp = r["by_amplitude_10s"]
    assert amp["with_rcs"]["n"] == 2 and amp["with_rcs"]["balanced_accuracy"] == 0.5
    assert amp["without_rcs"]["n"] == 2 and amp["without_rcs"]["balanced_accuracy"] == 1.0
    assert set(r["by_noise_10s"]) == {"2m", "20m"}
    two = r["by_noise_10s"]["2m"]
    assert two["n"] == 2 and two["balanced_accuracy"] == 1.0 and np.isclose(two["ece"], 0.05)
    assert r["by_noise_10s"]["20m"]["balanced_accuracy"] == 0.5
    assert np.isclose(r["balanced_accuracy_10s"], (1 / 2 + 1) / 2)
    text = format_report({"real": r, "all": r})
    assert "vs radar noise" in text and "2m: 1.000 (n=2)" in text
    assert "with_rcs: 0.500 (n=2), without_rcs: 1.000 (n=2)" in text


def test_amplitude_is_compared_on_the_same_samples_with_their_rcs_removed():
    from skywarden.classify.dataset import Samples
    from skywarden.classify.evaluation import evaluate_samples, format_report
    from skywarden.classify.features import FEATURE_NAMES, N_FEATURES

    # 4 real samples at 10 s, the first two with RCS; without it, the first is called bird
    y = np.array([0, 2, 0, 2])
    X = np.full((4, N_FEATURES), np.nan)
    X[[0, 1], FEATURE_NAMES.index("rcs_mean_dbsm")] = -20.0
    source = np.array(["real-drone", "real-aircraft", "real-drone", "real-aircraft"], object)
    s = Samples(X, y, np.full(4, 10.0), np.arange(4), source, np.full(4, 5.0))
    right = np.eye(4)[y]
    kinematic = right.copy()
    kinematic[0] = [0.2, 0.8, 0, 0]
    result = evaluate_samples(s, right, kinematic)
    for part in ("real", "all"):
        amp = result[part]["by_amplitude_10s"]
        assert amp["with_rcs"] == {"n": 2, "balanced_accuracy": 1.0}
        assert amp["with_rcs_removed"] == {"n": 2, "balanced_accuracy": 0.5}
        assert amp["without_rcs"]["n"] == 2
    assert "with_rcs_removed: 0.500 (n=2)" in format_report(result)
