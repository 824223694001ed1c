"""Ground traffic: cars and trucks on roads near the site, as a surveillance radar sees them.

A radar that sees a small drone low over the ground also sees the traffic on the roads around
it: targets at ground level, 0-35 m/s, with a large radar cross-section, flying nothing and
emitting nothing. They are a confuser for drones (a car at 15 m/s on a straight road looks
like a transiting multirotor in speed and straightness) and must never raise a drone alert.

Site ENU frame (metres, seconds), the site at the origin. Documented ranges (checked by
tests/simulate/test_ground_traffic.py):

* **roads**: 1-3 straight roads in any direction, each passing 0.3-3 km from the site at its
  closest point; the radar sees each road over :data:`ROAD_HALF_LENGTH_M` either side of that
  point (beyond it terrain and buildings hide the traffic).
* **vehicles** (class ``vehicle``): 2-5 per road on it at the first scan, and 1-4 more per
  road entering from either end during the run; kind ``car`` at 8-35 m/s or ``truck`` at
  8-25 m/s (a quarter are trucks), in either direction, at a constant height of 1-3 m above
  the site ground (the radar's reflection centre of a car's or a truck's body). A third of
  them stop once, for 10-40 s, at a junction 200-2,000 m ahead (0 m/s), braking and pulling
  away within :data:`VEHICLE_MAX_ACCELERATION` (``motion.MAX_ACCELERATION['vehicle']``), so
  the class covers 0-35 m/s. A vehicle leaves the scenario where it leaves its road's
  visible stretch.
* **no cooperative emissions**: class ``vehicle`` carries no transponder and no Remote ID
  (:class:`skywarden.simulate.emit_site.SiteSetup`'s carrier classes).
* **radar cross-section**: class ``vehicle`` in :data:`skywarden.simulate.rcs.RCS_BY_CLASS`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from skywarden.simulate.motion import MAX_ACCELERATION, Motion
from skywarden.simulate.plan import PlanBuilder
from skywarden.units import FloatArray

if TYPE_CHECKING:
    from skywarden.simulate.scenarios import Settings

ROADS = (1, 3)  # roads per scenario, inclusive
ROAD_MISS_M = (300.0, 3000.0)  # closest approach of a road to the site
ROAD_HALF_LENGTH_M = 4000.0  # visible stretch of each road either side of its closest point
VEHICLES_AT_START = (2, 5)  # per road, inclusive
VEHICLES_LATER = (1, 4)  # per road, entering during the run, inclusive
CAR_MPS, TRUCK_MPS = (8.0, 35.0), (8.0, 25.0)
TRUCK_FRACTION = 0.25
VEHICLE_HEIGHT_M = (1.0, 3.0)  # above IMPACT_HEIGHT (1 m) only by the body's reflection centre
STOP_FRACTION = 1.0 / 3.0
STOP_AHEAD_M = (200.0, 2000.0)
STOP_S = (10.0, 40.0)
VEHICLE_MAX_ACCELERATION = MAX_ACCELERATION["vehicle"]
_MIN_HEIGHT_M = 1.05  # the simulator removes targets below 1 m (motion.IMPACT_HEIGHT)


def _unit(heading: FloatArray | float) -> FloatArray:
    h = np.asarray(heading, dtype=np.float64)
    return np.stack([np.cos(h), np.sin(h), np.zeros_like(h)], axis=-1)


def add_ground_traffic(b: PlanBuilder, rng: np.random.Generator, st: Settings) -> None:
    """Add the roads' vehicles (module docstring) to the plan being built."""
    for _ in range(int(rng.integers(ROADS[0], ROADS[1] + 1))):
        heading = rng.uniform(0.0, 2.0 * math.pi)
        along, across = _unit(heading), _unit(heading + math.pi / 2)
        closest = rng.uniform(*ROAD_MISS_M) * across
        n0 = int(rng.integers(VEHICLES_AT_START[0], VEHICLES_AT_START[1] + 1))
        n1 = int(rng.integers(VEHICLES_LATER[0], VEHICLES_LATER[1] + 1))
        n = n0 + n1
        direction = rng.choice([-1.0, 1.0], n)
        truck = rng.uniform(size=n) < TRUCK_FRACTION
        speed = np.where(truck, rng.uniform(*TRUCK_MPS, n), rng.uniform(*CAR_MPS, n))
        # on the road at the first scan (anywhere along it), or entering at its upstream end
        s0 = np.where(
            np.arange(n) < n0,
            rng.uniform(-ROAD_HALF_LENGTH_M, ROAD_HALF_LENGTH_M, n),
            -direction * ROAD_HALF_LENGTH_M,
        )
        birth = np.where(
            np.arange(n) < n0, 0, [st.scan(t) for t in rng.uniform(0, st.duration, n)]
        ).astype(np.int64)
        height = rng.uniform(*VEHICLE_HEIGHT_M, n)
        stops = rng.uniform(size=n) < STOP_FRACTION
        ahead = rng.uniform(*STOP_AHEAD_M, n)
        wait = rng.uniform(*STOP_S, n)
        for k in range(n):
            _add_vehicle(
                b, st, closest, along * direction[k], float(s0[k] * direction[k]),
                float(speed[k]), int(birth[k]), float(height[k]), "truck" if truck[k] else "car",
                (float(ahead[k]), float(wait[k])) if stops[k] else None,
            )  # fmt: skip


def _add_vehicle(
    b: PlanBuilder,
    st: Settings,
    closest: FloatArray,
    forward: FloatArray,
    s0: float,
    speed: float,
    birth: int,
    height: float,
    kind: str,
    stop: tuple[float, float] | None,
) -> None:
    """One vehicle driving ``forward`` (unit (3,)) from road coordinate s0 (m from the road's
    closest point, along ``forward``) at ``speed`` m/s from scan ``birth``; ``stop`` =
    (metres ahead, seconds stopped) or None. It is removed where it leaves the road's visible
    stretch."""
    p0 = closest + s0 * forward
    p0[2] = max(height, _MIN_HEIGHT_M)
    remaining = ROAD_HALF_LENGTH_M - s0  # to the downstream end
    travel_s = remaining / speed
    if stop is not None and stop[0] < remaining:
        travel_s += stop[1] + 2.0 * speed / VEHICLE_MAX_ACCELERATION  # braking and pulling away
    death = birth + max(1, st.scan(travel_s))
    x0 = np.concatenate([p0, speed * forward])[None, :]
    ids = b.add(
        x0, mode=Motion.CV, target_class="vehicle", target_kind=kind, birth_scan=birth,
        death_scan=death,
    )  # fmt: skip
    if stop is None or stop[0] >= remaining:
        return
    ahead, wait = stop
    # brake to the junction from BRAKE_FRACTION-limited distance: start 'ahead' m downstream
    brake_m = speed**2 / VEHICLE_MAX_ACCELERATION + 10.0
    drive = max(0.0, ahead - brake_m) / speed
    halt = p0 + ahead * forward
    s_brake = birth + st.scan(drive)
    b.manoeuvre(s_brake, ids, mode=Motion.GOTO, aim=halt, speed=speed)
    arrive = s_brake + st.scan(2.0 * brake_m / speed + 5.0)
    far = p0 + (ROAD_HALF_LENGTH_M * 4.0) * forward
    b.manoeuvre(arrive + st.scan(wait), ids, mode=Motion.GOTO, aim=far, speed=speed)
