"""The pipeline's per-update classifiers: the shipped model (:class:`TrainedClassifier`) and the
rule of cooperative identity and speed alone (:func:`identity_and_speed_classes`).

Both map the confirmed tracks (:class:`~skywarden.track.tracks.Tracks`) at POSIX time t to
:class:`Classes`: a label, a probability vector [drone, bird, aircraft, unknown] and a
behaviour per track.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from skywarden.classify.ambiguity import AMBIGUITY_SIGMA_M, AMBIGUOUS_MIN_TRACKS
from skywarden.classify.decision import (
    BIRD_CONFIDENCE,
    DEFAULT_DECISION_CONFIDENCE,
    DEFAULT_DRONE_CONFIDENCE,
    DRONE_STEADY_SCANS,
    SWITCH_CONFIDENCE,
    YOUNG_BIRD_CONFIDENCE,
    YOUNG_BIRD_SPEED_MPS,
    YOUNG_DRONE_CONFIDENCE,
    YOUNG_TRACK_S,
    evidence_reasons,
)
from skywarden.detections import identity_kind
from skywarden.evidence import COOPERATIVE_AIRCRAFT
from skywarden.snapshot import json_safe
from skywarden.track.tracks import Tracks, rows_by_id
from skywarden.units import FloatArray
from skywarden.warn.rules import TargetClass

AIRCRAFT_SPEED_MPS = 70.0


@dataclass(frozen=True, slots=True)
class Classes:
    """Per-track labels: class (N,) TargetClass, p (N, 4) [drone, bird, aircraft, unknown],
    behaviour (N,) str, reasons (N,) int64 masks (skywarden.classify.decision) or None;
    calibrated: whether p are calibrated probabilities (False: a rule's confidence, which the
    alert rules' drone-probability floor for 'unknown' tracks must not read)."""

    target_class: np.ndarray
    p: FloatArray
    behaviour: np.ndarray
    reasons: np.ndarray | None = None
    calibrated: bool = True


Classifier = Callable[[Tracks, float], Classes]


def identity_and_speed_classes(tracks: Tracks, t: float) -> Classes:
    """Class from cooperative identity and speed alone (used when no trained classifier is
    given): ICAO, a transponder reply, Mode 3/A code, flight plan or on-ground report
    (:mod:`skywarden.evidence`) -> aircraft, Remote ID -> drone, faster than 70 m/s ->
    aircraft, else unknown. Probabilities say how sure that rule is, not a calibrated model."""
    kinds = np.array([identity_kind(int(i)) for i in tracks.identity], dtype=object)
    speed = np.linalg.norm(tracks.x[:, 3:5], axis=1)
    cls = np.full(len(tracks), TargetClass.UNKNOWN, np.int8)
    cls[speed > AIRCRAFT_SPEED_MPS] = TargetClass.AIRCRAFT
    cls[kinds == "icao"] = TargetClass.AIRCRAFT
    cls[(tracks.evidence & COOPERATIVE_AIRCRAFT) != 0] = TargetClass.AIRCRAFT
    cls[kinds == "remote_id"] = TargetClass.DRONE
    p = np.tile([0.25, 0.25, 0.25, 0.25], (len(tracks), 1))
    p[cls == TargetClass.AIRCRAFT] = [0.02, 0.02, 0.95, 0.01]
    p[cls == TargetClass.DRONE] = [0.95, 0.02, 0.02, 0.01]
    reasons = evidence_reasons(tracks.identity, tracks.rcs_dbsm, evidence_bits=tracks.evidence)
    return Classes(cls, p, np.full(len(tracks), "", dtype=object), reasons, calibrated=False)


class TrainedClassifier:
    """The shipped classifier (skywarden.classify) as the pipeline's per-update classifier.

    Its feature window expects one sample per scan, so the window advances at most once per
    ``scan_period_s``; updates in between reuse each track's last labels (new tracks are
    'unknown' until the next scan). Probabilities are averaged over scans
    (``smooth_probabilities``), starting when a track is ``min_age_s`` old: before that the
    average holds only the newest scan, so a track's first seconds (few states, little more
    than a speed, in which bird-flock tracks often look like drones) do not carry into its
    label. Labels: the most probable class at p >= ``decision_confidence`` (the site's, see
    skywarden.classify.decision), else 'unknown'; the probabilities include the sensor
    physics evidence (skywarden.classify.physics, with the radars' ``coverage``) and each
    track carries its reasons. Also 'drone' needs p_drone >=
    ``drone_confidence``, and p_drone >= ``young_drone_confidence`` while the track is
    younger than ``young_track_s`` and slower than ``young_bird_speed_mps`` (m/s, 3-D; a
    bird's speed) (skywarden.classify.decision.DEFAULT_DRONE_CONFIDENCE,
    where the measurement behind them is stated), tracks younger than
    ``min_age_s`` are 'unknown', and a track that was not 'drone' at the previous scan does
    not become 'drone' inside a flock: with at least ``flock_min_tracks`` other tracks within
    ``flock_radius_m`` (3-D), more than half of them at p_bird >= 0.5 (there the tracker's
    associations swap between birds, which looks like fast, erratic flight). Such a track is
    'unknown', so the protected zone still warns of it; a track already 'drone' keeps its
    label through a flock. Measured on the swarm and mixed scenarios by
    skywarden.evaluate.warning. A track missing from an update (a confirmed track not shown
    for a scan or two) keeps its state window and averaged probabilities for
    ``keep_absent_s``: without that, it came back judged on one state, unaveraged, and such
    one-scan spikes were most of the bird and ground-traffic scans labelled 'drone' late in
    a track's life on ``loitering``/``mixed`` seeds 0-11 (issue 11). When drone and bird are
    close, the label says 'unknown': 'bird' needs p_bird >= ``young_bird_confidence`` while
    the track is younger than ``young_track_s`` and p_bird >= ``bird_confidence`` at every age
    outside a flock (skywarden.classify.decision.BIRD_CONFIDENCE: else 'unknown' with the reason
    "bird-like, but drones fly so too"), and a track once labelled drone (bird) is
    labelled bird (drone) only at p >= ``switch_confidence``
    (skywarden.classify.decision.hold_decided, with the reason "judged both drone and bird"),
    and a track once labelled drone is labelled aircraft only with a transponder
    (skywarden.classify.decision.hold_drone_from_aircraft; else 'unknown').
    A track not 'drone' at its previous scan becomes 'drone' only when the drone decision has
    held on ``drone_steady_scans`` consecutive scans; before that it is 'unknown' with the
    reason "drone on too few scans yet" (one-scan spikes of young bird tracks). A track in a
    dense group (at least ``ambiguous_min_tracks`` other tracks inside its pair gate,
    skywarden.classify.ambiguity) does not become 'drone' and its drone streak restarts: it
    is 'unknown' with the reason "in a dense group: identity ambiguous" (bird-flock tracks
    that swap birds look like drones); a track already 'drone' keeps its label.
    """

    def __init__(
        self,
        scan_period_s: float = 1.0,
        zones: FloatArray | None = None,
        *,
        min_age_s: float = 5.0,
        drone_confidence: float = DEFAULT_DRONE_CONFIDENCE,
        young_drone_confidence: float = YOUNG_DRONE_CONFIDENCE,
        young_track_s: float = YOUNG_TRACK_S,
        young_bird_speed_mps: float = YOUNG_BIRD_SPEED_MPS,
        flock_radius_m: float = 200.0,
        flock_min_tracks: int = 3,
        decision_confidence: float = DEFAULT_DECISION_CONFIDENCE,
        coverage: Any = None,
        keep_absent_s: float = 10.0,
        switch_confidence: float = SWITCH_CONFIDENCE,
        young_bird_confidence: float = YOUNG_BIRD_CONFIDENCE,
        drone_steady_scans: int = DRONE_STEADY_SCANS,
        bird_confidence: float = BIRD_CONFIDENCE,
        ambiguity_sigma_m: float = AMBIGUITY_SIGMA_M,
        ambiguous_min_tracks: int = AMBIGUOUS_MIN_TRACKS,
    ) -> None:
        from skywarden.classify import new_classifier_state

        self.states = [new_classifier_state(), new_classifier_state()]
        self.half_t = [-math.inf, -math.inf]
        self.period = scan_period_s
        self.zones = zones
        self.min_age_s = min_age_s
        self.drone_confidence = drone_confidence
        self.young_drone_confidence = young_drone_confidence
        self.young_track_s = young_track_s
        self.young_bird_speed_mps = young_bird_speed_mps
        self.flock_radius_m = flock_radius_m
        self.flock_min_tracks = flock_min_tracks
        self.decision_confidence = decision_confidence
        self.coverage = coverage  # skywarden.classify.physics.RadarCoverage or None
        self.keep_absent_s = keep_absent_s
        self.switch_confidence = switch_confidence
        self.young_bird_confidence = young_bird_confidence
        self.drone_steady_scans = drone_steady_scans
        self.bird_confidence = bird_confidence
        self.ambiguity_sigma_m = ambiguity_sigma_m
        self.ambiguous_min_tracks = ambiguous_min_tracks
        # per track of last_id: consecutive scans judged drone, last label other than unknown
        self.streak = np.zeros(0, np.int64)
        self.decided = np.zeros(0, np.int8)
        self.last_t = -math.inf
        self.last = Classes(
            np.zeros(0, np.int8), np.zeros((0, 4)), np.zeros(0, object), np.zeros(0, np.int64)
        )
        self.last_id = np.zeros(0, np.int64)

    def __call__(self, tracks: Tracks, t: float) -> Classes:
        """Labels of every track. Tracks are split in two halves by track-number parity and
        each half is re-classified once per scan; when updates come often (the live loop),
        the halves fall due at different updates, so the model's cost is spread over two
        updates instead of landing on one. When both are due (one update per scan) both run."""
        from skywarden.classify import class_labels
        from skywarden.classify.decision import (
            AMBIGUOUS,
            DISPUTED,
            DRONE_NOT_AIRCRAFT,
            FLOCK,
            UNSTEADY,
            UNSURE_BIRD,
            YOUNG,
            hold_decided,
            hold_drone_from_aircraft,
        )

        due = [h for h in (0, 1) if t - self.half_t[h] >= 0.9 * self.period]
        if not due:
            return self._reuse(tracks)
        merged = self._reuse(tracks)
        streak = self._streak(tracks)
        group = self._in_dense_group(tracks)
        for half in due:
            self.half_t[half] = t
            rows = np.flatnonzero(tracks.id % 2 == half)
            sub = tracks.take(rows)
            p, behaviour, young, reasons = self._probabilities(half, sub, t)
            merged.p[rows], merged.behaviour[rows] = p, behaviour
            merged.reasons[rows] = reasons | np.where(young, YOUNG, 0)
            flock = self._in_flock(tracks.x[:, :3], merged.p[:, 1] >= 0.5)[rows]
            names = np.array([n.upper() for n in class_labels(p, self.decision_confidence)])
            cls = np.array([TargetClass[n].value for n in names], dtype=np.int8)
            young_track = t - sub.t_birth < self.young_track_s
            bird_speed = np.linalg.norm(sub.x[:, 3:6], axis=1) < self.young_bird_speed_mps
            need = np.where(
                young_track & bird_speed, self.young_drone_confidence, self.drone_confidence
            )
            unsure = (cls == TargetClass.DRONE) & (p[:, 0] < need)
            unsure |= (
                young_track & (cls == TargetClass.BIRD) & (p[:, 1] < self.young_bird_confidence)
            )
            lone_bird = (cls == TargetClass.BIRD) & ~flock & (p[:, 1] < self.bird_confidence)
            merged.reasons[rows[lone_bird & ~unsure & ~young]] |= UNSURE_BIRD
            unsure |= lone_bird
            new_drone = (cls == TargetClass.DRONE) & ~self._was_drone(sub)
            cls = np.where(unsure | young, TargetClass.UNKNOWN, cls).astype(np.int8)
            cls, held = hold_decided(cls, p, self._decided(sub), self.switch_confidence)
            cls, kept = hold_drone_from_aircraft(cls, self._decided(sub), merged.reasons[rows])
            merged.reasons[rows[kept]] |= DRONE_NOT_AIRCRAFT
            judged = cls == TargetClass.DRONE
            crowded = group[rows]
            streak[rows] = np.where(judged & ~crowded, streak[rows] + 1, 0)
            unsteady = new_drone & judged & ~crowded & (streak[rows] < self.drone_steady_scans)
            cls[unsteady] = TargetClass.UNKNOWN
            merged.reasons[rows[unsteady]] |= UNSTEADY
            withheld = new_drone & judged & crowded
            cls[withheld] = TargetClass.UNKNOWN
            merged.reasons[rows[withheld]] |= AMBIGUOUS
            merged.target_class[rows] = cls
            merged.reasons[rows[held]] |= DISPUTED
            merged.target_class[rows[new_drone & flock]] = TargetClass.UNKNOWN
            merged.reasons[rows[new_drone & flock]] |= FLOCK
        if len(due) == 2:  # de-phase the halves for frequent updates
            self.half_t[1] = t - 0.5 * self.period
        # a lone track 'unknown' only for want of BIRD_CONFIDENCE counts as decided bird for the
        # switch rule: without that, its later drone spikes were no longer held (mixed 0-99:
        # 119 bird scans labelled drone instead of 101)
        leaning = np.where(merged.reasons & UNSURE_BIRD, TargetClass.BIRD, merged.target_class)
        self.decided = np.where(
            leaning != TargetClass.UNKNOWN, leaning, self._decided(tracks)
        ).astype(np.int8)
        self.streak = streak
        self.last, self.last_id, self.last_t = merged, tracks.id.copy(), t
        return merged

    def _decided(self, tracks: Tracks) -> np.ndarray:
        """(N,) each track's last label other than 'unknown' (UNKNOWN where none)."""
        return self._carried(self.decided, tracks, TargetClass.UNKNOWN)

    def _streak(self, tracks: Tracks) -> np.ndarray:
        """(N,) consecutive scans up to the last one on which each track was judged drone."""
        return self._carried(self.streak, tracks, 0)

    def _carried(self, values: np.ndarray, tracks: Tracks, default: int) -> np.ndarray:
        """(N,) ``values`` (one per track of the last classification, ``last_id``) of each
        of ``tracks``, ``default`` for tracks it did not have."""
        row = rows_by_id(self.last_id, tracks.id)
        out = np.full(len(tracks), default, values.dtype)
        out[row >= 0] = values[row[row >= 0]]
        return out

    def _probabilities(
        self, half: int, sub: Tracks, t: float
    ) -> tuple[FloatArray, np.ndarray, np.ndarray, np.ndarray]:
        """Smoothed probabilities (n, 4), behaviour (n,), the young mask and the reason masks
        (n,) of one half."""
        from skywarden.classify import ClassifierState, classify_tracks, smooth_probabilities
        from skywarden.classify.decision import SURFACE, track_evidence
        from skywarden.classify.history import absent_rows, concat_windows

        old = self.states[half]
        physics, reasons = track_evidence(
            sub.x, sub.identity, sub.rcs_dbsm, self.coverage, sub.evidence
        )
        new, result = classify_tracks(old, sub, zones=self.zones, n_top=0, evidence=physics)
        young = t - sub.t_birth < self.min_age_s
        p = smooth_probabilities(old, new.window, result.p)
        p[young] = result.p[young]  # the average starts at min_age_s
        keep = absent_rows(old.window, new.window, t, self.keep_absent_s)
        self.states[half] = ClassifierState(
            concat_windows(new.window, old.window.take(keep)),
            np.concatenate([p, old.p[keep]]),
        )
        reasons = reasons | np.where(result.surface, SURFACE, 0)
        return p, np.asarray(result.behaviour, dtype=object), young, reasons

    def explain(self, track_id: int, k: int = 3) -> dict | None:
        """Why the model labels a track as it does, computed on demand (the per-scan loop
        computes no reasons): from the track's state window at its half's last scan, the
        single-scan model output ``model_p`` (before identity fusion and smoothing) and the
        ``k`` features that pushed it most towards its most probable class, with their
        values and logit contributions (largest first), plus every feature's value.

        JSON-safe dict ``{"track_id", "t" (POSIX s of the newest window state), "model_p":
        {drone, bird, aircraft, unknown}, "top_features": [{"name", "value", "contribution"}],
        "features": {name: value}}`` (NaN -> None); None for a track not classified yet.
        """
        from skywarden.classify import CLASSES, FEATURE_NAMES, features_from_window
        from skywarden.classify.model import predict_with_reasons

        window = self.states[int(track_id) % 2].window
        hit = np.flatnonzero(window.id == track_id)
        if hit.size == 0:
            return None
        row = int(hit[0])
        X = features_from_window(window.take([row]))
        p, names, scores = predict_with_reasons(X, k)
        values = dict(zip(FEATURE_NAMES, X[0].tolist(), strict=True))
        top = [
            {"name": str(n), "value": values.get(str(n)), "contribution": float(c)}
            for n, c in zip(names[0], scores[0], strict=True)
        ]
        return json_safe(
            {
                "track_id": int(track_id),
                "t": float(window.t[row, -1]),  # the newest column is always filled
                "model_p": dict(zip(CLASSES, p[0].tolist(), strict=True)),
                "top_features": top,
                "features": values,
            }
        )

    def _was_drone(self, tracks: Tracks) -> np.ndarray:
        """(N,) bool: the track was labelled 'drone' at the previous scan."""
        if self.last_id.size == 0:
            return np.zeros(len(tracks), bool)
        row = rows_by_id(self.last_id, tracks.id)
        was = self.last.target_class[np.maximum(row, 0)] == TargetClass.DRONE
        return (row >= 0) & was

    def _in_dense_group(self, tracks: Tracks) -> np.ndarray:
        """(N,) bool: at least ``ambiguous_min_tracks`` other tracks inside the track's pair
        gate (skywarden.classify.ambiguity, plot noise ``ambiguity_sigma_m``)."""
        from skywarden.classify.ambiguity import ambiguous_neighbours

        near = ambiguous_neighbours(
            tracks.x[:, :3], tracks.P[:, :3, :3], sigma_m=self.ambiguity_sigma_m
        )
        return near >= self.ambiguous_min_tracks

    def _in_flock(self, pos: FloatArray, bird: np.ndarray) -> np.ndarray:
        """(N,) bool: at least flock_min_tracks other tracks within flock_radius_m of pos
        (N, 3) m, more than half of them ``bird`` (N,) bool."""
        from scipy.spatial import cKDTree

        n = pos.shape[0]
        if n <= self.flock_min_tracks:
            return np.zeros(n, bool)
        pairs = cKDTree(pos).query_pairs(self.flock_radius_m, output_type="ndarray")
        a, b = pairs[:, 0], pairs[:, 1]
        near = np.bincount(pairs.ravel(), minlength=n)
        w = bird.astype(np.float64)
        birds = np.bincount(a, w[b], minlength=n) + np.bincount(b, w[a], minlength=n)
        return (near >= self.flock_min_tracks) & (2 * birds > near)

    def _reuse(self, tracks: Tracks) -> Classes:
        """Each track's last labels (new tracks: 'unknown', p = [0, 0, 0, 1]); fresh arrays."""
        n = len(tracks)
        cls = np.full(n, TargetClass.UNKNOWN, np.int8)
        p = np.tile([0.0, 0.0, 0.0, 1.0], (n, 1))
        behaviour = np.full(n, "", dtype=object)
        reasons = np.zeros(n, np.int64)
        row = rows_by_id(self.last_id, tracks.id)
        known = row >= 0
        rows = row[known]
        cls[known], p[known] = self.last.target_class[rows], self.last.p[rows]
        behaviour[known] = self.last.behaviour[rows]
        reasons[known] = self.last.reasons[rows]
        return Classes(cls, p, behaviour, reasons)
