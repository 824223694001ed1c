"""Labelled feature samples from tracker output: render truth as a radar would, track, sample.

Features are computed exactly as at run time: detections -> :func:`skywarden.track.step.step`
-> :func:`~skywarden.classify.history.update_window` -> features, so the classifier learns
from tracker output (lags, coasting, track breaks), not from clean truth.

* :func:`render` turns truth trajectories into radar scans: cut into chunks (each chunk gets
  its own track birth), linearly interpolated to the scan times, Gaussian position noise
  (sigma metres per axis), missed detections (probability 1 - pd) and uniform clutter.
  A fraction of the chunks (and of the clutter) is seen by a radar with calibrated amplitude:
  their plots carry an RCS from the simulator's per-class model (:mod:`skywarden.simulate.rcs`,
  a mean per chunk and Swerling I fluctuation per plot); the rest carry none (NaN).
  Chunks run in parallel "lanes" 100 km apart, one after another within a lane, so that
  thousands of chunks need only a few thousand scans and never interact.
* :func:`track_samples` runs the tracker over any scans and samples each confirmed track's
  features every scan up to 40 s of age, then every 5th scan. A track's label is the majority
  class of the detections it was updated with (clutter -> ``unknown``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from skywarden.classify.features import N_FEATURES, features_from_window
from skywarden.classify.history import DEFAULT_WINDOW, empty_window, update_window
from skywarden.classify.trajectories import Trajectory
from skywarden.detections import SourceKind, make_detections
from skywarden.simulate.rcs import clutter_rcs_dbsm, plot_rcs_dbsm, target_rcs_dbsm
from skywarden.track.params import TrackerParams
from skywarden.track.step import new_tracks, step
from skywarden.units import FloatArray, IntArray

CLASSES: tuple[str, ...] = ("drone", "bird", "aircraft", "unknown")
CLASS_INDEX = {name: i for i, name in enumerate(CLASSES)}
UNKNOWN = CLASS_INDEX["unknown"]
LANE_SPACING_M = 100_000.0
DENSE_AGE_S = 40.0  # sample every scan up to this age, then every 5th scan


@dataclass(frozen=True, slots=True)
class Scans:
    """Radar scans of labelled targets: det_* (D,) sorted by time, target_class (K,) index;
    det_rcs (D,) the plots' RCS in dBsm, NaN where the radar gives no amplitude."""

    times: FloatArray
    det_t: FloatArray
    det_z: FloatArray
    det_sigma: FloatArray
    det_target: IntArray
    target_class: IntArray
    det_rcs: FloatArray


@dataclass(frozen=True, slots=True)
class Samples:
    """S feature rows: X (S, F), y (S,) class index, age (S,) s, track (S,) run-unique key,
    source (S,) str data source, noise_m (S,) radar position noise (1-sigma per axis, metres)
    of the scans the sample was tracked from."""

    X: FloatArray
    y: IntArray
    age: FloatArray
    track: IntArray
    source: np.ndarray
    noise_m: FloatArray

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def take(self, rows: np.ndarray) -> Samples:
        """The samples at rows (indices or a boolean mask)."""
        return Samples(
            self.X[rows], self.y[rows], self.age[rows], self.track[rows], self.source[rows],
            self.noise_m[rows],
        )  # fmt: skip

    @staticmethod
    def empty() -> Samples:
        """No samples (F feature columns)."""
        return Samples(
            np.zeros((0, N_FEATURES)), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64),
            np.zeros(0, object), np.zeros(0),
        )  # fmt: skip


def concat_samples(parts: Sequence[Samples]) -> Samples:
    """All rows of parts; track keys are made unique across parts."""
    offset, tracks = 0, []
    for s in parts:
        tracks.append(s.track + offset)
        offset += int(s.track.max(initial=-1)) + 1
    return Samples(
        X=np.concatenate([s.X for s in parts]),
        y=np.concatenate([s.y for s in parts]),
        age=np.concatenate([s.age for s in parts]),
        track=np.concatenate(tracks),
        source=np.concatenate([s.source for s in parts]),
        noise_m=np.concatenate([s.noise_m for s in parts]),
    )


def _chunks(trajs: Sequence[Trajectory], chunk_s: float, stride_s: float) -> list[Trajectory]:
    out = []
    for tr in trajs:
        starts = tr.t[0] + np.arange(0.0, max(tr.duration - 0.5 * chunk_s, 0.0) + 1e-3, stride_s)
        for k, a in enumerate(starts):
            sel = (tr.t >= a) & (tr.t <= a + chunk_s)
            if sel.sum() >= 5:
                out.append(Trajectory(f"{tr.name}/{k}", tr.group, tr.label, tr.t[sel], tr.p[sel]))
    return out


def render(
    trajs: Sequence[Trajectory],
    rng: np.random.Generator,
    *,
    sigma: float = 10.0,
    pd: float = 0.9,
    scan_period: float = 1.0,
    clutter_rate: float = 2.0,
    chunk_s: float = 120.0,
    stride_s: float = 90.0,
    lanes: int = 64,
    height_offset: tuple[float, float] = (0.0, 0.0),
    amplitude_fraction: float = 0.5,
) -> Scans:
    """Radar scans of the trajectories (see the module docstring); clutter_rate per lane/scan.

    Each chunk is moved so that its first position is 200-3000 m from its lane origin and
    raised by U(height_offset) metres (kept >= 2 m). ``amplitude_fraction`` of the chunks and
    of the clutter plots carry an RCS (from a child of rng, so it changes no geometry).
    """
    chunks = _chunks(trajs, chunk_s, stride_s)
    order = rng.permutation(len(chunks))
    lane_end = np.zeros(lanes)
    rows: list[tuple[FloatArray, FloatArray, IntArray]] = []
    for k in order:
        c = chunks[k]
        lane = int(np.argmin(lane_end))
        start = lane_end[lane] + rng.uniform(0.0, 10.0)
        times = start + scan_period * np.arange(int(c.duration / scan_period) + 1)
        lane_end[lane] = times[-1] + 15.0  # let the old track die before the next chunk
        tau = c.t[0] + (times - times[0])
        p = np.column_stack([np.interp(tau, c.t, c.p[:, j]) for j in range(3)])
        r, az = rng.uniform(200.0, 3000.0), rng.uniform(0, 2 * np.pi)
        shift = np.array([lane * LANE_SPACING_M + r * np.cos(az), r * np.sin(az), 0.0])
        p = p - [p[0, 0], p[0, 1], 0.0] + shift
        p[:, 2] = np.maximum(p[:, 2] + rng.uniform(*height_offset), 2.0)
        seen = rng.random(times.size) < pd
        z = p[seen] + rng.normal(0.0, sigma, (int(seen.sum()), 3))
        rows.append((times[seen], z, np.full(int(seen.sum()), k)))
    end = float(lane_end.max())
    scan_times = scan_period * np.arange(int(end / scan_period) + 1)
    n_clutter = rng.poisson(clutter_rate * lanes * scan_times.size)
    ct = rng.choice(scan_times, n_clutter)
    cz = np.column_stack(
        [
            rng.integers(0, lanes, n_clutter) * LANE_SPACING_M
            + rng.uniform(-4000, 4000, n_clutter),
            rng.uniform(-4000, 4000, n_clutter),
            rng.uniform(0, 1500, n_clutter),
        ]
    )
    rows.append((ct, cz, np.full(n_clutter, -1)))
    t = np.concatenate([r[0] for r in rows])
    o = np.argsort(t, kind="stable")
    classes = np.array([CLASS_INDEX[c.label] for c in chunks], dtype=np.int64)
    target = np.concatenate([r[2] for r in rows]).astype(np.int64)[o]
    labels = np.array([c.label for c in chunks], dtype=str)
    return Scans(
        times=scan_times,
        det_t=t[o],
        det_z=np.concatenate([r[1] for r in rows])[o],
        det_sigma=np.full(t.size, float(sigma)),
        det_target=target,
        target_class=classes,
        # a child stream: the amplitudes change none of the geometry, here or in later renders
        det_rcs=_render_rcs(rng.spawn(1)[0], target, labels, amplitude_fraction),
    )


def _render_rcs(
    rng: np.random.Generator, target: IntArray, labels: np.ndarray, fraction: float
) -> FloatArray:
    """(D,) RCS in dBsm of rendered plots (target -1: clutter); NaN for plots of chunks (and
    clutter plots) seen without amplitude."""
    with_amplitude = rng.random(labels.shape[0]) < fraction
    mean = target_rcs_dbsm(rng, labels)
    out = np.full(target.shape[0], np.nan)
    real = target >= 0
    seen = real & with_amplitude[np.maximum(target, 0)]
    out[seen] = plot_rcs_dbsm(rng, mean[target[seen]])
    clutter = np.flatnonzero(~real)
    clutter = clutter[rng.random(clutter.size) < fraction]
    out[clutter] = clutter_rcs_dbsm(rng, clutter.size)
    return out


def scans_from_scenario(
    scenario, class_names: dict[str, str] | None = None, amplitude: bool = True
) -> Scans:
    """:class:`Scans` of a simulated :class:`~skywarden.simulate.Scenario` ('generic' -> -1);
    without ``amplitude`` the plots carry no RCS."""
    names = class_names or {}
    cls = np.array(
        [CLASS_INDEX.get(names.get(c, c), -1) for c in scenario.target_class], dtype=np.int64
    )
    return Scans(
        times=np.asarray(scenario.times),
        det_t=np.asarray(scenario.det_t),
        det_z=np.asarray(scenario.det_z),
        det_sigma=np.asarray(scenario.det_sigma),
        det_target=np.asarray(scenario.det_truth_id),
        target_class=cls,
        det_rcs=(
            np.asarray(scenario.det_rcs_dbsm)
            if amplitude
            else np.full(np.shape(scenario.det_t), np.nan)
        ),
    )


def track_samples(scans: Scans, params: TrackerParams, source: str = "") -> Samples:
    """Run the tracker over the scans; sample confirmed tracks' features (module docstring)."""
    bounds = np.searchsorted(scans.det_t, scans.times - 1e-6)
    bounds = np.append(bounds, scans.det_t.size)
    tracks = new_tracks(params, float(scans.times[0]))
    window = empty_window(DEFAULT_WINDOW)
    X, tid, age, pairs = [], [], [], []
    for s, t in enumerate(scans.times):
        lo, hi = bounds[s], bounds[s + 1]
        sig = scans.det_sigma[lo:hi]
        R = np.eye(3)[None] * (sig**2)[:, None, None]
        dets = make_detections(
            float(t), scans.det_z[lo:hi], R, kind=SourceKind.RADAR, rcs_dbsm=scans.det_rcs[lo:hi]
        )
        tracks, events = step(tracks, dets, float(t), params)
        window = update_window(window, tracks)
        used = events.detection_track >= 0
        target = scans.det_target[lo:hi][used]
        cls = np.where(target >= 0, scans.target_class[np.maximum(target, 0)], UNKNOWN)
        pairs.append(np.column_stack([events.detection_track[used], cls]))
        a = t - tracks.t_birth
        keep = tracks.confirmed & ((a <= DENSE_AGE_S) | (s % 5 == 0))
        if keep.any():
            X.append(features_from_window(window, math.inf)[keep])  # lanes: a flat earth
            tid.append(tracks.id[keep])
            age.append(a[keep])
    if not X:
        return Samples.empty()
    label = _majority_labels(np.concatenate(pairs))
    track = np.concatenate(tid)
    y = label.get_many(track)
    ok = y >= 0
    return Samples(
        X=np.concatenate(X)[ok],
        y=y[ok],
        age=np.concatenate(age)[ok],
        track=track[ok],
        source=np.full(int(ok.sum()), source, dtype=object),
        noise_m=np.full(int(ok.sum()), float(np.median(scans.det_sigma))),
    )


@dataclass(frozen=True, slots=True)
class _Labels:
    ids: IntArray
    cls: IntArray

    def get_many(self, track: IntArray) -> IntArray:
        pos = np.clip(np.searchsorted(self.ids, track), 0, max(self.ids.size - 1, 0))
        found = self.ids.size > 0 and True
        out = np.full(track.shape, -1, np.int64)
        if found:
            hit = self.ids[pos] == track
            out[hit] = self.cls[pos[hit]]
        return out


def _majority_labels(pairs: IntArray) -> _Labels:
    """Majority class per track id from (track id, class) rows; ties go to the lower class."""
    if pairs.size == 0:
        return _Labels(np.zeros(0, np.int64), np.zeros(0, np.int64))
    pairs = pairs[pairs[:, 1] >= 0]
    u, counts = np.unique(pairs, axis=0, return_counts=True)
    order = np.lexsort((-counts, u[:, 0]))
    u = u[order]
    first = np.concatenate([[True], u[1:, 0] != u[:-1, 0]])
    return _Labels(u[first, 0].astype(np.int64), u[first, 1].astype(np.int64))
