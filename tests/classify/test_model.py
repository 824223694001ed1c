"""The shipped model: loads from package data, NumPy evaluation equals the stored reference."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from skywarden.classify.features import FEATURE_NAMES, N_FEATURES
from skywarden.classify.model import (
    MODEL_FILE,
    TreeModel,
    load_model,
    predict_proba,
    raw_scores,
    read_model,
    save_model,
    top_features,
)

REFERENCE = Path(__file__).parent / "data" / "model_reference.npz"


def test_model_ships_in_the_package_and_is_small():
    path = resources.files("skywarden.classify").joinpath(MODEL_FILE)
    assert path.is_file()
    assert len(path.read_bytes()) < 1_000_000
    model = load_model()
    assert model is load_model()  # read once
    assert model.feature_names == FEATURE_NAMES
    assert model.classes == ("drone", "bird", "aircraft", "unknown")
    assert 0.2 < model.temperature < 5.0


def test_numpy_model_equals_sklearn_reference_vectors():
    ref = np.load(REFERENCE)
    model = load_model()
    raw = raw_scores(ref["X"], model)
    e = np.exp(raw - raw.max(axis=1, keepdims=True))
    assert np.allclose(e / e.sum(axis=1, keepdims=True), ref["proba_sklearn"], atol=1e-12)
    assert np.allclose(predict_proba(ref["X"], model), ref["proba_calibrated"], atol=1e-12)


def test_probabilities_sum_to_one_even_with_missing_features():
    rng = np.random.default_rng(3)
    X = rng.normal(0, 30, (200, N_FEATURES))
    X[rng.random(X.shape) < 0.2] = np.nan
    p = predict_proba(X)
    assert p.shape == (200, 4)
    assert np.all(p >= 0) and np.allclose(p.sum(axis=1), 1.0)
    assert predict_proba(np.zeros((0, N_FEATURES))).shape == (0, 4)


def test_top_features_name_real_features():
    ref = np.load(REFERENCE)
    names, scores = top_features(ref["X"][:20], k=3)
    assert names.shape == (20, 3) and scores.shape == (20, 3)
    assert set(names.ravel()) <= set(FEATURE_NAMES)
    assert np.all(np.diff(scores, axis=1) <= 1e-12)


def _stump() -> TreeModel:
    """Two classes, one tree each: class 0 gets +1 when x0 <= 2 (NaN goes right), else -1."""
    return TreeModel(
        feature_names=("a", "b"),
        classes=("yes", "no"),
        baseline=np.array([0.0, 0.5]),
        temperature=2.0,
        tree_root=np.array([0, 3]),
        tree_class=np.array([0, 1]),
        node_feature=np.array([0, 0, 0, 1, 0, 0]),
        node_threshold=np.array([2.0, 0, 0, 0.0, 0, 0]),
        node_missing_left=np.array([False, False, False, True, False, False]),
        node_left=np.array([1, -1, -1, 4, -1, -1]),
        node_right=np.array([2, -1, -1, 5, -1, -1]),
        node_is_leaf=np.array([False, True, True, False, True, True]),
        node_value=np.array([0.0, 1.0, -1.0, 0.0, 0.25, -0.25]),
    )


def test_hand_built_trees_route_values_and_nans(tmp_path):
    model = _stump()
    X = np.array([[1.0, 5.0], [3.0, -1.0], [np.nan, np.nan]])
    raw = raw_scores(X, model)
    assert np.allclose(raw, [[1.0, 0.25], [-1.0, 0.75], [-1.0, 0.75]])
    save_model(model, tmp_path / "m.npz")
    again = read_model(tmp_path / "m.npz")
    assert np.allclose(predict_proba(X, again), predict_proba(X, model))
    z = raw / 2.0
    expected = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert np.allclose(predict_proba(X, model), expected)


def test_model_rejects_wrong_feature_count():
    from skywarden.errors import SkywardenError

    with pytest.raises(SkywardenError):
        predict_proba(np.zeros((2, 3)))


def test_single_walk_equals_separate_calls() -> None:
    from skywarden.classify.model import predict_proba, predict_with_reasons, top_features

    rng = np.random.default_rng(4)
    model = load_model()
    X = rng.normal(0, 3, (40, len(model.feature_names)))
    X[rng.random(X.shape) < 0.05] = np.nan
    p, names, scores = predict_with_reasons(X, 3, model)
    np.testing.assert_allclose(p, predict_proba(X, model), rtol=1e-12)
    ref_names, ref_scores = top_features(X, 3, model)
    assert (names == ref_names).all()
    np.testing.assert_allclose(scores, ref_scores)
