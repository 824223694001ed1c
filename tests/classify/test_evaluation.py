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
