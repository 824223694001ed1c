"""The shipped classifier's scores: look-up tables (classify/tree_tables.py) against the level
walk they replace (classify/model.py ``_walk``), on the same feature rows.

Rows are drawn (seeded) from the stored reference rows (tests/classify/data), 5 % missing
values as in real windows; 500 rows is what the live service scores per half-scan at 1,000
tracks (TrainedClassifier re-classifies one half of the tracks at a time). Prints wall and CPU
medians (thread_time) of each, their ratio and the machine's load; checks that the scores are
identical.

    python benchmarks/classifier_walk.py [--rows 100,500,1000] [--repeat 9]

Measured (2 shared cores, load 3.4, CPU ms): 100 rows walk 3.0, tables 0.8 (3.5x); 500 rows
walk 20.8, tables 3.4 (6.1x); 1,000 rows walk 51.6, tables 7.1 (7.3x); scores identical.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from skywarden.classify.model import _walk, load_model, raw_scores

REFERENCE = Path(__file__).resolve().parents[1] / "tests/classify/data/model_reference.npz"


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median wall and CPU (this thread) milliseconds of fn()."""
    wall, cpu = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.thread_time()
        fn()
        cpu.append(time.thread_time() - c)
        wall.append(time.perf_counter() - w)
    return float(np.median(wall)) * 1e3, float(np.median(cpu)) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="100,500,1000")
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    model = load_model()
    model.leaf_tables()  # built once per model, at first use
    reference = np.load(REFERENCE)["X"]
    rng = np.random.default_rng(0)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for n in (int(s) for s in args.rows.split(",")):
        X = reference[rng.integers(0, len(reference), n)]
        same = np.array_equal(raw_scores(X, model), _walk(model, X, contributions=False)[0])
        walk = timed(lambda X=X: _walk(model, X, contributions=False), args.repeat)
        tables = timed(lambda X=X: raw_scores(X, model), args.repeat)
        print(
            f"{n:6d} rows: walk {walk[0]:6.1f} ms ({walk[1]:6.1f} CPU), tables "
            f"{tables[0]:6.1f} ms ({tables[1]:6.1f} CPU): {walk[1] / tables[1]:4.1f}x CPU; "
            f"identical: {same}"
        )
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
