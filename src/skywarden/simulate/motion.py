"""Vectorised motion models for simulated targets, in the site ENU frame.

State rows are ``x = [e, n, u, ve, vn, vu]`` (metres, m/s); every function works on a batch of
K targets at once, ``(K, 6)``. Time steps ``dt`` are seconds. Turn rates are rad/s, positive =
counter-clockwise seen from above (a left turn), as in :mod:`skywarden.track.coordinated_turn`.

White acceleration noise is *continuous* white noise with spectral density ``accel_sigma**2``
(m^2/s^3) per axis, sampled exactly over each step, so a tracker with the same ``accel_sigma``
in :mod:`skywarden.track.constant_velocity` has exactly the right process noise Q.

Motion modes (:class:`Motion`):

* ``CV``: nearly-constant velocity.
* ``CT``: coordinated turn at ``turn_rate`` in the horizontal plane (0 = straight leg), vertical
  nearly-constant velocity (climbs and dives are CV/CT with a vertical speed).
* ``HOVER``: hold an anchor point; the set point wobbles (Ornstein-Uhlenbeck) around it and the
  target flies to the set point with the GOTO guidance (so it also brakes onto a new anchor).
* ``LOITER``: orbit ``centre`` at ``radius`` with signed ``speed`` (positive = anticlockwise),
  at the centre's height. A target off the orbit joins it along a vector field (below); one on
  it stays on the exact circle at constant speed (the exact orbit is a fixed point).
* ``GOTO``: fly at ``aim`` at up to ``speed`` and stop on the point (braking profile), plus
  white acceleration jitter; once there it holds the point.
* ``DIVE``: as GOTO without braking (an attack dive or a crash onto a ground point): full speed
  until impact, where the simulator ends the target's truth.
* ``FLOCK``: a bird: Ornstein-Uhlenbeck velocity deviation around its flock's velocity, pulled
  towards the flock centre, speed clamped to [8, 20] m/s, height kept in [10, 400] m; the
  change is limited to accel_max * dt (a turn too sharp for that keeps the bird's speed and
  turns it as far as the limit allows, :func:`limit_acceleration_in_band`).

Acceleration limits. Every target has a maximum acceleration ``accel_max`` (m/s^2, 3-D norm),
by default from its class (:data:`MAX_ACCELERATION`). The guided modes (HOVER, LOITER, GOTO,
DIVE, FLOCK) compute a desired velocity and move the velocity towards it by at most
``accel_max * dt`` per step (:func:`limit_acceleration`), jitter included, so the velocity never
jumps; positions advance along the path that joins the two velocities (:func:`advance`). CV and
CT are kinematic: their acceleration is the turn's centripetal ``speed * |turn_rate|`` (plus
their white noise), which the scenarios keep below the class limit.

Guidance (all vectorised over targets):

* approach (GOTO, HOVER): desired speed ``min(cruise, sqrt(2 * BRAKE_FRACTION * a_max * d),
  d / (APPROACH_STEPS * dt))`` towards the aim at distance d. Braking at half the limit leaves
  room for the lag of the rate limiter and for sideways corrections; the last, linear part
  closes the distance geometrically (d_{n+1} = 5/6 d_n - 1/6 d_{n-1}: roots 1/2 and 1/3, so no
  overshoot) and the target comes to rest on the point.
* orbit (LOITER): horizontal direction ``cos(t) e_t - sin(t) e_r`` with ``t = atan(e / L)``,
  e = distance from the circle (positive outside), e_r radial and e_t tangential unit vectors,
  ``L = max(0.3 r, 2 v^2 / a_max)``; it is rotated ahead by the orbit's turn over the step
  (feed-forward), so a target on the circle stays exactly on it. Speed = the orbit speed;
  vertical: approach profile to the centre's height at up to 5 m/s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from skywarden.units import FloatArray, IntArray

BIRD_SPEED_RANGE = (8.0, 20.0)  # m/s
BIRD_HEIGHT_RANGE = (10.0, 400.0)  # m above the site
FLOCK_CENTRE_HEIGHT_RANGE = (40.0, 250.0)  # m
FLOCK_SPEED_RANGE = (10.0, 15.0)  # m/s, the flock as a whole
BIRD_TAU_S = 2.0  # correlation time of a bird's velocity deviation
BIRD_SIGMA = np.array([3.0, 3.0, 1.0])  # stationary std of the velocity deviation, m/s
BIRD_COHESION_S = 10.0  # a bird closes its offset from the flock centre at offset / this
FLOCK_TURN_SIGMA = 0.05  # rad per sqrt(s): random walk of the flock heading
HOVER_TAU_S = 4.0  # correlation time of the hover wobble
HOVER_SIGMA = np.array([0.7, 0.7, 0.3])  # stationary std of the hover wobble, metres
IMPACT_HEIGHT = 1.0  # a target below this height (m) has hit the ground and is removed

# Maximum acceleration by target class, m/s^2 (3-D norm of dv/dt):
# * drone: small multirotors tilt 25-35 deg for horizontal acceleration, g tan(30 deg) = 5.7
#   m/s^2 (consumer quadcopters reach about 0-15 m/s in 2.5-3 s, 5-6 m/s^2); small fixed-wing
#   drones pull about 0.6 g in sustained turns. 6 m/s^2 covers both.
# * bird: about 1 g in short bursts (take-off, evasive turns of pigeons and starlings).
# * aircraft (airliners): normal operations keep below about 0.3 g: a rate-one turn (3 deg/s)
#   at 130 m/s needs 6.8 m/s^2, so airliners turn at 25-30 deg bank, g tan(17-25 deg) = 3-4.6
#   m/s^2 at most; speed changes are about 1-2 m/s^2. 3 m/s^2.
# * generic (bench, scale-N point targets): as drones.
# * vehicle (cars and trucks on roads, simulate/ground_traffic.py): 0-100 km/h in 10 s is
#   2.8 m/s^2 and ordinary braking 2-3 m/s^2. 3 m/s^2.
MAX_ACCELERATION = {"drone": 6.0, "bird": 10.0, "aircraft": 3.0, "generic": 6.0, "vehicle": 3.0}
BRAKE_FRACTION = 0.5  # the approach profile brakes at this fraction of the limit
APPROACH_STEPS = 3.0  # the last part of an approach closes distance / (this * dt) per second
HOVER_APPROACH_SPEED = 10.0  # m/s, cruise cap of a HOVER approach when no speed is set
LOITER_CLIMB_SPEED = 5.0  # m/s, vertical speed cap while joining an orbit
LOITER_CAPTURE = (0.3, 2.0)  # L = max(0.3 radius, 2 v^2 / a_max): width of the capture field


class Motion(IntEnum):
    """Motion mode of a simulated target (see the module docstring)."""

    CV = 0
    CT = 1
    HOVER = 2
    LOITER = 3
    GOTO = 4
    FLOCK = 5
    DIVE = 6


def white_acceleration_noise(
    rng: np.random.Generator, accel_sigma: FloatArray, dt: float
) -> tuple[FloatArray, FloatArray]:
    """Exact sample of continuous white acceleration over dt: (dp (K,3) m, dv (K,3) m/s).

    Covariance per axis is ``q [[dt^3/3, dt^2/2], [dt^2/2, dt]]`` with q = accel_sigma^2.
    """
    xi = rng.standard_normal((2, accel_sigma.shape[0], 3))
    s = accel_sigma[:, None]
    dp = s * (dt**1.5 / math.sqrt(3.0)) * xi[0]
    dv = s * math.sqrt(dt) * (0.5 * math.sqrt(3.0) * xi[0] + 0.5 * xi[1])
    return dp, dv


def cv_step(x: FloatArray, dt: float) -> FloatArray:
    """Constant-velocity propagation (no noise): (K, 6) -> (K, 6)."""
    out = x.copy()
    out[:, :3] += x[:, 3:] * dt
    return out


def ct_step(x: FloatArray, turn_rate: FloatArray, dt: float) -> FloatArray:
    """Exact coordinated-turn propagation (no noise): x (K, 6), turn_rate (K,) rad/s."""
    wdt = turn_rate * dt
    small = np.abs(wdt) < 1e-6
    w_safe = np.where(small, 1.0, turn_rate)
    s, c = np.sin(wdt), np.cos(wdt)
    a = np.where(small, dt * (1.0 - wdt**2 / 6.0), s / w_safe)  # sin(w dt) / w
    b = np.where(small, dt * wdt / 2.0, (1.0 - c) / w_safe)  # (1 - cos(w dt)) / w
    ve, vn = x[:, 3], x[:, 4]
    out = x.copy()
    out[:, 0] += a * ve - b * vn
    out[:, 1] += b * ve + a * vn
    out[:, 2] += x[:, 5] * dt
    out[:, 3] = c * ve - s * vn
    out[:, 4] = s * ve + c * vn
    return out


def loiter_state(
    centre: FloatArray, radius: FloatArray, phase: FloatArray, speed: FloatArray
) -> FloatArray:
    """State on a circular orbit: centre (K,3), radius (K,), phase (K,) rad, signed speed (K,)."""
    c, s = np.cos(phase), np.sin(phase)
    x = np.empty((centre.shape[0], 6))
    x[:, 0] = centre[:, 0] + radius * c
    x[:, 1] = centre[:, 1] + radius * s
    x[:, 2] = centre[:, 2]
    x[:, 3] = -speed * s
    x[:, 4] = speed * c
    x[:, 5] = 0.0
    return x


def ou_step(u: FloatArray, dt: float, tau: float, sigma: FloatArray, xi: FloatArray) -> FloatArray:
    """Exact Ornstein-Uhlenbeck step of u (K, 3) with stationary std sigma (3,), xi ~ N(0, 1)."""
    a = math.exp(-dt / tau)
    return a * u + math.sqrt(1.0 - a * a) * sigma * xi


def limit_acceleration(
    v: FloatArray, v_desired: FloatArray, accel_max: FloatArray, dt: float
) -> FloatArray:
    """Velocities v (K,3) moved towards v_desired (K,3) by at most accel_max (K,) * dt, m/s."""
    dv = v_desired - v
    norm = np.linalg.norm(dv, axis=1)
    room = accel_max * dt
    scale = np.where(norm > room, room / np.where(norm > 0.0, norm, 1.0), 1.0)
    return v + dv * scale[:, None]


def limit_acceleration_in_band(
    v: FloatArray, v_desired: FloatArray, accel_max: FloatArray, dt: float, lo: float, hi: float
) -> FloatArray:
    """As :func:`limit_acceleration`, keeping speeds in [lo, hi] (v and v_desired in the band).

    The straight change may cut through speeds below lo (a sharp turn); then the target turns
    at constant speed towards v_desired's direction as far as the limit allows instead. That
    includes a straight change that ends exactly at zero speed (a reversal with accel_max * dt
    equal to the speed), which has no direction for :func:`clamp_speed` to rescale.
    """
    new = clamp_speed(limit_acceleration(v, v_desired, accel_max, dt), lo, hi)
    room = accel_max * dt
    speed = np.linalg.norm(new, axis=1)
    bad = np.linalg.norm(new - v, axis=1) > room * (1.0 + 1e-12)
    bad |= (speed < lo * (1.0 - 1e-12)) | (speed > hi * (1.0 + 1e-12))
    if bad.any():
        new[bad] = _turn_towards(v[bad], v_desired[bad], room[bad])
    return new


def _turn_towards(v: FloatArray, v_desired: FloatArray, room: FloatArray) -> FloatArray:
    """v (K,3) turned towards v_desired's direction at constant speed, changing by <= room."""
    speed = np.linalg.norm(v, axis=1)
    u = v / speed[:, None]
    w = v_desired - np.einsum("ij,ij->i", v_desired, u)[:, None] * u
    w_norm = np.linalg.norm(w, axis=1)
    flat = w_norm < 1e-9 * (1.0 + np.linalg.norm(v_desired, axis=1))  # dead ahead or behind
    w[flat] = np.column_stack([-u[flat, 1], u[flat, 0], np.zeros(flat.sum())])
    w /= np.maximum(np.linalg.norm(w, axis=1), 1e-300)[:, None]
    # v_desired . w >= 0 by construction, except dead behind, where round-off may leave it
    # at -0 or -1e-16 and arctan2 would give -pi: the turn must never exceed the limit.
    along_w = np.maximum(np.einsum("ij,ij->i", v_desired, w), 0.0)
    angle = np.arctan2(along_w, np.einsum("ij,ij->i", v_desired, u))
    angle = np.minimum(angle, 2.0 * np.arcsin(np.minimum(1.0, room / (2.0 * speed))))
    return speed[:, None] * (np.cos(angle)[:, None] * u + np.sin(angle)[:, None] * w)


def arc_factor(h0: FloatArray, h1: FloatArray) -> FloatArray:
    """Chord / trapezoid ratio (K,) for horizontal velocities h0 -> h1 (K,2) turning uniformly.

    A velocity of constant size turning by alpha over a step covers the chord, which is
    ``tan(alpha/2) / (alpha/2)`` times the trapezoid ``(h0 + h1) dt / 2``. Exact up to alpha =
    pi/2, tapered to 1 (straight, constant acceleration) at 3 pi/4 and beyond, where the change
    is a reversal through low speed rather than a turn.
    """
    cross = h0[:, 0] * h1[:, 1] - h0[:, 1] * h1[:, 0]
    alpha = np.abs(np.arctan2(cross, np.einsum("ij,ij->i", h0, h1)))
    half = np.clip(alpha / 2.0, 1e-4, math.pi / 4)
    ratio = np.where(alpha < 2e-4, 1.0 + alpha**2 / 12.0, np.tan(half) / half)
    weight = np.clip((0.75 * math.pi - alpha) / (0.25 * math.pi), 0.0, 1.0)
    return 1.0 + (ratio - 1.0) * weight


def advance(x: FloatArray, v_new: FloatArray, dt: float) -> FloatArray:
    """State (K,6) after dt when the velocity goes from x[:, 3:] to v_new (K,3) over the step.

    Vertically the acceleration is constant (trapezoid); horizontally the velocity turns
    uniformly (:func:`arc_factor`), so an exact circle stays exact.
    """
    out = x.copy()
    step = 0.5 * (x[:, 3:] + v_new) * dt
    step[:, :2] *= arc_factor(x[:, 3:5], v_new[:, :2])[:, None]
    out[:, :3] += step
    out[:, 3:] = v_new
    return out


def approach_speed(
    dist: FloatArray, cruise: FloatArray, accel_max: FloatArray, dt: float
) -> FloatArray:
    """Desired speed (K,) at distance dist (K,) m from a point where the target must stop."""
    braking = np.sqrt(2.0 * BRAKE_FRACTION * accel_max * dist)
    return np.minimum(np.minimum(cruise, braking), dist / (APPROACH_STEPS * dt))


def goto_velocity(
    x: FloatArray,
    aim: FloatArray,
    speed: FloatArray,
    accel_max: FloatArray,
    dt: float,
    brake: bool | np.ndarray = True,
) -> FloatArray:
    """Desired velocity (K,3) straight at aim (K,3): speed (K,) cap, braking to stop if brake."""
    d = aim - x[:, :3]
    dist = np.linalg.norm(d, axis=1)
    desired = np.where(brake, approach_speed(dist, speed, accel_max, dt), speed)
    unit = d / np.where(dist > 0.0, dist, 1.0)[:, None]
    return unit * desired[:, None]


def stopping_point(x: FloatArray, accel_max: FloatArray) -> FloatArray:
    """Where targets (K,6) come to rest (K,3) braking straight at BRAKE_FRACTION * accel_max."""
    speed = np.linalg.norm(x[:, 3:], axis=1)
    return x[:, :3] + x[:, 3:] * (speed / (2.0 * BRAKE_FRACTION * accel_max))[:, None]


def orbit_velocity(
    x: FloatArray,
    centre: FloatArray,
    radius: FloatArray,
    speed: FloatArray,
    accel_max: FloatArray,
    dt: float,
) -> FloatArray:
    """Desired velocity (K,3) to join and follow a circular orbit (see the module docstring).

    centre (K,3) m, radius (K,) m, signed speed (K,) m/s (positive = anticlockwise).
    """
    off = x[:, :2] - centre[:, :2]
    rho = np.linalg.norm(off, axis=1)
    e_r = off / np.where(rho > 0.0, rho, 1.0)[:, None]
    e_r[rho == 0.0] = (1.0, 0.0)
    e_t = np.sign(speed)[:, None] * np.column_stack([-e_r[:, 1], e_r[:, 0]])
    width = np.maximum(LOITER_CAPTURE[0] * radius, LOITER_CAPTURE[1] * speed**2 / accel_max)
    t = np.arctan((rho - radius) / width)
    u = np.cos(t)[:, None] * e_t - np.sin(t)[:, None] * e_r
    turn = speed / radius * dt  # feed-forward: the orbit's turn over the step
    c, s = np.cos(turn), np.sin(turn)
    v = np.empty((x.shape[0], 3))
    v[:, 0] = (c * u[:, 0] - s * u[:, 1]) * np.abs(speed)
    v[:, 1] = (s * u[:, 0] + c * u[:, 1]) * np.abs(speed)
    dh = centre[:, 2] - x[:, 2]
    climb = approach_speed(np.abs(dh), np.full(dh.shape, LOITER_CLIMB_SPEED), accel_max, dt)
    v[:, 2] = np.sign(dh) * climb
    return v


def clamp_speed(v: FloatArray, lo: float, hi: float) -> FloatArray:
    """Rescale velocities (K, 3) so that their norm lies in [lo, hi] (direction kept)."""
    speed = np.linalg.norm(v, axis=1)
    target = np.clip(speed, lo, hi)
    scale = np.where(speed > 0.0, target / np.where(speed > 0.0, speed, 1.0), 1.0)
    return v * scale[:, None]


def reflect_height(x: FloatArray, lo: float, hi: float) -> FloatArray:
    """Reflect heights of x (K, 6) back into [lo, hi] and point vu back inside (in place)."""
    below, above = x[:, 2] < lo, x[:, 2] > hi
    x[below, 2] = 2.0 * lo - x[below, 2]
    x[below, 5] = np.abs(x[below, 5])
    x[above, 2] = 2.0 * hi - x[above, 2]
    x[above, 5] = -np.abs(x[above, 5])
    return x


@dataclass(slots=True)
class MotionState:
    """Working arrays of a running simulation (mutable; internal to the simulator).

    Per target k (K rows): x (K,6) state; mode (K,) :class:`Motion`; accel_sigma (K,)
    m/s^2/sqrt(Hz) (CV, CT; GOTO and DIVE jitter); accel_max (K,) m/s^2 (guided modes);
    turn_rate (K,) rad/s (CT); aim (K,3) m (GOTO/DIVE target, HOVER anchor); speed (K,) m/s
    (GOTO/DIVE/HOVER cap, LOITER signed speed); centre (K,3) and radius (K,) m (LOITER); phase
    (K,) rad (LOITER, the target's angle about the centre); wander (K,3) (HOVER set-point
    offset m, FLOCK velocity deviation m/s); flock (K,) index into flocks or -1. flocks (F,6)
    is the state of each flock centre.
    """

    x: FloatArray
    mode: np.ndarray
    accel_sigma: FloatArray
    accel_max: FloatArray
    turn_rate: FloatArray
    aim: FloatArray
    speed: FloatArray
    centre: FloatArray
    radius: FloatArray
    phase: FloatArray
    wander: FloatArray
    flock: IntArray
    flocks: FloatArray


def propagate(ms: MotionState, active: np.ndarray, dt: float, rng: np.random.Generator) -> None:
    """Advance the targets selected by the boolean mask ``active`` (K,) by dt seconds, in place.

    Every flock centre advances too. Random numbers are drawn in a fixed order (flocks, CV, CT,
    HOVER, GOTO and DIVE, FLOCK), so a seed gives the same run.
    """
    _propagate_flocks(ms, dt, rng)
    for modes, stepper in _STEPPERS:
        idx = np.flatnonzero(active & np.isin(ms.mode, modes))
        if idx.size:
            stepper(ms, idx, dt, rng)


def _step_cv(ms: MotionState, idx: IntArray, dt: float, rng: np.random.Generator) -> None:
    x = cv_step(ms.x[idx], dt)
    dp, dv = white_acceleration_noise(rng, ms.accel_sigma[idx], dt)
    x[:, :3] += dp
    x[:, 3:] += dv
    ms.x[idx] = x


def _step_ct(ms: MotionState, idx: IntArray, dt: float, rng: np.random.Generator) -> None:
    x = ct_step(ms.x[idx], ms.turn_rate[idx], dt)
    dp, dv = white_acceleration_noise(rng, ms.accel_sigma[idx], dt)
    x[:, :3] += dp
    x[:, 3:] += dv
    ms.x[idx] = x


def _step_hover(ms: MotionState, idx: IntArray, dt: float, rng: np.random.Generator) -> None:
    wander = ou_step(
        ms.wander[idx], dt, HOVER_TAU_S, HOVER_SIGMA, rng.standard_normal((idx.size, 3))
    )
    ms.wander[idx] = wander
    x, a_max = ms.x[idx], ms.accel_max[idx]
    cap = np.where(np.isnan(ms.speed[idx]), HOVER_APPROACH_SPEED, ms.speed[idx])
    v = goto_velocity(x, ms.aim[idx] + wander, cap, a_max, dt)
    ms.x[idx] = advance(x, limit_acceleration(x[:, 3:], v, a_max, dt), dt)


def _step_loiter(ms: MotionState, idx: IntArray, dt: float, rng: np.random.Generator) -> None:
    x, a_max = ms.x[idx], ms.accel_max[idx]
    v = orbit_velocity(x, ms.centre[idx], ms.radius[idx], ms.speed[idx], a_max, dt)
    x = advance(x, limit_acceleration(x[:, 3:], v, a_max, dt), dt)
    ms.x[idx] = x
    off = x[:, :2] - ms.centre[idx, :2]
    ms.phase[idx] = np.arctan2(off[:, 1], off[:, 0])


def _step_goto(ms: MotionState, idx: IntArray, dt: float, rng: np.random.Generator) -> None:
    """GOTO and DIVE: guidance plus white jitter, both inside the acceleration limit."""
    x, a_max = ms.x[idx], ms.accel_max[idx]
    brake = ms.mode[idx] == Motion.GOTO
    v = goto_velocity(x, ms.aim[idx], ms.speed[idx], a_max, dt, brake)
    v += ms.accel_sigma[idx, None] * math.sqrt(dt) * rng.standard_normal((idx.size, 3))
    ms.x[idx] = advance(x, limit_acceleration(x[:, 3:], v, a_max, dt), dt)


def _step_flock(ms: MotionState, idx: IntArray, dt: float, rng: np.random.Generator) -> None:
    f = ms.flock[idx]
    dev = ou_step(ms.wander[idx], dt, BIRD_TAU_S, BIRD_SIGMA, rng.standard_normal((idx.size, 3)))
    ms.wander[idx] = dev
    x = ms.x[idx]
    centre = ms.flocks[f]
    v = centre[:, 3:] + dev + (centre[:, :3] - x[:, :3]) / BIRD_COHESION_S
    v = clamp_speed(v, *BIRD_SPEED_RANGE)
    v = limit_acceleration_in_band(x[:, 3:], v, ms.accel_max[idx], dt, *BIRD_SPEED_RANGE)
    ms.x[idx] = reflect_height(advance(x, v, dt), *BIRD_HEIGHT_RANGE)


def _propagate_flocks(ms: MotionState, dt: float, rng: np.random.Generator) -> None:
    if ms.flocks.shape[0] == 0:
        return
    fl = ms.flocks
    angle = FLOCK_TURN_SIGMA * math.sqrt(dt) * rng.standard_normal(fl.shape[0])
    turned = ct_step(fl, angle / dt, dt)  # turn the heading by angle over the step
    turned[:, 3:] = clamp_speed(turned[:, 3:], *FLOCK_SPEED_RANGE)
    ms.flocks = reflect_height(turned, *FLOCK_CENTRE_HEIGHT_RANGE)


_STEPPERS = (
    ((Motion.CV,), _step_cv),
    ((Motion.CT,), _step_ct),
    ((Motion.HOVER,), _step_hover),
    ((Motion.LOITER,), _step_loiter),
    ((Motion.GOTO, Motion.DIVE), _step_goto),
    ((Motion.FLOCK,), _step_flock),
)
