"""Target plans: who exists when, how each target starts, and its scheduled manoeuvres.

A :class:`TargetPlan` is the input of the simulator: K targets with their state at birth (site
ENU, metres and m/s), birth and death scans, initial :class:`~skywarden.simulate.motion.Motion`
mode and its parameters, class and motion labels, and a table of :class:`Manoeuvres` (mode or
parameter changes on given scans). Build one with :class:`PlanBuilder`; ids are row numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skywarden.simulate.motion import (
    MAX_ACCELERATION,
    Motion,
    MotionState,
    loiter_state,
    stopping_point,
)
from skywarden.units import FloatArray, IntArray

NEVER = np.iinfo(np.int32).max  # death scan of a target that lives to the end


@dataclass(frozen=True, slots=True)
class Manoeuvres:
    """E scheduled changes, applied after propagation on scan ``scan`` (sorted by scan).

    NaN (or mode -1) means "keep". mode (E,) new :class:`Motion`; turn_rate (E,) rad/s;
    vu (E,) new vertical speed m/s (set at once: keep the change below accel_max * dt); aim
    (E,3) m (GOTO/DIVE target, HOVER anchor; NaN = where the target comes to rest if it
    brakes now); speed (E,) m/s; centre (E,3) and radius (E,) m (LOITER).

    Mode changes never move a target or change its velocity: the new mode's guidance takes it
    there within its acceleration limit (LOITER joins the orbit, HOVER brakes onto the anchor,
    DIVE accelerates into the dive).
    """

    scan: IntArray
    target: IntArray
    mode: np.ndarray
    turn_rate: FloatArray
    vu: FloatArray
    aim: FloatArray
    speed: FloatArray
    centre: FloatArray
    radius: FloatArray

    def at_scan(self, scan: int) -> Manoeuvres:
        """The changes scheduled for one scan."""
        lo, hi = np.searchsorted(self.scan, [scan, scan + 1])
        return Manoeuvres(*(getattr(self, f)[lo:hi] for f in self.__slots__))


@dataclass(frozen=True, slots=True)
class TargetPlan:
    """K targets (row k = id k) and F bird-flock centres; see :class:`MotionState` for fields.

    x0 (K,6) is the state on the birth scan; a target exists on scans
    birth_scan <= s < death_scan (and while it stays above ground). flocks0 (F,6) are the
    flock-centre states on scan 0. target_class / target_kind (K,) are str labels; accel_max
    (K,) m/s^2 is each target's acceleration limit (by class unless given).
    """

    x0: FloatArray
    birth_scan: IntArray
    death_scan: IntArray
    mode: np.ndarray
    accel_sigma: FloatArray
    accel_max: FloatArray
    turn_rate: FloatArray
    aim: FloatArray
    speed: FloatArray
    centre: FloatArray
    radius: FloatArray
    phase: FloatArray
    flock: IntArray
    flocks0: FloatArray
    target_class: np.ndarray
    target_kind: np.ndarray
    manoeuvres: Manoeuvres

    def __len__(self) -> int:
        return int(self.x0.shape[0])

    def motion_state(self) -> MotionState:
        """Fresh working arrays for a run (copies; the plan is not changed)."""
        return MotionState(
            x=self.x0.copy(),
            mode=self.mode.copy(),
            accel_sigma=self.accel_sigma.copy(),
            accel_max=self.accel_max.copy(),
            turn_rate=self.turn_rate.copy(),
            aim=self.aim.copy(),
            speed=self.speed.copy(),
            centre=self.centre.copy(),
            radius=self.radius.copy(),
            phase=self.phase.copy(),
            wander=np.zeros((len(self), 3)),
            flock=self.flock.copy(),
            flocks=self.flocks0.copy(),
        )


def apply_manoeuvres(ms: MotionState, ev: Manoeuvres, eligible: np.ndarray) -> None:
    """Apply one scan's changes to the targets that exist (``eligible`` (K,) mask), in place."""
    ok = eligible[ev.target]
    t = ev.target[ok]
    if t.size == 0:
        return
    for name in ("turn_rate", "speed", "radius"):
        value = getattr(ev, name)[ok]
        has = ~np.isnan(value)
        getattr(ms, name)[t[has]] = value[has]
    vu = ev.vu[ok]
    has = ~np.isnan(vu)
    ms.x[t[has], 5] = vu[has]
    centre = ev.centre[ok]
    has = ~np.isnan(centre).any(axis=1)
    ms.centre[t[has]] = centre[has]
    rest = stopping_point(ms.x[t], ms.accel_max[t])
    aim = np.where(np.isnan(ev.aim[ok]), rest, ev.aim[ok])
    mode = ev.mode[ok]
    has = mode >= 0
    ms.mode[t[has]] = mode[has]
    sets_aim = np.isin(mode, (Motion.GOTO, Motion.DIVE, Motion.HOVER))
    sets_aim |= ~np.isnan(ev.aim[ok]).any(axis=1)
    ms.aim[t[sets_aim]] = aim[sets_aim]
    loiter = t[mode == Motion.LOITER]
    offset = ms.x[loiter, :2] - ms.centre[loiter, :2]
    ms.phase[loiter] = np.arctan2(offset[:, 1], offset[:, 0])
    ms.wander[t[mode == Motion.HOVER]] = 0.0  # the set point starts on the anchor


def _rows(value: object, n: int, width: int = 0) -> np.ndarray:
    """Broadcast a scalar / (width,) / (n,) / (n, width) value to (n,) or (n, width) floats."""
    shape = (n, width) if width else (n,)
    return np.broadcast_to(np.asarray(value, dtype=np.float64), shape).copy()


class PlanBuilder:
    """Collects groups of targets and manoeuvres, then :meth:`build` s a :class:`TargetPlan`.

    Arguments broadcast: a scalar or one (3,) vector applies to the whole group.
    """

    def __init__(self) -> None:
        self._groups: list[dict[str, np.ndarray]] = []
        self._events: list[dict[str, np.ndarray]] = []
        self._flocks: list[FloatArray] = []
        self._count = 0

    def add(
        self,
        x0: FloatArray,
        *,
        mode: Motion,
        target_class: str,
        target_kind: str,
        birth_scan: int | IntArray = 0,
        death_scan: int | IntArray = NEVER,
        accel_sigma: float | FloatArray = 0.0,
        accel_max: float | FloatArray | None = None,
        turn_rate: float | FloatArray = 0.0,
        aim: object = np.nan,
        speed: float | FloatArray = np.nan,
        centre: object = np.nan,
        radius: float | FloatArray = np.nan,
        phase: float | FloatArray = 0.0,
        flock: int = -1,
    ) -> IntArray:
        """Add n targets with states x0 (n, 6) at their birth scans; returns their ids (n,).

        accel_max (m/s^2) defaults to MAX_ACCELERATION[target_class].
        """
        x0 = np.asarray(x0, dtype=np.float64).reshape(-1, 6)
        n = x0.shape[0]
        if accel_max is None:
            if target_class not in MAX_ACCELERATION:
                known = ", ".join(MAX_ACCELERATION)
                raise ValueError(f"no default accel_max for class {target_class!r} ({known})")
            accel_max = MAX_ACCELERATION[target_class]
        if np.any(np.asarray(accel_max) <= 0.0):
            raise ValueError("accel_max must be positive")
        self._groups.append(
            {
                "x0": x0.copy(),
                "birth_scan": np.broadcast_to(np.asarray(birth_scan, np.int64), (n,)).copy(),
                "death_scan": np.broadcast_to(np.asarray(death_scan, np.int64), (n,)).copy(),
                "mode": np.full(n, int(mode), dtype=np.int8),
                "accel_sigma": _rows(accel_sigma, n),
                "accel_max": _rows(accel_max, n),
                "turn_rate": _rows(turn_rate, n),
                "aim": _rows(aim, n, 3),
                "speed": _rows(speed, n),
                "centre": _rows(centre, n, 3),
                "radius": _rows(radius, n),
                "phase": _rows(phase, n),
                "flock": np.full(n, flock, dtype=np.int64),
                "target_class": np.full(n, target_class, dtype=object),
                "target_kind": np.full(n, target_kind, dtype=object),
            }
        )
        ids = np.arange(self._count, self._count + n)
        self._count += n
        return ids

    def add_loiter(
        self,
        centre: FloatArray,
        radius: float | FloatArray,
        phase: float | FloatArray,
        speed: float | FloatArray,
        **labels: object,
    ) -> IntArray:
        """Add targets already on an orbit: centre (n,3) m, radius m, phase rad, signed speed."""
        centre = np.asarray(centre, dtype=np.float64).reshape(-1, 3)
        n = centre.shape[0]
        r, ph, sp = _rows(radius, n), _rows(phase, n), _rows(speed, n)
        x0 = loiter_state(centre, r, ph, sp)
        return self.add(
            x0, mode=Motion.LOITER, centre=centre, radius=r, phase=ph, speed=sp, **labels
        )

    def add_hover(self, anchor: FloatArray, **labels: object) -> IntArray:
        """Add targets hovering at anchor (n, 3) m."""
        anchor = np.asarray(anchor, dtype=np.float64).reshape(-1, 3)
        x0 = np.concatenate([anchor, np.zeros_like(anchor)], axis=1)
        return self.add(x0, mode=Motion.HOVER, aim=anchor, **labels)

    def add_flock(
        self, centre_state: FloatArray, offsets: FloatArray, **labels: object
    ) -> IntArray:
        """Add a flock: centre state (6,) on scan 0 and the birds' offsets (n, 3) m from it."""
        centre_state = np.asarray(centre_state, dtype=np.float64).reshape(6)
        offsets = np.asarray(offsets, dtype=np.float64).reshape(-1, 3)
        x0 = np.tile(centre_state, (offsets.shape[0], 1))
        x0[:, :3] += offsets
        self._flocks.append(centre_state)
        return self.add(x0, mode=Motion.FLOCK, flock=len(self._flocks) - 1, **labels)

    def manoeuvre(
        self,
        scan: int | IntArray,
        targets: IntArray,
        *,
        mode: Motion | None = None,
        turn_rate: float | FloatArray = np.nan,
        vu: float | FloatArray = np.nan,
        aim: object = np.nan,
        speed: float | FloatArray = np.nan,
        centre: object = np.nan,
        radius: float | FloatArray = np.nan,
    ) -> None:
        """Schedule a change for targets (n,) on scan(s) (after that scan's propagation)."""
        targets = np.atleast_1d(np.asarray(targets, dtype=np.int64))
        n = targets.shape[0]
        self._events.append(
            {
                "scan": np.broadcast_to(np.asarray(scan, np.int64), (n,)).copy(),
                "target": targets,
                "mode": np.full(n, -1 if mode is None else int(mode), dtype=np.int8),
                "turn_rate": _rows(turn_rate, n),
                "vu": _rows(vu, n),
                "aim": _rows(aim, n, 3),
                "speed": _rows(speed, n),
                "centre": _rows(centre, n, 3),
                "radius": _rows(radius, n),
            }
        )

    def build(self) -> TargetPlan:
        """The plan of every target added so far (manoeuvres sorted stably by scan)."""
        if not self._groups:
            raise ValueError("a plan needs at least one target")
        cols = {k: np.concatenate([g[k] for g in self._groups]) for k in self._groups[0]}
        ev_fields = Manoeuvres.__slots__
        if self._events:
            ev = {k: np.concatenate([e[k] for e in self._events]) for k in ev_fields}
            order = np.argsort(ev["scan"], kind="stable")
            ev = {k: v[order] for k, v in ev.items()}
        else:
            ev = {k: np.zeros((0, 3) if k in ("aim", "centre") else 0) for k in ev_fields}
            ev["scan"] = ev["scan"].astype(np.int64)
            ev["target"] = ev["target"].astype(np.int64)
            ev["mode"] = ev["mode"].astype(np.int8)
        flocks0 = np.array(self._flocks).reshape(-1, 6)
        return TargetPlan(**cols, flocks0=flocks0, manoeuvres=Manoeuvres(**ev))
