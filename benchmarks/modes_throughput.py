"""Mode S / ADS-B decode throughput on the real beastblackbox recording, with pyModeS as peer.

Rows: Beast deframing, deframing + rs1090 field decode, the full path to position reports
(per-aircraft CPR state), SBS line parsing, and pyModeS (GPL, benchmark-only peer) decoding
the same Mode S messages with its stateful batch decoder in the same run. rs1090 runs on one
thread (RAYON_NUM_THREADS=1) and the process is pinned to one core, so rates are one-core.

Usage: python benchmarks/modes_throughput.py [path/to/shared/data]
"""

from __future__ import annotations

import os

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # before rs1090 starts its thread pool

import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

from skywarden.sources.modes.beast import decode_beast  # noqa: E402
from skywarden.sources.modes.messages import decode_messages  # noqa: E402
from skywarden.sources.modes.sbs import decode_sbs  # noqa: E402
from skywarden.sources.modes.state import ModeSState  # noqa: E402

BEAST = "beastblackbox/ulss7-beast-bin-utc--1522782148.136310917--.log"
SBS = "beastblackbox/beast_decoded_sbs.txt"
T0 = 1522782148.136310917
REPEAT = 8


def _best_seconds(work: Callable[[], object], rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def _row(name: str, records: int, seconds: float) -> dict:
    return {
        "format": name,
        "records": records,
        "seconds": round(seconds, 4),
        "records_per_s": round(records / seconds),
    }


def run(shared_data: Path) -> list[dict]:
    """Measure each stage; returns rows (format, records, seconds, records_per_s)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    beast = (shared_data / BEAST).read_bytes() * REPEAT
    sbs = (shared_data / SBS).read_bytes() * REPEAT
    frames, _ = decode_beast(beast)
    mode_s = frames.mode_s()
    n_mode_s = len(mode_s)

    def deframe_and_decode():
        f = decode_beast(beast)[0].mode_s()
        return decode_messages(f.payload, f.times(T0))

    def to_positions():
        return ModeSState().update(deframe_and_decode())

    rows = [
        _row("beast deframing (frames)", len(frames), _best_seconds(lambda: decode_beast(beast))),
        _row("beast + rs1090 decode (Mode S msgs)", n_mode_s, _best_seconds(deframe_and_decode)),
        _row("beast + rs1090 + CPR positions (Mode S msgs)", n_mode_s, _best_seconds(to_positions)),
    ]
    n_lines = len(decode_sbs(sbs)[0])
    rows.append(_row("sbs lines", n_lines, _best_seconds(lambda: decode_sbs(sbs))))
    rows.extend(_pymodes_rows(mode_s.payload, mode_s.times(T0).tolist()))
    return rows


def _pymodes_rows(payloads: list[bytes], t: list[float]) -> list[dict]:
    """The peer: pyModeS' stateful batch decoder (positions included) on the same messages."""
    try:
        import pyModeS
    except ImportError:
        return []
    hexes = [p.hex() for p in payloads]
    seconds = _best_seconds(lambda: pyModeS.decode(hexes, timestamps=t), rounds=1)
    return [_row("pyModeS 3 batch decode + CPR (peer, Mode S msgs)", len(hexes), seconds)]


def main() -> None:
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    rows = run(shared)
    for row in rows:
        print(
            f"{row['format']:<52} {row['records']:>9,} in {row['seconds']:>7.3f} s"
            f" = {row['records_per_s']:>10,} /s"
        )
    ours = {r["format"]: r["records_per_s"] for r in rows}
    peer = [r for r in rows if "peer" in r["format"]]
    if peer:
        full = ours["beast + rs1090 + CPR positions (Mode S msgs)"]
        print(f"ratio full path / pyModeS: {full / peer[0]['records_per_s']:.1f}x")


if __name__ == "__main__":
    main()
