"""The ``loitering`` scenario: a salvo of fixed-wing loitering munitions / one-way attack
drones, and the things an operator mistakes them for.

Site ENU frame (metres, seconds), the site at the origin. Documented ranges (checked by
tests/simulate/test_loitering.py):

* **munitions** (class ``drone``, kind ``munition``), a salvo of 3-6 launched within 0-40 s
  of each other from one bearing (spread +-0.3 rad), 6-9 km out. They cruise at 25-55 m/s
  (the speed dips briefly while one turns into its dive within the 6 m/s^2 drone limit)
  at 50-2,000 m above the site, join an orbit of 300-1,500 m radius centred 1.5-4 km from
  the site (orbit loiter) and, 30-120 s after reaching it, dive at the site at 50-90 m/s
  (terminal dive; the truth ends at impact). A third of them skip the loiter and dive when
  they come within 1.5-3 km. They have no transponder and no Remote ID: the scenario has no
  cooperative emissions at all.
* **gliders and ultralights without transponders** (class ``aircraft``, kinds ``glider`` and
  ``ultralight``), 1-2 of each: 20-60 m/s (gliders 20-35, ultralights 30-60) at 300-2,000 m;
  gliders fly straight legs and circle in thermals (turn rates 6-12 deg/s), ultralights fly
  straight legs joined by gentle turns.
* **thermalling birds** (class ``bird``, kind ``thermal``; storks, buzzards, gulls), 2-4:
  circling at 8-12 m/s with a 40-120 m radius, climbing at 1-2 m/s from 100-400 m. (The
  simulator's coordinated turn has no wind, so the circles do not drift; see the report.)
* **commuting gulls** (class ``bird``, kind ``gull``), 2-4: straight flight at 9-14 m/s at
  20-150 m with flap-glide height undulation: the vertical speed alternates between
  +0.5-1.5 and -0.5-1.5 m/s every 2-5 s.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from skywarden.simulate.motion import Motion
from skywarden.simulate.plan import PlanBuilder, TargetPlan
from skywarden.simulate.sensor import CylinderVolume
from skywarden.units import DEG, FloatArray

if TYPE_CHECKING:
    from skywarden.simulate.scenarios import Settings

CRUISE_MPS = (25.0, 55.0)
CRUISE_HEIGHT_M = (50.0, 2000.0)
ORBIT_RADIUS_M = (300.0, 1500.0)
DIVE_MPS = (50.0, 90.0)
GLIDER_MPS, ULTRALIGHT_MPS = (20.0, 35.0), (30.0, 60.0)
LIGHT_AIRCRAFT_HEIGHT_M = (300.0, 2000.0)
THERMAL_MPS, THERMAL_CLIMB_MPS, THERMAL_RADIUS_M = (8.0, 12.0), (1.0, 2.0), (40.0, 120.0)
GULL_MPS, GULL_HEIGHT_M, GULL_VU_MPS, GULL_HALF_CYCLE_S = (
    (9.0, 14.0),
    (20.0, 150.0),
    (0.5, 1.5),
    (2.0, 5.0),
)
RADIUS_M = 15000.0
SALVO = (3, 6)  # munitions per salvo, inclusive


def _unit(heading: FloatArray | float) -> FloatArray:
    h = np.asarray(heading, dtype=np.float64)
    return np.stack([np.cos(h), np.sin(h), np.zeros_like(h)], axis=-1)


def _state(p: FloatArray, v: FloatArray) -> FloatArray:
    return np.concatenate([np.atleast_2d(p), np.atleast_2d(v)], axis=1)


def loitering_layout(rng: np.random.Generator, st: Settings) -> tuple[TargetPlan, CylinderVolume]:
    """The scenario's targets (module docstring) and the radar's volume."""
    b = PlanBuilder()
    add_loitering_threat(b, rng, st)
    return b.build(), CylinderVolume(RADIUS_M, 0.0, 6000.0)


def add_loitering_threat(
    b: PlanBuilder, rng: np.random.Generator, st: Settings, salvo: tuple[int, int] = SALVO
) -> None:
    """Add a salvo of ``salvo`` (min, max inclusive) munitions and their confusers (module
    docstring) to the plan being built."""
    az = rng.uniform(0, 2 * math.pi, 8)
    _add_salvo(b, rng, st, az[0], salvo)
    _add_light_aircraft(b, rng, st, az[1:3])
    _add_thermalling_birds(b, rng, az[3])
    _add_gulls(b, rng, st, az[4])


def _add_salvo(
    b: PlanBuilder, rng: np.random.Generator, st: Settings, az: float, size: tuple[int, int] = SALVO
) -> None:
    """size[0]-size[1] munitions from one bearing: cruise, orbit loiter (or not), dive."""
    n = int(rng.integers(size[0], size[1] + 1))
    bearing = az + rng.uniform(-0.3, 0.3, n)
    height = rng.uniform(*CRUISE_HEIGHT_M, n)
    start = rng.uniform(6000, 9000, (n, 1)) * _unit(bearing)
    start[:, 2] = height
    cruise = rng.uniform(*CRUISE_MPS, n)
    launch = np.array([st.scan(t) for t in rng.uniform(0, 40, n)])
    centre = rng.uniform(1500, 4000, (n, 1)) * _unit(bearing + rng.uniform(-0.5, 0.5, n))
    centre[:, 2] = height
    radius = rng.uniform(*ORBIT_RADIUS_M, n)
    v0 = -_unit(bearing) * cruise[:, None]
    ids = b.add(
        _state(start, v0), mode=Motion.LOITER, target_class="drone", target_kind="munition",
        birth_scan=launch, accel_sigma=0.05, centre=centre, radius=radius,
        speed=cruise * rng.choice([-1.0, 1.0], n),
    )  # fmt: skip
    direct = rng.uniform(size=n) < 1 / 3
    to_orbit = np.linalg.norm(start[:, :2] - centre[:, :2], axis=1) - radius
    reach = launch + np.ceil(np.maximum(to_orbit, 0.0) / cruise / st.scan_period).astype(int)
    loiter = np.round(rng.uniform(30, 120, n) / st.scan_period).astype(int)
    dive_range = rng.uniform(1500, 3000, n)
    straight = (np.linalg.norm(start[:, :2], axis=1) - dive_range) / cruise / st.scan_period
    dive = np.where(direct, launch + np.maximum(straight, 1).astype(int), reach + loiter)
    aim = np.column_stack([rng.uniform(-50, 50, (n, 2)), np.zeros(n)])
    if direct.any():  # fly straight at the site until the dive
        b.manoeuvre(launch[direct], ids[direct], mode=Motion.CV)
    b.manoeuvre(dive, ids, mode=Motion.DIVE, aim=aim, speed=rng.uniform(*DIVE_MPS, n))


def _add_light_aircraft(
    b: PlanBuilder, rng: np.random.Generator, st: Settings, az: FloatArray
) -> None:
    """1-2 gliders (straight legs and thermal circles) and 1-2 ultralights, no transponder."""
    for kind, speeds, heading0 in (
        ("glider", GLIDER_MPS, az[0]),
        ("ultralight", ULTRALIGHT_MPS, az[1]),
    ):
        n = int(rng.integers(1, 3))
        p = rng.uniform(2000, 8000, (n, 1)) * _unit(heading0 + rng.uniform(-0.5, 0.5, n))
        p[:, 2] = rng.uniform(*LIGHT_AIRCRAFT_HEIGHT_M, n)
        speed = rng.uniform(*speeds, n)
        v = speed[:, None] * _unit(rng.uniform(0, 2 * math.pi, n))
        ids = b.add(
            _state(p, v), mode=Motion.CT, target_class="aircraft", target_kind=kind,
        )  # fmt: skip
        lo, hi = (6.0, 12.0) if kind == "glider" else (1.5, 3.0)
        for i, k in enumerate(ids.tolist()):
            rate = min(rng.uniform(lo, hi) * DEG, 2.5 / speed[i])  # within 3 m/s^2
            turn = max(1, st.scan((2 * math.pi if kind == "glider" else math.pi / 2) / rate))
            s, sign = st.scan(rng.uniform(20, 60)), rng.choice([-1.0, 1.0])
            while s < st.n_scans:
                b.manoeuvre(s, np.array([k]), turn_rate=sign * rate)
                b.manoeuvre(s + turn, np.array([k]), turn_rate=0.0)
                s += turn + st.scan(rng.uniform(20, 60))


def _add_thermalling_birds(b: PlanBuilder, rng: np.random.Generator, az: float) -> None:
    """2-4 birds circling and climbing in a thermal 1-5 km from the site."""
    n = int(rng.integers(2, 5))
    centre = rng.uniform(1000, 5000) * _unit(az) + rng.normal(0, 60, 3) * [1, 1, 0]
    speed = rng.uniform(*THERMAL_MPS, n)
    radius = rng.uniform(*THERMAL_RADIUS_M, n)
    phase = rng.uniform(0, 2 * math.pi, n)
    sign = rng.choice([-1.0, 1.0])
    p = centre + radius[:, None] * _unit(phase)
    p[:, 2] = rng.uniform(100, 400, n)
    v = sign * speed[:, None] * _unit(phase + math.pi / 2)
    v[:, 2] = rng.uniform(*THERMAL_CLIMB_MPS, n)
    b.add(
        _state(p, v), mode=Motion.CT, target_class="bird", target_kind="thermal",
        turn_rate=sign * speed / radius,
    )  # fmt: skip


def _add_gulls(b: PlanBuilder, rng: np.random.Generator, st: Settings, az: float) -> None:
    """2-4 gulls commuting in straight lines with flap-glide height undulation."""
    n = int(rng.integers(2, 5))
    p = rng.uniform(1000, 5000, (n, 1)) * _unit(az + rng.uniform(-0.4, 0.4, n))
    p[:, 2] = rng.uniform(*GULL_HEIGHT_M, n)
    v = rng.uniform(*GULL_MPS, n)[:, None] * _unit(rng.uniform(0, 2 * math.pi, n))
    ids = b.add(_state(p, v), mode=Motion.CV, target_class="bird", target_kind="gull")
    for k in ids.tolist():
        s, up = 0, rng.uniform() < 0.5
        while s < st.n_scans:
            vu = rng.uniform(*GULL_VU_MPS) * (1.0 if up else -1.0)
            b.manoeuvre(s, np.array([k]), vu=vu)
            s += max(1, st.scan(rng.uniform(*GULL_HALF_CYCLE_S)))
            up = not up
