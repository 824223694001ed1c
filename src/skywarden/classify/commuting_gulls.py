"""Synthetic commuting gulls for the classifier's training data (issue 11, round 8).

The simulator's commuting gull (:mod:`skywarden.simulate.loitering`: straight flight at 9-14
m/s, 20-150 m up, flap-glide height undulation of 0.5-1.5 m/s every 2-5 s) is the bird that a
steady multirotor transit looks like through 5 m radar noise. The training set held only the
2-4 gulls of each ``loitering`` seed and those of ``mixed``: too few to cover the gulls'
whole range of speed, height and (per-target, log-normal) radar cross-section. Trained with
the high, steady multirotor missions (:data:`skywarden.classify.synthetic.HIGH_MISSIONS`)
beside them, the model met drones alone where a gull flies fast (13-15 m/s), high (110-150
m) and with a drone-sized RCS (above -22 dBsm): no training gull fell there, and it labelled
one such gull (mixed seed 22) ``drone`` on 58 scans. These gulls fill that corner, so that
where gulls and steady drones truly overlap the model learns the overlap (a probability near
the mix of the two) instead of either class alone.

Ranges (drawn uniformly per gull): speed :data:`SPEED_MPS`, height :data:`HEIGHT_M`, the
simulator's flap-glide vertical speed and half cycle, heading fixed with a slow random walk
(0.01 rad/sqrt(s)). The heights go beyond the simulator's 150 m to 250 m: gulls commute
that high too, and the steady drones they are confused with fly there. Units: metres,
seconds, site ENU; the RCS is drawn by the renderer from the bird class's model.
"""

from __future__ import annotations

import math

import numpy as np

from skywarden.classify.synthetic import STEP_S, _integrate, _to_trajectories
from skywarden.classify.trajectories import Trajectory
from skywarden.simulate.loitering import GULL_HALF_CYCLE_S, GULL_VU_MPS

SPEED_MPS = (8.0, 16.0)
HEIGHT_M = (20.0, 250.0)
HEADING_WALK = 0.01  # rad / sqrt(s)


def synthetic_gulls(
    rng: np.random.Generator, n: int, duration_s: float, group: str = "gull"
) -> list[Trajectory]:
    """n commuting gulls for duration_s seconds (module docstring), truth at 1 s."""
    s = int(duration_s / STEP_S)
    speed = np.repeat(rng.uniform(*SPEED_MPS, n)[:, None], s, axis=1)
    heading = rng.uniform(0, 2 * math.pi, n)[:, None] + np.cumsum(
        rng.normal(0.0, HEADING_WALK * math.sqrt(STEP_S), (n, s)), axis=1
    )
    vz = np.empty((n, s))
    up = rng.random(n) < 0.5
    left = np.zeros(n)  # seconds left in the current half cycle
    rate = np.zeros(n)
    for i in range(s):
        new = left <= 0.0
        if new.any():
            k = int(new.sum())
            up[new] = ~up[new]
            rate[new] = rng.uniform(*GULL_VU_MPS, k) * np.where(up[new], 1.0, -1.0)
            left[new] = rng.uniform(*GULL_HALF_CYCLE_S, k)
        vz[:, i] = rate
        left -= STEP_S
    p0 = np.column_stack([np.zeros(n), np.zeros(n), rng.uniform(*HEIGHT_M, n)])
    p, _ = _integrate(p0, speed, heading, vz)
    p[..., 2] = 5.0 + np.abs(p[..., 2] - 5.0)  # reflect at 5 m above the ground
    return _to_trajectories("synthetic_gull_", "bird", p, 0.0, group)


__all__ = ["HEIGHT_M", "SPEED_MPS", "synthetic_gulls"]
