"""Run a target plan through the motion models and the sensor: the :class:`Scenario` result.

One loop over scans; inside it every target moves at once (vectorised per motion mode), so
10^5 targets x 20 scans take about a second. Randomness comes only from the Generators passed
in: one for motion, one for the sensor, so changing a sensor setting leaves the truth as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skywarden.detections import Detections, SourceKind, make_detections
from skywarden.simulate.motion import IMPACT_HEIGHT, propagate
from skywarden.simulate.plan import TargetPlan, apply_manoeuvres
from skywarden.simulate.rcs import clutter_rcs_dbsm, plot_rcs_dbsm, target_rcs_dbsm
from skywarden.simulate.sensor import SensorParams, observe
from skywarden.units import FloatArray, IntArray


@dataclass(frozen=True, slots=True)
class Scenario:
    """A simulated run: ground truth and sensor detections in the site ENU frame.

    Truth holds one row per target per scan while the target exists and is inside the
    surveillance volume; rows are sorted by scan, then id. Detections are sorted by scan
    (shuffled within a scan). Target ids are 0..K-1 and index the per-target arrays.

    Attributes:
        name, seed: how it was built (``build_scenario(name, seed)``).
        times: (S,) scan times, seconds.
        truth_t: (M,) seconds; truth_scan (M,) scan index; truth_id (M,) target id.
        truth_state: (M, 6) [e, n, u, ve, vn, vu], metres and m/s.
        target_class: (K,) str 'drone' | 'bird' | 'aircraft' | 'generic'.
        target_kind: (K,) str motion label ('cv', 'hover', 'loiter', 'loiter-dive', ...).
        target_accel_sigma: (K,) white-acceleration sigma of each target's noise, m/s^2/sqrt(Hz).
        target_accel_max: (K,) acceleration limit of each target's manoeuvres, m/s^2.
        det_t: (D,) seconds; det_z (D, 3) metres; det_sigma (D,) 1-sigma per axis, metres.
        det_truth_id: (D,) target id, -1 for clutter; scan_index (D,) scan of each detection.
        det_rcs_dbsm: (D,) radar cross-section of each plot, dBsm (:mod:`skywarden.simulate.rcs`:
            a mean per target, Swerling I fluctuation per plot; clutter drawn apart).
        target_rcs_dbsm: (K,) each target's mean RCS, dBsm.
        sensor_params: the :class:`SensorParams` used (pd, sigma, clutter rate, volume, ...).
    """

    name: str
    seed: int
    times: FloatArray
    truth_t: FloatArray
    truth_scan: IntArray
    truth_id: IntArray
    truth_state: FloatArray
    target_class: np.ndarray
    target_kind: np.ndarray
    target_accel_sigma: FloatArray
    target_accel_max: FloatArray
    det_t: FloatArray
    det_z: FloatArray
    det_sigma: FloatArray
    det_truth_id: IntArray
    scan_index: IntArray
    sensor_params: SensorParams
    det_rcs_dbsm: FloatArray
    target_rcs_dbsm: FloatArray

    @property
    def n_scans(self) -> int:
        """Number of scans S."""
        return int(self.times.shape[0])

    @property
    def n_targets(self) -> int:
        """Number of targets K (ids 0..K-1), including any never seen inside the volume."""
        return int(self.target_class.shape[0])

    def detections_at(self, scan: int) -> Detections:
        """The detections of one scan as a :class:`Detections` batch (radar, no identity)."""
        lo, hi = np.searchsorted(self.scan_index, [scan, scan + 1])
        sigma = self.det_sigma[lo:hi]
        R = np.eye(3) * (sigma**2)[:, None, None]
        return make_detections(
            self.det_t[lo:hi],
            self.det_z[lo:hi],
            R,
            kind=SourceKind.RADAR,
            rcs_dbsm=self.det_rcs_dbsm[lo:hi],
        )

    def truth_at(self, scan: int) -> tuple[IntArray, FloatArray]:
        """(ids (N,), states (N, 6)) of the targets present on one scan."""
        lo, hi = np.searchsorted(self.truth_scan, [scan, scan + 1])
        return self.truth_id[lo:hi], self.truth_state[lo:hi]

    def truth_of(self, target: int) -> tuple[FloatArray, FloatArray]:
        """(times (n,), states (n, 6)) of one target."""
        rows = self.truth_id == target
        return self.truth_t[rows], self.truth_state[rows]


def simulate(
    plan: TargetPlan,
    sensor: SensorParams,
    times: FloatArray,
    *,
    motion_rng: np.random.Generator,
    sensor_rng: np.random.Generator,
    name: str = "custom",
    seed: int = -1,
) -> Scenario:
    """Run ``plan`` over the scan times (S,) and observe it with ``sensor``.

    Per scan s: targets that existed before s move by times[s] - times[s-1]; any below
    1 m height has hit the ground and is removed; scheduled manoeuvres apply; the targets that
    exist and lie inside the volume give truth rows and are observed.
    """
    times = np.asarray(times, dtype=np.float64)
    ms = plan.motion_state()
    crashed = np.zeros(len(plan), dtype=bool)
    truth: list[tuple[IntArray, FloatArray]] = []
    dets: list[tuple[FloatArray, FloatArray, IntArray]] = []
    for s in range(times.shape[0]):
        if s > 0:
            moving = (plan.birth_scan < s) & (plan.death_scan > s) & ~crashed
            propagate(ms, moving, float(times[s] - times[s - 1]), motion_rng)
            crashed |= moving & (ms.x[:, 2] < IMPACT_HEIGHT)
        exists = (plan.birth_scan <= s) & (plan.death_scan > s) & ~crashed
        apply_manoeuvres(ms, plan.manoeuvres.at_scan(s), exists)
        ids = np.flatnonzero(exists)
        ids = ids[sensor.volume.contains(ms.x[ids, :3])]
        truth.append((ids, ms.x[ids].copy()))
        obs = observe(sensor_rng, ms.x[ids, :3], ids, sensor)
        dets.append((obs.z, obs.sigma, obs.truth_id))
    # drawn after every position, so that adding amplitudes changed no scenario's geometry
    return _assemble(plan, sensor, times, truth, dets, name, seed, sensor_rng)


def _plot_rcs(rng: np.random.Generator, tid: IntArray, target_rcs: FloatArray) -> FloatArray:
    """(D,) RCS of each detection of target tid (-1: clutter): its target's mean with
    Swerling I fluctuation, or clutter."""
    out = np.empty(tid.shape[0])
    real = tid >= 0
    out[real] = plot_rcs_dbsm(rng, target_rcs[tid[real]])
    out[~real] = clutter_rcs_dbsm(rng, int((~real).sum()))
    return out


def _assemble(
    plan: TargetPlan,
    sensor: SensorParams,
    times: FloatArray,
    truth: list[tuple[IntArray, FloatArray]],
    dets: list[tuple[FloatArray, FloatArray, IntArray]],
    name: str,
    seed: int,
    rcs_rng: np.random.Generator,
) -> Scenario:
    """Concatenate the per-scan pieces into the flat, read-only arrays of a Scenario, with
    radar cross-sections drawn from rcs_rng (per target, then per detection)."""
    n_truth = np.array([ids.shape[0] for ids, _ in truth], dtype=np.int64)
    n_det = np.array([z.shape[0] for z, _, _ in dets], dtype=np.int64)
    truth_scan = np.repeat(np.arange(times.shape[0], dtype=np.int64), n_truth)
    scan_index = np.repeat(np.arange(times.shape[0], dtype=np.int64), n_det)
    arrays = {
        "times": times.copy(),
        "truth_t": times[truth_scan],
        "truth_scan": truth_scan,
        "truth_id": np.concatenate([ids for ids, _ in truth]).astype(np.int64),
        "truth_state": np.concatenate([x for _, x in truth]).reshape(-1, 6),
        "target_class": plan.target_class.astype(str),
        "target_kind": plan.target_kind.astype(str),
        "target_accel_sigma": plan.accel_sigma.copy(),
        "target_accel_max": plan.accel_max.copy(),
        "det_t": times[scan_index],
        "det_z": np.concatenate([z for z, _, _ in dets]).reshape(-1, 3),
        "det_sigma": np.concatenate([sg for _, sg, _ in dets]),
        "det_truth_id": np.concatenate([tid for _, _, tid in dets]).astype(np.int64),
        "scan_index": scan_index,
    }
    arrays["target_rcs_dbsm"] = target_rcs_dbsm(rcs_rng, plan.target_class)
    arrays["det_rcs_dbsm"] = _plot_rcs(rcs_rng, arrays["det_truth_id"], arrays["target_rcs_dbsm"])
    for a in arrays.values():
        a.flags.writeable = False
    return Scenario(name=name, seed=seed, sensor_params=sensor, **arrays)
