"""The label policy on the held-out split: what an operator would be shown for each held-out
flight, per data source (issue 11's targets: held-out manned flights never ``drone``; held-out
drones never ``bird`` or ``aircraft`` and at least half of them ``drone``; held-out birds never
``drone`` and at least half of them ``bird``).

The labels are :func:`skywarden.classify.decision.decide` at the site's ``decision_confidence``
on the model's calibrated probabilities, with the lone-track bird rule
(:data:`~skywarden.classify.decision.BIRD_CONFIDENCE`: every held-out trajectory is flown
alone). They are a conservative view of the pipeline's: no identity or sensor-physics evidence,
no smoothing over scans, no steady-scan or switch rule.
"""

from __future__ import annotations

import numpy as np

from skywarden.classify.dataset import CLASSES, Samples
from skywarden.classify.decision import BIRD_CONFIDENCE, DEFAULT_DECISION_CONFIDENCE, decide
from skywarden.units import FloatArray

FROM_AGE_S = 10.0  # the per-scan targets count from 10 s of track age
LABELS = (*CLASSES[:3], "unknown")  # drone, bird, aircraft, unknown


def policy_labels(
    p: FloatArray,
    decision_confidence: float = DEFAULT_DECISION_CONFIDENCE,
    bird_confidence: float = BIRD_CONFIDENCE,
) -> np.ndarray:
    """(S,) object labels of probabilities p (S, 4) [drone, bird, aircraft, unknown] for lone
    tracks: :func:`decide`, and 'bird' only at p_bird >= ``bird_confidence``."""
    label = decide(p, decision_confidence)
    p = np.asarray(p, dtype=np.float64).reshape(-1, len(CLASSES))
    unsure_bird = (label == "bird") & (p[:, 1] < bird_confidence)
    return np.where(unsure_bird, "unknown", label).astype(object)


def decision_by_source(
    p: FloatArray,
    samples: Samples,
    decision_confidence: float = DEFAULT_DECISION_CONFIDENCE,
    bird_confidence: float = BIRD_CONFIDENCE,
) -> dict[str, object]:
    """Per data source (and true class), from :data:`FROM_AGE_S` of track age:

    ``scans``: fraction of samples given each label; ``tracks``: the number of tracks,
    ``ever``: tracks given each label on at least one sample, ``mostly``: tracks given each
    label on at least half of their samples. JSON-safe.
    """
    label = policy_labels(p, decision_confidence, bird_confidence)
    keep = samples.age >= FROM_AGE_S
    out: dict[str, object] = {}
    for source in np.unique(samples.source[keep]):
        for cls in np.unique(samples.y[keep & (samples.source == source)]):
            rows = keep & (samples.source == source) & (samples.y == cls)
            out[f"{source}/{CLASSES[int(cls)]}"] = _summary(label[rows], samples.track[rows])
    return {
        "decision_confidence": decision_confidence,
        "bird_confidence": bird_confidence,
        "from_age_s": FROM_AGE_S,
        "by_source": out,
    }


def _summary(label: np.ndarray, track: np.ndarray) -> dict[str, object]:
    """Scan fractions and per-track counts of the labels (S,) of tracks (S,) keys."""
    keys, inverse = np.unique(track, return_inverse=True)
    one_hot = label[:, None] == np.asarray(LABELS, dtype=object)[None, :]  # (S, 4)
    per_track = np.zeros((keys.size, len(LABELS)))
    np.add.at(per_track, inverse, one_hot)
    share = per_track / per_track.sum(axis=1, keepdims=True)
    return {
        "n": int(label.size),
        "scans": {c: float(one_hot[:, k].mean()) for k, c in enumerate(LABELS)},
        "tracks": int(keys.size),
        "ever": {c: int((per_track[:, k] > 0).sum()) for k, c in enumerate(LABELS)},
        "mostly": {c: int((share[:, k] >= 0.5).sum()) for k, c in enumerate(LABELS)},
    }


def format_decision(report: dict[str, object]) -> list[str]:
    """Plain-text lines of :func:`decision_by_source`'s report."""
    lines = [
        f"labels from {report['from_age_s']:g} s of track age at decision_confidence "
        f"{report['decision_confidence']:g} (lone-track bird at {report['bird_confidence']:g}; "
        "model only, no identity/physics evidence or smoothing):"
    ]
    for name, r in report["by_source"].items():
        scans = ", ".join(f"{c} {v:.3f}" for c, v in r["scans"].items())
        ever = ", ".join(f"{c} {v}" for c, v in r["ever"].items())
        mostly = ", ".join(f"{c} {v}" for c, v in r["mostly"].items())
        lines.append(
            f"  {name}: {r['n']} scans ({scans}); {r['tracks']} tracks, ever: {ever}; "
            f"mostly: {mostly}"
        )
    return lines


__all__ = ["FROM_AGE_S", "LABELS", "decision_by_source", "format_decision", "policy_labels"]
