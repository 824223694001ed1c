"""Where a planar scenario's GOSPA comes from: start-up or steady state, and which part.

Runs the tracker in this process with the defaults of ``skywarden track`` (or fields
overridden with ``--set``, to screen a change) on one ``skywarden.simulate.planar`` scenario
(the CSV round trip included, so the tracks are the command's), and prints, for the whole
run, the scans before ``--split`` and those from it on:

- GOSPA (c = 50 m, p = 2, alpha = 2, mean over scans) and its parts: localisation (mean m^2
  per scan), missed and false (mean counts per scan);
- the localisation error of the assigned pairs per axis (mean squared, m^2: a Kalman filter
  matched to a CV target at 0.1 m/s^2, sigma 5 m, 1 s scans, reaches ~4.5 m^2 per axis);
- the missed truths split into those before their target's first assignment (birth
  latency: confirmation) and those after it (the track hidden or lost mid-life).

With ``--stonesoup FILE.npz`` the same for Stone Soup's GNN (the tracker of
``track_command_vs_stonesoup.py``), run once and its tracks kept in FILE (read back when it
exists: Stone Soup takes minutes on 1,000 dense scans).

    python benchmarks/track_gospa_parts.py [--scenario dense] [--scans 1000] [--seed 0]
        [--split 100] [--set mode_switch_rate=0.04 ...] [--stonesoup /tmp/ss-dense.npz]
"""

from __future__ import annotations

import argparse
import ast
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from skywarden.cli.track import detection_scans
from skywarden.config import tracker_params
from skywarden.evaluate.gospa import NO_MATCH, GospaSeries, gospa_over_time
from skywarden.evaluate.stonesoup_gnn import run_stonesoup
from skywarden.simulate.planar import HELD_OUT_LIKE, PlanarScenario, planar_scenario
from skywarden.tables import TrackTable, read_detections, write_detections
from skywarden.track.params import MotionModel
from skywarden.track.run import run_tracker

sys.path.insert(0, str(Path(__file__).resolve().parent))
from track_command_vs_stonesoup import SWEEP  # noqa: E402


def overrides(pairs: list[str]) -> dict[str, object]:
    """``field=value`` pairs as TrackerParams fields; a value is a Python literal, or a
    tuple of ``MotionModel(turn_rate, accel_sigma)`` for ``models``."""
    out: dict[str, object] = {}
    for pair in pairs:
        key, _, text = pair.partition("=")
        if key == "models":
            rows = ast.literal_eval(text)  # ((turn_rate, accel_sigma), ...)
            out[key] = tuple(MotionModel(float(w), float(a)) for w, a in rows)
        else:
            out[key] = ast.literal_eval(text)
    return out


def skywarden_tracks(scenario: PlanarScenario, fields: dict[str, object]) -> TrackTable:
    """The default tracker's (with ``fields`` replaced) confirmed tracks, as the command
    writes them, from the scenario's detections written to and read from a CSV."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dets.csv"
        write_detections(path, scenario.detections)
        table = read_detections(path)
    params = replace(tracker_params({}, "command line"), **fields)
    history, _ = run_tracker(detection_scans(table, params.default_sigma), params)
    return TrackTable(t=history.t, id=history.id, pos=history.x[:, :3], vel=history.x[:, 3:])


def stonesoup_tracks(scenario: PlanarScenario, cache: Path) -> TrackTable:
    """Stone Soup's tracks, from ``cache`` when it exists, else run and stored there."""
    if not cache.exists():
        s = scenario.settings
        accel = 1.0 if s.manoeuvring else max(s.accel_sigma, 0.1)
        _, tracks = run_stonesoup(scenario.detections, s.sigma, accel)
        np.savez(cache, t=tracks.t, id=tracks.id, pos=tracks.pos, vel=tracks.vel)
    z = np.load(cache)
    return TrackTable(t=z["t"], id=z["id"], pos=z["pos"], vel=z["vel"])


def axis_errors(scenario: PlanarScenario, tracks: TrackTable, g: GospaSeries, rows) -> np.ndarray:
    """Mean squared error per axis (3,) m^2 of the assigned track rows whose time is in the
    boolean truth-time mask ``rows`` (over g.t)."""
    truth = scenario.truth
    assigned = g.track_truth_id != NO_MATCH
    scan = np.clip(np.searchsorted(g.t, tracks.t - 1e-3), 0, len(g.t) - 1)
    assigned &= rows[scan]
    big = int(truth.id.max()) + 1
    t_scan = np.searchsorted(g.t, truth.t - 1e-3)
    truth_key = t_scan.astype(np.int64) * big + truth.id
    order = np.argsort(truth_key)
    want = scan[assigned].astype(np.int64) * big + g.track_truth_id[assigned]
    match = order[np.searchsorted(truth_key, want, sorter=order)]
    err = tracks.pos[assigned] - truth.pos[match]
    return np.mean(err**2, axis=0) if len(err) else np.full(3, np.nan)


def missed_split(scenario: PlanarScenario, g: GospaSeries, rows) -> tuple[int, int]:
    """Missed truth rows at the times in ``rows``: (before their target's first assignment,
    after it)."""
    truth = scenario.truth
    missed = g.truth_track_id == NO_MATCH
    first = np.full(int(truth.id.max()) + 1, np.inf)
    np.minimum.at(first, truth.id[~missed], truth.t[~missed])
    t_scan = np.clip(np.searchsorted(g.t, truth.t - 1e-3), 0, len(g.t) - 1)
    mine = missed & rows[t_scan]
    before = truth.t < first[truth.id]
    return int(np.count_nonzero(mine & before)), int(np.count_nonzero(mine & ~before))


def report(who: str, scenario: PlanarScenario, tracks: TrackTable, split: int) -> None:
    g = gospa_over_time(
        scenario.truth, tracks, c=50.0, p=2.0, alpha=2.0, score_track_only_times=True
    )
    k = np.arange(len(g))
    print(who)
    for label, rows in (
        ("all", k >= 0),
        (f"[0, {split})", k < split),
        (f"[{split}, end)", k >= split),
    ):
        if not rows.any():
            continue
        mse = axis_errors(scenario, tracks, g, rows)
        latency, mid_life = missed_split(scenario, g, rows)
        print(
            f"  scans {label:<12} GOSPA {g.distance[rows].mean():6.2f}  loc "
            f"{g.localisation[rows].mean():7.1f} m^2  missed {g.missed[rows].mean():5.2f}  false "
            f"{g.false[rows].mean():5.2f}  | pair error m^2 per axis {mse[0]:5.2f} {mse[1]:5.2f} "
            f"{mse[2]:5.2f} | missed rows: {latency} before first assignment, {mid_life} after"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="dense")
    parser.add_argument("--scans", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split", type=int, default=100, help="start-up: scans before this")
    parser.add_argument("--set", nargs="*", default=[], help="TrackerParams field=value")
    parser.add_argument("--stonesoup", type=Path, help="npz of Stone Soup's tracks (made once)")
    opts = parser.parse_args()
    settings = replace({**HELD_OUT_LIKE, **SWEEP}[opts.scenario], n_scans=opts.scans)
    scenario = planar_scenario(settings, opts.seed)
    fields = overrides(opts.set)
    start = time.process_time()
    tracks = skywarden_tracks(scenario, fields)
    cpu = time.process_time() - start
    print(f"{opts.scenario}, seed {opts.seed}, {opts.scans} scans; overrides {fields or 'none'}")
    report(f"skywarden ({cpu:.1f} s CPU)", scenario, tracks, opts.split)
    if opts.stonesoup is not None:
        report("Stone Soup GNN", scenario, stonesoup_tracks(scenario, opts.stonesoup), opts.split)


if __name__ == "__main__":
    main()
