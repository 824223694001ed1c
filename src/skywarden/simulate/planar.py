"""Planar (2-D) tracking scenarios: CV or manoeuvring targets with births and deaths, Poisson
clutter, and detections with z = 0, as a plain ``t,x,y,z,sigma`` detections table.

These are the scenarios tracker benchmarks are judged on (GOSPA against Stone Soup's GNN on
the same detections): no heights, no sensor model beyond Pd and a Gaussian position error,
clutter uniform over the surveillance square. Seeded; vectorised over targets.

Geometry: site ENU metres, z = 0 everywhere; time in seconds from 0 with one scan every
``scan_period`` seconds. Targets start on a jittered grid inside the inner 65 % of the square
at 10-35 m/s. Manoeuvring targets fly coordinated turns (rate up to ``max_turn_rate``)
alternating with straight legs of 5-20 s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from skywarden.tables import DetectionTable, Truth
from skywarden.units import FloatArray, IntArray


@dataclass(frozen=True, slots=True)
class PlanarSettings:
    """One planar scenario.

    Attributes:
        n_targets: targets alive at every scan (a fraction ``turnover`` of them dies during the
            run and as many are born, at the same scans).
        clutter_per_scan: mean number of Poisson clutter points per scan over the square.
        pd: probability of detection per target per scan.
        sigma: 1-sigma position error per axis, metres.
        manoeuvring: coordinated turns (True) or nearly-constant velocity (False).
        n_scans: number of scans; scan_period: seconds between scans.
        half_side: half the side of the surveillance square, metres.
        accel_sigma: white-acceleration noise of the CV targets, m/s^2 per sqrt(Hz).
        max_turn_rate: largest turn rate of a manoeuvring target, rad/s.
        turnover: fraction of the targets that die (and are replaced) during the run.
    """

    n_targets: int = 100
    clutter_per_scan: float = 100.0
    pd: float = 0.9
    sigma: float = 5.0
    manoeuvring: bool = False
    n_scans: int = 100
    scan_period: float = 1.0
    half_side: float = 10_000.0
    accel_sigma: float = 0.1
    max_turn_rate: float = 0.2
    turnover: float = 0.4


@dataclass(frozen=True, slots=True)
class PlanarScenario:
    """The truth (every live target at every scan) and the detections (time-sorted)."""

    settings: PlanarSettings
    truth: Truth
    detections: DetectionTable


def planar_scenario(settings: PlanarSettings, seed: int) -> PlanarScenario:
    """Simulate a planar scenario (seeded: the same settings and seed give the same tables)."""
    rng = np.random.default_rng(seed)
    s = settings
    n_change = int(round(s.turnover * s.n_targets))
    n_all = s.n_targets + n_change
    birth = np.zeros(n_all, np.int64)
    death = np.full(n_all, s.n_scans, np.int64)  # alive in scans [birth, death)
    if n_change:
        change = np.linspace(0.05, 0.95, n_change) * s.n_scans + rng.uniform(-1, 1, n_change)
        change = np.clip(np.round(change), 1, s.n_scans - 1).astype(np.int64)
        death[rng.choice(s.n_targets, n_change, replace=False)] = change
        birth[s.n_targets :] = change
    states = _trajectories(rng, s, n_all)  # (n_scans, n_all, 4) x, y, vx, vy
    t_scan = np.arange(s.n_scans) * s.scan_period
    k_idx, i_idx = np.nonzero(
        (np.arange(s.n_scans)[:, None] >= birth) & (np.arange(s.n_scans)[:, None] < death)
    )
    st = states[k_idx, i_idx]
    zeros = np.zeros(k_idx.size)
    truth = Truth(
        t=t_scan[k_idx],
        id=i_idx.astype(np.int64),
        pos=np.column_stack([st[:, 0], st[:, 1], zeros]),
        vel=np.column_stack([st[:, 2], st[:, 3], zeros]),
    )
    detections = _detections(rng, s, t_scan, k_idx, st[:, :2])
    return PlanarScenario(s, truth, detections)


def _trajectories(rng: np.random.Generator, s: PlanarSettings, n: int) -> FloatArray:
    """(n_scans, n, 4) states; every target's full path (only its life is kept)."""
    x = np.zeros((s.n_scans, n, 4))
    x[0, :, :2] = _grid(rng, n, 0.65 * s.half_side)
    speed = rng.uniform(10.0, 35.0, n)
    heading = rng.uniform(0.0, 2.0 * math.pi, n)
    x[0, :, 2], x[0, :, 3] = speed * np.cos(heading), speed * np.sin(heading)
    # births happen anywhere in the inner square: every target gets its own start, and the
    # state at its birth scan is what it flew to from there, which is just as random
    dt = s.scan_period
    omega = np.zeros(n)
    leg_left = rng.uniform(5.0, 20.0, n)
    for k in range(1, s.n_scans):
        prev = x[k - 1]
        if s.manoeuvring:
            leg_left -= dt
            new_leg = leg_left <= 0.0
            turning = rng.random(n) < 0.6
            rate = rng.uniform(0.05, s.max_turn_rate, n) * rng.choice([-1.0, 1.0], n)
            omega = np.where(new_leg, np.where(turning, rate, 0.0), omega)
            leg_left = np.where(new_leg, rng.uniform(5.0, 20.0, n), leg_left)
            x[k] = _coordinated_turn(prev, omega, dt)
        else:
            a = rng.normal(0.0, s.accel_sigma / math.sqrt(dt), (n, 2))
            x[k, :, :2] = prev[:, :2] + prev[:, 2:] * dt + 0.5 * a * dt**2
            x[k, :, 2:] = prev[:, 2:] + a * dt
    return x


def _coordinated_turn(x: FloatArray, omega: FloatArray, dt: float) -> FloatArray:
    """States (n, 4) after dt of a turn at omega rad/s (exact; straight where omega = 0)."""
    wt = omega * dt
    small = np.abs(wt) < 1e-9
    w = np.where(small, 1.0, omega)
    s_, c_ = np.sin(wt), np.cos(wt)
    a = np.where(small, dt, s_ / w)
    b = np.where(small, 0.0, (1.0 - c_) / w)
    vx, vy = x[:, 2], x[:, 3]
    out = np.empty_like(x)
    out[:, 0] = x[:, 0] + a * vx - b * vy
    out[:, 1] = x[:, 1] + b * vx + a * vy
    out[:, 2] = c_ * vx - s_ * vy
    out[:, 3] = s_ * vx + c_ * vy
    return out


def _grid(rng: np.random.Generator, n: int, half: float) -> FloatArray:
    g = max(1, math.ceil(math.sqrt(n)))
    cells = rng.choice(g * g, size=n, replace=False)
    pitch = 2.0 * half / g
    e = -half + pitch * (cells % g + 0.5 + rng.uniform(-0.3, 0.3, n))
    nn = -half + pitch * (cells // g + 0.5 + rng.uniform(-0.3, 0.3, n))
    return np.column_stack([e, nn])


def _detections(
    rng: np.random.Generator, s: PlanarSettings, t_scan: FloatArray, k_idx: IntArray, xy: FloatArray
) -> DetectionTable:
    seen = rng.random(k_idx.size) < s.pd
    target_xy = xy[seen] + rng.normal(0.0, s.sigma, (int(seen.sum()), 2))
    target_k = k_idx[seen]
    n_clutter = rng.poisson(s.clutter_per_scan, s.n_scans)
    clutter_k = np.repeat(np.arange(s.n_scans), n_clutter)
    clutter_xy = rng.uniform(-s.half_side, s.half_side, (clutter_k.size, 2))
    k = np.concatenate([target_k, clutter_k])
    pos = np.concatenate([target_xy, clutter_xy])
    order = np.lexsort((rng.random(k.size), k))  # time order, shuffled within a scan
    pos = np.column_stack([pos[order], np.zeros(k.size)])
    return DetectionTable(t=t_scan[k[order]], pos=pos, sigma=np.full(k.size, s.sigma))


HELD_OUT_LIKE = {
    "dense": PlanarSettings(100, 100.0, 0.9, 5.0),
    "manoeuvring": PlanarSettings(60, 5.0, 0.98, 10.0, manoeuvring=True),
    "heavy": PlanarSettings(50, 300.0, 0.8, 5.0),
}
"""The three scenarios of issue 12's table (100 targets / 100 clutter / Pd 0.9 / 5 m; 60
manoeuvring / 5 / 0.98 / 10 m; 50 / 300 / 0.8 / 5 m)."""
