"""Probability and time of zone entry within a horizon, from each track's state and covariance.

Method (vectorised over tracks, samples and time steps; one Python loop over zones):

1. **Samples.** A fixed set of S standard-normal 9-vectors ``(xi, eta)`` is drawn once
   (:func:`make_entry_model`: scrambled Sobol points from a seeded Generator, mapped through the
   normal quantile, plus their negatives, so the set's mean is exactly zero and symmetric
   cases give exact probabilities).
2. **Propagation.** Sample s of track i follows the constant-velocity path
   ``p(tau) = p_i + L_p xi_s + (v_i + L_v xi_s) tau + sqrt(tau^3 / 3) sigma_a * eta_s`` where
   ``L L^T = P_i`` (the 6x6 state covariance) and ``sigma_a`` is the white-noise acceleration
   1-sigma per axis (m/s^2; horizontal and vertical values). Its marginal at every tau is
   exactly ``N(F x, F P F^T + Q(tau))`` of the CV model with white-noise acceleration, so the
   spread grows with the horizon.
3. **Check.** Each path is tested against the zone prism (exact circle or shapely polygon, and
   the altitude band on the curvature-corrected site height) at ``tau = 0, step, ..., H``; the
   first step inside is refined by bisection (``refine_steps`` halvings).
4. **Result.** Entry probability = fraction of samples that enter within H; time to entry = the
   median entry time of the samples that enter (inf when none does). Tracks already inside get
   probability 1 and time 0.

A **prefilter** skips track-zone pairs that no sample path can bring into the zone within H:
horizontal distance to the zone's bounding circle > ``(speed + k sigma_v) H + k sigma_p +
max|sigma_a * eta| sqrt(H^3/3)``, or the same test on the altitude band, where k is the
largest norm of the state parts of the samples (so ``|L_p xi| <= k sigma_p``):
it is exact, the result is the same as sampling every pair. Pairs skipped get 0. Paths are
sampled at ``step_s``: a sample that crosses a corner of a zone between two steps is missed,
so keep ``speed * step_s`` below the zone's size (1 s at 50 m/s = 50 m).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm, qmc

from skywarden.units import BoolArray, FloatArray, IntArray
from skywarden.warn.zones import EARTH_RADIUS_M, Zone, horizontal_contains, inside, site_height

_CHUNK_POINTS = 1_000_000  # sample points (paths x steps) evaluated at once


@dataclass(frozen=True, eq=False)
class EntryModel:
    """Parameters of the entry forecast.

    Attributes:
        samples: (S, 9) standard normal samples: 6 for the state, 3 for the process noise.
        horizon_s: H, seconds. step_s: time step of the path check, seconds.
        accel_sigma_mps2: horizontal white-noise acceleration 1-sigma per axis, m/s^2.
        vertical_accel_sigma_mps2: the same, vertical.
        refine_steps: bisection halvings of the entry step.
    """

    samples: FloatArray
    horizon_s: float = 120.0
    step_s: float = 2.0
    accel_sigma_mps2: float = 0.3
    vertical_accel_sigma_mps2: float = 0.1
    refine_steps: int = 5

    @property
    def tau(self) -> FloatArray:
        """(T,) check times 0..H, seconds."""
        n = max(1, math.ceil(self.horizon_s / self.step_s))
        return np.minimum(np.arange(n + 1) * self.step_s, self.horizon_s)

    @property
    def eta(self) -> FloatArray:
        """(S, 3) process-noise samples times the acceleration 1-sigmas, m/s^2."""
        sigma = [self.accel_sigma_mps2, self.accel_sigma_mps2, self.vertical_accel_sigma_mps2]
        return self.samples[:, 6:] * np.asarray(sigma)

    @staticmethod
    def noise_scale(tau: FloatArray | float) -> FloatArray:
        """Position 1-sigma per unit acceleration 1-sigma after tau seconds: sqrt(tau^3/3)."""
        return np.sqrt(np.asarray(tau, dtype=np.float64) ** 3 / 3.0)


def make_entry_model(rng: np.random.Generator, n_samples: int = 32, **params: float) -> EntryModel:
    """An :class:`EntryModel` with ``n_samples`` (even) antithetic quasi-random samples.

    ``params`` are the other :class:`EntryModel` fields (horizon_s, step_s, ...).
    """
    if n_samples < 2 or n_samples % 2:
        raise ValueError("n_samples must be an even number >= 2")
    half = n_samples // 2
    sobol = qmc.Sobol(d=9, scramble=True, seed=rng)
    u = sobol.random(1 << max(0, math.ceil(math.log2(half))))[:half]
    z = norm.ppf(np.clip(u, 1e-9, 1.0 - 1e-9))
    return EntryModel(samples=np.concatenate([z, -z]), **params)


@dataclass(frozen=True)
class EntryForecast:
    """Entry forecast for N tracks and Z zones.

    Attributes:
        probability: (N, Z) probability of being inside the zone within the horizon.
        time_s: (N, Z) median time to entry (s) of the samples that enter; 0 inside, inf never.
        inside: (N, Z) the track's mean position is inside the zone now.
        evaluated: (N, Z) the pair passed the prefilter and was sampled.
    """

    probability: FloatArray
    time_s: FloatArray
    inside: BoolArray
    evaluated: BoolArray


def forecast_entry(
    x: FloatArray, P: FloatArray, zones: Sequence[Zone], model: EntryModel
) -> EntryForecast:
    """Entry probability and time for N tracks (x (N, 6), P (N, 6, 6), site ENU) and Z zones.

    Zones with role 'ignore' get only the ``inside`` test (probability = inside).
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1, 6)
    P = np.asarray(P, dtype=np.float64).reshape(-1, 6, 6)
    now = inside(zones, x[:, :3])
    probability = now.astype(np.float64)
    time_s = np.where(now, 0.0, np.inf)
    evaluated = np.zeros_like(now)
    candidates = _prefilter(x, P, zones, now, model)
    rows = np.flatnonzero(candidates.any(axis=1))
    if rows.size:
        L = _covariance_roots(P[rows])
        where = np.full(x.shape[0], -1)
        where[rows] = np.arange(rows.size)
        for j, zone in enumerate(zones):
            idx = np.flatnonzero(candidates[:, j])
            if idx.size == 0:
                continue
            p, t = _sample_entry(x[idx], L[where[idx]], zone, model)
            probability[idx, j] = p
            time_s[idx, j] = t
            evaluated[idx, j] = True
    return EntryForecast(probability, time_s, now, evaluated)


def _prefilter(
    x: FloatArray, P: FloatArray, zones: Sequence[Zone], now: BoolArray, model: EntryModel
) -> BoolArray:
    """(N, Z) pairs that could reach the zone within H at k sigma (and are not inside now)."""
    H = model.horizon_s
    k = float(np.linalg.norm(model.samples[:, :6], axis=1).max())
    eta = model.eta
    unit = float(model.noise_scale(H))
    noise_h = float(np.linalg.norm(eta[:, :2], axis=1).max()) * unit + 1.0  # + 1 m: rounding
    noise_u = float(np.abs(eta[:, 2]).max()) * unit + 1.0
    diag = np.clip(np.diagonal(P, axis1=1, axis2=2), 0.0, None)
    speed_h = np.hypot(x[:, 3], x[:, 4])
    reach_h = (speed_h + k * np.sqrt(diag[:, 3] + diag[:, 4])) * H
    reach_h += k * np.sqrt(diag[:, 0] + diag[:, 1]) + noise_h
    reach_u = (np.abs(x[:, 5]) + k * np.sqrt(diag[:, 5])) * H + k * np.sqrt(diag[:, 2]) + noise_u
    r = np.hypot(x[:, 0], x[:, 1])  # the curvature term of the site height changes too:
    reach_u += (2.0 * r + reach_h) * reach_h * (0.5 / EARTH_RADIUS_M)
    finite = np.isfinite(x).all(axis=1) & np.isfinite(P).all(axis=(1, 2))
    h = site_height(x[:, :3])
    out = np.zeros_like(now)
    for j, zone in enumerate(zones):
        if zone.role == "ignore":
            continue
        d_h = np.hypot(x[:, 0] - zone.centre[0], x[:, 1] - zone.centre[1]) - zone.radius_m
        d_u = np.maximum(np.maximum(zone.bottom_m - h, h - zone.top_m), 0.0)
        out[:, j] = finite & ~now[:, j] & (d_h <= reach_h) & (d_u <= reach_u)
    return out


def _covariance_roots(P: FloatArray) -> FloatArray:
    """(n, 6, 6) matrices L with L L^T = P (Cholesky; eigen-decomposition when not PD)."""
    P = 0.5 * (P + np.swapaxes(P, 1, 2))
    try:
        return np.linalg.cholesky(P + 1e-9 * np.eye(6))
    except np.linalg.LinAlgError:
        w, V = np.linalg.eigh(P)
        return V * np.sqrt(np.clip(w, 0.0, None))[:, None, :]


def _sample_entry(
    x: FloatArray, L: FloatArray, zone: Zone, model: EntryModel
) -> tuple[FloatArray, FloatArray]:
    """(n,) entry probability and median entry time for n tracks against one zone."""
    d = np.matmul(model.samples[:, :6], np.swapaxes(L, 1, 2))  # (n, S, 6)
    p0, v0 = x[:, None, :3] + d[..., :3], x[:, None, 3:] + d[..., 3:]
    entry = np.full(p0.shape[:2], np.inf)
    i, s = np.nonzero(_may_reach(p0, v0, zone, model))
    per_chunk = max(1, _CHUNK_POINTS // model.tau.shape[0])
    for start in range(0, i.size, per_chunk):
        ii, ss = i[start : start + per_chunk], s[start : start + per_chunk]
        entry[ii, ss] = _first_entry(p0[ii, ss], v0[ii, ss], model.eta[ss], zone, model)
    return np.isfinite(entry).mean(axis=1), _conditional_median(entry)


def _may_reach(p0: FloatArray, v0: FloatArray, zone: Zone, model: EntryModel) -> BoolArray:
    """(n, S) sample paths whose bounding box over [0, H] meets the zone's box and band.

    Each term of a path (v tau, sqrt(tau^3/3) sigma_a eta) is monotonic in tau, so the path
    lies between its values at 0 and H on every axis.
    """
    H = model.horizon_s
    end = p0 + v0 * H
    noise = model.noise_scale(H) * model.eta[None]
    lo = np.minimum(p0, end) + np.minimum(noise, 0.0)
    hi = np.maximum(p0, end) + np.maximum(noise, 0.0)
    x0, y0, x1, y1 = zone.polygon.bounds
    r2_max = np.maximum(lo[..., 0] ** 2, hi[..., 0] ** 2) + np.maximum(
        lo[..., 1] ** 2, hi[..., 1] ** 2
    )
    h_hi = hi[..., 2] + r2_max * (0.5 / EARTH_RADIUS_M)
    return (
        (lo[..., 0] < x1)
        & (hi[..., 0] > x0)
        & (lo[..., 1] < y1)
        & (hi[..., 1] > y0)
        & (lo[..., 2] <= zone.top_m)
        & (h_hi >= zone.bottom_m)
    )


def _positions(
    p0: FloatArray, v0: FloatArray, eta: FloatArray, tau: FloatArray, model: EntryModel
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """East, north, site height (m) of m sample paths (p0, v0, eta (m, 3)) at times tau, which
    is (T,) (results (m, T)) or (m,) (results (m,))."""
    g = model.noise_scale(tau)
    e, n, u = (p0[..., a] + v0[..., a] * tau + g * eta[..., a] for a in range(3))
    return e, n, u + (e * e + n * n) * (0.5 / EARTH_RADIUS_M)


def _prism(zone: Zone, e: FloatArray, n: FloatArray, h: FloatArray) -> BoolArray:
    band = (h >= zone.bottom_m) & (h <= zone.top_m)
    out = np.zeros(band.shape, dtype=bool)
    if band.any():
        out[band] = horizontal_contains(zone, e[band], n[band])
    return out


def _hits_on_grid(
    p0: FloatArray, v0: FloatArray, eta: FloatArray, zone: Zone, model: EntryModel
) -> BoolArray:
    """(m, T) whether each of m sample paths is inside the zone at each check time.

    East and north first, in float32 (millimetres at 100 km; the entry step found here is then
    refined in float64); the height and the exact shape only where the zone's box is hit.
    """
    tau = model.tau.astype(np.float32)
    g = model.noise_scale(model.tau).astype(np.float32)
    p32, v32, eta32 = (c[:, :2].astype(np.float32) for c in (p0, v0, eta))
    e = p32[:, :1] + v32[:, :1] * tau + eta32[:, :1] * g
    n = p32[:, 1:2] + v32[:, 1:2] * tau + eta32[:, 1:2] * g
    x0, y0, x1, y1 = zone.polygon.bounds
    i, k = np.nonzero((e > x0) & (e < x1) & (n > y0) & (n < y1))
    hit = np.zeros(e.shape, dtype=bool)
    if i.size:
        e, n = e[i, k], n[i, k]
        u = p0[i, 2] + v0[i, 2] * tau[k] + eta[i, 2] * g[k]
        hit[i, k] = _prism(zone, e, n, u + (e * e + n * n) * (0.5 / EARTH_RADIUS_M))
    return hit


def _first_entry(
    p0: FloatArray, v0: FloatArray, eta: FloatArray, zone: Zone, model: EntryModel
) -> FloatArray:
    """(m,) first entry time of m sample paths (p0, v0, eta (m, 3)); inf if none within H."""
    tau = model.tau
    hit = _hits_on_grid(p0, v0, eta, zone, model)
    entered = hit.any(axis=1)
    first: IntArray = np.argmax(hit, axis=1)
    entry = np.where(entered, tau[first], np.inf)
    refine = np.flatnonzero(entered & (first > 0))
    if refine.size:
        lo, hi = tau[first[refine] - 1], tau[first[refine]]
        args = (p0[refine], v0[refine], eta[refine])
        for _ in range(model.refine_steps):
            mid = 0.5 * (lo + hi)
            hit_mid = _prism(zone, *_positions(*args, mid, model))
            hi = np.where(hit_mid, mid, hi)
            lo = np.where(hit_mid, lo, mid)
        entry[refine] = hi
    return entry


def _conditional_median(entry: FloatArray) -> FloatArray:
    """(n,) median of the finite entries per row (the lower middle one); inf if none."""
    ordered = np.sort(entry, axis=1)
    count = np.isfinite(ordered).sum(axis=1)
    pick = np.maximum(count - 1, 0) // 2
    return np.where(count > 0, ordered[np.arange(ordered.shape[0]), pick], np.inf)
