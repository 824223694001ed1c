"""Track classification (drone / bird / aircraft / unknown) and behaviour, updated every scan.

Pure core: after each tracker step,

    state, result = classify_tracks(state, tracks, zones=zones)

keeps a bounded window of recent states per track (:mod:`.history`), computes kinematic
features (:mod:`.features`), evaluates the shipped calibrated tree model (:mod:`.model`,
NumPy only), fuses cooperative identity evidence (:mod:`.identity`) and labels behaviour
(:mod:`.behaviour`). Everything is vectorised over tracks.

The class label is the most probable class, or ``unknown`` when no class reaches the
decision confidence (:mod:`.decision`); sensor physics (:mod:`.physics`) adds evidence.
:class:`ScanClassifier` plugs into :func:`skywarden.track.run.run_tracker`'s ``on_scan`` and
gives the CSV columns ``class``, ``p_drone``, ``p_bird``, ``p_aircraft``, ``p_unknown``,
``behaviour``, ``reasons`` row-aligned with its history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skywarden.classify.behaviour import BEHAVIOURS, Behaviour, BehaviourParams, classify_behaviour
from skywarden.classify.dataset import CLASSES
from skywarden.classify.decision import (
    DEFAULT_DECISION_CONFIDENCE,
    SURFACE,
    decide,
    evidence_reasons,
    reason_names,
    summary_line,
)
from skywarden.classify.features import FEATURE_NAMES, features_from_window
from skywarden.classify.history import (
    DEFAULT_WINDOW,
    StateWindow,
    empty_window,
    match_ids,
    update_window,
)
from skywarden.classify.identity import ROW_NAMES, evidence_rows, fuse, identity_likelihood
from skywarden.classify.model import (
    TreeModel,
    load_model,
    predict_proba,  # noqa: F401 (re-exported)
    predict_with_reasons,
    top_features,  # noqa: F401 (re-exported)
)
from skywarden.classify.physics import envelope_likelihood
from skywarden.classify.surface import surface_likelihood, surface_traffic
from skywarden.evidence import on_ground
from skywarden.track.tracks import Tracks
from skywarden.units import BoolArray, FloatArray, IntArray

MIN_CONFIDENCE = DEFAULT_DECISION_CONFIDENCE
# time constant (s) of the per-track exponential average of probabilities: with the pipeline's
# label policy, 5 s labels the mixed scenario's drones (seeds 0-5) on 91.9 % of their scans
# after 10 s of age (10 s: 90.7 %), with no bird or airliner labelled drone either way
SMOOTHING_S = 5.0


@dataclass(frozen=True, slots=True)
class ClassifierState:
    """What the classifier carries between scans.

    window: the per-track state window; p: (N, 4) smoothed probabilities, rows as the window.
    """

    window: StateWindow
    p: FloatArray


@dataclass(frozen=True, slots=True)
class Classification:
    """Classes of N tracks, rows in the order of the tracker's arrays.

    id: (N,) track numbers; p: (N, 4) probabilities [drone, bird, aircraft, unknown];
    label: (N,) object str class; behaviour: (N,) object str; top_features: (N, k) object
    names of the features behind each label, top_scores: (N, k) their logit contributions;
    surface: (N,) bool, the track is surface traffic (:mod:`skywarden.classify.surface`).
    """

    id: IntArray
    p: FloatArray
    label: np.ndarray
    behaviour: np.ndarray
    top_features: np.ndarray
    top_scores: FloatArray
    detail: Behaviour
    surface: BoolArray | None = None  # (N,) surface traffic (classify.surface), if computed


def new_classifier_state(width: int = DEFAULT_WINDOW) -> ClassifierState:
    """An empty classifier state keeping ``width`` scans per track."""
    return ClassifierState(empty_window(width), np.zeros((0, len(CLASSES))))


def smooth_probabilities(
    state: ClassifierState, window: StateWindow, p: FloatArray, tau_s: float = SMOOTHING_S
) -> FloatArray:
    """Exponential average over scans (time constant tau_s) of each track's probabilities.

    A linear pool of calibrated per-scan outputs, so rows still sum to 1; new tracks start
    from this scan's p. The weight of the new scan is 1 - exp(-dt / tau_s).
    """
    row = match_ids(state.window.id, window.id)
    old = row >= 0
    out = p.copy()
    if old.any():
        dt = window.t[old, -1] - state.window.t[row[old], -1]
        a = 1.0 - np.exp(-np.maximum(np.nan_to_num(dt), 0.0) / tau_s)
        out[old] = a[:, None] * p[old] + (1.0 - a[:, None]) * state.p[row[old]]
    return out


def class_labels(p: FloatArray, min_confidence: float = MIN_CONFIDENCE) -> np.ndarray:
    """(N,) object str: the most probable class, 'unknown' below min_confidence."""
    return decide(p, min_confidence)


def classify_tracks(
    state: ClassifierState,
    tracks: Tracks,
    *,
    zones: FloatArray | None = None,
    emitter_category: np.ndarray | None = None,
    ua_type: IntArray | None = None,
    model: TreeModel | None = None,
    behaviour_params: BehaviourParams | None = None,
    n_top: int = 3,
    evidence: FloatArray | None = None,
    decision_confidence: float = DEFAULT_DECISION_CONFIDENCE,
) -> tuple[ClassifierState, Classification]:
    """Update the window with this scan's tracks and classify all of them.

    zones: (K, 3) protected circles [e, n, radius] m for 'approach' (default: the site);
    emitter_category (N,) str and ua_type (N,) int: optional identity evidence per track;
    the tracks' own :mod:`skywarden.evidence` bits always apply (see :mod:`.identity`).
    evidence: optional further (N, 4) likelihood multipliers (e.g. classify.physics).
    """
    model = model or load_model()
    window = update_window(state.window, tracks)
    X = features_from_window(window)
    p, names, scores = predict_with_reasons(X, n_top, model)
    likelihood = identity_likelihood(tracks.identity, emitter_category, ua_type, tracks.evidence)
    p = fuse(p, likelihood)
    if evidence is not None:
        p = fuse(p, evidence)
    surface = surface_traffic(window, tracks.identity)
    p = fuse(p, surface_likelihood(surface))
    label = decide(p, decision_confidence)
    detail = classify_behaviour(window, label == "drone", zones, behaviour_params, X)
    result = Classification(
        tracks.id.copy(), p, label, detail.label, names, scores, detail, surface
    )
    return ClassifierState(window, p), result  # p kept for callers that smooth over scans


class ScanClassifier:
    """``on_scan`` callback for :func:`~skywarden.track.run.run_tracker` collecting CSV columns.

    Rows follow run_tracker's history: per scan, the confirmed tracks in array order.
    """

    def __init__(
        self,
        zones: FloatArray | None = None,
        model: TreeModel | None = None,
        decision_confidence: float = DEFAULT_DECISION_CONFIDENCE,
    ) -> None:
        self.state = new_classifier_state()
        self.zones = zones
        self.model = model
        self.decision_confidence = decision_confidence
        self._rows: list[tuple[np.ndarray, ...]] = []

    def __call__(self, n_detections: int, tracks: Tracks) -> None:
        envelope = envelope_likelihood(tracks.x)
        self.state, result = classify_tracks(
            self.state, tracks, zones=self.zones, model=self.model, evidence=envelope,
            decision_confidence=self.decision_confidence,
        )  # fmt: skip
        reasons = evidence_reasons(
            tracks.identity, tracks.rcs_dbsm, None, envelope, tracks.evidence
        )
        reasons |= np.where(result.surface, SURFACE, 0)
        s = tracks.confirmed
        row = evidence_rows(tracks.identity[s], tracks.evidence[s])
        self._rows.append(
            (
                result.p[s],
                result.label[s],
                result.behaviour[s],
                reasons[s],
                tracks.evidence[s],
                np.asarray(ROW_NAMES, dtype=object)[row],
            )
        )

    def columns(self) -> dict[str, np.ndarray]:
        """class, p_drone, p_bird, p_aircraft, p_unknown, behaviour, reasons (the decision
        in words, :func:`~skywarden.classify.decision.summary_line`), on_ground (0/1),
        evidence (the row of the evidence table that applied): one entry per history row."""
        if not self._rows:
            p, label, behaviour = np.zeros((0, 4)), np.zeros(0, object), np.zeros(0, object)
            mask, bits, rows = np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, object)
        else:
            p, label, behaviour, mask, bits, rows = (
                np.concatenate(c) for c in zip(*self._rows, strict=True)
            )
        words = reason_names(mask)
        summary = np.array(
            [summary_line(str(c), q, w) for c, q, w in zip(label, p, words, strict=True)],
            dtype=object,
        )
        return {
            "class": label,
            "p_drone": p[:, 0],
            "p_bird": p[:, 1],
            "p_aircraft": p[:, 2],
            "p_unknown": p[:, 3],
            "behaviour": behaviour,
            "reasons": summary,
            "on_ground": on_ground(bits).astype(np.int8),
            "evidence": rows,
        }


__all__ = [
    "BEHAVIOURS",
    "CLASSES",
    "FEATURE_NAMES",
    "Classification",
    "ClassifierState",
    "ScanClassifier",
    "class_labels",
    "classify_tracks",
    "new_classifier_state",
]
