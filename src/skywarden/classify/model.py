"""The shipped track classifier: gradient-boosted trees evaluated with NumPy only.

The model is trained by ``scripts/train_classifier.py`` (scikit-learn's
HistGradientBoostingClassifier, then temperature scaling on a calibration split) and exported
to ``classifier.npz``: plain arrays of tree nodes, no pickle, so it does not depend on any
library version. File layout (F features, C = 4 classes, T trees, K nodes in all):

* ``feature_names`` (F,) str, ``classes`` (C,) str ('drone', 'bird', 'aircraft', 'unknown').
* ``baseline`` (C,) raw score before any tree; ``temperature`` () the calibration temperature.
* ``tree_root`` (T,) node index of each tree's root; ``tree_class`` (T,) the class whose raw
  score the tree adds to.
* ``node_feature`` (K,), ``node_threshold`` (K,) (go left when x <= threshold),
  ``node_missing_left`` (K,) (where a NaN goes), ``node_left``/``node_right`` (K,) absolute
  child indices, ``node_is_leaf`` (K,), ``node_value`` (K,) leaf output (learning rate
  applied); for inner nodes the count-weighted mean of their leaves (used for attributions).

``p = softmax((baseline + sum of each class's trees) / temperature)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from skywarden.classify.tree_tables import LeafTables, leaf_tables, leaf_values
from skywarden.errors import SkywardenError
from skywarden.units import FloatArray, IntArray

MODEL_FILE = "classifier.npz"
_FIELDS = (
    "feature_names",
    "classes",
    "baseline",
    "temperature",
    "tree_root",
    "tree_class",
    "node_feature",
    "node_threshold",
    "node_missing_left",
    "node_left",
    "node_right",
    "node_is_leaf",
    "node_value",
)


@dataclass(frozen=True, slots=True)
class TreeModel:
    """A calibrated tree ensemble (array layout in the module docstring)."""

    feature_names: tuple[str, ...]
    classes: tuple[str, ...]
    baseline: FloatArray
    temperature: float
    tree_root: IntArray
    tree_class: IntArray
    node_feature: IntArray
    node_threshold: FloatArray
    node_missing_left: np.ndarray
    node_left: IntArray
    node_right: IntArray
    node_is_leaf: np.ndarray
    node_value: FloatArray
    # the trees as look-up tables (tree_tables.py), built on first use: [] or [tables | None]
    _tables: list = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def leaf_tables(self) -> LeafTables | None:
        """The trees as look-up tables (skywarden.classify.tree_tables), built once; None
        when a tree has too many leaves for them (then the trees are walked)."""
        if not self._tables:
            self._tables.append(
                leaf_tables(
                    self.tree_root,
                    self.node_feature,
                    self.node_threshold,
                    self.node_missing_left,
                    self.node_left,
                    self.node_right,
                    self.node_is_leaf,
                    self.node_value,
                    len(self.feature_names),
                )  # fmt: skip
            )
        return self._tables[0]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays written to the .npz file."""
        out = {name: np.asarray(getattr(self, name)) for name in _FIELDS}
        out["feature_names"] = np.array(self.feature_names, dtype=str)
        out["classes"] = np.array(self.classes, dtype=str)
        return out


def save_model(model: TreeModel, path: Path) -> None:
    """Write the model as a compressed .npz of plain arrays (no pickled objects)."""
    np.savez_compressed(path, **model.to_arrays())


def read_model(path: Path | str) -> TreeModel:
    """Read a model file written by :func:`save_model`."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in _FIELDS}
    except (OSError, KeyError, ValueError) as exc:
        raise SkywardenError(f"cannot read classifier model {path}: {exc}") from exc
    return TreeModel(
        feature_names=tuple(str(s) for s in arrays["feature_names"]),
        classes=tuple(str(s) for s in arrays["classes"]),
        baseline=arrays["baseline"].astype(np.float64),
        temperature=float(arrays["temperature"]),
        tree_root=arrays["tree_root"].astype(np.int64),
        tree_class=arrays["tree_class"].astype(np.int64),
        node_feature=arrays["node_feature"].astype(np.int64),
        node_threshold=arrays["node_threshold"].astype(np.float64),
        node_missing_left=arrays["node_missing_left"].astype(bool),
        node_left=arrays["node_left"].astype(np.int64),
        node_right=arrays["node_right"].astype(np.int64),
        node_is_leaf=arrays["node_is_leaf"].astype(bool),
        node_value=arrays["node_value"].astype(np.float64),
    )


@lru_cache(maxsize=1)
def load_model() -> TreeModel:
    """The model shipped inside the package, read once and cached, with its look-up tables
    built (about 70 ms, once: the live service calls this at start-up, not in a tick)."""
    source = resources.files("skywarden.classify").joinpath(MODEL_FILE)
    with resources.as_file(source) as path:
        if not path.is_file():
            raise SkywardenError(
                f"the classifier model {MODEL_FILE} is missing from the package; "
                "run scripts/train_classifier.py"
            )
        model = read_model(path)
    model.leaf_tables()
    return model


def _check(model: TreeModel, X: FloatArray) -> FloatArray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != len(model.feature_names):
        raise SkywardenError(
            f"classifier expects (N, {len(model.feature_names)}) features, got {X.shape}"
        )
    return X


def _scores(model: TreeModel, X: FloatArray, contributions: bool) -> tuple[FloatArray, FloatArray]:
    """Raw scores (N, C) and, if asked, per-feature contributions (N, C, F) (else empty).

    Scores alone come from the look-up tables (tree_tables.py: the same leaves, several times
    faster); contributions need each decision path, so the trees are walked (:func:`_walk`).
    """
    tables = None if contributions else model.leaf_tables()
    if tables is None:
        return _walk(model, X, contributions)
    return _sum_leaves(model, leaf_values(tables, X)), np.zeros(0)


def _sum_leaves(model: TreeModel, leaf_value: FloatArray) -> FloatArray:
    """(N, C) raw scores: the baseline plus each class's trees' leaf values (N, T)."""
    raw = np.tile(model.baseline, (leaf_value.shape[0], 1))
    for k in range(model.n_classes):
        raw[:, k] += leaf_value[:, model.tree_class == k].sum(axis=1)
    return raw


def _walk(model: TreeModel, X: FloatArray, contributions: bool) -> tuple[FloatArray, FloatArray]:
    """Raw scores (N, C) and, if asked, per-feature contributions (N, C, F) (else empty).

    All (row, tree) pairs descend together, one tree level per round, and pairs that reached a
    leaf leave the working set, so the work is the total path length, not N x T x depth.
    """
    n, f = X.shape
    c = model.n_classes
    t = model.tree_root.size
    node = np.tile(model.tree_root, n)  # (N * T,) row-major: pair p = row * T + tree
    row = np.repeat(np.arange(n), t)
    x_flat = X.ravel()
    contrib = np.zeros(n * c * f) if contributions else np.zeros(0)
    key_base = (row * c + np.tile(model.tree_class, n)) * f if contributions else None
    children = _children(model)  # (nodes, 2): right, left
    active = np.flatnonzero(~model.node_is_leaf[node])
    while active.size:
        at = node[active]
        feat = model.node_feature.take(at)
        x = x_flat.take(row.take(active) * f + feat)
        left = x <= model.node_threshold.take(at)
        missing = np.isnan(x)
        if missing.any():
            left = np.where(missing, model.node_missing_left.take(at), left)
        child = children[at, left.view(np.int8)]
        if contributions:
            delta = model.node_value[child] - model.node_value[at]
            contrib += np.bincount(key_base[active] + feat, weights=delta, minlength=contrib.size)
        node[active] = child
        active = active[~model.node_is_leaf[child]]
    raw = _sum_leaves(model, model.node_value[node].reshape(n, t))
    return raw, contrib.reshape(n, c, f) if contributions else contrib


def _children(model: TreeModel) -> np.ndarray:
    """(nodes, 2) child index per node: column 0 right, column 1 left."""
    return np.stack([model.node_right, model.node_left], axis=1)


def softmax(z: FloatArray) -> FloatArray:
    """Row-wise softmax of (N, C) scores."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def raw_scores(X: FloatArray, model: TreeModel | None = None) -> FloatArray:
    """(N, C) uncalibrated raw scores (logits) of the tree ensemble."""
    model = model or load_model()
    return _scores(model, _check(model, X), contributions=False)[0]


def predict_proba(X: FloatArray, model: TreeModel | None = None) -> FloatArray:
    """(N, 4) calibrated probabilities [drone, bird, aircraft, unknown]; rows sum to 1."""
    model = model or load_model()
    X = _check(model, X)
    if X.shape[0] == 0:
        return np.zeros((0, model.n_classes))
    return softmax(raw_scores(X, model) / model.temperature)


def top_features(
    X: FloatArray, k: int = 3, model: TreeModel | None = None
) -> tuple[np.ndarray, FloatArray]:
    """The k features that pushed each row most towards its predicted class.

    Attribution follows each tree's decision path (Saabas): the change of node value at a split
    is credited to the split's feature, so contributions add up to the raw score minus the
    ensemble's mean. For the predicted class c the score of feature j is its contribution to
    the logit of c minus its mean contribution to all logits, divided by the temperature.

    Returns names (N, k) object array and scores (N, k) in logit units, largest first.
    """
    model = model or load_model()
    X = _check(model, X)
    raw, contrib = _scores(model, X, contributions=True)
    return _top(model, raw, contrib, k)


def predict_with_reasons(
    X: FloatArray, k: int = 3, model: TreeModel | None = None
) -> tuple[FloatArray, np.ndarray, FloatArray]:
    """:func:`predict_proba` and :func:`top_features` from a single walk of the trees."""
    model = model or load_model()
    X = _check(model, X)
    if X.shape[0] == 0:
        empty = np.zeros((0, min(k, X.shape[1])))
        return np.zeros((0, model.n_classes)), empty.astype(object), empty
    raw, contrib = _scores(model, X, contributions=k > 0)
    if k <= 0:
        return (
            softmax(raw / model.temperature),
            np.zeros((X.shape[0], 0), object),
            np.zeros((X.shape[0], 0)),
        )
    names, scores = _top(model, raw, contrib, k)
    return softmax(raw / model.temperature), names, scores


def _top(
    model: TreeModel, raw: FloatArray, contrib: FloatArray, k: int
) -> tuple[np.ndarray, FloatArray]:
    best = raw.argmax(axis=1)
    rows = np.arange(raw.shape[0])
    score = (contrib[rows, best, :] - contrib.mean(axis=1)) / model.temperature
    k = min(k, contrib.shape[2])
    order = np.argsort(-score, axis=1, kind="stable")[:, :k]
    names = np.asarray(model.feature_names, dtype=object)[order]
    return names, np.take_along_axis(score, order, axis=1)
