"""The input floods of issue 17, sent to a real `skywarden run` process over loopback: the
service's RSS before and after each, what it counted, and its tick latency meanwhile.

Floods (each on its own feed, one after the other, the service running throughout):

* ``sbs``: 40 MB of SBS text without a newline on the SBS TCP stream;
* ``remote-id``: Remote ID Wi-Fi beacons, each with a new serial and a new MAC (default
  200,000), paced so that the service decodes them rather than the kernel dropping them;
* ``modes``: Beast frames of new ICAO addresses (identification, even and odd position of
  each; default 100,000 addresses = 300,000 frames);

(emitters of the Remote ID and Mode S floods are spread within ~100 km: a flood of co-located
emitters measures the tracker's worst case, one gating cluster, instead of the input side);
* ``udp-burst``: ASTERIX-port datagrams of random bytes as fast as one core sends them
  (default 200,000): delivered + kernel drops + queue drops must equal what was sent.

Each flood runs ``--rounds`` times (default 2) with new identities: bounded state grows RSS
in the first round (to the limits' working set) and not in the next. Target: RSS growth
< 50 MB under each flood; every loss visible in /api/v1/health.

    python benchmarks/input_floods.py [--floods sbs,remote-id,modes,udp-burst]
        [--remote-id-frames 200000] [--modes-addresses 100000] [--burst 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import socket
import time

import numpy as np

from live_service import LiveService, losses, settle
from skywarden.simulate.emit_site import BEAST, RADAR, REMOTE_ID, SBS
from skywarden.sources.modes.beast import encode_beast
from skywarden.sources.modes.encode import airborne_position, as_payloads, identification
from skywarden.sources.remote_id.encode import encode_message_pack, encode_wifi_beacon
from skywarden.sources.remote_id.messages import BasicId, Location

CHUNK = 65_536


async def flood_sbs(service: LiveService, megabytes: int = 40) -> int:
    junk = b"A" * CHUNK
    for _ in range(megabytes * 2**20 // CHUNK):
        await service.servers[SBS].send(junk)
        await asyncio.sleep(0.001)
    await service.servers[SBS].send(b"\n")
    return megabytes * 2**20


def spread(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct positions for emitters k within about 100 km of the site (degrees): a flood
    of co-located emitters would measure the tracker's worst-case clustering instead."""
    golden = (k * 0.6180339887) % 1.0
    return 50.85 + (golden - 0.5) * 1.6, 4.35 + (((k * 0.7548776662) % 1.0) - 0.5) * 2.4


def remote_id_frame(k: int, t: float) -> bytes:
    mac = f"02:{(k >> 24) & 255:02x}:{(k >> 16) & 255:02x}:{(k >> 8) & 255:02x}:{k & 255:02x}:02"
    lat, lon = spread(np.array([k]))
    location = Location(2, 2, 0, 0.0, 5.0, 0.0, float(lat[0]), float(lon[0]), math.nan, 300.0,
                        120.0, 10, 4, 4, 3, t % 3600.0, 0.2)  # fmt: skip
    pack = encode_message_pack([BasicId(2, 1, 2, f"FLOOD{k:010d}"), location])
    return encode_wifi_beacon(pack, mac, k & 255)


async def flood_remote_id(service: LiveService, frames: int, first: int = 0) -> int:
    """Send in batches, each after the service has taken the previous one (paced by the
    service's own message count, so the flood reaches the assembler, not the kernel)."""
    target = service.udp(REMOTE_ID)
    batch = 1000
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        for start in range(0, frames, batch):
            now = time.time()
            for k in range(start, min(frames, start + batch)):
                tx.sendto(remote_id_frame(first + k, now), target)
            for _ in range(600):  # bounded: the service takes the batch or drops it, counted
                body = await asyncio.to_thread(service.health)
                source = service.source(body, REMOTE_ID)
                dropped = losses(source)
                taken = source["messages"] + dropped.get("kernel_dropped", 0)
                taken += dropped.get("transport_queue_full", 0)
                if taken >= first + min(frames, start + batch) - 50:
                    break
                await asyncio.sleep(0.2)
    return frames


async def flood_modes(service: LiveService, addresses: int, first: int = 0) -> int:
    sent = 0
    for start in range(0, addresses, 5000):
        icao = np.arange(start, min(addresses, start + 5000), dtype=np.int64) + 0x100000 + first
        n = len(icao)
        (lat, lon), alt = spread(icao), np.full(n, 30000.0)
        payloads = as_payloads(np.concatenate([
            identification(icao, [f"FL{i % 10**6:06d}" for i in icao.tolist()]),
            airborne_position(icao, lat, lon, alt, np.zeros(n, dtype=bool)),
            airborne_position(icao, lat, lon, alt, np.ones(n, dtype=bool)),
        ]))  # fmt: skip
        data = encode_beast(payloads, np.zeros(len(payloads), np.int64))
        for k in range(0, len(data), CHUNK):
            await service.servers[BEAST].send(data[k : k + CHUNK])
            await asyncio.sleep(0.002)
        sent += len(payloads)
        await asyncio.sleep(0.5)
    return sent


async def flood_udp_burst(service: LiveService, count: int) -> int:
    rng = np.random.default_rng(17)
    payloads = [rng.bytes(int(n)) for n in rng.integers(20, 200, 1000)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        target = service.udp(RADAR)
        for k in range(count):
            tx.sendto(payloads[k % 1000], target)
            if k % 20_000 == 0:
                await asyncio.sleep(0)
    return count


FLOODS = {  # name -> (channel, flood(service, args, round)); each round new identities
    "sbs": (SBS, lambda s, a, r: flood_sbs(s)),
    "remote-id": (REMOTE_ID, lambda s, a, r: flood_remote_id(s, a.remote_id_frames,
                                                            r * a.remote_id_frames)),
    "modes": (BEAST, lambda s, a, r: flood_modes(s, a.modes_addresses, r * a.modes_addresses)),
    "udp-burst": (RADAR, lambda s, a, r: flood_udp_burst(s, a.burst)),
}  # fmt: skip


async def run(args: argparse.Namespace) -> None:
    async with LiveService() as service:
        await asyncio.sleep(3.0)
        print(f"service pid {service.process.pid}, RSS at start {service.rss_mb():.0f} MiB")
        head = ("flood", "sent", "RSS before", "RSS after", "growth", "tick p99 ms",
                "/health ms", "counted losses")  # fmt: skip
        print(" | ".join(head))
        burst_seen = 0
        for name, r in ((n, r) for n in args.floods.split(",") for r in range(args.rounds)):
            channel, flood = FLOODS[name]
            before = service.rss_mb()
            t0 = time.perf_counter()
            sent = await flood(service, args, r)
            body = await settle(service, channel)
            _, health_ms = await asyncio.to_thread(service.timed_health)
            after = service.rss_mb()
            source = service.source(body, channel)
            lost = losses(source)
            print(f"{name} #{r + 1} | {sent:,} | {before:.0f} MiB | {after:.0f} MiB | "
                  f"{after - before:+.1f} MB | {body['tick_latency_ms']['p99']:.0f} | "
                  f"{health_ms:.0f} | {lost} (messages {source['messages']:,}, detections "
                  f"{source['detections']:,}, tracks {body['tracks']:,}, "
                  f"{time.perf_counter() - t0:.0f} s)", flush=True)  # fmt: skip
            if name == "udp-burst":
                tr = source["transport"]
                seen = tr["messages"] + tr["dropped"] + tr["kernel_dropped"] - burst_seen
                burst_seen += seen
                print(f"  udp-burst accounting (all rounds): sent {sent * (r + 1):,} = delivered "
                      f"{tr['messages']:,} + queue drops {tr['dropped']:,} + kernel drops "
                      f"{tr['kernel_dropped']:,} -> unaccounted {sent - seen:,}")  # fmt: skip
            verdict = "met" if after - before < 50.0 else "NOT met"
            print(f"  RSS growth < 50 MB: {verdict}", flush=True)
        if service.stderr().strip():
            print("service log:\n" + "\n".join(service.stderr().splitlines()[-15:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--floods", default=",".join(FLOODS))
    parser.add_argument("--remote-id-frames", type=int, default=200_000)
    parser.add_argument("--modes-addresses", type=int, default=100_000)
    parser.add_argument("--burst", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2, help="each flood again, new identities")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
