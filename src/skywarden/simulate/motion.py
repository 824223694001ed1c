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
* ``HOVER``: hold an anchor point with a small Ornstein-Uhlenbeck wobble of the position.
* ``LOITER``: orbit ``centre`` at ``radius`` with signed ``speed`` (positive = anticlockwise),
  at the centre's height; exact circle, no noise.
* ``GOTO``: fly straight at ``aim`` with speed ``speed`` (capped so that it stops on the
  point), plus white velocity jitter; once there it holds the point.
* ``FLOCK``: a bird: Ornstein-Uhlenbeck velocity deviation around its flock's velocity, pulled
  towards the flock centre, speed clamped to [8, 20] m/s, height kept in [10, 400] m.
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


class Motion(IntEnum):
    """Motion mode of a simulated target (see the module docstring)."""

    CV = 0
    CT = 1
    HOVER = 2
    LOITER = 3
    GOTO = 4
    FLOCK = 5


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


def goto_velocity(x: FloatArray, aim: FloatArray, speed: FloatArray, dt: float) -> FloatArray:
    """Velocity (K, 3) straight at aim (K, 3) at speed (K,), slowed to stop on the point."""
    d = aim - x[:, :3]
    dist = np.linalg.norm(d, axis=1)
    step_speed = np.minimum(speed, dist / dt)
    unit = d / np.where(dist > 0.0, dist, 1.0)[:, None]
    return unit * step_speed[:, None]


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
    m/s^2/sqrt(Hz) (CV, CT; GOTO velocity jitter); turn_rate (K,) rad/s (CT); aim (K,3) m
    (GOTO target, HOVER anchor); speed (K,) m/s (GOTO cap, LOITER signed speed); centre (K,3)
    and radius (K,) m (LOITER); phase (K,) rad (LOITER); wander (K,3) (HOVER position offset
    m, FLOCK velocity deviation m/s); flock (K,) index into flocks or -1. flocks (F,6) is the
    state of each flock centre.
    """

    x: FloatArray
    mode: np.ndarray
    accel_sigma: FloatArray
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
    HOVER, GOTO, FLOCK), so a seed gives the same run.
    """
    _propagate_flocks(ms, dt, rng)
    for mode, stepper in _STEPPERS:
        idx = np.flatnonzero(active & (ms.mode == mode))
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
    old = ms.wander[idx]
    new = ou_step(old, dt, HOVER_TAU_S, HOVER_SIGMA, rng.standard_normal((idx.size, 3)))
    ms.wander[idx] = new
    ms.x[idx, :3] = ms.aim[idx] + new
    ms.x[idx, 3:] = (new - old) / dt


def _step_loiter(ms: MotionState, idx: IntArray, dt: float, rng: np.random.Generator) -> None:
    phase = ms.phase[idx] + ms.speed[idx] / ms.radius[idx] * dt
    ms.phase[idx] = phase
    ms.x[idx] = loiter_state(ms.centre[idx], ms.radius[idx], phase, ms.speed[idx])


def _step_goto(ms: MotionState, idx: IntArray, dt: float, rng: np.random.Generator) -> None:
    x = ms.x[idx]
    v = goto_velocity(x, ms.aim[idx], ms.speed[idx], dt)
    v += ms.accel_sigma[idx, None] * math.sqrt(dt) * rng.standard_normal((idx.size, 3))
    x[:, :3] += v * dt
    x[:, 3:] = v
    ms.x[idx] = x


def _step_flock(ms: MotionState, idx: IntArray, dt: float, rng: np.random.Generator) -> None:
    f = ms.flock[idx]
    dev = ou_step(ms.wander[idx], dt, BIRD_TAU_S, BIRD_SIGMA, rng.standard_normal((idx.size, 3)))
    ms.wander[idx] = dev
    x = ms.x[idx]
    centre = ms.flocks[f]
    v = centre[:, 3:] + dev + (centre[:, :3] - x[:, :3]) / BIRD_COHESION_S
    v = clamp_speed(v, *BIRD_SPEED_RANGE)
    x[:, :3] += v * dt
    x[:, 3:] = v
    ms.x[idx] = reflect_height(x, *BIRD_HEIGHT_RANGE)


def _propagate_flocks(ms: MotionState, dt: float, rng: np.random.Generator) -> None:
    if ms.flocks.shape[0] == 0:
        return
    fl = ms.flocks
    angle = FLOCK_TURN_SIGMA * math.sqrt(dt) * rng.standard_normal(fl.shape[0])
    turned = ct_step(fl, angle / dt, dt)  # turn the heading by angle over the step
    turned[:, 3:] = clamp_speed(turned[:, 3:], *FLOCK_SPEED_RANGE)
    ms.flocks = reflect_height(turned, *FLOCK_CENTRE_HEIGHT_RANGE)


_STEPPERS = (
    (Motion.CV, _step_cv),
    (Motion.CT, _step_ct),
    (Motion.HOVER, _step_hover),
    (Motion.LOITER, _step_loiter),
    (Motion.GOTO, _step_goto),
    (Motion.FLOCK, _step_flock),
)
