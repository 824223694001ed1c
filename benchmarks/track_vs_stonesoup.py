"""skywarden's tracker against Stone Soup's GNN tracker on the same scenario, in one run.

Scenario ``bench``: 100 constant-velocity targets with births and deaths, Pd 0.9, 100 clutter
points per scan, sigma 5 m, 100 scans. Both trackers use a constant-velocity Kalman filter with
the same process noise, chi-square gating, global-nearest-neighbour 2-D assignment and
3-scan confirmation; Stone Soup gates with its KD-tree associator (DetectionKDTreeGNN2D).
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
import datetime  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from scipy.stats import chi2  # noqa: E402

from skywarden.detections import make_detections  # noqa: E402
from skywarden.evaluate.gospa import gospa_over_time  # noqa: E402
from skywarden.simulate import build_scenario  # noqa: E402
from skywarden.tables import TrackTable, Truth  # noqa: E402
from skywarden.track.params import MotionModel, TrackerParams  # noqa: E402
from skywarden.track.step import new_tracks, step  # noqa: E402

GATE_PROBABILITY = 0.9999
CONFIRM_POINTS = 3
MAX_MISSES = 5
EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


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


def run_stonesoup(scenario, accel_sigma: float):
    """Stone Soup MultiTargetTracker: Kalman CV, Mahalanobis hypothesiser, KD-tree GNN 2-D."""
    from stonesoup.dataassociator.tree import DetectionKDTreeGNN2D
    from stonesoup.deleter.time import UpdateTimeStepsDeleter
    from stonesoup.hypothesiser.distance import DistanceHypothesiser
    from stonesoup.initiator.simple import MultiMeasurementInitiator
    from stonesoup.measures import Mahalanobis
    from stonesoup.models.measurement.linear import LinearGaussian
    from stonesoup.models.transition.linear import (
        CombinedLinearGaussianTransitionModel,
        ConstantVelocity,
    )
    from stonesoup.predictor.kalman import KalmanPredictor
    from stonesoup.tracker.simple import MultiTargetTracker
    from stonesoup.types.detection import Detection
    from stonesoup.types.state import GaussianState
    from stonesoup.updater.kalman import KalmanUpdater

    sigma = float(np.median(scenario.det_sigma))
    transition = CombinedLinearGaussianTransitionModel([ConstantVelocity(accel_sigma**2)] * 3)
    measurement = LinearGaussian(ndim_state=6, mapping=(0, 2, 4), noise_covar=np.eye(3) * sigma**2)
    predictor = KalmanPredictor(transition)
    updater = KalmanUpdater(measurement)
    gate = float(np.sqrt(chi2.ppf(GATE_PROBABILITY, 3)))
    hypothesiser = DistanceHypothesiser(predictor, updater, Mahalanobis(), missed_distance=gate)
    associator = DetectionKDTreeGNN2D(
        hypothesiser=hypothesiser, predictor=predictor, updater=updater, max_distance=10 * sigma
    )
    init_associator = DetectionKDTreeGNN2D(
        hypothesiser=hypothesiser, predictor=predictor, updater=updater, max_distance=200.0
    )
    prior = GaussianState(np.zeros((6, 1)), np.diag([0.0, 40.0**2, 0.0, 40.0**2, 0.0, 10.0**2]))
    initiator = MultiMeasurementInitiator(
        prior_state=prior,
        measurement_model=measurement,
        deleter=UpdateTimeStepsDeleter(time_steps_since_update=2),
        data_associator=init_associator,
        updater=updater,
        min_points=CONFIRM_POINTS,
    )
    deleter = UpdateTimeStepsDeleter(time_steps_since_update=MAX_MISSES + 1)
    scans = []
    for t, rows in scan_batches(scenario):
        stamp = EPOCH + datetime.timedelta(seconds=t)
        dets = {
            Detection(z.reshape(3, 1), timestamp=stamp, measurement_model=measurement)
            for z in scenario.det_z[rows]
        }
        scans.append((stamp, dets))
    tracker = MultiTargetTracker(
        initiator=initiator,
        deleter=deleter,
        detector=scans,
        data_associator=associator,
        updater=updater,
    )
    ids: dict[int, int] = {}
    times, out_t, out_id, out_x = [], [], [], []
    it = iter(tracker)
    for t, _ in scan_batches(scenario):
        t0 = time.perf_counter()
        _, tracks = next(it)
        times.append(time.perf_counter() - t0)
        for track in tracks:
            sv = np.asarray(track.state_vector, dtype=float).ravel()
            out_t.append(t)
            out_id.append(ids.setdefault(id(track), len(ids)))
            out_x.append(sv[[0, 2, 4, 1, 3, 5]])
    x = np.array(out_x).reshape(-1, 6)
    order = np.argsort(np.array(out_t), kind="stable")
    table = TrackTable(
        t=np.array(out_t)[order],
        id=np.array(out_id, np.int64)[order],
        pos=x[order, :3],
        vel=x[order, 3:],
    )
    return np.array(times), table


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
        ss_times, ss_tracks = run_stonesoup(scenario, accel)
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
