"""ASTERIX decode throughput on real recordings, one core, fast path vs libasterix in the same run.

Run: .venv/bin/python benchmarks/decode_throughput.py [--data ../shared/data] [--limit-lib N]

Rows (records per second, best of --repeat runs; container parsing excluded):
  CAT048 fast path        skywarden's vectorised decoder, whole Barcelona .ast (44,085 records)
  CAT048 libasterix parse libasterix's own plain parse (Uap.parse per block), same file
  CAT048 libasterix path  skywarden's reference path (libasterix parse + field extraction)
  CAT062 fast path        skywarden's vectorised CAT062 decoder, the whole national feed
                          fds260429.pcap (50,640 system-track records; target >= 100k/s)
  CAT062 libasterix path  skywarden's reference path on its first 2,000 datagrams
  CAT034 fast path        skywarden's vectorised CAT034 decoder, 260429.pcap (16,366 records)
  CAT034 libasterix path  skywarden's reference path on its first 5,000 CAT034 datagrams
  Mode S                  Beast deframing, rs1090 decode, CPR positions, SBS lines, and
                          pyModeS (GPL, benchmark-only peer) on the same messages
                          (rows from benchmarks/modes_throughput.py)
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import asterix.generated as gen  # noqa: E402
from asterix.base import Bits  # noqa: E402

from skywarden.sources.asterix.decoder import AsterixDecoder  # noqa: E402
from skywarden.sources.recordings.pcap import iter_frames, udp_datagrams  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BCN = "upc-pgta-lebl/230502-est-080001_BCN_60MN_08_09.ast"


def _best(fn: Callable[[], int], repeat: int) -> tuple[int, float]:
    best = float("inf")
    n = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = fn()
        best = min(best, time.perf_counter() - t0)
    return n, best


def _cpu_seconds(fn: Callable[[], int], repeat: int) -> float:
    """The least process CPU time of ``repeat`` runs of fn (immune to other processes)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def _blocks(data: bytes, limit: int | None = None) -> list[bytes]:
    out, i = [], 0
    while i + 3 <= len(data) and (limit is None or len(out) < limit):
        n = int.from_bytes(data[i + 1 : i + 3], "big")
        out.append(data[i : i + n])
        i += n
    return out


def _payloads(path: Path, first_byte: int, limit: int) -> tuple[list[bytes], list[float]]:
    grams = [
        d
        for d in udp_datagrams(iter_frames(path.read_bytes()))
        if d.payload[:1] == bytes([first_byte])
    ]
    grams = grams[:limit]
    return [d.payload for d in grams], [d.t for d in grams]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--limit-lib", type=int, default=None, help="blocks for the libasterix rows (default: all)"
    )
    args = ap.parse_args()
    data = (args.data / BCN).read_bytes()
    rows: list[tuple[str, int, float]] = []

    n, dt = _best(lambda: len(AsterixDecoder(fast=True).decode(data).cat048), args.repeat)
    rows.append(("CAT048 fast path (Barcelona .ast)", n, dt))

    blocks = _blocks(data, args.limit_lib)
    spec = gen.Cat_048_1_32

    def plain() -> int:
        return sum(len(spec.cv_uap.parse(Bits.from_bytes(b[3:]))) for b in blocks)

    n, dt = _best(plain, 1)
    rows.append(("CAT048 libasterix plain parse (same file)", n, dt))
    lib_data = b"".join(blocks)
    n, dt = _best(lambda: len(AsterixDecoder(fast=False).decode(lib_data).cat048), 1)
    rows.append(("CAT048 libasterix path (parse + fields)", n, dt))

    fds = args.data / "jmatiasbro-decoderasterix/fds260429.pcap"
    payloads, times = _payloads(fds, 62, 1_000_000)
    n, dt = _best(
        lambda: len(AsterixDecoder(fast=True).decode_datagrams(payloads, times).cat062),
        args.repeat,
    )
    rows.append(("CAT062 fast path (fds260429.pcap)", n, dt))
    cpu62 = _cpu_seconds(
        lambda: len(AsterixDecoder(fast=True).decode_datagrams(payloads, times).cat062),
        args.repeat,
    )
    payloads, times = payloads[:2000], times[:2000]
    n, dt = _best(
        lambda: len(AsterixDecoder(fast=False).decode_datagrams(payloads, times).cat062), 1
    )
    rows.append(("CAT062 libasterix path (fds260429.pcap)", n, dt))
    path034 = args.data / "jmatiasbro-decoderasterix/260429.pcap"
    payloads, times = _payloads(path034, 34, 1_000_000)
    n, dt = _best(
        lambda: len(AsterixDecoder(fast=True).decode_datagrams(payloads, times).cat034),
        args.repeat,
    )
    rows.append(("CAT034 fast path (260429.pcap)", n, dt))
    payloads, times = payloads[:5000], times[:5000]
    n, dt = _best(
        lambda: len(AsterixDecoder(fast=False).decode_datagrams(payloads, times).cat034), 1
    )
    rows.append(("CAT034 libasterix path (260429.pcap)", n, dt))

    print(f"{'decoder':<44} {'records':>9} {'seconds':>9} {'records/s':>11}")
    for name, n, dt in rows:
        print(f"{name:<44} {n:>9,} {dt:>9.3f} {n / dt:>11,.0f}")
    fast_rate = rows[0][1] / rows[0][2]
    print(
        f"\nCAT048 fast path / libasterix plain parse: {fast_rate / (rows[1][1] / rows[1][2]):.1f}x"
    )
    print(
        f"CAT048 fast path / libasterix path:        {fast_rate / (rows[2][1] / rows[2][2]):.1f}x"
    )
    rate62 = rows[3][1] / rows[3][2]
    print(f"CAT062 fast path / libasterix path:        {rate62 / (rows[4][1] / rows[4][2]):.1f}x")
    print(f"CAT062 fast path / 100k records/s target:  {rate62 / 100_000:.2f}")
    print(
        f"CAT062 fast path on CPU time (a shared machine's wall clock runs slow): "
        f"{rows[3][1] / cpu62:,.0f} records/s, {rows[3][1] / cpu62 / 100_000:.2f} of the target"
    )
    rate34 = rows[5][1] / rows[5][2]
    print(f"CAT034 fast path / libasterix path:        {rate34 / (rows[6][1] / rows[6][2]):.1f}x")
    print_modes_rows(args.data)


def print_modes_rows(data: Path) -> None:
    """The Mode S rows (benchmarks/modes_throughput.py) in the same run."""
    from modes_throughput import run as modes_run

    rows = modes_run(data)
    print(f"\n{'Mode S / ADS-B':<52} {'records':>9} {'seconds':>9} {'records/s':>11}")
    for row in rows:
        name, n, dt = row["format"], row["records"], row["seconds"]
        print(f"{name:<52} {n:>9,} {dt:>9.3f} {n / dt:>11,.0f}")
    rates = {r["format"]: r["records_per_s"] for r in rows}
    peer = [r["records_per_s"] for r in rows if "peer" in r["format"]]
    full = rates.get("beast + rs1090 + CPR positions (Mode S msgs)")
    if peer and full:
        print(f"\nMode S full path to positions / pyModeS: {full / peer[0]:.1f}x")


if __name__ == "__main__":
    main()
