"""The ``site`` scenario: one realistic picture with every kind of traffic a site sees, for the
default demo (``skywarden demo``) and its map.

Site ENU frame (metres, seconds), the site at the origin:

* a **loitering-munition salvo** (class ``drone``, kind ``munition``; no transponder, no
  Remote ID), as in the ``loitering`` scenario (skywarden.simulate.loitering);
* a **multirotor swarm** of 6-9 drones flying in together from 2.5-3.5 km, then loitering,
  hovering or diving (kinds ``loiter``, ``hover``, ``loiter-dive``; radar only), as one group
  of the ``swarm`` scenario;
* **airliners** (class ``aircraft``, kind ``transit``) crossing 2-10 km from the site at
  2-9 km height, with ADS-B (CAT021 and SBS);
* an **inspection drone** (class ``drone``, kind ``inspection``) flying slow legs along the
  site's fence 400-700 m out at 40-60 m, broadcasting Remote ID (the demo allow-lists its
  serial, so it raises no alert);
* **birds**: a flock, and commuting gulls;
* **ground traffic** (class ``generic``, kind ``vehicle``): 3-5 vehicles on two straight roads
  1.5-2.5 km from the site, 1.5 m above the ground at 8-22 m/s (radar only).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from skywarden.simulate.loitering import _add_gulls, _add_salvo
from skywarden.simulate.motion import Motion
from skywarden.simulate.plan import PlanBuilder, TargetPlan
from skywarden.simulate.sensor import CylinderVolume

if TYPE_CHECKING:
    from skywarden.simulate.scenarios import Settings

INSPECTION_KIND = "inspection"
VEHICLE_KIND = "vehicle"
RADIUS_M = 15000.0
ROAD_DISTANCE_M = (1500.0, 2500.0)
VEHICLE_MPS = (8.0, 22.0)
VEHICLE_HEIGHT_M = 1.5
INSPECTION_DISTANCE_M = (400.0, 700.0)
INSPECTION_HEIGHT_M = (40.0, 60.0)
INSPECTION_MPS = (4.0, 7.0)


def _unit(heading: float | np.ndarray) -> np.ndarray:
    h = np.asarray(heading, dtype=np.float64)
    return np.stack([np.cos(h), np.sin(h), np.zeros_like(h)], axis=-1)


def _state(p: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.concatenate([np.atleast_2d(p), np.atleast_2d(v)], axis=1)


def site_picture_layout(
    rng: np.random.Generator, st: Settings
) -> tuple[TargetPlan, CylinderVolume]:
    """The scenario's targets (module docstring) and the radar's volume."""
    from skywarden.simulate.scenarios import _add_airliners, _add_flock, _add_swarm_group

    b = PlanBuilder()
    az = rng.uniform(0, 2 * math.pi, 8)
    _add_salvo(b, rng, st, az[0])
    _add_swarm_group(b, rng, st, int(rng.integers(6, 10)), az[1])
    _add_airliners(b, rng, st, RADIUS_M)
    _add_inspection_drone(b, rng, st, az[2])
    _add_flock(b, rng, az[3])
    _add_gulls(b, rng, st, az[4])
    _add_ground_traffic(b, rng, az[5])
    return b.build(), CylinderVolume(RADIUS_M, 0.0, 12000.0)


def _add_inspection_drone(
    b: PlanBuilder, rng: np.random.Generator, st: Settings, az: float
) -> None:
    """A multirotor flying to and fro between two points 400 m apart, 400-700 m from the site."""
    distance = rng.uniform(*INSPECTION_DISTANCE_M)
    along = _unit(az + math.pi / 2)
    speed = rng.uniform(*INSPECTION_MPS)
    ends = distance * _unit(az) + np.outer([-200.0, 200.0], along)
    ends[:, 2] = rng.uniform(*INSPECTION_HEIGHT_M)
    ids = b.add(
        _state(ends[0], speed * along), mode=Motion.GOTO, target_class="drone",
        target_kind=INSPECTION_KIND, accel_sigma=0.01, aim=ends[1:2], speed=np.array([speed]),
    )  # fmt: skip
    leg = max(1, st.scan(400.0 / speed + 15.0))  # the leg, braking onto the end, a pause
    s, k = leg, 0
    while s < st.n_scans:
        b.manoeuvre(s, ids, mode=Motion.GOTO, aim=ends[k : k + 1], speed=speed)
        s, k = s + leg, 1 - k


def _add_ground_traffic(b: PlanBuilder, rng: np.random.Generator, az: float) -> None:
    """3-5 vehicles on two straight roads that pass 1.5-2.5 km from the site, both ways."""
    for road in range(2):
        heading = az + road * rng.uniform(1.2, 2.0)
        normal = rng.uniform(*ROAD_DISTANCE_M) * _unit(heading + math.pi / 2)
        n = int(rng.integers(1, 3)) + road
        offset = rng.uniform(-2500, 2500, n)
        direction = rng.choice([-1.0, 1.0], n)
        p = normal + offset[:, None] * _unit(heading)
        p[:, 2] = VEHICLE_HEIGHT_M
        v = (direction * rng.uniform(*VEHICLE_MPS, n))[:, None] * _unit(heading)
        b.add(
            _state(p, v), mode=Motion.CV, target_class="generic", target_kind=VEHICLE_KIND,
            accel_sigma=0.0,  # on the road: no wander (a white-noise walk would leave the ground)
        )  # fmt: skip
