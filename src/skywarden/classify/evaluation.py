"""Classifier metrics: confusion matrix, balanced accuracy, calibration error, accuracy vs age.

* Balanced accuracy: the mean over the classes present in the truth of each class's recall.
* Expected calibration error (ECE): predictions are put in 15 equal-width bins of their top
  probability (confidence) on [0, 1]; ECE = sum over bins of (bin size / N) x |accuracy in
  the bin - mean confidence in the bin|.
* The reliability diagram plots accuracy against confidence per bin, with the bin counts.
* Balanced accuracy at 10 s is also given per radar noise level the samples were rendered at
  (``Samples.noise_m``): kinematic classification depends strongly on the sensor's accuracy.
* Radar amplitude: half the rendered chunks carry a simulated RCS per plot
  (:mod:`skywarden.simulate.rcs`; the real recordings' amplitudes are not calibrated). Results
  at 10 s are split by whether the sample has RCS features, and the real trajectories are
  also scored with the RCS features removed ("real, kinematics only"), so that the real-data
  figures do not lean on the simulated amplitude model.

:func:`evaluate_classifier` rebuilds the held-out test split (:mod:`skywarden.classify.corpus`),
classifies it with the shipped model and reports the metrics for the real trajectories (real
drones and real aircraft re-sampled as a radar would see them) and for all held-out samples
(real + synthetic birds / light aircraft / clutter + simulator scenarios).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from skywarden.classify.dataset import CLASSES, Samples
from skywarden.classify.features import FEATURE_NAMES
from skywarden.units import FloatArray, IntArray

ECE_BINS = 15
AGES_S = (2.0, 5.0, 10.0, 30.0)
REAL_SOURCES = ("real-drone", "real-aircraft")
RCS_COLUMNS = [FEATURE_NAMES.index("rcs_mean_dbsm"), FEATURE_NAMES.index("rcs_std_db")]


def without_amplitude(X: FloatArray) -> FloatArray:
    """A copy of the features X (S, F) with the RCS features removed (NaN)."""
    out = np.array(X, dtype=np.float64, copy=True)
    out[:, RCS_COLUMNS] = np.nan
    return out


def confusion_matrix(y: IntArray, pred: IntArray, n_classes: int = len(CLASSES)) -> IntArray:
    """(C, C) counts: row = true class, column = predicted class."""
    return np.bincount(y * n_classes + pred, minlength=n_classes * n_classes).reshape(
        n_classes, n_classes
    )


def balanced_accuracy(y: IntArray, pred: IntArray, n_classes: int = len(CLASSES)) -> float:
    """Mean recall over the classes that occur in y (NaN if y is empty)."""
    cm = confusion_matrix(y, pred, n_classes)
    support = cm.sum(axis=1)
    present = support > 0
    if not present.any():
        return float("nan")
    return float(np.mean(np.diag(cm)[present] / support[present]))


def reliability(p: FloatArray, y: IntArray, bins: int = ECE_BINS) -> dict[str, FloatArray]:
    """Per-bin count, mean confidence and accuracy of the top-probability predictions."""
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    b = np.minimum((conf * bins).astype(np.int64), bins - 1)
    count = np.bincount(b, minlength=bins).astype(np.float64)
    safe = np.maximum(count, 1.0)
    return {
        "count": count,
        "confidence": np.bincount(b, weights=conf, minlength=bins) / safe,
        "accuracy": np.bincount(b, weights=correct, minlength=bins) / safe,
    }


def expected_calibration_error(p: FloatArray, y: IntArray, bins: int = ECE_BINS) -> float:
    """ECE over equal-width confidence bins (module docstring); NaN for no samples."""
    if y.size == 0:
        return float("nan")
    r = reliability(p, y, bins)
    return float(np.sum(r["count"] / y.size * np.abs(r["accuracy"] - r["confidence"])))


def at_age(age: FloatArray, seconds: float, tolerance: float = 0.5) -> np.ndarray:
    """(S,) True for samples whose track age is within tolerance of seconds."""
    return np.abs(age - seconds) <= tolerance


def summarise(p: FloatArray, samples: Samples) -> dict[str, object]:
    """Metrics of predictions p (S, 4) on samples: overall, at 10 s, and accuracy vs age."""
    y = samples.y
    pred = p.argmax(axis=1)
    ten = at_age(samples.age, 10.0)
    by_age = {}
    for a in AGES_S:
        k = at_age(samples.age, a)
        by_age[f"{a:g}s"] = {
            "n": int(k.sum()),
            "accuracy": float(np.mean(pred[k] == y[k])) if k.any() else float("nan"),
            "balanced_accuracy": balanced_accuracy(y[k], pred[k]),
        }
    by_noise = {}
    for sigma in np.unique(samples.noise_m[ten]):
        k = ten & (samples.noise_m == sigma)
        by_noise[f"{sigma:g}m"] = {
            "n": int(k.sum()),
            "balanced_accuracy": balanced_accuracy(y[k], pred[k]),
            "ece": expected_calibration_error(p[k], y[k]),
        }
    amplitude = np.isfinite(samples.X[:, RCS_COLUMNS[0]])
    by_amplitude = {
        name: {
            "n": int((ten & k).sum()),
            "balanced_accuracy": balanced_accuracy(y[ten & k], pred[ten & k]),
        }
        for name, k in (("with_rcs", amplitude), ("without_rcs", ~amplitude))
    }
    return {
        "n": int(y.size),
        "class_counts": {c: int(np.sum(y == i)) for i, c in enumerate(CLASSES)},
        "balanced_accuracy": balanced_accuracy(y, pred),
        "balanced_accuracy_10s": balanced_accuracy(y[ten], pred[ten]),
        "ece": expected_calibration_error(p, y),
        "ece_10s": expected_calibration_error(p[ten], y[ten]),
        "confusion_10s": confusion_matrix(y[ten], pred[ten]).tolist(),
        "confusion": confusion_matrix(y, pred).tolist(),
        "by_age": by_age,
        "by_noise_10s": by_noise,
        "by_amplitude_10s": by_amplitude,
    }


def reliability_diagram(p: FloatArray, y: IntArray, path: Path, title: str) -> None:
    """Write a reliability diagram PNG (accuracy vs confidence, with bin counts)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = reliability(p, y)
    edges = np.linspace(0.0, 1.0, ECE_BINS + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(5, 6), height_ratios=(3, 1), sharex=True)
    used = r["count"] > 0
    ax.bar(centres[used], r["accuracy"][used], width=1 / ECE_BINS, edgecolor="k", label="accuracy")
    ax.plot([0, 1], [0, 1], "r--", label="perfect calibration")
    ax.plot(r["confidence"][used], r["accuracy"][used], "ko", ms=3, label="mean confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{title}\nECE = {expected_calibration_error(p, y):.3f} ({y.size} samples)")
    ax.legend(loc="upper left", fontsize=8)
    bx.bar(centres, r["count"], width=1 / ECE_BINS, edgecolor="k")
    bx.set_yscale("log")
    bx.set_xlabel("confidence (top probability)")
    bx.set_ylabel("samples")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def evaluate_samples(
    samples: Samples, p: FloatArray, p_kinematic: FloatArray | None = None
) -> dict[str, object]:
    """Metrics for the real held-out trajectories and for all held-out samples; with
    ``p_kinematic`` (the predictions with the RCS features removed) also for the real ones
    without amplitude."""
    real = np.isin(samples.source, REAL_SOURCES)
    sources = {str(s): int(np.sum(samples.source == s)) for s in np.unique(samples.source)}
    result = {"real": summarise(p[real], samples.take(real))}
    if p_kinematic is not None:
        stripped = replace(samples.take(real), X=without_amplitude(samples.X[real]))
        result["real_kinematics_only"] = summarise(p_kinematic[real], stripped)
    result["all"] = summarise(p, samples)
    if p_kinematic is not None:
        for part, rows in (("real", real), ("all", np.ones_like(real))):
            result[part]["by_amplitude_10s"]["with_rcs_removed"] = _rcs_removed(
                samples, p_kinematic, rows
            )
    return {**result, "sources": sources, "classes": list(CLASSES)}


def _rcs_removed(samples: Samples, p_kinematic: FloatArray, rows: np.ndarray) -> dict:
    """The paired comparison for ``with_rcs``: the same samples at 10 s (those of ``rows``
    that carry RCS), predicted with their RCS features removed. ``without_rcs`` holds other
    chunks (other trajectories), so only this pair says what amplitude adds."""
    k = rows & at_age(samples.age, 10.0) & np.isfinite(samples.X[:, RCS_COLUMNS[0]])
    pred = np.argmax(p_kinematic[k], axis=1)
    return {"n": int(k.sum()), "balanced_accuracy": balanced_accuracy(samples.y[k], pred)}


def evaluate_classifier(out_png: Path, shared_data: Path) -> dict[str, object]:
    """Classify the held-out split with the shipped model; write the reliability PNG.

    Returns the metrics of :func:`evaluate_samples`, ``decision`` (the label policy per data
    source, :func:`skywarden.classify.heldout_decision.decision_by_source`) and
    ``reliability_png``. The held-out
    split is rebuilt from ``shared_data`` (the real recordings) and the simulator, seeded, so
    the numbers are reproducible.
    """
    from skywarden.classify.corpus import split_samples
    from skywarden.classify.heldout_decision import decision_by_source
    from skywarden.classify.model import predict_proba

    samples = split_samples(Path(shared_data), "test")
    p = predict_proba(samples.X)
    result = evaluate_samples(samples, p, predict_proba(without_amplitude(samples.X)))
    result["decision"] = decision_by_source(p, samples)
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    reliability_diagram(p, samples.y, out_png, "held-out split (real + simulated)")
    result["reliability_png"] = str(out_png)
    return result


def format_report(result: dict[str, object]) -> str:
    """A plain-text report of :func:`evaluate_classifier`'s result."""
    lines = []
    for part in ("real", "real_kinematics_only", "all"):
        if part not in result:
            continue
        r = result[part]
        lines.append(f"== {part} held-out samples: {r['n']} {r['class_counts']}")
        lines.append(
            f"balanced accuracy {r['balanced_accuracy']:.3f} (at 10 s: "
            f"{r['balanced_accuracy_10s']:.3f}); ECE {r['ece']:.3f} (at 10 s: {r['ece_10s']:.3f})"
        )
        lines.append("confusion at 10 s (rows true, columns predicted: " + ", ".join(CLASSES) + ")")
        lines += ["  " + " ".join(f"{v:6d}" for v in row) for row in r["confusion_10s"]]
        ages = ", ".join(
            f"{k}: {v['accuracy']:.3f} (bal {v['balanced_accuracy']:.3f}, n={v['n']})"
            for k, v in r["by_age"].items()
        )
        lines.append(f"accuracy vs track age: {ages}")
        noise = ", ".join(
            f"{k}: {v['balanced_accuracy']:.3f} (n={v['n']})" for k, v in r["by_noise_10s"].items()
        )
        lines.append(f"balanced accuracy at 10 s vs radar noise (1-sigma per axis): {noise}")
        amp = ", ".join(
            f"{k}: {v['balanced_accuracy']:.3f} (n={v['n']})"
            for k, v in r["by_amplitude_10s"].items()
        )
        lines.append(
            "balanced accuracy at 10 s with / without radar amplitude (with_rcs_removed: the"
            f" with_rcs samples, their RCS features removed): {amp}"
        )
    if "decision" in result:
        from skywarden.classify.heldout_decision import format_decision

        lines += format_decision(result["decision"])
    if "reliability_png" in result:
        lines.append(f"reliability diagram: {result['reliability_png']}")
    return "\n".join(lines)
