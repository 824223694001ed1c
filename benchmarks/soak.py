"""Soak test (not in CI): a `skywarden run` process under mixed load with fuzzed input on
every feed for a long time; its RSS must stay flat after warm-up.

The load, on loopback: the simulator's `mixed` scenario (drones, birds, aircraft, clutter)
streamed in real time as the wire bytes of every feed (radar CAT034/048 and CAT021 on UDP,
Remote ID beacons on UDP, SBS and Beast on TCP), scenario after scenario (new seeds, each
starting where the last ended); plus, on every feed, ``--fuzz-per-s`` fuzzed messages a
second: real messages of the stream with random bit flips, truncations and splices, and
plain random bytes (TCP streams get them inline, so framing must resynchronise).

Every ``--sample-s`` it samples the service's RSS, its counted rejects and drops (all feeds;
Beast garbage counts bytes, everything else messages), kernel UDP drops, tick latency
p50/p99 and how long /api/v1/health takes; at the end it prints the table, the RSS growth
after warm-up (the first ``--warmup-s``) and its trend per hour. Target: growth < 50 MB
after warm-up.

    python benchmarks/soak.py [--duration-s 3600] [--sample-s 60] [--warmup-s 300]
        [--fuzz-per-s 20] [--history]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import socket
import time

import numpy as np

from live_service import LiveService, losses
from skywarden.simulate import build_scenario
from skywarden.simulate.emit import scenario_messages
from skywarden.simulate.emit_site import (
    ADSB_ASTERIX,
    BEAST,
    CHANNELS,
    RADAR,
    REMOTE_ID,
    SBS,
    SiteSetup,
    WireMessage,
)

UDP_CHANNELS = (RADAR, ADSB_ASTERIX, REMOTE_ID)
SCANS_PER_CYCLE = 120


def fuzzed(rng: np.random.Generator, sample: bytes) -> bytes:
    """One mutation of a real message: bit flips, a cut, a splice of random bytes, or pure
    random bytes."""
    kind = int(rng.integers(4))
    data = bytearray(sample)
    if kind == 0 and data:
        for i in rng.integers(0, len(data), 1 + len(data) // 16):
            data[int(i)] ^= 1 << int(rng.integers(8))
    elif kind == 1 and len(data) > 1:
        data = data[: int(rng.integers(1, len(data)))]
    elif kind == 2:
        at = int(rng.integers(0, len(data) + 1))
        data[at:at] = rng.bytes(int(rng.integers(1, 64)))
    else:
        data = bytearray(rng.bytes(int(rng.integers(1, 300))))
    return bytes(data)


def cycle_messages(seed: int, start: float) -> list[WireMessage]:
    scenario = build_scenario("mixed", seed, n_scans=SCANS_PER_CYCLE)
    setup = SiteSetup(start_posix=start, remote_id_classes=frozenset({"drone"}))
    return scenario_messages(scenario, setup, CHANNELS)


async def stream_forever(service: LiveService, recent: dict[str, list[bytes]], stop) -> int:
    """Scenario after scenario in real time; keeps recent real messages for the fuzzer."""
    seed, start = 0, math.ceil(time.time()) + 30.0
    pending = asyncio.create_task(asyncio.to_thread(cycle_messages, seed, start))
    sent = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        while not stop.is_set():
            messages = await pending
            seed += 1
            end = messages[-1].t if messages else start + SCANS_PER_CYCLE
            start = math.ceil(end) + 1.0
            pending = asyncio.create_task(asyncio.to_thread(cycle_messages, seed, start))
            for m in messages:
                if stop.is_set():
                    break
                wait = m.t - time.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if m.channel in UDP_CHANNELS:
                    tx.sendto(m.data, service.udp(m.channel))
                else:
                    await service.servers[m.channel].send(m.data)
                keep = recent.setdefault(m.channel, [])
                keep.append(m.data)
                if len(keep) > 200:
                    del keep[:100]
                sent += 1
    pending.cancel()
    return sent


async def fuzz_forever(service: LiveService, recent: dict[str, list[bytes]], per_s: float, stop):
    rng = np.random.default_rng(2017)
    sent = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        while not stop.is_set():
            await asyncio.sleep(1.0 / per_s)
            for channel in CHANNELS:
                samples = recent.get(channel) or [b""]
                data = fuzzed(rng, samples[int(rng.integers(len(samples)))])
                if channel in UDP_CHANNELS:
                    tx.sendto(data, service.udp(channel))
                elif channel in (SBS, BEAST):
                    await service.servers[channel].send(data)
                sent += 1
    return sent


def sample(service: LiveService, t0: float) -> dict[str, float]:
    body, health_ms = service.timed_health()
    lost = [losses(s) for s in body["sources"].values()]
    kernel = sum(x.get("kernel_dropped", 0) for x in lost)
    return {
        "t_s": time.time() - t0, "rss_mb": service.rss_mb(),
        "rejects": sum(sum(x.values()) for x in lost) - kernel, "kernel_drops": kernel,
        "messages": sum(s["messages"] for s in body["sources"].values()),
        "tracks": body["tracks"], "p50_ms": body["tick_latency_ms"]["p50"],
        "p99_ms": body["tick_latency_ms"]["p99"], "health_ms": health_ms,
    }  # fmt: skip


async def run(args: argparse.Namespace) -> list[dict[str, float]]:
    rows: list[dict[str, float]] = []
    async with LiveService(history=args.history) as service:
        stop = asyncio.Event()
        recent: dict[str, list[bytes]] = {}
        tasks = [
            asyncio.create_task(stream_forever(service, recent, stop)),
            asyncio.create_task(fuzz_forever(service, recent, args.fuzz_per_s, stop)),
        ]
        t0 = time.time()
        print(f"soak: service pid {service.process.pid}, {args.duration_s:.0f} s, sample every "
              f"{args.sample_s:.0f} s, fuzz {args.fuzz_per_s:g}/s per feed")  # fmt: skip
        head = ("t s", "RSS MiB", "rejects", "kernel drops", "messages", "tracks", "p50 ms",
                "p99 ms", "/health ms")  # the order of sample()'s keys  # fmt: skip
        print("".join(f"{h:>13}" for h in head), flush=True)
        while time.time() - t0 < args.duration_s:
            await asyncio.sleep(args.sample_s)
            try:
                row = await asyncio.to_thread(sample, service, t0)
            except OSError as exc:
                code = service.process.poll()
                print(f"no health answer ({exc}); service exit status {code}:\n"
                      + service.stderr()[-3000:])  # fmt: skip
                break
            rows.append(row)
            print("".join(f"{v:>13.0f}" if k != "rss_mb" else f"{v:>13.1f}"
                          for k, v in row.items()), flush=True)  # fmt: skip
            if service.process.poll() is not None:
                print("the service exited:\n" + service.stderr())
                break
        stop.set()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        print(f"stream messages {done[0]}, fuzzed messages {done[1]}")
        log = service.stderr().strip().splitlines()
        if log:
            print(f"service log ({len(log)} lines, last 10):\n" + "\n".join(log[-10:]))
    return rows


def report(rows: list[dict[str, float]], warmup_s: float) -> None:
    after = [r for r in rows if r["t_s"] >= warmup_s] or rows[-1:]
    if len(after) < 2:
        print("too short to judge the RSS trend (need two samples after warm-up)")
        return
    t = np.array([r["t_s"] for r in after])
    rss = np.array([r["rss_mb"] for r in after])
    slope = float(np.polyfit(t, rss, 1)[0]) * 3600.0
    growth = float(rss.max() - rss[0])
    verdict = "met" if growth < 50.0 else "NOT met"
    print(f"RSS after warm-up: {rss[0]:.1f} -> {rss[-1]:.1f} MiB (max {rss.max():.1f}); "
          f"growth {growth:.1f} MB, trend {slope:+.1f} MB/h; < 50 MB: {verdict}")  # fmt: skip
    print(f"tick p99 at the end {after[-1]['p99_ms']:.0f} ms; /health max "
          f"{max(r['health_ms'] for r in after):.0f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration-s", type=float, default=3600.0)
    parser.add_argument("--sample-s", type=float, default=60.0)
    parser.add_argument("--warmup-s", type=float, default=300.0)
    parser.add_argument("--fuzz-per-s", type=float, default=20.0)
    parser.add_argument("--history", action="store_true", help="with a DuckDB history")
    args = parser.parse_args()
    report(asyncio.run(run(args)), args.warmup_s)


if __name__ == "__main__":
    main()
