"""Named, seeded scenarios: ``build_scenario(name, seed, **overrides) -> Scenario``.

All geometry is in the site ENU frame (metres, seconds; the site at the origin, u = height
above the site). Documented ranges, which the tests check:

* drones: speed 5-40 m/s while transiting (0 when hovering), height 20-300 m; diving drones
  descend to the ground near the site, where their truth ends.
* birds: speed 8-20 m/s, height 10-400 m, in flocks (erratic Ornstein-Uhlenbeck velocity).
* aircraft (airliners): straight transits at 120-250 m/s, height 1-10 km.
* generic (bench, scale-N): nearly-constant velocity (white acceleration 0.1 m/s^2/sqrt(Hz)),
  10-35 m/s and height 300-2700 m at birth.

Every target keeps within its class's acceleration limit (``motion.MAX_ACCELERATION``: drones 6,
birds 10, airliners 3 m/s^2; CV/CT white noise aside): swarm drones brake onto hover points,
turn onto their orbits and accelerate into their dives within it; turns are chosen so that
speed x turn rate stays below it.

Scenarios (defaults; ``pd``, ``sigma``, ``clutter_rate``, ``n_scans``, ``scan_period``,
``sigma_per_km`` and ``t0`` can be overridden):

* ``crossing``: 4-6 drones; two pairs pass within 0.5-1.5 sigma of each other at the same
  height, one of them just after a coordinated turn; extra targets cross 40-80 m above or below.
* ``swarm``: 32-40 drones in 3-5 groups approaching from several directions; they loiter
  (joining the orbit from 150 m out), loiter then dive at the site (no braking: truth ends at
  impact), or brake to a hover; 240 scans.
* ``mixed``: hovering, loitering, patrolling (legs and turns), climbing and late-born drones,
  a bird flock, two airliners, clutter; 300 scans. Overlaid on them (:mod:`skywarden.simulate.
  layers`, so the targets above are unchanged): a salvo of 2-4 loitering munitions with their
  confusers and ground traffic.
* ``loitering``: a salvo of fixed-wing loitering munitions (cruise, orbit loiter, terminal
  dive) among gliders and ultralights without transponders, thermalling birds and commuting
  gulls (ranges in :mod:`skywarden.simulate.loitering`); 420 scans; overlaid, ground traffic
  (cars and trucks on roads, 0-35 m/s at ground level: :mod:`skywarden.simulate.
  ground_traffic`).
* ``bench``: 100 CV targets alive at every scan (40 die and 40 are born during the run),
  Pd 0.9, 100 clutter points per scan, sigma 5 m, 100 scans, a 20 x 20 x 3 km box.
* ``scale-N``: N CV targets in a box whose area grows with N (4 km^2 per target, as bench),
  N clutter points per scan, 20 scans.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from skywarden.errors import ConfigError
from skywarden.simulate.layers import with_layer
from skywarden.simulate.loitering import loitering_layout
from skywarden.simulate.motion import Motion, ct_step
from skywarden.simulate.plan import PlanBuilder, TargetPlan
from skywarden.simulate.sensor import BoxVolume, CylinderVolume, SensorParams
from skywarden.simulate.simulator import Scenario, simulate
from skywarden.simulate.site_picture import site_picture_layout
from skywarden.units import DEG, FloatArray

SCENARIO_NAMES = ("crossing", "swarm", "mixed", "loitering", "site", "bench", "scale-N")
MAX_SCALE_TARGETS = 2_000_000
DRONE_ACCEL_SIGMA = 0.01  # m/s^2/sqrt(Hz): low-flying drones must not wander out of 20-300 m
SWARM_JOIN_LEAD = 150.0  # m before the orbit where swarm drones switch from GOTO to LOITER
OVERRIDES = (
    "pd", "sigma", "clutter_rate", "n_scans", "scan_period", "sigma_per_km", "t0", "confusers",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved timing and sensor settings a scenario layout is built for."""

    n_scans: int
    scan_period: float
    pd: float
    sigma: float
    clutter_rate: float
    sigma_per_km: float = 0.0

    @property
    def duration(self) -> float:
        """Seconds from the first to the last scan."""
        return (self.n_scans - 1) * self.scan_period

    def scan(self, seconds: float) -> int:
        """Index of the scan nearest to a time after the first scan."""
        return int(round(seconds / self.scan_period))


Layout = Callable[[np.random.Generator, Settings], tuple[TargetPlan, BoxVolume | CylinderVolume]]


def build_scenario(name: str, seed: int, **overrides: float) -> Scenario:
    """Build the named scenario with a seed; same name, seed and overrides -> identical output.

    Args:
        name: one of ``crossing``, ``swarm``, ``mixed``, ``loitering``, ``site``, ``bench``,
            ``scale-N``
            (N an integer).
        seed: any non-negative integer.
        overrides: pd, sigma (m), clutter_rate (per scan), n_scans, scan_period (s),
            sigma_per_km (m per km of range), t0 (time of the first scan, s; default 0),
            confusers (1, the default: with the scenario's confuser layer, if it has one;
            0: without it, the scenario as it was before the layer: skywarden.simulate.layers).

    Raises:
        ConfigError: unknown name, unknown override or a value out of range.
    """
    unknown = sorted(set(overrides) - set(OVERRIDES))
    if unknown:
        raise ConfigError(f"unknown scenario option(s) {unknown}; valid: {', '.join(OVERRIDES)}")
    confusers = overrides.get("confusers", 1)
    if confusers not in (0, 1):
        raise ConfigError(f"confusers must be 0 or 1, got {confusers}")
    layout, defaults = _lookup(name)
    settings = _settings(defaults, overrides)
    if int(seed) < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed}")
    layout_rng, motion_rng, sensor_rng = np.random.default_rng(int(seed)).spawn(3)
    plan, volume = layout(layout_rng, settings)
    sensor = SensorParams(
        pd=settings.pd,
        sigma=settings.sigma,
        clutter_rate=settings.clutter_rate,
        volume=volume,
        scan_period=settings.scan_period,
        sigma_per_km=settings.sigma_per_km,
    )
    t0 = float(overrides.get("t0", 0.0))
    times = t0 + settings.scan_period * np.arange(settings.n_scans)
    base = simulate(
        plan,
        sensor,
        times,
        motion_rng=motion_rng,
        sensor_rng=sensor_rng,
        name=name,
        seed=int(seed),
    )
    if not confusers:
        return base
    return with_layer(base, name, int(seed), settings)  # mixed, loitering: confuser layers


def _lookup(name: str) -> tuple[Layout, Settings]:
    if name in _LAYOUTS:
        return _LAYOUTS[name]
    if name.startswith("scale-"):
        count = name.removeprefix("scale-")
        if count.isdigit() and 1 <= int(count) <= MAX_SCALE_TARGETS:
            n = int(count)
            return (lambda rng, s: _scale(rng, s, n)), Settings(20, 1.0, 0.9, 5.0, float(n))
        raise ConfigError(f"scale-N needs an integer N in 1..{MAX_SCALE_TARGETS}, got {name!r}")
    raise ConfigError(f"unknown scenario {name!r}; valid: {', '.join(SCENARIO_NAMES)}")


def _settings(defaults: Settings, overrides: dict[str, float]) -> Settings:
    n_scans = overrides.get("n_scans", defaults.n_scans)
    if int(n_scans) != n_scans or not 2 <= n_scans <= 1_000_000:
        raise ConfigError(f"n_scans must be an integer in 2..1000000, got {n_scans}")
    try:
        sensor = SensorParams(
            pd=float(overrides.get("pd", defaults.pd)),
            sigma=float(overrides.get("sigma", defaults.sigma)),
            clutter_rate=float(overrides.get("clutter_rate", defaults.clutter_rate)),
            volume=BoxVolume((0, 0, 0), (1, 1, 1)),
            scan_period=float(overrides.get("scan_period", defaults.scan_period)),
            sigma_per_km=float(overrides.get("sigma_per_km", defaults.sigma_per_km)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad scenario option: {exc}") from exc
    return Settings(
        int(n_scans),
        sensor.scan_period,
        sensor.pd,
        sensor.sigma,
        sensor.clutter_rate,
        sensor.sigma_per_km,
    )


def _unit(heading: FloatArray | float) -> FloatArray:
    """Horizontal unit vector(s) (..., 3) for heading(s) in radians from east, anticlockwise."""
    h = np.asarray(heading, dtype=np.float64)
    return np.stack([np.cos(h), np.sin(h), np.zeros_like(h)], axis=-1)


def _state(p: FloatArray, v: FloatArray) -> FloatArray:
    return np.concatenate([np.reshape(p, (-1, 3)), np.reshape(v, (-1, 3))], axis=1)


# ---------------------------------------------------------------- crossing


def _crossing(rng: np.random.Generator, st: Settings) -> tuple[TargetPlan, BoxVolume]:
    """Two close passes (one just after a coordinated turn) plus 0-2 crossers above/below."""
    b = PlanBuilder()
    drone = {"target_class": "drone"}
    height = rng.uniform(120.0, 220.0)
    # pair A: straight crossing at the same height, miss distance 0.5-1.5 sigma
    scan_a = st.scan(0.35 * st.duration)
    point_a = np.array([rng.uniform(-800, -300), rng.uniform(-500, 500), height])
    heading_a = rng.uniform(0, 2 * math.pi)
    cross_a = heading_a + rng.choice([-1, 1]) * rng.uniform(math.pi / 3, 2 * math.pi / 3)
    _add_close_pair(b, rng, st, point_a, scan_a, heading_a, cross_a, drone)
    # pair B: a target turns, then another crosses its new straight leg
    point_b, heading_b, scan_b = _add_turner(b, rng, st, height, drone)
    cross_b = heading_b + rng.choice([-1, 1]) * rng.uniform(math.pi / 4, 3 * math.pi / 4)
    _add_close_pair(b, rng, st, point_b, scan_b, None, cross_b, drone)
    # extras: cross a meeting point 40-80 m above or below, one born late, one dying early
    for i in range(int(rng.integers(0, 3))):
        point, scan = (point_a, scan_a) if i == 0 else (point_b, scan_b)
        dz = rng.uniform(40.0, 80.0) * (-1.0 if height > 160.0 else 1.0)
        v = rng.uniform(20, 35) * _unit(rng.uniform(0, 2 * math.pi))
        t_cross = scan * st.scan_period
        p0 = point + [0.0, 0.0, dz] - v * t_cross
        birth, death = (st.scan(0.1 * st.duration), 2**31 - 1) if i == 0 else (0, scan + 20)
        b.add(
            _state(p0 + v * birth * st.scan_period, v),
            mode=Motion.CV,
            target_kind="cv",
            birth_scan=birth,
            death_scan=death,
            **drone,
        )
    return b.build(), BoxVolume((-4000.0, -4000.0, 0.0), (4000.0, 4000.0, 1500.0))


def _add_close_pair(
    b: PlanBuilder,
    rng: np.random.Generator,
    st: Settings,
    point: FloatArray,
    scan: int,
    heading_1: float | None,
    heading_2: float,
    labels: dict[str, str],
) -> None:
    """Add CV targets meeting ``point`` on ``scan``; the second misses it by 0.5-1.5 sigma.

    With heading_1 None only the second (crossing) target is added: the first already exists.
    """
    t_cross = scan * st.scan_period
    miss = rng.uniform(0.5, 1.5) * st.sigma * rng.choice([-1, 1])
    headings = [h for h in (heading_1, heading_2) if h is not None]
    for k, h in enumerate(headings):
        v = rng.uniform(20, 35) * _unit(h)
        p = point + (miss * _unit(h + math.pi / 2) if k == len(headings) - 1 else 0.0)
        b.add(_state(p - v * t_cross, v), mode=Motion.CV, target_kind="cv", **labels)


def _add_turner(
    b: PlanBuilder, rng: np.random.Generator, st: Settings, height: float, labels: dict[str, str]
) -> tuple[FloatArray, float, int]:
    """A coordinated-turn target: straight, a 60-120 deg turn at 3-6 deg/s, straight again.

    Returns its position and heading on the meeting scan, and the meeting scan.
    """
    speed = rng.uniform(22, 32)
    heading0 = rng.uniform(0, 2 * math.pi)
    turn = rng.choice([-1, 1]) * rng.uniform(60, 120) * DEG
    rate = math.copysign(max(rng.uniform(3, 6) * DEG, abs(turn) / (0.3 * st.duration)), turn)
    start = st.scan(0.2 * st.duration)
    end = start + max(1, st.scan(abs(turn / rate)))
    meet = max(end + 1, st.scan(0.7 * st.duration))
    # place it so that it is near the site on the meeting scan: fly the noise-free path
    x = _state(np.zeros(3), speed * _unit(heading0))
    rates = np.zeros(meet + 1)
    rates[start + 1 : end + 1] = rate  # the rate set on scan s acts on the steps after it
    for s in range(1, meet + 1):
        x = ct_step(x, rates[s : s + 1], st.scan_period)
    offset = np.array([rng.uniform(300, 800), rng.uniform(-500, 500), height]) - x[0, :3]
    x0 = _state(offset, speed * _unit(heading0))
    ids = b.add(x0, mode=Motion.CT, target_kind="turn", **labels)
    b.manoeuvre(start, ids, turn_rate=rate)
    b.manoeuvre(end, ids, turn_rate=0.0)
    heading_meet = math.atan2(x[0, 4], x[0, 3])
    return x[0, :3] + offset, heading_meet, meet


# ---------------------------------------------------------------- swarm


def _swarm(rng: np.random.Generator, st: Settings) -> tuple[TargetPlan, CylinderVolume]:
    """32-40 drones in 3-5 groups fly in from 2.5-3.5 km, then loiter, loiter+dive or hover."""
    b = PlanBuilder()
    n_groups = int(rng.integers(3, 6))
    total = int(rng.integers(32, 41))
    sizes = 4 + rng.multinomial(total - 4 * n_groups, np.full(n_groups, 1.0 / n_groups))
    spin = rng.uniform(0, 2 * math.pi)
    for g, n in enumerate(sizes):
        az = spin + 2 * math.pi * g / n_groups + rng.uniform(-0.3, 0.3)
        _add_swarm_group(b, rng, st, int(n), az)
    return b.build(), CylinderVolume(6000.0, 0.0, 1000.0)


def _add_swarm_group(
    b: PlanBuilder, rng: np.random.Generator, st: Settings, n: int, az: float
) -> None:
    """n drones launched together from azimuth az (rad from east), line abreast."""
    out = _unit(az)
    side = _unit(az + math.pi / 2)
    launch = st.scan(rng.uniform(0, 20))
    height = rng.uniform(60, 200)
    speed = rng.uniform(18, 28) * rng.uniform(0.95, 1.05, n)
    spacing = rng.uniform(30, 60)
    lateral = (np.arange(n) - (n - 1) / 2) * spacing
    start = rng.uniform(2500, 3500) * out + lateral[:, None] * side
    start += rng.uniform(-20, 20, (n, 1)) * out
    start[:, 2] = height + rng.uniform(-10, 10, n)
    role = rng.choice(np.array(["loiter-dive", "loiter", "hover"]), n, p=[0.45, 0.3, 0.25])
    radius = rng.uniform(60, 150, n)
    centre = rng.uniform(600, 1500, (n, 1)) * _unit(az + rng.uniform(-0.4, 0.4, n))
    centre[:, 2] = start[:, 2]
    toward = start[:, :2] - centre[:, :2]
    entry = centre.copy()
    entry[:, :2] += radius[:, None] * toward / np.linalg.norm(toward, axis=1, keepdims=True)
    hover = rng.uniform(300, 900, (n, 1)) * _unit(az + rng.uniform(-0.5, 0.5, n))
    hover[:, 2] = rng.uniform(30, 120, n)
    aim = np.where((role == "hover")[:, None], hover, entry)
    dist = np.linalg.norm(aim - start, axis=1)
    v0 = (aim - start) / dist[:, None] * speed[:, None]
    for r in ("loiter-dive", "loiter", "hover"):
        k = role == r
        if not k.any():
            continue
        ids = b.add(
            _state(start[k], v0[k]),
            mode=Motion.GOTO,
            target_class="drone",
            target_kind=r,
            birth_scan=launch,
            accel_sigma=0.2,
            aim=aim[k],
            speed=speed[k],
        )
        arrive = launch + np.ceil(dist[k] / speed[k] / st.scan_period).astype(int) + 3
        if r == "hover":  # GOTO has braked onto the point by then; HOVER holds it
            b.manoeuvre(arrive, ids, mode=Motion.HOVER, aim=aim[k])
            continue
        orbit = rng.uniform(8, 15, ids.size) * rng.choice([-1, 1], ids.size)
        # switch to LOITER while still SWARM_JOIN_LEAD m out, so it turns onto the orbit
        join = launch + np.floor((dist[k] - SWARM_JOIN_LEAD) / speed[k] / st.scan_period)
        b.manoeuvre(
            join.astype(int),
            ids,
            mode=Motion.LOITER,
            centre=centre[k],
            radius=radius[k],
            speed=orbit,
        )
        if r == "loiter-dive":
            dive = arrive + np.round(rng.uniform(30, 80, ids.size) / st.scan_period).astype(int)
            target = np.column_stack([rng.uniform(-50, 50, (ids.size, 2)), np.zeros(ids.size)])
            b.manoeuvre(
                dive, ids, mode=Motion.DIVE, aim=target, speed=rng.uniform(25, 35, ids.size)
            )


# ---------------------------------------------------------------- mixed


def _mixed(rng: np.random.Generator, st: Settings) -> tuple[TargetPlan, CylinderVolume]:
    """Hover, loiter, patrol, climbing and late drones; a bird flock; two airliners."""
    b = PlanBuilder()
    drone = {"target_class": "drone"}
    az = rng.uniform(0, 2 * math.pi, 12)
    anchor = rng.uniform(500, 2500, (2, 1)) * _unit(az[:2])
    anchor[:, 2] = rng.uniform(30, 150, 2)
    b.add_hover(anchor, target_kind="hover", **drone)
    centre = rng.uniform(1000, 3000, (2, 1)) * _unit(az[2:4])
    centre[:, 2] = rng.uniform(50, 250, 2)
    b.add_loiter(
        centre,
        rng.uniform(80, 200, 2),
        rng.uniform(0, 2 * math.pi, 2),
        rng.uniform(8, 15, 2) * rng.choice([-1, 1], 2),
        target_kind="loiter",
        **drone,
    )
    _add_patrol(b, rng, st, az[4], drone)
    p = rng.uniform(1500, 3000) * _unit(az[5]) + [0.0, 0.0, rng.uniform(80, 100)]
    ids = b.add(
        _state(p, rng.uniform(15, 30) * _unit(az[6])),
        mode=Motion.CV,
        target_kind="climb",
        accel_sigma=DRONE_ACCEL_SIGMA,
        **drone,
    )
    b.manoeuvre(st.scan(0.2 * st.duration), ids, vu=rng.uniform(1, 2))
    b.manoeuvre(st.scan(0.4 * st.duration), ids, vu=0.0)
    p = 4000.0 * _unit(az[7]) + [0.0, 0.0, rng.uniform(100, 200)]
    v = rng.uniform(10, 25) * _unit(az[7] + math.pi + rng.uniform(-0.3, 0.3))
    born, dies = st.scan(0.2 * st.duration), st.scan(0.8 * st.duration)
    b.add(
        _state(p, v),
        mode=Motion.CV,
        target_kind="cv",
        accel_sigma=DRONE_ACCEL_SIGMA,
        birth_scan=born,
        death_scan=dies,
        **drone,
    )
    _add_flock(b, rng, az[8])
    _add_airliners(b, rng, st, 15000.0)
    return b.build(), CylinderVolume(15000.0, 0.0, 12000.0)


def _add_patrol(
    b: PlanBuilder, rng: np.random.Generator, st: Settings, az: float, labels: dict[str, str]
) -> None:
    """A drone flying straight legs joined by 180-degree coordinated turns, both ways."""
    speed = rng.uniform(12, 25)
    p = rng.uniform(2000, 4000) * _unit(az) + [0.0, 0.0, rng.uniform(120, 180)]
    ids = b.add(
        _state(p, speed * _unit(rng.uniform(0, 2 * math.pi))),
        mode=Motion.CT,
        target_kind="patrol",
        accel_sigma=DRONE_ACCEL_SIGMA,
        **labels,
    )
    rate = rng.uniform(6, 12) * DEG
    leg, turn = st.scan(rng.uniform(20, 40)), max(1, st.scan(math.pi / rate))
    s, sign = leg, 1.0
    while s < st.n_scans:
        b.manoeuvre(s, ids, turn_rate=sign * rate)
        b.manoeuvre(s + turn, ids, turn_rate=0.0)
        s, sign = s + turn + leg, -sign


def _add_flock(b: PlanBuilder, rng: np.random.Generator, az: float) -> None:
    """A flock of 8-15 birds 1.5-4 km from the site, spread about 15 m around its centre."""
    n = int(rng.integers(8, 16))
    centre = rng.uniform(1500, 4000) * _unit(az) + [0.0, 0.0, rng.uniform(60, 200)]
    v = rng.uniform(10, 15) * _unit(rng.uniform(0, 2 * math.pi))
    offsets = rng.normal(0.0, [15.0, 15.0, 5.0], (n, 3))
    b.add_flock(_state(centre, v)[0], offsets, target_class="bird", target_kind="flock")


def _add_airliners(b: PlanBuilder, rng: np.random.Generator, st: Settings, radius: float) -> None:
    """Two straight transits across the cylinder, one level and one descending."""
    for i in range(2):
        heading = rng.uniform(0, 2 * math.pi)
        miss = rng.uniform(2000, 10000)
        half_chord = math.sqrt(radius**2 - miss**2) - 100.0
        p = miss * _unit(heading + math.pi / 2) - half_chord * _unit(heading)
        p[2] = rng.uniform(2000, 9000) if i == 0 else rng.uniform(5000, 9000)
        v = rng.uniform(130, 240) * _unit(heading)
        v[2] = 0.0 if i == 0 else -rng.uniform(3, 6)
        b.add(
            _state(p, v),
            mode=Motion.CV,
            target_class="aircraft",
            target_kind="transit",
            accel_sigma=0.05,
            birth_scan=0 if i == 0 else st.scan(rng.uniform(0.1, 0.3) * st.duration),
        )


# ---------------------------------------------------------------- bench and scale-N


def _cv_targets(rng: np.random.Generator, n: int, half: float) -> FloatArray:
    """n CV states: jittered grid over [-half, half]^2, height 300-2700 m, 10-35 m/s."""
    g = max(1, math.ceil(math.sqrt(n)))
    cells = rng.choice(g * g, size=n, replace=False)
    pitch = 2.0 * half / g
    e = -half + pitch * (cells % g + 0.5 + rng.uniform(-0.3, 0.3, n))
    nn = -half + pitch * (cells // g + 0.5 + rng.uniform(-0.3, 0.3, n))
    u = rng.uniform(300, 2700, n)
    v = rng.uniform(10, 35, (n, 1)) * _unit(rng.uniform(0, 2 * math.pi, n))
    v[:, 2] = np.clip(rng.normal(0.0, 0.5, n), -1.5, 1.5)
    return np.column_stack([e, nn, u, v])


def _bench(rng: np.random.Generator, st: Settings) -> tuple[TargetPlan, BoxVolume]:
    """100 CV targets alive at every scan: 40 die during the run and 40 are born."""
    b = PlanBuilder()
    n, turnover, half = 100, 40, 6500.0
    first = _cv_targets(rng, n, half)
    change = np.linspace(0.05, 0.95, turnover) * st.n_scans
    change = np.clip(np.round(change + rng.uniform(-1, 1, turnover)), 1, st.n_scans - 1)
    change = change.astype(np.int64)
    death = np.full(n, 2**31 - 1, dtype=np.int64)
    death[rng.choice(n, turnover, replace=False)] = change
    born = rng.uniform(-half, half, (turnover, 2))
    late = _cv_targets(rng, turnover, half)
    late[:, :2] = born
    kw = {"mode": Motion.CV, "target_class": "generic", "target_kind": "cv", "accel_sigma": 0.1}
    b.add(first, death_scan=death, **kw)
    b.add(late, birth_scan=change, **kw)
    return b.build(), BoxVolume((-10000.0, -10000.0, 0.0), (10000.0, 10000.0, 3000.0))


def _scale(rng: np.random.Generator, st: Settings, n: int) -> tuple[TargetPlan, BoxVolume]:
    """n CV targets; box half-side 1000 sqrt(n) m (4 km^2 per target), placed in its middle."""
    half = 1000.0 * math.sqrt(n)
    b = PlanBuilder()
    b.add(
        _cv_targets(rng, n, 0.65 * half),
        mode=Motion.CV,
        target_class="generic",
        target_kind="cv",
        accel_sigma=0.1,
    )
    return b.build(), BoxVolume((-half, -half, 0.0), (half, half, 3000.0))


_LAYOUTS: dict[str, tuple[Layout, Settings]] = {
    "crossing": (_crossing, Settings(120, 1.0, 0.9, 10.0, 10.0)),
    "swarm": (_swarm, Settings(240, 1.0, 0.9, 5.0, 20.0)),
    "mixed": (_mixed, Settings(300, 1.0, 0.9, 10.0, 20.0)),
    "loitering": (loitering_layout, Settings(420, 1.0, 0.9, 10.0, 20.0)),
    "site": (site_picture_layout, Settings(600, 1.0, 0.9, 10.0, 20.0)),
    "bench": (_bench, Settings(100, 1.0, 0.9, 5.0, 100.0)),
}
