"""The region node (``--role region``): what track-to-track fusion buys, and what it costs.

1. Accuracy: two overlapping simulated sites (skywarden.simulate.overlapping_sites: each
   site's error is range/cross-range shaped along its own line of sight, reported exactly,
   and correlated between the sites with coefficient rho) see the same targets. For the
   objects both see: RMS 3-D position error of each site alone, of the regional (CI-fused)
   track, and of a naive Kalman fusion (P1^-1 + P2^-1) for comparison; and the mean
   normalised error (NEES, 3 dof; a consistent estimate has 3) of each, which shows why CI
   and not Kalman: the naive fusion is overconfident when the sites' errors are correlated.
   Also the association's purity (regional tracks mixing two objects) and splits (objects
   in two regional tracks).
2. Cost: one regional picture from S sites' latest pictures of 1,000 tracks each: decoding
   each site's picture message (JSON, deflated as on the bus), the fusion
   (skywarden.fuse.regional_picture: frames, association, CI, columns) cold (no membership)
   and warm (the previous picture's membership), and encoding the regional snapshot JSON.

    python benchmarks/region.py [--seeds 5] [--tracks 1000] [--repeat 5]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from skywarden.bus.picture import decode_picture, encode_picture  # noqa: E402
from skywarden.fuse.regional_picture import regional_picture  # noqa: E402
from skywarden.fuse.site_frames import site_to_region  # noqa: E402
from skywarden.fuse.track_to_track import Membership  # noqa: E402
from skywarden.geo import LocalFrame  # noqa: E402
from skywarden.simulate.overlapping_sites import SiteErrors, overlapping_sites  # noqa: E402
from skywarden.snapshot import Snapshot  # noqa: E402

TWO_SITES = [("north", 50.86, 4.30), ("south", 50.80, 4.36)]
THREE_SITES = TWO_SITES + [("east", 50.84, 4.42)]
REGION = (50.83, 4.35)


def accuracy(seeds: int, correlation: float) -> dict[str, float]:
    errs: dict[str, list[np.ndarray]] = {"north": [], "south": [], "ci": [], "kalman": []}
    nees: dict[str, list[np.ndarray]] = {k: [] for k in errs}
    mixed = split = objects = 0
    for seed in range(seeds):
        scene = overlapping_sites(np.random.default_rng(seed), 500, TWO_SITES, REGION, t=0.0,
                                  errors=SiteErrors(correlation=correlation))  # fmt: skip
        tracks, _, _ = regional_picture(scene.pictures, scene.region, Membership.empty(), 0.0)
        truth = {}
        site_state = {}
        for p, idx in zip(scene.pictures, scene.seen, strict=True):
            snap = p.snapshot
            x, P = site_to_region(snap.tracks.enu, snap.tracks.cov, LocalFrame(*snap.site),
                                  scene.region)  # fmt: skip
            for k, (tid, ti) in enumerate(zip(snap.tracks.id, idx, strict=True)):
                truth[(p.name, int(tid))] = int(ti)
                site_state[(p.name, int(ti))] = (x[k, :3], P[k, :3, :3])
        owner = [{truth[m] for m in members} for members in tracks.members]
        mixed += sum(len(o) > 1 for o in owner)
        both = np.intersect1d(*scene.seen)
        objects += both.size
        firsts = [next(iter(o)) for o in owner]
        split += int(sum(np.bincount(firsts, minlength=len(scene.truth))[both] > 1))
        for g, members in enumerate(tracks.members):
            if len(members) != 2 or len(owner[g]) != 1:
                continue
            ti = next(iter(owner[g]))
            true = scene.truth[ti, :3]
            (x1, P1), (x2, P2) = site_state[("north", ti)], site_state[("south", ti)]
            I1, I2 = np.linalg.inv(P1), np.linalg.inv(P2)
            Pk = np.linalg.inv(I1 + I2)
            xk = Pk @ (I1 @ x1 + I2 @ x2)
            for name, x, P in (("north", x1, P1), ("south", x2, P2), ("kalman", xk, Pk),
                               ("ci", tracks.enu[g, :3], tracks.cov[g, :3, :3])):  # fmt: skip
                y = x - true
                errs[name].append(float(y @ y))
                nees[name].append(float(y @ np.linalg.solve(P, y)))
    out = {f"rms_{k}_m": float(np.sqrt(np.mean(v))) for k, v in errs.items()}
    out.update({f"nees_{k}": float(np.mean(v)) for k, v in nees.items()})
    out.update(objects_seen_by_both=objects, mixed_tracks=mixed, split_objects=split)
    return out


def cost(n_tracks: int, sites: list, repeat: int) -> dict[str, float]:
    rng = np.random.default_rng(1)
    area = 40000.0
    scene = overlapping_sites(rng, int(n_tracks * 1.4), sites, REGION, t=0.0, extent_m=area,
                              coverage_m=area * 0.6)  # fmt: skip
    # keep exactly n_tracks per site (the first ones)
    pictures = [_first(p, n_tracks) for p in scene.pictures]
    messages = [encode_picture(p.snapshot) for p in pictures]
    t0 = time.perf_counter()
    for _ in range(repeat):
        for payload, headers in messages:
            decode_picture(payload, headers)
    decode_s = (time.perf_counter() - t0) / repeat
    t0 = time.perf_counter()
    for _ in range(repeat):
        tracks, alerts, membership = regional_picture(
            pictures, scene.region, Membership.empty(), 0.0
        )
    cold_s = (time.perf_counter() - t0) / repeat
    t0 = time.perf_counter()
    for _ in range(repeat):
        tracks, alerts, membership = regional_picture(pictures, scene.region, membership, 0.0)
    warm_s = (time.perf_counter() - t0) / repeat
    snap = Snapshot(1, 0.0, (REGION[0], REGION[1], 0.0), tracks, alerts)
    t0 = time.perf_counter()
    for _ in range(repeat):
        Snapshot(1, 0.0, snap.site, tracks, alerts).json_bytes  # noqa: B018 (encoded once each)
    encode_s = (time.perf_counter() - t0) / repeat
    return {"site_tracks": n_tracks * len(sites), "regional_tracks": len(tracks),
            "fused_pairs": int(sum(len(m) > 1 for m in tracks.members)),
            "decode_ms": 1e3 * decode_s, "fuse_cold_ms": 1e3 * cold_s,
            "fuse_warm_ms": 1e3 * warm_s, "encode_ms": 1e3 * encode_s,
            "picture_bytes": sum(len(p) for p, _ in messages)}  # fmt: skip


def _first(picture, n: int):
    import dataclasses

    snap = picture.snapshot
    keep = np.arange(min(n, len(snap.tracks)))
    return dataclasses.replace(
        picture, snapshot=dataclasses.replace(snap, tracks=snap.tracks.take(keep))
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--tracks", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    for rho in (0.0, 0.3, 0.7):
        _print_accuracy(rho, accuracy(args.seeds, rho))
    for sites in (TWO_SITES, THREE_SITES):
        _print_cost(args.tracks, len(sites), cost(args.tracks, sites, args.repeat))
    _print_covariance_overhead(args.tracks, args.repeat)


def _print_accuracy(rho: float, a: dict[str, float]) -> None:
    better = min(a["rms_north_m"], a["rms_south_m"])
    print(
        f"accuracy, error correlation {rho}: {a['objects_seen_by_both']} objects seen by both "
        f"sites, {a['mixed_tracks']} regional tracks mixing objects, "
        f"{a['split_objects']} objects split"
    )
    print(
        f"  RMS 3-D position error: north {a['rms_north_m']:.1f} m, "
        f"south {a['rms_south_m']:.1f} m, CI-fused {a['rms_ci_m']:.1f} m "
        f"({a['rms_ci_m'] / better:.2f}x the better site), "
        f"naive Kalman {a['rms_kalman_m']:.1f} m"
    )
    print(
        f"  NEES (3 = consistent): north {a['nees_north']:.2f}, south {a['nees_south']:.2f}, "
        f"CI {a['nees_ci']:.2f}, naive Kalman {a['nees_kalman']:.2f}"
    )


def _print_cost(n: int, sites: int, c: dict[str, float]) -> None:
    total = c["decode_ms"] + c["fuse_warm_ms"] + c["encode_ms"]
    print(
        f"cost, {sites} sites x {n} tracks ({c['regional_tracks']} regional, "
        f"{c['fused_pairs']} fused from 2+ sites; pictures {c['picture_bytes'] / 1e3:.0f} kB "
        f"on the bus):"
    )
    print(
        f"  decode {c['decode_ms']:.1f} ms + fuse {c['fuse_warm_ms']:.1f} ms "
        f"(cold {c['fuse_cold_ms']:.1f} ms) + encode {c['encode_ms']:.1f} ms "
        f"= {total:.1f} ms per regional picture: {total / 1e3:.3f} of a 1 s picture period"
    )


def _print_covariance_overhead(n: int, repeat: int) -> None:
    """What the published covariance costs a site's core: JSON time and bytes."""
    import dataclasses

    scene = overlapping_sites(np.random.default_rng(2), n, TWO_SITES[:1], REGION, t=0.0,
                              extent_m=20000.0, coverage_m=1e6)  # fmt: skip
    snap = scene.pictures[0].snapshot
    plain = dataclasses.replace(snap, tracks=dataclasses.replace(snap.tracks, cov=None))
    out = {}
    for name, s in (("with", snap), ("without", plain)):
        t0 = time.perf_counter()
        for _ in range(repeat):
            data = dataclasses.replace(s).json_bytes
        out[name] = (1e3 * (time.perf_counter() - t0) / repeat, len(data),
                     len(encode_picture(s)[0]))  # fmt: skip
    (tw, bw, zw), (to, bo, zo) = out["with"], out["without"]
    print(f"site picture of {n} tracks with the covariance vs without: JSON {tw:.1f} vs "
          f"{to:.1f} ms ({tw / to:.2f}x), {bw / 1e3:.0f} vs {bo / 1e3:.0f} kB, "
          f"deflated {zw / 1e3:.0f} vs {zo / 1e3:.0f} kB ({zw / zo:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
