"""Start-up time of the ``skywarden`` command: ``--help`` and ``inspect`` of small recordings.

Each command is run as a fresh process (the console script's interpreter, this checkout's
``src`` first on the path) several times; the best and the median wall time are printed with
the targets: ``skywarden --help`` <= 0.3 s, ``skywarden inspect`` of a small file <= 0.6 s.
A heavy import at start-up (``scipy.stats`` ~0.5 s, libasterix's generated module ~0.8 s)
shows here; ``python -X importtime -m skywarden.cli --help`` says which. Two "floor" rows
time a bare interpreter importing NumPy alone, and the third-party libraries that ``inspect``
of an ASTERIX pcap loads: what start-up costs on this machine before skywarden code runs.

Measured as installed: with byte code cached, as ``pip install`` leaves it. One untimed run
of each command first writes any missing ``.pyc`` (``PYTHONDONTWRITEBYTECODE`` is dropped
from the environment; without a cache, compiling the 2.5 MB libasterix subset alone takes
~1.5 s per run). The machine's load average is printed with the figures, and the best CPU
time (user + system) of each command: on a loaded machine, wall time grows with the load,
CPU time much less, so CPU time is what a quiet machine's wall time would be, roughly.

    python benchmarks/startup.py [--repeat 5] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMALL_RECORDINGS = (  # (path under ../shared/data, what it is)
    ("beastblackbox/beast_extract_71be34.log", "Beast, 19 kB"),
    ("opendroneid-wireshark/odid_wifi_sample.pcap", "Remote ID Wi-Fi pcap, 7 kB"),
    ("croatiacontrol-asterix/cat_034_048.pcap", "ASTERIX CAT034/048 pcap, 13 kB"),
)

FLOOR_IMPORTS = ("numpy", "pyproj", "dpkt", "rich.console")
"""Third-party libraries ``inspect`` of an ASTERIX pcap imports (NumPy first): the "floor" rows time
a bare interpreter importing them, the part of start-up that is not skywarden's own."""


def wall_times(args: list[str], repeat: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system) seconds of each run of ``python ARGS``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(  # warm-up: writes the byte-code cache
        [sys.executable, *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall, cpu = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, *args],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    opts = parser.parse_args()
    cli = ["-m", "skywarden.cli"]
    rows: list[tuple[str, list[str], float | None]] = [
        (
            f"floor: python -c 'import {FLOOR_IMPORTS[0]}'",
            ["-c", f"import {FLOOR_IMPORTS[0]}"],
            None,
        ),
        (
            "floor: the libraries an ASTERIX inspect loads",
            ["-c", "import " + ", ".join(FLOOR_IMPORTS)],
            None,
        ),
        ("skywarden --help", [*cli, "--help"], 0.3),
    ]
    for relative, what in SMALL_RECORDINGS:
        path = opts.data / relative
        if path.is_file():
            rows.append((f"skywarden inspect ({what})", [*cli, "inspect", str(path)], 0.6))
        else:
            print(f"skipped {relative}: not in {opts.data}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'command':<52} {'best s':>7} {'median s':>9} {'cpu s':>6} {'target s':>9}  met")
    for name, args, target in rows:
        times, cpu = wall_times(args, opts.repeat)
        best, median = min(times), statistics.median(times)
        goal = "-" if target is None else f"{target:.1f}"
        met = "-" if target is None else str(best <= target)
        print(f"{name:<52} {best:7.3f} {median:9.3f} {min(cpu):6.3f} {goal:>9}  {met}")


if __name__ == "__main__":
    main()
