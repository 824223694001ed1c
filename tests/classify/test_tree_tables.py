"""The look-up-table evaluation of the trees (classify/tree_tables.py) reaches the same leaves,
and so gives the same scores to the last bit, as the level walk it replaces (model._walk)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.classify.model import TreeModel, _walk, load_model, raw_scores
from skywarden.classify.tree_tables import MAX_LEAVES, leaf_tables, leaf_values
from tests.classify.test_model import REFERENCE, _stump


def _walked(model: TreeModel, X: np.ndarray) -> np.ndarray:
    return _walk(model, np.asarray(X, dtype=np.float64), contributions=False)[0]


def test_shipped_model_has_tables():
    tables = load_model().leaf_tables()
    assert tables is not None
    assert load_model().leaf_tables() is tables  # built once


def test_reference_rows_score_exactly_as_the_walk():
    X = np.load(REFERENCE)["X"]
    assert np.isnan(X).any()  # the missing-value routes are exercised
    model = load_model()
    assert np.array_equal(raw_scores(X, model), _walked(model, X))


@pytest.fixture(scope="module")
def real_rows(shared_data) -> np.ndarray:
    """Feature rows of tracks of real drone flights (the held-out split), radar-rendered
    and tracked as when the model was trained (skywarden.classify.corpus): indoor and outdoor."""
    from skywarden.classify.corpus import real_drones
    from skywarden.classify.dataset import render, track_samples
    from skywarden.track.params import TrackerParams

    outdoor, indoor = real_drones(shared_data, "test")
    if not outdoor + indoor:
        pytest.skip("no drone flight of the held-out split in ../shared/data")
    rng = np.random.default_rng(5)
    scans = render(outdoor + indoor, rng, sigma=10.0, chunk_s=60.0, stride_s=10.0, lanes=32)
    return track_samples(scans, TrackerParams(), "real-drone").X


def test_real_flight_rows_score_exactly_as_the_walk(real_rows):
    assert len(real_rows) > 500
    model = load_model()
    assert np.array_equal(raw_scores(real_rows, model), _walked(model, real_rows))


def test_hand_built_stump_and_single_leaf_trees():
    stump = _stump()
    X = np.array([[1.0, 5.0], [3.0, -1.0], [np.nan, np.nan], [2.0, 0.0], [np.inf, -np.inf]])
    assert np.array_equal(raw_scores(X, stump), _walked(stump, X))
    leaf_only = TreeModel(
        feature_names=("a",), classes=("yes", "no"), baseline=np.zeros(2), temperature=1.0,
        tree_root=np.array([0, 1]), tree_class=np.array([0, 1]), node_feature=np.zeros(2, int),
        node_threshold=np.zeros(2), node_missing_left=np.zeros(2, bool),
        node_left=np.array([-1, -1]), node_right=np.array([-1, -1]),
        node_is_leaf=np.ones(2, bool), node_value=np.array([0.5, -0.25]),
    )  # fmt: skip
    assert np.array_equal(raw_scores(np.array([[1.0], [np.nan]]), leaf_only), [[0.5, -0.25]] * 2)


def _random_model(seed: int, n_features: int, max_leaves: int) -> TreeModel:
    """Random trees (random splits until max_leaves, random thresholds drawn with ties)."""
    rng = np.random.default_rng(seed)
    feature, threshold, missing, left, right, leaf, value, roots = [], [], [], [], [], [], [], []
    for _ in range(int(rng.integers(1, 12))):
        root = len(feature)
        roots.append(root)
        feature.append(0), threshold.append(0.0), missing.append(False)
        left.append(-1), right.append(-1), leaf.append(True), value.append(rng.normal())
        leaves = [root]
        for _ in range(int(rng.integers(0, max_leaves))):  # split a random leaf in two
            node = leaves.pop(int(rng.integers(len(leaves))))
            feature[node] = int(rng.integers(n_features))
            threshold[node] = float(rng.integers(-3, 4)) / 2  # ties with the data and others
            missing[node], leaf[node] = bool(rng.integers(2)), False
            for side in (left, right):
                side[node] = len(feature)
                leaves.append(len(feature))
                feature.append(0), threshold.append(0.0), missing.append(False)
                left.append(-1), right.append(-1), leaf.append(True), value.append(rng.normal())
    return TreeModel(
        feature_names=tuple(f"f{i}" for i in range(n_features)), classes=("a", "b", "c"),
        baseline=rng.normal(size=3), temperature=1.0, tree_root=np.array(roots),
        tree_class=rng.integers(0, 3, len(roots)), node_feature=np.array(feature),
        node_threshold=np.array(threshold), node_missing_left=np.array(missing),
        node_left=np.array(left), node_right=np.array(right), node_is_leaf=np.array(leaf),
        node_value=np.array(value),
    )  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_features=st.integers(1, 5),
    max_leaves=st.sampled_from([2, 8, 16, 17, 40, MAX_LEAVES]),
)
def test_random_trees_score_exactly_as_the_walk(seed, n_features, max_leaves):
    model = _random_model(seed, n_features, max_leaves)
    rng = np.random.default_rng(seed)
    X = rng.integers(-4, 5, (150, n_features)) / 2.0  # on and beside the thresholds
    X[rng.random(X.shape) < 0.15] = np.nan
    X[rng.random(X.shape) < 0.05] = np.inf * rng.choice([-1, 1])
    assert model.leaf_tables() is not None
    assert np.array_equal(raw_scores(X, model), _walked(model, X))


def test_trees_past_64_leaves_are_walked():
    model = _random_model(1, 3, 200)
    per_tree = np.diff(np.append(model.tree_root, model.node_is_leaf.size))
    assert (per_tree > 2 * MAX_LEAVES).any()  # (the seed is chosen so; nodes = 2 leaves - 1)
    args = (model.tree_root, model.node_feature, model.node_threshold, model.node_missing_left,
            model.node_left, model.node_right, model.node_is_leaf, model.node_value, 3)  # fmt: skip
    assert leaf_tables(*args) is None
    X = np.random.default_rng(2).normal(size=(50, 3))
    assert model.leaf_tables() is None
    assert np.array_equal(raw_scores(X, model), _walked(model, X))


def test_leaf_values_shape():
    tables = load_model().leaf_tables()
    X = np.load(REFERENCE)["X"][:7]
    assert leaf_values(tables, X).shape == (7, load_model().tree_root.size)
