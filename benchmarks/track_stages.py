"""Where a tracker step spends its CPU time, per stage, on the scale scenarios.

Builds ``scale-N`` (N CV targets, Pd 0.9, clutter, as in track_vs_stonesoup.py's scale run),
runs the IMM tracker to a steady state (10 scans), then repeats the next step on that same
state and prints, per stage of :func:`skywarden.track.step.step`, the least CPU time over the
repeats and its share of the step's least CPU time: predict (IMM mixing, per-mode predict,
combination), gating (neighbour grid + chi-square, tracks and candidates), association,
update (Kalman + IMM re-weighting), initiation, clutter map, scan closing, deletion and
the copy of the surviving tracks. One core (thread pools pinned), the allocator policy of
the batch commands, CPU time (``time.process_time``); the load average is printed with it.

    taskset -c 1 python benchmarks/track_stages.py [--sizes 10000,100000] [--repeat 5]

``--against SRC`` (another checkout's ``src``, e.g. main's) times the whole step of both trees
instead, each in its own process, in alternating rounds (``--rounds``) on the same machine,
and prints each tree's least CPU per step and the ratio: the before/after figure of a change,
with both sides under the same load.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

from skywarden.allocator import recycle_large_allocations  # noqa: E402
from skywarden.detections import make_detections  # noqa: E402
from skywarden.simulate import build_scenario  # noqa: E402
from skywarden.track import step as step_module  # noqa: E402
from skywarden.track.params import MotionModel, TrackerParams  # noqa: E402

STAGES = {  # step.py's function -> what it is
    "canonical_order": "sort detections (order independence)",
    "_pd_and_clutter": "clutter density at detections",
    "predict_tracks": "predict (IMM mix, modes, combine)",
    "_gate_all": "gate tracks + candidates",
    "_associate": "associate (identities, GNN)",
    "update_tracks": "update (Kalman, IMM weights)",
    "_initiate": "initiate (candidates, new tracks)",
    "_learn": "learn clutter map, Pd",
    "_close_scan": "close scan (hits, scores, deletion test)",
    "concat_tracks": "join new tracks to the old",
}
WARM_SCANS = 10


def scale_params(scenario) -> TrackerParams:
    """The IMM (CV + two turn rates) settings track_vs_stonesoup.py's scale run uses."""
    accel = float(np.median(scenario.target_accel_sigma))
    sensor = scenario.sensor_params
    return TrackerParams(
        models=(MotionModel(0.0, accel), MotionModel(0.1, 2 * accel), MotionModel(-0.1, 2 * accel)),
        pd=min(sensor.pd, 0.99),
        clutter_density=max(sensor.clutter_density, 1e-15),
        gate_probability=0.9999,
        initial_speed_sigma=40.0,
        initial_vertical_speed_sigma=10.0,
        confirm_m=3,
        confirm_n=4,
        max_coast_s=5 * sensor.scan_period,
    )


def timed(spent: dict[str, float], name: str, fn: Callable) -> Callable:
    def wrapper(*args, **kwargs):
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.process_time() - start

    return wrapper


def profile(n: int, repeat: int) -> None:
    scenario = build_scenario(f"scale-{n}", 0)
    params = scale_params(scenario)
    batches = []
    for k, t in enumerate(scenario.times[: WARM_SCANS + 1]):
        rows = np.flatnonzero(scenario.scan_index == k)
        sigma = scenario.det_sigma[rows]
        R = np.eye(3)[None] * (sigma**2)[:, None, None]
        batches.append((float(t), make_detections(float(t), scenario.det_z[rows], R)))
    tracks = step_module.new_tracks(params, batches[0][0])
    for t, dets in batches[:-1]:
        tracks, _ = step_module.step(tracks, dets, t, params)
    t, dets = batches[-1]
    spent: dict[str, float] = {}
    originals = {name: getattr(step_module, name) for name in STAGES}
    for name, fn in originals.items():
        setattr(step_module, name, timed(spent, name, fn))
    best_total, best = np.inf, dict.fromkeys(STAGES, np.inf)
    try:
        for _ in range(repeat):
            spent.clear()
            start = time.process_time()
            step_module.step(tracks, dets, t, params)
            best_total = min(best_total, time.process_time() - start)
            for name in STAGES:
                best[name] = min(best[name], spent.get(name, 0.0))
    finally:
        for name, fn in originals.items():
            setattr(step_module, name, fn)
    print(
        f"\nscale-{n}: {len(tracks)} tracks, {len(tracks.candidates)} candidates, {len(dets)} "
        f"detections; step {best_total * 1e3:.1f} ms CPU (least of {repeat}; load average "
        f"{os.getloadavg()[0]:.1f})"
    )
    for name, what in sorted(STAGES.items(), key=lambda kv: -best[kv[0]]):
        share = best[name] / best_total * 100.0
        print(f"  {what:<40}{best[name] * 1e3:>9.2f} ms{share:>6.1f} %")
    rest = best_total - sum(best.values())
    label = "the rest (step.py, survivors selection)"
    print(f"  {label:<40}{rest * 1e3:>9.2f} ms{rest / best_total * 100:>6.1f} %")


def step_cpu(n: int, repeat: int) -> float:
    """Least CPU seconds of one step at scale-n (the state after the warm scans)."""
    scenario = build_scenario(f"scale-{n}", 0)
    params = scale_params(scenario)
    tracks, dets, t = None, None, 0.0
    for k, t in enumerate(scenario.times[: WARM_SCANS + 1]):
        rows = np.flatnonzero(scenario.scan_index == k)
        sigma = scenario.det_sigma[rows]
        R = np.eye(3)[None] * (sigma**2)[:, None, None]
        dets = make_detections(float(t), scenario.det_z[rows], R)
        if tracks is None:
            tracks = step_module.new_tracks(params, float(t))
        if k < WARM_SCANS:
            tracks, _ = step_module.step(tracks, dets, float(t), params)
    best = np.inf
    for _ in range(repeat):
        start = time.process_time()
        step_module.step(tracks, dets, float(t), params)
        best = min(best, time.process_time() - start)
    return best


def against(other_src: str, sizes: list[int], repeat: int, rounds: int) -> None:
    """Both trees' least step CPU, alternating processes, and the ratio this / other."""
    import subprocess
    import sys
    from pathlib import Path

    here = str(Path(__file__).resolve().parents[1] / "src")
    trees = {"this tree": here, "other tree": other_src}
    for n in sizes:
        best = dict.fromkeys(trees, np.inf)
        loads = []
        for _ in range(rounds):
            for name, src in trees.items():
                env = dict(os.environ, PYTHONPATH=src)
                out = subprocess.run(
                    [sys.executable, __file__, "--step-only", str(n), "--repeat", str(repeat)],
                    env=env, check=True, capture_output=True, text=True,
                )  # fmt: skip
                best[name] = min(best[name], float(out.stdout.split()[-1]))
                loads.append(os.getloadavg()[0])
        print(
            f"scale-{n}: this tree {best['this tree'] * 1e3:.1f} ms, other tree ({other_src}) "
            f"{best['other tree'] * 1e3:.1f} ms CPU per step (least of {rounds} x {repeat}); "
            f"ratio {best['this tree'] / best['other tree']:.3f}; load average "
            f"{min(loads):.1f}-{max(loads):.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--against", help="another checkout's src folder to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--step-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.step_only:
        recycle_large_allocations()
        print(step_cpu(args.step_only, args.repeat))
        return
    if args.against:
        against(args.against, sizes, args.repeat, args.rounds)
        return
    print(f"big blocks recycled: {recycle_large_allocations()}")
    for n in sizes:
        profile(n, args.repeat)


if __name__ == "__main__":
    main()
