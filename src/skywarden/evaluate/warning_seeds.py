"""Warning effectiveness over many seeds: ``skywarden evaluate --scenario NAME --seeds A-B``.

Each seed runs the full pipeline (tracker, trained classifier, rules, alerts) over the
scenario on the demo site (:func:`skywarden.evaluate.demo_site.default_demo_site`), one seed per
process (``jobs``). Definitions follow :mod:`skywarden.evaluate.warning`; here, per **threat
class** (a drone's simulator kind: ``hover``, ``loiter``, ``patrol``, ``cv``, ``climb``,
``munition``, ...):

* **alerted before entry**: of the drones whose truth enters the protected zone, those an
  alert of that zone covered before the entry (lead > 0); the fraction with its 95 % Wilson
  score interval.
* **lead time**: the 5th / 25th / 50th / 75th / 95th percentiles of the lead (s) of the
  entering drones (a missed drone counts as lead 0).
* **false alerts per hour by cause**: alert episodes that covered no drone, by the class of
  the first target they covered: bird, aircraft, ground traffic (class ``vehicle``: the
  simulator has none yet, so this stays 0) or clutter (covered no target at all), per hour
  of scenario time summed over the seeds.
* **class confusion after 10 s**: per scan, every confirmed track associated with a truth
  target (one-to-one within 50 m) from 10 s after it was first shown: truth class (drones by
  kind) x label. From it, the issue's per-scan targets: non-drones labelled drone (count),
  drones labelled drone or unknown on at least 95 % of their scans (fraction of drones),
  drone scans labelled drone (fraction), and the birds (truth targets with a scan from 10 s)
  labelled bird on more than half of their scans, and labelled drone on any.

:func:`tradeoff_png` plots, for several ``decision_confidence`` values, the drones alerted
before entry against false alerts per hour and drone scans labelled bird or aircraft.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from skywarden.classify.decision import DEFAULT_DECISION_CONFIDENCE
from skywarden.errors import ConfigError
from skywarden.evaluate.demo_site import PROTECTED_RADIUS_M, default_demo_site, trained_classifier
from skywarden.evaluate.warning import alert_episodes, run_scenario_pipeline, target_warnings
from skywarden.simulate import build_scenario
from skywarden.snapshot import CLASS_NAMES

CONFUSION_AGE_S = 10.0
LEAD_PERCENTILES = (5, 25, 50, 75, 95)
CAUSES = ("bird", "aircraft", "ground traffic", "clutter")
WILSON_Z = 1.959963984540054  # two-sided 95 %
MAX_SEEDS = 100_000


def parse_seeds(text: str) -> range:
    """'A-B' (inclusive) or 'A' -> the seeds; ConfigError on anything else."""
    lo, sep, hi = str(text).strip().partition("-")
    if not lo.isdigit() or (sep and not hi.isdigit()):
        raise ConfigError(f"--seeds must look like A-B (e.g. 0-99), not {text!r}")
    a, b = int(lo), int(hi) if sep else int(lo)
    if b < a or b - a + 1 > MAX_SEEDS:
        raise ConfigError(f"--seeds {text!r}: need A <= B and at most {MAX_SEEDS} seeds")
    return range(a, b + 1)


def wilson_interval(k: int, n: int, z: float = WILSON_Z) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion k / n; (0, 1) for n = 0."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def seed_result(
    name: str, seed: int, decision_confidence: float = DEFAULT_DECISION_CONFIDENCE
) -> dict[str, Any]:
    """One seed's raw outcome (plain types, picklable): entering drones (kind, lead_s),
    false-alert causes, per-target scan label counts from CONFUSION_AGE_S of track age."""
    scenario = build_scenario(name, seed)
    circle = np.array([[0.0, 0.0, PROTECTED_RADIUS_M]])
    classifier = trained_classifier(circle, decision_confidence=decision_confidence)
    run = run_scenario_pipeline(
        scenario, default_demo_site(scenario), classifier=classifier, classifier_name="trained"
    )
    tw = target_warnings(scenario, run)
    kinds = np.asarray(scenario.target_kind, dtype=object)
    entering = (tw.target_class == "drone") & np.isfinite(tw.entry_s)
    label, _, has_drone = alert_episodes(scenario, run)
    causes = [_cause(str(c)) for c in label[~has_drone]]
    late = run.pair_age_s >= CONFUSION_AGE_S
    scans: dict[int, Counter] = {}
    for truth, cls in zip(
        run.pair_truth[late].tolist(), run.pair_class[late].tolist(), strict=True
    ):
        scans.setdefault(truth, Counter())[CLASS_NAMES[cls]] += 1
    period = float(np.median(np.diff(run.times))) if run.times.size > 1 else 0.0
    return {
        "seed": int(seed),
        "duration_s": float(run.times[-1] - run.times[0] + period) if run.times.size else 0.0,
        "entering": [
            (str(kinds[k]), _finite(tw.lead_s[k])) for k in np.flatnonzero(entering).tolist()
        ],
        "false_alerts": causes,
        "targets": [
            (str(scenario.target_class[k]), str(kinds[k]), dict(c)) for k, c in scans.items()
        ],
    }


def _cause(label: str) -> str:
    return {"none": "clutter", "vehicle": "ground traffic"}.get(label, label)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(float(value)) else None


def run_seeds(
    name: str,
    seeds: Sequence[int],
    *,
    jobs: int = 1,
    decision_confidence: float = DEFAULT_DECISION_CONFIDENCE,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """:func:`seed_result` for every seed, ``jobs`` processes at a time (1: in this one)."""
    build_scenario(name, int(seeds[0]) if len(seeds) else 0, n_scans=2)  # a bad name fails here
    out: list[dict[str, Any]] = []
    if jobs <= 1:
        for seed in seeds:
            out.append(seed_result(name, int(seed), decision_confidence))
            if progress is not None:
                progress(len(out), len(seeds))
        return out
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(seed_result, name, int(s), decision_confidence) for s in seeds]
        for future in futures:
            out.append(future.result())
            if progress is not None:
                progress(len(out), len(seeds))
    return out


def summarise(
    results: Sequence[dict[str, Any]], name: str = "", confidence: float = math.nan
) -> dict[str, Any]:
    """The per-threat-class report (module docstring) of :func:`run_seeds` results."""
    hours = sum(r["duration_s"] for r in results) / 3600.0
    entering = [e for r in results for e in r["entering"]]
    threats: dict[str, Any] = {}
    for kind in sorted({k for k, _ in entering}) + ["all drones"]:
        leads = [lead for k, lead in entering if kind in (k, "all drones")]
        n = len(leads)
        alerted = sum(1 for lead in leads if lead is not None and lead > 0)
        lo, hi = wilson_interval(alerted, n)
        values = np.array([max(lead or 0.0, 0.0) for lead in leads]) if n else np.zeros(0)
        pct = np.percentile(values, LEAD_PERCENTILES).round(1).tolist() if n else []
        threats[kind] = {
            "entering": n,
            "alerted_before_entry": alerted,
            "fraction": alerted / n if n else None,
            "wilson_95": [lo, hi],
            "lead_s_percentiles": dict(
                zip(map(str, LEAD_PERCENTILES[: len(pct)]), pct, strict=True)
            ),
        }
    causes = Counter(c for r in results for c in r["false_alerts"])
    per_hour = {c: causes.get(c, 0) / hours if hours > 0 else math.nan for c in CAUSES}
    confusion: dict[str, Counter] = {}
    for r in results:
        for cls, kind, counts in r["targets"]:
            key = f"drone/{kind}" if cls == "drone" else cls
            confusion.setdefault(key, Counter()).update(counts)
    return {
        "scenario": name,
        "seeds": [int(r["seed"]) for r in results],
        "decision_confidence": confidence,
        "hours": hours,
        "threats": threats,
        "false_alerts": dict(causes),
        "false_alerts_per_hour": per_hour,
        "false_alerts_per_hour_bird_aircraft_ground": sum(
            per_hour[c] for c in ("bird", "aircraft", "ground traffic")
        ),
        "confusion_after_10s": {k: dict(v) for k, v in sorted(confusion.items())},
        "scan_targets": scan_targets(results),
    }


def scan_targets(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The issue's per-scan targets from CONFUSION_AGE_S of track age (module docstring)."""
    non_drone_as_drone = 0
    drone_scans = drone_as_drone = drones = drones_ok = 0
    birds = birds_mostly_bird = birds_ever_drone = 0
    for r in results:
        for cls, _, counts in r["targets"]:
            n = sum(counts.values())
            if cls == "bird" and n:
                birds += 1
                birds_mostly_bird += counts.get("bird", 0) > 0.5 * n
                birds_ever_drone += counts.get("drone", 0) > 0
            if cls != "drone":
                non_drone_as_drone += counts.get("drone", 0)
                continue
            drones += 1
            drone_scans += n
            drone_as_drone += counts.get("drone", 0)
            drones_ok += counts.get("drone", 0) + counts.get("unknown", 0) >= 0.95 * n
    return {
        "non_drone_scans_labelled_drone": non_drone_as_drone,
        "drones": drones,
        "drones_drone_or_unknown_on_95pct_of_scans": drones_ok,
        "drone_scans": drone_scans,
        "drone_scan_fraction_drone": drone_as_drone / drone_scans if drone_scans else None,
        "birds": birds,
        "birds_bird_on_most_scans": birds_mostly_bird,
        "birds_drone_on_any_scan": birds_ever_drone,
    }


def markdown(report: dict[str, Any]) -> str:
    """A markdown table of one :func:`summarise` report (for docs/)."""
    seeds = report["seeds"]
    span = f"{min(seeds)}-{max(seeds)}" if seeds else "none"
    lines = [
        f"### `{report['scenario']}`, seeds {span} ({len(seeds)} seeds, "
        f"{report['hours']:.1f} h), decision_confidence {report['decision_confidence']}",
        "",
        "| threat class | entering | alerted before entry | 95 % interval "
        "| lead s p5 / p25 / p50 / p75 / p95 |",
        "|---|---|---|---|---|",
    ]  # fmt: skip
    for kind, t in report["threats"].items():
        frac = "-" if t["fraction"] is None else f"{t['fraction']:.3f}"
        lo, hi = t["wilson_95"]
        leads = " / ".join(f"{v:.0f}" for v in t["lead_s_percentiles"].values()) or "-"
        lines.append(
            f"| {kind} | {t['entering']} | {t['alerted_before_entry']} ({frac}) | "
            f"{lo:.3f}-{hi:.3f} | {leads} |"
        )
    fa = report["false_alerts_per_hour"]
    lines += ["", "| false alerts per hour | " + " | ".join(CAUSES) + " |",
              "|---|" + "---|" * len(CAUSES),
              "| | " + " | ".join(f"{fa[c]:.2f}" for c in CAUSES) + " |", ""]  # fmt: skip
    labels = ("drone", "unknown", "bird", "aircraft")
    lines += ["| truth \\ label (scans from 10 s) | " + " | ".join(labels) + " |",
              "|---|" + "---|" * len(labels)]  # fmt: skip
    for key, counts in report["confusion_after_10s"].items():
        lines.append(f"| {key} | " + " | ".join(str(counts.get(k, 0)) for k in labels) + " |")
    st = report["scan_targets"]
    frac = st["drone_scan_fraction_drone"]
    lines += [
        "",
        f"- non-drone scans labelled drone: {st['non_drone_scans_labelled_drone']}",
        f"- drones labelled drone or unknown on >= 95 % of their scans: "
        f"{st['drones_drone_or_unknown_on_95pct_of_scans']} of {st['drones']}",
        f"- drone scans labelled drone: {'-' if frac is None else f'{frac:.3f}'}",
        f"- birds labelled bird on most of their scans: {st['birds_bird_on_most_scans']} of "
        f"{st['birds']}; labelled drone on any scan: {st['birds_drone_on_any_scan']}",
        "",
    ]
    return "\n".join(lines)


def tradeoff_png(reports: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """PNG of the decision-confidence trade-off over reports of one scenario at several
    ``decision_confidence`` values: drones alerted before entry, drone scans labelled bird or
    aircraft, and false alerts per hour (birds, aircraft, ground traffic)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reports = sorted(reports, key=lambda r: r["decision_confidence"])
    c = [r["decision_confidence"] for r in reports]
    alerted = [r["threats"]["all drones"]["fraction"] or 0.0 for r in reports]
    false = [r["false_alerts_per_hour_bird_aircraft_ground"] for r in reports]
    wrong = [_drone_scans_wrong(r) for r in reports]
    fig, left = plt.subplots(figsize=(7, 4.5))
    left.plot(c, alerted, "o-", label="drones alerted before entry")
    left.plot(c, wrong, "s-", label="drone scans labelled bird/aircraft")
    left.set_xlabel("decision_confidence")
    left.set_ylabel("fraction")
    left.set_ylim(0, 1.02)
    right = left.twinx()
    right.plot(c, false, "^--", color="tab:red", label="false alerts / h (bird, aircraft, ground)")
    right.set_ylabel("false alerts per hour")
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    left.legend(handles=handles, loc="lower left", fontsize=8)
    seeds = reports[0]["seeds"] if reports else []
    left.set_title(f"{reports[0]['scenario'] if reports else ''}: {len(seeds)} seeds")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _drone_scans_wrong(report: dict[str, Any]) -> float:
    n = wrong = 0
    for key, counts in report["confusion_after_10s"].items():
        if key.startswith("drone/"):
            n += sum(counts.values())
            wrong += counts.get("bird", 0) + counts.get("aircraft", 0)
    return wrong / n if n else 0.0


def parse_confidences(text: str | None) -> list[float]:
    """'0.5' or '0.5,0.6,0.7' -> values in [0.25, 1]; None -> [the default]."""
    if text is None:
        return [DEFAULT_DECISION_CONFIDENCE]
    try:
        values = [float(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"--decision-confidence must be numbers, not {text!r}") from None
    if not values or not all(0.25 <= v <= 1.0 for v in values):
        raise ConfigError(f"--decision-confidence values must be in [0.25, 1], not {text!r}")
    return values


def evaluate_seeds_command(
    name: str, seeds_text: str, jobs: int, confidences_text: str | None,
    out: Path | None, as_json: bool,
) -> int:  # fmt: skip
    """``skywarden evaluate --scenario NAME --seeds A-B``: run, print and (with ``out``) write
    report.json, report.md and, for more than one confidence, tradeoff.png."""
    import json

    from rich.console import Console
    from rich.progress import Progress

    seeds = parse_seeds(seeds_text)
    confidences = parse_confidences(confidences_text)
    if jobs < 1:
        raise ConfigError("--jobs must be at least 1")
    reports = []
    with Progress(transient=True) as bar:
        for c in confidences:
            task = bar.add_task(f"{name} at {c}", total=len(seeds))
            results = run_seeds(
                name, seeds, jobs=jobs, decision_confidence=c,
                progress=lambda done, total, task=task: bar.update(task, completed=done),
            )  # fmt: skip
            reports.append(summarise(results, name, c))
    text = "\n".join(markdown(r) for r in reports)
    if as_json:
        print(json.dumps(reports if len(reports) > 1 else reports[0], indent=2))
    else:
        Console().print(text)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(json.dumps(reports, indent=2))
        (out / "report.md").write_text(text)
        if len(reports) > 1:
            tradeoff_png(reports, out / "tradeoff.png")
    return 0
