"""skywarden's tracker against Stone Soup's GNN tracker on the same scenario, in one run.

Scenario ``bench``: 100 constant-velocity targets with births and deaths, Pd 0.9, 100 clutter
points per scan, sigma 5 m, 100 scans. Both trackers use a constant-velocity Kalman filter with
the same process noise, chi-square gating, global-nearest-neighbour 2-D assignment and
3-scan confirmation; Stone Soup gates with its KD-tree associator (DetectionKDTreeGNN2D):
the peer of :mod:`skywarden.evaluate.stonesoup_gnn`, as in track_command_vs_stonesoup.py.
Prints time per scan, the speed ratio and both GOSPA values (c = 50 m, p = 2, alpha = 2).
Then a scale run: skywarden's time per scan at 1k / 10k / 100k targets, with the allocator
policy every ``skywarden`` command sets (:mod:`skywarden.allocator`: big freed blocks are
reused, not faulted in again each scan), wall and CPU time per scan.

Single core: thread pools are pinned to one thread before NumPy is imported.

    python benchmarks/track_vs_stonesoup.py [--seed 0] [--skip-scale] [--skip-stonesoup]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from skywarden.detections import make_detections  # noqa: E402
from skywarden.evaluate.gospa import gospa_over_time  # noqa: E402
from skywarden.evaluate.stonesoup_gnn import (  # noqa: E402
    CONFIRM_POINTS,
    GATE_PROBABILITY,
    MAX_MISSES,
    run_stonesoup,
)
from skywarden.simulate import build_scenario  # noqa: E402
from skywarden.tables import DetectionTable, TrackTable, Truth  # noqa: E402
from skywarden.track.params import MotionModel, TrackerParams  # noqa: E402
from skywarden.track.step import new_tracks, step  # noqa: E402


def truth_table(scenario) -> Truth:
    s = scenario.truth_state
    return Truth(t=scenario.truth_t, id=scenario.truth_id, pos=s[:, :3], vel=s[:, 3:])


def scan_batches(scenario):
    """(t, rows) per scan, including scans with no detections."""
    for k, t in enumerate(scenario.times):
        yield float(t), np.flatnonzero(scenario.scan_index == k)


def skywarden_params(scenario, accel_sigma: float, models: str = "cv") -> TrackerParams:
    sensor = scenario.sensor_params
    chosen = (
        (MotionModel(0.0, accel_sigma),)
        if models == "cv"
        else (
            MotionModel(0.0, accel_sigma),
            MotionModel(0.1, 2 * accel_sigma),
            MotionModel(-0.1, 2 * accel_sigma),
        )
    )
    return TrackerParams(
        models=chosen,
        pd=min(sensor.pd, 0.99),
        clutter_density=max(sensor.clutter_density, 1e-15),
        gate_probability=GATE_PROBABILITY,
        initial_speed_sigma=40.0,
        initial_vertical_speed_sigma=10.0,
        confirm_m=CONFIRM_POINTS,
        confirm_n=CONFIRM_POINTS + 1,
        max_coast_s=MAX_MISSES * sensor.scan_period,
    )


def run_skywarden(scenario, params: TrackerParams, cpu: list[float] | None = None):
    """Returns (seconds per scan for each scan, TrackTable of confirmed tracks); the CPU
    seconds of each scan are appended to ``cpu`` if given."""
    batches = [
        (
            t,
            make_detections(
                t,
                scenario.det_z[rows],
                scenario.det_sigma[rows][:, None, None]
                * np.eye(3)[None]
                * scenario.det_sigma[rows][:, None, None],
            ),
        )
        for t, rows in scan_batches(scenario)
    ]
    tracks = new_tracks(params, batches[0][0])
    times, out_t, out_id, out_x = [], [], [], []
    for t, dets in batches:
        t0, c0 = time.perf_counter(), time.process_time()
        tracks, _ = step(tracks, dets, t, params)
        times.append(time.perf_counter() - t0)
        if cpu is not None:
            cpu.append(time.process_time() - c0)
        shown = tracks.confirmed
        out_t.append(np.full(int(shown.sum()), t))
        out_id.append(tracks.id[shown])
        out_x.append(tracks.x[shown])
    x = np.concatenate(out_x)
    table = TrackTable(
        t=np.concatenate(out_t), id=np.concatenate(out_id), pos=x[:, :3], vel=x[:, 3:]
    )
    return np.array(times), table


def detection_table(scenario) -> DetectionTable:
    """The scenario's detections as the table Stone Soup's peer reads (sorted by time)."""
    return DetectionTable(t=scenario.det_t, pos=scenario.det_z, sigma=scenario.det_sigma)


def mean_gospa(truth: Truth, tracks: TrackTable) -> tuple[float, float, float, float]:
    """Mean GOSPA (m) and mean localisation / missed / false counts over the scans."""
    s = gospa_over_time(truth, tracks, c=50.0, p=2.0, alpha=2.0)
    return (
        float(np.mean(s.distance)),
        float(np.mean(s.localisation)),
        float(np.mean(s.missed)),
        float(np.mean(s.false)),
    )


def compare(seed: int, skip_stonesoup: bool) -> None:
    scenario = build_scenario("bench", seed)
    accel = float(np.median(scenario.target_accel_sigma))
    truth = truth_table(scenario)
    n_det = scenario.det_t.size
    print(
        f"scenario bench (seed {seed}): {np.unique(scenario.truth_id).size} targets, "
        f"{scenario.times.size} scans, {n_det} detections, accel sigma {accel:g} m/s^2"
    )
    sky_times, sky_tracks = run_skywarden(scenario, skywarden_params(scenario, accel))
    imm_times, imm_tracks = run_skywarden(scenario, skywarden_params(scenario, accel, "imm"))
    rows = [
        ("skywarden (CV)", sky_times, mean_gospa(truth, sky_tracks)),
        ("skywarden (IMM CV+CT)", imm_times, mean_gospa(truth, imm_tracks)),
    ]
    if not skip_stonesoup:
        sigma = float(np.median(scenario.det_sigma))
        (ss_wall, _), ss_tracks = run_stonesoup(detection_table(scenario), sigma, accel)
        ss_times = np.array([ss_wall / scenario.times.size])  # its mean over the scans
        rows.append(("Stone Soup GNN (CV)", ss_times, mean_gospa(truth, ss_tracks)))
    print(
        f"\n{'tracker':<24}{'ms/scan':>10}{'GOSPA m':>10}{'loc m^2':>10}{'missed':>8}{'false':>8}"
    )
    for name, times, (g, loc, missed, false) in rows:
        ms = times.mean() * 1e3
        print(f"{name:<24}{ms:>10.3f}{g:>10.2f}{loc:>10.1f}{missed:>8.2f}{false:>8.2f}")
    if not skip_stonesoup:
        ss_ms = rows[2][1].mean()
        for name, times, (g, *_rest) in rows[:2]:
            better = "equal or lower" if g <= rows[2][2][0] + 1e-9 else "HIGHER"
            print(
                f"speed-up {name} vs Stone Soup: {ss_ms / times.mean():.0f}x; GOSPA {better} "
                f"({g:.2f} vs {rows[2][2][0]:.2f} m)"
            )


def scale(sizes: list[int], seed: int) -> None:
    from skywarden.allocator import recycle_large_allocations

    recycled = recycle_large_allocations()
    print(
        "\nscale run (one core, skywarden IMM CV+CT, steady state = median of scans 5..end; "
        f"big blocks recycled: {recycled}; load average {os.getloadavg()[0]:.1f})"
    )
    head = ("targets", "detections/scan", "ms/scan median", "ms/scan max", "cpu ms median")
    print("".join(f"{h:>{w}}" for h, w in zip(head, (9, 17, 16, 13, 15), strict=True)))
    for n in sizes:
        scenario = build_scenario(f"scale-{n}", seed)
        params = skywarden_params(scenario, float(np.median(scenario.target_accel_sigma)), "imm")
        cpu: list[float] = []
        times, tracks = run_skywarden(scenario, params, cpu)
        steady = times[5:] if times.size > 6 else times
        steady_cpu = cpu[5:] if len(cpu) > 6 else cpu
        per_scan = scenario.det_t.size / scenario.times.size
        print(
            f"{n:>9}{per_scan:>17.0f}{np.median(steady) * 1e3:>16.1f}{steady.max() * 1e3:>13.1f}"
            f"{np.median(steady_cpu) * 1e3:>15.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-stonesoup", action="store_true")
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    compare(args.seed, args.skip_stonesoup)
    if not args.skip_scale:
        scale([int(s) for s in args.sizes.split(",")], args.seed)


if __name__ == "__main__":
    main()
