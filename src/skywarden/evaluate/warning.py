"""Warning metrics on simulated scenarios: lead time per drone, missed drones, false alerts.

:func:`run_scenario_pipeline` feeds a scenario's detections scan by scan into a
:class:`~skywarden.pipeline.Pipeline` (scenario time shifted to POSIX seconds) and records, per
tick, which confirmed track is near which truth target and which truth targets each live alert
covers. :func:`warning_metrics` turns that into per-target and total numbers:

- **Entry** of a target: its first truth state inside a zone of role 'protected'.
- **Covered**: at a tick, a target is covered by a live (not cleared) alert when one of the
  alert's tracks (its current track and the tracks of its anonymous object keys) is associated
  with the target (one-to-one nearest neighbour within ``gate_m``), or, when none of them is
  associated with any target, when the alert's position is within the gate of the target.
- **Alerted at**: the first tick an alert of the zone it enters covered the target. **Lead** =
  entry - alerted at (> 0: warned before entry); **available** = entry - its first detection;
  **ratio** = max(lead, 0) / available. **Lead in force**: entry - start of the unbroken run of
  covered ticks that reaches the entry tick (an alert raised on the way in may clear while the
  drone loiters and be raised again for the dive); NaN when no alert covered it at entry.
- **Alert episode**: one alert id from its raise (or re-opening) until it clears. It is
  attributed to every target it covered; its class is that of the first target it covered
  ('none': clutter or nothing). A **false alert** is an episode that covered no drone.

Times in the results are scenario seconds.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from scipy.optimize import linear_sum_assignment

from skywarden.classify.trained import Classifier, identity_and_speed_classes
from skywarden.evaluate.demo_site import (
    default_demo_site,
    scenario_classifier,
)
from skywarden.pipeline import Pipeline
from skywarden.simulate import Scenario, build_scenario
from skywarden.site_config import SiteConfig
from skywarden.units import BoolArray, FloatArray, IntArray
from skywarden.warn import AlertState, Zone, inside
from skywarden.warn.alerts import TRACK_KEY_TAG, Alert

GATE_M = 50.0  # track <-> truth association gate, metres
START_POSIX = 1_750_000_000.0  # POSIX time of scenario t = 0 (as simulate.emit_site.SiteSetup)
NO_TRUTH = -1
_KEY_MASK = (1 << 60) - 1

# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class WarningRun:
    """What one pipeline run over a scenario left behind (times in scenario seconds).

    Attributes:
        start_posix: POSIX time of scenario t = 0. times: (S,) tick times.
        alerts: the latest version of every alert ever raised, by id.
        pair_scan, pair_track, pair_truth: (P,) per tick, confirmed track id <-> truth id.
        cover_scan, cover_alert, cover_truth: (C,) per tick and live alert, a truth id it
            covers (one row per covered truth; one row with NO_TRUTH when it covers none);
            cover_raised: (C,) the raise time of the alert's episode; cover_zone: (C,) zone ids.
        zones: the pipeline's zones; classifier: the classifier's name.
        pair_class: (P,) the track's TargetClass value at that tick; pair_age_s: (P,) seconds
            since the track was first shown (confirmed) at that tick.
    """

    start_posix: float
    times: FloatArray
    alerts: tuple[Alert, ...]
    pair_scan: IntArray
    pair_track: IntArray
    pair_truth: IntArray
    cover_scan: IntArray
    cover_alert: IntArray
    cover_truth: IntArray
    cover_raised: FloatArray
    cover_zone: np.ndarray
    zones: tuple[Zone, ...] = field(repr=False)
    classifier: str = "identity_and_speed"
    pair_class: IntArray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    pair_age_s: FloatArray = field(default_factory=lambda: np.zeros(0), repr=False)


def associate(
    track_pos: FloatArray, truth_pos: FloatArray, gate_m: float = GATE_M
) -> tuple[IntArray, IntArray]:
    """One-to-one association of tracks (N, 3) and truths (M, 3) within ``gate_m`` metres,
    minimising the summed distance; returns the matched (track rows, truth rows)."""
    if track_pos.shape[0] == 0 or truth_pos.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    d = np.linalg.norm(track_pos[:, None, :] - truth_pos[None, :, :], axis=2)
    rows, cols = linear_sum_assignment(np.where(d <= gate_m, d, 1e9))
    ok = d[rows, cols] <= gate_m
    return rows[ok].astype(np.int64), cols[ok].astype(np.int64)


def alert_tracks(alert: Alert) -> list[int]:
    """The track ids an alert follows: its current track and its anonymous object keys."""
    ids = {alert.track_id}
    ids.update(k & _KEY_MASK for k in alert.object_keys if (k >> 60) == TRACK_KEY_TAG)
    return sorted(ids)


def _covered(
    alert: Alert, track_truth: dict[int, int], truth_id: IntArray, truth_pos: FloatArray,
    gate_m: float,
) -> list[int]:  # fmt: skip
    """Truth ids one live alert covers at a tick (by its tracks, else by its position)."""
    found = sorted({track_truth[k] for k in alert_tracks(alert) if k in track_truth})
    if found or truth_id.size == 0:
        return found
    d = np.linalg.norm(truth_pos - np.asarray(alert.position), axis=1)
    k = int(np.argmin(d))
    return [int(truth_id[k])] if d[k] <= gate_m else []


def run_scenario_pipeline(
    scenario: Scenario,
    config: SiteConfig,
    *,
    start_posix: float = START_POSIX,
    classifier: Classifier = identity_and_speed_classes,
    classifier_name: str = "identity_and_speed",
    gate_m: float = GATE_M,
    progress: Callable[[int, int], None] | None = None,
) -> WarningRun:
    """Run a pipeline built from ``config`` over every scan of ``scenario`` (one tick per
    scan, closing the scan; the clock is the scenario time) and record the alerts and the
    track <-> truth association. ``progress(done, total)`` is called after each scan."""
    clock = [start_posix + float(scenario.times[0])]
    pipe = Pipeline(config, classifier=classifier, clock=lambda: clock[0])
    alerts: dict[int, Alert] = {}
    pairs: list[tuple[int, int, int]] = []
    labels: list[tuple[int, float]] = []  # per pair: class value, track age s
    first_seen: dict[int, float] = {}
    cover: list[tuple[int, int, int, float, str]] = []
    for s, t in enumerate(scenario.times.tolist()):
        clock[0] = start_posix + t
        d = scenario.detections_at(s)
        d = replace(d, t=d.t + start_posix)
        snapshot, _ = pipe.process(clock[0], d, end_of_scan=True)
        truth_id, truth_state = scenario.truth_at(s)
        rows, cols = associate(snapshot.tracks.enu[:, :3], truth_state[:, :3], gate_m)
        ids = snapshot.tracks.id[rows].tolist()
        track_truth = dict(zip(ids, truth_id[cols].tolist(), strict=True))
        pairs += [(s, k, v) for k, v in track_truth.items()]
        for k in snapshot.tracks.id.tolist():
            first_seen.setdefault(k, t)
        shown_class = snapshot.tracks.target_class[rows].tolist()
        labels += [(c, t - first_seen[k]) for k, c in zip(ids, shown_class, strict=True)]
        for alert in pipe.book.alerts:
            alerts[alert.id] = alert
            if alert.state != AlertState.CLEARED:
                hits = _covered(alert, track_truth, truth_id, truth_state[:, :3], gate_m)
                raised = alert.t_raised - start_posix
                cover += [(s, alert.id, h, raised, alert.zone_id) for h in hits or [NO_TRUTH]]
        if progress is not None:
            progress(s + 1, scenario.n_scans)
    p = np.array(pairs, dtype=np.int64).reshape(-1, 3)
    c = np.array([row[:3] for row in cover], dtype=np.int64).reshape(-1, 3)
    return WarningRun(
        start_posix=start_posix,
        times=np.asarray(scenario.times, dtype=np.float64),
        alerts=tuple(alerts[k] for k in sorted(alerts)),
        pair_scan=p[:, 0],
        pair_track=p[:, 1],
        pair_truth=p[:, 2],
        cover_scan=c[:, 0],
        cover_alert=c[:, 1],
        cover_truth=c[:, 2],
        cover_raised=np.array([row[3] for row in cover], dtype=np.float64),
        cover_zone=np.array([row[4] for row in cover], dtype=object),
        zones=tuple(pipe.zones),
        classifier=classifier_name,
        pair_class=np.array([c for c, _ in labels], dtype=np.int64),
        pair_age_s=np.array([a for _, a in labels], dtype=np.float64),
    )


# --------------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class TargetWarnings:
    """Per truth target (K,), scenario seconds, NaN where it does not apply (see the module
    docstring): id, target_class (str), first_detection_s, entry_s, zone_id ('' when it never
    enters), alerted_s, lead_s, available_s, ratio, lead_in_force_s."""

    id: IntArray
    target_class: np.ndarray
    first_detection_s: FloatArray
    entry_s: FloatArray
    zone_id: np.ndarray
    alerted_s: FloatArray
    lead_s: FloatArray
    available_s: FloatArray
    ratio: FloatArray
    lead_in_force_s: FloatArray


@dataclass(frozen=True)
class WarningReport:
    """Warning metrics of one scenario run (definitions in the module docstring).

    drones_alerted: entering drones covered by an alert before their entry (lead > 0);
    missed_drones: ids of entering drones that were not; median_lead_ratio: median ratio over
    entering drones (missed ones count 0); alerts_by_class: episodes by their class;
    false_alerts: episodes that covered no drone.
    """

    scenario: str
    seed: int
    classifier: str
    duration_s: float
    targets: TargetWarnings
    drones_entering: int
    drones_alerted: int
    missed_drones: IntArray
    median_lead_s: float
    median_lead_ratio: float
    alerts: int
    alerts_by_class: dict[str, int]
    alerts_by_zone: dict[str, int]
    false_alerts: int
    false_alerts_by_class: dict[str, int]

    @property
    def false_alerts_per_hour(self) -> float:
        return self.false_alerts * 3600.0 / self.duration_s if self.duration_s > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (plain types; None for NaN), entering targets listed."""
        tw = self.targets
        fields = ("first_detection_s", "entry_s", "alerted_s", "lead_s", "available_s",
                  "ratio", "lead_in_force_s")  # fmt: skip
        rows = [
            {"id": int(tw.id[k]), "class": str(tw.target_class[k]), "zone": str(tw.zone_id[k])}
            | {name: _number(getattr(tw, name)[k]) for name in fields}
            for k in np.flatnonzero(np.isfinite(tw.entry_s)).tolist()
        ]
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "classifier": self.classifier,
            "duration_s": self.duration_s,
            "drones_entering": self.drones_entering,
            "drones_alerted_before_entry": self.drones_alerted,
            "missed_drones": self.missed_drones.tolist(),
            "median_lead_s": _number(self.median_lead_s),
            "median_lead_ratio": _number(self.median_lead_ratio),
            "alerts": self.alerts,
            "alerts_by_class": dict(self.alerts_by_class),
            "alerts_by_zone": dict(self.alerts_by_zone),
            "false_alerts": self.false_alerts,
            "false_alerts_by_class": dict(self.false_alerts_by_class),
            "false_alerts_per_hour": _number(self.false_alerts_per_hour),
            "entering_targets": rows,
        }


def _number(value: float) -> float | None:
    value = float(value)
    return round(value, 3) if math.isfinite(value) else None


def _first_by_id(ids: IntArray, n: int) -> IntArray:
    """(n,) index of the first row of each id 0..n-1 in ``ids`` (-1 where absent)."""
    first = np.full(n, -1, dtype=np.int64)
    values, index = np.unique(ids, return_index=True)
    keep = (values >= 0) & (values < n)
    first[values[keep]] = index[keep]
    return first


def _entries(scenario: Scenario, zones: tuple[Zone, ...]) -> tuple[IntArray, IntArray]:
    """(K,) truth row of each target's first state inside a protected zone (-1: never), and
    (K,) that zone's index in ``zones`` (-1)."""
    protected = np.flatnonzero([z.role == "protected" for z in zones])
    now = inside([zones[j] for j in protected], scenario.truth_state[:, :3])
    rows = np.flatnonzero(now.any(axis=1))
    first = _first_by_id(scenario.truth_id[rows], scenario.n_targets)
    entered = first >= 0
    row = np.full(scenario.n_targets, -1, dtype=np.int64)
    column = np.full(scenario.n_targets, -1, dtype=np.int64)
    row[entered] = rows[first[entered]]
    column[entered] = protected[np.argmax(now[row[entered]], axis=1)]
    return row, column


def _run_starts(target: IntArray, scan: IntArray) -> IntArray:
    """For (target, scan) rows sorted by target then scan, without duplicates: the scan where
    each row's run of consecutive scans of its target starts."""
    new = np.ones(target.size, dtype=bool)
    new[1:] = (target[1:] != target[:-1]) | (scan[1:] != scan[:-1] + 1)
    return scan[np.maximum.accumulate(np.where(new, np.arange(target.size), 0))]


def target_warnings(
    scenario: Scenario, run: WarningRun, zones: tuple[Zone, ...] | None = None
) -> TargetWarnings:
    """Per target: first detection, protected-zone entry, first alert and lead times."""
    k, zones = scenario.n_targets, run.zones if zones is None else tuple(zones)
    det = _first_by_id(scenario.det_truth_id, k)
    first_det = np.where(det >= 0, scenario.det_t[np.maximum(det, 0)], np.nan)
    row, column = _entries(scenario, zones)
    entered = row >= 0
    entry = np.where(entered, scenario.truth_t[np.maximum(row, 0)], np.nan)
    entry_scan = np.where(entered, scenario.truth_scan[np.maximum(row, 0)], -1)
    zone_id = np.array([z.id for z in zones] + [""], dtype=object)[column]
    truth = run.cover_truth
    mine = (truth >= 0) & (truth < k)
    mine[mine] = run.cover_zone[mine] == zone_id[truth[mine]]
    pairs = np.unique(np.column_stack([truth[mine], run.cover_scan[mine]]), axis=0)
    alerted = np.full(k, np.inf)
    np.minimum.at(alerted, pairs[:, 0], run.times[pairs[:, 1]])
    alerted[np.isinf(alerted)] = np.nan
    starts = _run_starts(pairs[:, 0], pairs[:, 1])
    at_entry = pairs[:, 1] == entry_scan[pairs[:, 0]]
    lead_in_force = np.full(k, np.nan)
    lead_in_force[pairs[at_entry, 0]] = entry[pairs[at_entry, 0]] - run.times[starts[at_entry]]
    lead, available = entry - alerted, entry - first_det
    ratio = np.full(k, np.nan)
    ok = entered & (available > 0)
    ratio[ok] = np.maximum(np.nan_to_num(lead[ok], nan=0.0), 0.0) / available[ok]
    return TargetWarnings(
        id=np.arange(k, dtype=np.int64),
        target_class=np.asarray(scenario.target_class, dtype=object),
        first_detection_s=first_det,
        entry_s=entry,
        zone_id=zone_id,
        alerted_s=alerted,
        lead_s=lead,
        available_s=available,
        ratio=ratio,
        lead_in_force_s=lead_in_force,
    )


def alert_episodes(scenario: Scenario, run: WarningRun) -> tuple[np.ndarray, np.ndarray, BoolArray]:
    """Per alert episode (alert id, raise time), (E,) arrays: its class (that of the first
    target it covered, 'none' if none), its zone id, and whether it covered a drone."""
    if run.cover_alert.size == 0:
        return np.zeros(0, dtype=object), np.zeros(0, dtype=object), np.zeros(0, dtype=bool)
    keys = np.column_stack([run.cover_alert.astype(np.float64), run.cover_raised])
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    truth = run.cover_truth
    names = np.asarray(scenario.target_class, dtype=object)
    cls = np.where(truth >= 0, names[np.maximum(truth, 0)], "none")
    has_drone = np.zeros(first.size, dtype=bool)
    np.logical_or.at(has_drone, inverse, cls == "drone")
    label = np.full(first.size, "none", dtype=object)
    rows = np.flatnonzero(truth >= 0)
    rows = rows[np.lexsort((run.cover_scan[rows], inverse[rows]))]
    episodes, pick = np.unique(inverse[rows], return_index=True)
    label[episodes] = cls[rows[pick]]
    return label, run.cover_zone[first], has_drone


def warning_metrics(
    scenario: Scenario, run: WarningRun, zones: tuple[Zone, ...] | None = None
) -> WarningReport:
    """Per-target and total warning metrics of ``run`` (zones: default, the run's)."""
    tw = target_warnings(scenario, run, zones)
    entering = (tw.target_class == "drone") & np.isfinite(tw.entry_s)
    alerted = entering & (np.nan_to_num(tw.lead_s, nan=-1.0) > 0)
    label, zone, has_drone = alert_episodes(scenario, run)
    period = float(np.median(np.diff(run.times))) if run.times.size > 1 else 0.0
    ratios = tw.ratio[entering]
    leads = np.maximum(np.nan_to_num(tw.lead_s[entering], nan=0.0), 0.0)
    return WarningReport(
        scenario=scenario.name,
        seed=scenario.seed,
        classifier=run.classifier,
        duration_s=float(run.times[-1] - run.times[0] + period) if run.times.size else 0.0,
        targets=tw,
        drones_entering=int(entering.sum()),
        drones_alerted=int(alerted.sum()),
        missed_drones=tw.id[entering & ~alerted],
        median_lead_s=float(np.median(leads)) if leads.size else math.nan,
        median_lead_ratio=float(np.nanmedian(ratios)) if np.isfinite(ratios).any() else math.nan,
        alerts=int(label.size),
        alerts_by_class=dict(sorted(Counter(label.tolist()).items())),
        alerts_by_zone=dict(sorted(Counter(zone.tolist()).items())),
        false_alerts=int((~has_drone).sum()),
        false_alerts_by_class=dict(sorted(Counter(label[~has_drone].tolist()).items())),
    )


# --------------------------------------------------------------------------- entry points


def evaluate_scenario_warnings(
    name: str,
    seed: int,
    *,
    classifier: str = "auto",
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Simulate scenario ``name`` with ``seed``, run the pipeline on the demo site with the
    classifier (see :func:`scenario_classifier`) and return the JSON-ready warning metrics."""
    scenario = build_scenario(name, seed)
    classify, classifier_name = scenario_classifier(classifier)
    run = run_scenario_pipeline(
        scenario, default_demo_site(scenario), classifier=classify,
        classifier_name=classifier_name, progress=progress,
    )  # fmt: skip
    return warning_metrics(scenario, run).to_dict()


def _fmt(value: float | None, digits: int = 0, unit: str = "") -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def print_warning_report(result: dict[str, Any], console: Console | None = None) -> None:
    """Rich tables of :meth:`WarningReport.to_dict`: totals, then one row per entering target."""
    console = console or Console()
    r = result
    totals = Table(title=f"Warnings: {r['scenario']} (seed {r['seed']}, {r['classifier']})")
    totals.add_column("metric")
    totals.add_column("value", justify="right")
    missed = ", ".join(map(str, r["missed_drones"])) or "none"
    for label, value in [
        ("scenario time", _fmt(r["duration_s"], 0, " s")),
        ("drones entering the protected zone", str(r["drones_entering"])),
        ("... alerted before entry", str(r["drones_alerted_before_entry"])),
        ("missed drones", missed),
        ("median lead time", _fmt(r["median_lead_s"], 1, " s")),
        ("median lead / available time", _fmt(r["median_lead_ratio"], 2)),
        ("alerts (episodes)", str(r["alerts"])),
        ("alerts by class", _counts(r["alerts_by_class"])),
        ("alerts by zone", _counts(r["alerts_by_zone"])),
        ("false alerts", f"{r['false_alerts']} ({_counts(r['false_alerts_by_class'])})"),
        ("false alerts per hour", _fmt(r["false_alerts_per_hour"], 1)),
    ]:
        totals.add_row(label, value)
    console.print(totals)
    if not r["entering_targets"]:
        return
    table = Table(title="Targets entering the protected zone (scenario seconds)")
    for column in ("id", "class", "detected", "alerted", "entry", "lead", "ratio", "in force"):
        table.add_column(column, justify="right")
    for e in r["entering_targets"]:
        table.add_row(
            str(e["id"]), e["class"], _fmt(e["first_detection_s"]), _fmt(e["alerted_s"]),
            _fmt(e["entry_s"]), _fmt(e["lead_s"], 0, " s"), _fmt(e["ratio"], 2),
            _fmt(e["lead_in_force_s"], 0, " s"),
        )  # fmt: skip
    console.print(table)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"
