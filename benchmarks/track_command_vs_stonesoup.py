"""`skywarden track` with no options against Stone Soup's GNN (+KD-tree) on planar scenarios.

For each scenario (``skywarden.simulate.planar``: CV or manoeuvring targets with births and
deaths, Poisson clutter, a ``t,x,y,z,sigma`` CSV with z = 0) the detections CSV is written,
then, in the same run:

- ``skywarden track DETS.csv --out TRACKS.csv --quiet`` runs as its own process (no tracker
  options: the defaults are what is judged), timed from process start to exit, so its ms/scan
  includes start-up, reading the CSV and writing the tracks;
- Stone Soup's MultiTargetTracker (Kalman CV with the scenario's own sigma, Mahalanobis
  hypothesiser, DetectionKDTreeGNN2D, 3-point initiation, deletion after 5 missed scans) runs
  on the same detections, in this process; its time is the tracker loop only.

Prints GOSPA (c = 50 m, p = 2, alpha = 2, mean over scans) with its localisation, missed and
false parts (mean counts per scan for missed / false; mean m^2 for localisation), ms/scan and
the speed ratio. The command is also timed on the scenario's first scan alone (its fixed cost:
interpreter, imports, reading and writing files), which gives a second ratio on the cost that
grows with the scans: (whole command - first scan alone) / (scans - 1), the per-scan figure a
longer recording converges to; and the tracker loop alone, timed inside one process (the
per-scan cost without the start-up's run-to-run jitter, which the difference of two whole
runs carries), for this tree on both of its paths (NumPy and compiled kernels: the
command itself runs with its default, ``--kernels auto``). Targets (issue 12): skywarden's
GOSPA <= Stone Soup's on every scenario and >= 200x per scan through the whole command.
One core for both (thread pools pinned).

The command runs as installed: with byte code cached (``PYTHONDONTWRITEBYTECODE`` dropped, one
untimed run first), as ``pip install`` leaves it; each command time is the least of
``--repeat`` runs, wall and CPU (user + system of the child) side by side, with the load
average: on a loaded machine wall time grows with the load, CPU time much less.
``--against SRC`` (another checkout's ``src``, e.g. main's) also runs that tree's command on
the same files, in alternating runs, and prints its figures and ratios beside this tree's.

    python benchmarks/track_command_vs_stonesoup.py [--seeds 0] [--scenarios dense,heavy]
        [--sweep]   # also Pd 0.7-0.99, 0-300 clutter/scan, sigma 2-20 m
        [--repeat 3] [--against ../main/src]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from skywarden.evaluate.gospa import gospa_over_time  # noqa: E402
from skywarden.evaluate.stonesoup_gnn import run_stonesoup  # noqa: E402
from skywarden.simulate.planar import HELD_OUT_LIKE, PlanarSettings, planar_scenario  # noqa: E402
from skywarden.tables import (  # noqa: E402
    DetectionTable,
    TrackTable,
    Truth,
    read_tracks,
    write_detections,
)

ROOT = Path(__file__).resolve().parents[1]
EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
SWEEP = {
    "pd0.7": PlanarSettings(60, 50.0, 0.7, 5.0),
    "pd0.99-c0": PlanarSettings(60, 0.0, 0.99, 5.0),
    "c300-s20": PlanarSettings(50, 300.0, 0.9, 20.0),
    "s2": PlanarSettings(80, 100.0, 0.9, 2.0),
    "s20-man": PlanarSettings(40, 20.0, 0.95, 20.0, manoeuvring=True),
    "small-area": PlanarSettings(100, 100.0, 0.9, 5.0, half_side=4000.0),
    "scan-4s": PlanarSettings(60, 50.0, 0.9, 10.0, scan_period=4.0),
}


def run_command(dets: Path, out: Path, src: Path = ROOT / "src") -> tuple[float, float]:
    """(wall, CPU) seconds of ``skywarden track DETS --out OUT --quiet`` as a fresh process
    of the tree whose package is under ``src``; CPU is the child's user + system time."""
    env = dict(os.environ, PYTHONPATH=str(src))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: byte code cached
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "skywarden.cli", "track", str(dets), "--out", str(out), "--quiet"],
        env=env,
        check=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def best_runs(dets: Path, out: Path, trees: dict[str, Path], repeat: int) -> dict[str, tuple]:
    """Least (wall, CPU) of ``repeat`` runs of each tree's command, in alternating runs."""
    for src in trees.values():  # untimed: writes any missing byte code
        run_command(dets, out, src)
    best = {name: (np.inf, np.inf) for name in trees}
    for _ in range(repeat):
        for name, src in trees.items():
            wall, cpu = run_command(dets, out, src)
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


LOOP_SNIPPET = """
import sys, time
from skywarden.cli.track import detection_scans
from skywarden.config import tracker_params
from skywarden.tables import read_detections
from skywarden.track.run import run_tracker
params = tracker_params({}, "command line")
if sys.argv[3] != "default":  # this tree's paths: TrackerParams.compiled_kernels
    from dataclasses import replace
    params = replace(params, compiled_kernels=sys.argv[3] == "compiled")
scans = list(detection_scans(read_detections(sys.argv[1]), params.default_sigma))
run_tracker(scans, params)
best = best_cpu = float("inf")
for _ in range(int(sys.argv[2])):
    start, start_cpu = time.perf_counter(), time.process_time()
    run_tracker(scans, params)
    best = min(best, time.perf_counter() - start)
    best_cpu = min(best_cpu, time.process_time() - start_cpu)
print(best / len(scans), best_cpu / len(scans))
"""


def loop_per_scan(
    dets: Path, src: Path, repeat: int, kernels: str = "default"
) -> tuple[float, float]:
    """(wall, CPU) seconds per scan of the tracker loop alone (``run_tracker`` over the
    detections the command reads, with its default parameters), in a fresh process of the
    tree under ``src``, after one untimed run: the least of ``repeat`` runs. The command's
    per further scan is a difference of two whole-process times, so its fixed start-up's
    run-to-run jitter (tens of ms under load) lands in it divided by the scans; this figure
    has none of that (nor the CSV reading and writing, ~0.02 ms per scan). ``kernels``:
    ``"numpy"`` or ``"compiled"`` (a tree with ``TrackerParams.compiled_kernels``; the
    kernels built ahead of time where they were built, track/compiled_kernel.py),
    ``"compiled-jit"`` (numba's JIT kernels) or ``"default"`` (the tree's default
    parameters)."""
    env = dict(os.environ, PYTHONPATH=str(src))
    if kernels == "compiled-jit":  # numba's JIT even where the kernels were built ahead of time
        env["SKYWARDEN_TRACKER_AOT"], kernels = "0", "compiled"
    out = subprocess.run(
        [sys.executable, "-c", LOOP_SNIPPET, str(dets), str(max(repeat, 3)), kernels],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    wall, cpu = (float(v) for v in out.stdout.split()[-2:])
    return wall, cpu


def gospa_parts(truth: Truth, tracks: TrackTable) -> tuple[float, float, float, float]:
    """Mean GOSPA (m), localisation (m^2), missed and false counts per scan."""
    s = gospa_over_time(truth, tracks, c=50.0, p=2.0, alpha=2.0, score_track_only_times=True)
    return (
        float(np.mean(s.distance)),
        float(np.mean(s.localisation)),
        float(np.mean(s.missed)),
        float(np.mean(s.false)),
    )


def compare(
    name: str,
    settings: PlanarSettings,
    seed: int,
    folder: Path,
    trees: dict[str, Path],
    repeat: int,
) -> bool:
    scenario = planar_scenario(settings, seed)
    dets, out = folder / f"{name}-{seed}-dets.csv", folder / f"{name}-{seed}-tracks.csv"
    write_detections(dets, scenario.detections)
    n_scans = settings.n_scans
    load = [os.getloadavg()[0]]
    whole = best_runs(dets, out, trees, repeat)
    first = folder / f"{name}-{seed}-first.csv"
    table = scenario.detections
    rows = table.t == table.t.min()
    write_detections(first, DetectionTable(table.t[rows], table.pos[rows], table.sigma[rows]))
    fixed = best_runs(first, folder / "first-tracks.csv", trees, repeat)
    loops = {
        tree: {k: loop_per_scan(dets, src, repeat, k) for k in _loop_paths(tree)}
        for tree, src in trees.items()
    }
    load.append(os.getloadavg()[0])
    sky = gospa_parts(scenario.truth, read_tracks(out))  # the last tree run: "this tree"
    accel = 1.0 if settings.manoeuvring else max(settings.accel_sigma, 0.1)
    (ss_s, ss_cpu), ss_tracks = run_stonesoup(scenario.detections, settings.sigma, accel)
    load.append(os.getloadavg()[0])
    ss = gospa_parts(scenario.truth, ss_tracks)
    manoeuvring = ", manoeuvring" if settings.manoeuvring else ""
    label = (
        f"{name} (seed {seed}: {settings.n_targets} tgt, {settings.clutter_per_scan:g} clutter, "
        f"Pd {settings.pd}, sigma {settings.sigma:g} m{manoeuvring}); load average "
        f"{min(load):.1f}-{max(load):.1f} on {os.cpu_count()} CPUs"
    )
    print(label)
    sky_s = whole["this tree"][0]
    for who, (g, loc, missed, false), secs in (("skywarden", sky, sky_s), ("Stone Soup", ss, ss_s)):
        print(
            f"  {who:<11} GOSPA {g:7.2f}  loc {loc:8.1f} m^2  missed {missed:6.2f}  "
            f"false {false:6.2f}  {secs / n_scans * 1e3:8.2f} ms/scan"
        )
    ok = sky[0] <= ss[0] + 1e-9
    print(
        f"  GOSPA {'<=' if ok else 'ABOVE'} Stone Soup; Stone Soup's loop "
        f"{ss_s / n_scans * 1e3:.2f} ms/scan wall, {ss_cpu / n_scans * 1e3:.2f} CPU"
    )
    ss_scan, ss_scan_cpu = ss_s / n_scans, ss_cpu / n_scans
    for tree, src in trees.items():
        (wall, cpu), (fixed_wall, fixed_cpu) = whole[tree], fixed[tree]
        marginal = max(wall - fixed_wall, 1e-9) / max(n_scans - 1, 1)
        marginal_cpu = max(cpu - fixed_cpu, 1e-9) / max(n_scans - 1, 1)
        print(
            f"  {tree} ({src}): whole command {wall * 1e3:6.0f} ms wall ({cpu * 1e3:4.0f} ms "
            f"CPU): ratio {ss_s / wall:5.0f}x ({ss_cpu / cpu:4.0f}x on CPU); first scan alone "
            f"{fixed_wall * 1e3:4.0f} ms wall "
            f"({fixed_cpu * 1e3:4.0f} CPU, {fixed_wall / wall:4.0%} of the whole); per further "
            f"scan {marginal * 1e3:5.2f} ms wall ({marginal_cpu * 1e3:5.2f} CPU): ratio "
            f"{ss_scan / marginal:5.0f}x ({ss_scan_cpu / marginal_cpu:5.0f}x on CPU)"
        )
        for path, (loop, loop_cpu) in loops[tree].items():
            print(
                f"    tracker loop alone ({path} path, in one process): {loop * 1e3:5.2f} "
                f"ms/scan wall ({loop_cpu * 1e3:5.2f} CPU): ratio {ss_scan / loop:5.0f}x "
                f"({ss_scan_cpu / loop_cpu:5.0f}x on CPU)"
            )
    return ok


def _loop_paths(tree: str) -> tuple[str, ...]:
    """The tracker-loop paths timed for a tree: this tree's NumPy and compiled paths (its
    command, with no options, picks one by kernel_choice; compiled: built ahead of time
    where built, and numba's JIT), another tree's default."""
    return ("numpy", "compiled", "compiled-jit") if tree == "this tree" else ("default",)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--scenarios", default=",".join(HELD_OUT_LIKE))
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--scans", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (least)")
    parser.add_argument("--against", type=Path, help="another checkout's src to run too")
    opts = parser.parse_args()
    trees = {"this tree": ROOT / "src"}
    if opts.against is not None:
        trees = {"other tree": opts.against.resolve(), **trees}  # this tree's output last
    chosen = {k: HELD_OUT_LIKE[k] for k in opts.scenarios.split(",") if k}
    if opts.sweep:
        chosen.update(SWEEP)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in (int(s) for s in opts.seeds.split(",")):
            for name, settings in chosen.items():
                settings = replace(settings, n_scans=opts.scans)
                results.append(compare(name, settings, seed, Path(tmp), trees, opts.repeat))
    print(f"GOSPA <= Stone Soup in {sum(results)} of {len(results)} runs")


if __name__ == "__main__":
    main()
