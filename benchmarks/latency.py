"""Detection-in to alert-out latency of the service's processing, at 100 / 1,000 / 10,000 tracks.

For each size, a `scale-N` scenario (N constant-velocity targets, N clutter points per scan)
is put on the wire as a rotating radar's CAT034/CAT048 UDP datagrams (the simulator's real
encoder, 32 sectors per rotation). The datagrams go through exactly what the live loop runs,
batched as it batches them (everything arriving within 20 ms of a batch's first datagram): the
ASTERIX feed (decode -> site ENU detections), then Pipeline.process (tracker, trained
classifier once per scan, zone forecasts, alert lifecycle, snapshot). A detection's latency is
the wait in the gathering window plus the processing of its batch, until the alerts are
updated and the snapshot is built; p50/p99 are over batches after the first 10 scans (track
initiation). "CPU/real time" is the processing time per second of data (must stay below 1 to
keep up). Target: p99 under 100 ms at 1,000 tracks. One core.

    python benchmarks/latency.py [--sizes 100,1000,10000] [--scans 40]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from skywarden.pipeline import Pipeline  # noqa: E402
from skywarden.simulate import build_scenario  # noqa: E402
from skywarden.simulate.emit_radar import radar_messages  # noqa: E402
from skywarden.simulate.emit_site import SiteSetup  # noqa: E402
from skywarden.site_config import site_config_from_dict  # noqa: E402
from skywarden.sources.feeds import AsterixFeed  # noqa: E402


def site_for(setup: SiteSetup, half_side_m: float) -> object:
    doc = {
        "site": {"lat": setup.lat_deg, "lon": setup.lon_deg, "height_m": setup.h_m},
        "alert_rules": [{"classes": ["drone", "unknown"], "horizon_s": 180}],
    }
    config = site_config_from_dict(doc, Path("."), source="latency benchmark")
    zones = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": f"zone-{k}", "properties": {
            "role": "protected", "floor_m": 0, "ceiling_m": 3000, "altitude_ref": "agl",
            "radius_m": 0.05 * half_side_m},
         "geometry": {"type": "Point", "coordinates": [setup.lon_deg + dx, setup.lat_deg + dy]}}
        for k, (dx, dy) in enumerate([(0, 0), (0.01, 0.01), (-0.01, 0.01), (0.01, -0.01)])
    ]}  # fmt: skip
    return dataclasses.replace(config, zones_geojson=zones)


def measure(n: int, scans: int, window_s: float = 0.02) -> dict[str, float]:
    """Feed the radar's datagrams as the live loop would: those arriving within ``window_s``
    of the first of a batch are decoded and processed together (one antenna sector)."""
    scenario = build_scenario(f"scale-{n}", 0, n_scans=scans)
    setup = SiteSetup(start_posix=1_750_000_000.0, max_range_m=250_000.0)
    emission = radar_messages(scenario, setup)
    config = site_for(setup, 1000.0 * np.sqrt(n))
    now = [setup.start_posix]
    pipeline = Pipeline(config, clock=lambda: now[0])
    feed = AsterixFeed(pipeline.frame, 0, setup.radar_site)
    period = scenario.sensor_params.scan_period
    scan_end = setup.posix(scenario.times[0]) + 0.5 * period
    latencies, batch_t, tracks, alerts, warm_until = [], [], 0, 0, scan_end + 10 * period
    messages = emission.messages
    i = 0
    while i < len(messages):
        first = messages[i].t
        j = i
        while j < len(messages) and messages[j].t - first <= window_s:
            j += 1
        t = messages[j - 1].t + window_s  # the loop closes the batch after the window
        now[0] = t
        end = t >= scan_end
        if end:
            scan_end += period
        t0 = time.perf_counter()
        dets = feed.feed_many([(m.t, m.data, 0) for m in messages[i:j]])
        snapshot, _ = pipeline.process(t, dets, end_of_scan=end)
        spent = time.perf_counter() - t0
        if first > warm_until:
            latencies.append(spent + (t - first))  # processing + time waiting in the window
        tracks, alerts = len(snapshot.tracks), max(alerts, len(snapshot.alerts))
        batch_t.append(spent)
        i = j
    ms = np.array(latencies) * 1e3
    cpu = float(np.sum(batch_t)) / (scenario.n_scans * period)
    return {"targets": n, "tracks": tracks, "alerts": alerts, "batches": len(batch_t),
            "p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
            "max_ms": float(ms.max()), "cpu_share": cpu}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--scans", type=int, default=40)
    args = parser.parse_args()
    head = ("targets", "tracks", "alerts", "p50 ms", "p99 ms", "max ms", "CPU/real time")
    print("".join(f"{h:>{w}}" for h, w in zip(head, (8, 8, 8, 9, 9, 9, 15), strict=True)))
    for n in (int(s) for s in args.sizes.split(",")):
        r = measure(n, args.scans)
        print(f"{r['targets']:>8}{r['tracks']:>8}{r['alerts']:>8}{r['p50_ms']:>9.1f}"
              f"{r['p99_ms']:>9.1f}{r['max_ms']:>9.1f}{r['cpu_share']:>15.2f}")  # fmt: skip
        if n == 1000:
            verdict = "met" if r["p99_ms"] < 100.0 else "NOT met"
            print(f"target p99 < 100 ms at 1,000 tracks: {verdict} ({r['p99_ms']:.1f} ms)")


if __name__ == "__main__":
    main()
