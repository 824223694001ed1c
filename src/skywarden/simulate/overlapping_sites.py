"""Site pictures of one set of targets seen by several overlapping sites (seeded), for the
region node's tests and benchmark.

Each site sees the targets within ``coverage_m`` of it, with a range/cross-range error
(``range_sigma_m`` along the line of sight, ``bearing_sigma_rad`` times the range across it,
``up_sigma_m`` vertically, ``velocity_sigma_mps`` per velocity axis) rotated to the bearing,
so two sites' covariances of one target differ in shape. The sites' errors of one target
are correlated with coefficient ``correlation`` (a common part, as common process noise
gives): e_s = L_s (sqrt(rho) c + sqrt(1 - rho) w_s), c and w_s standard normal, L_s the
Cholesky factor of the site's covariance, so each site's reported covariance is exact.

Frames: truth (N, 6) in the region ENU frame; each picture in its own site ENU frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from skywarden.fuse.regional_picture import SitePicture
from skywarden.fuse.site_frames import site_to_region
from skywarden.geo import LocalFrame
from skywarden.snapshot import Snapshot, TrackArrays
from skywarden.units import FloatArray


@dataclass(frozen=True)
class SiteErrors:
    """Error model of every site (1-sigma)."""

    range_sigma_m: float = 15.0
    bearing_sigma_rad: float = 0.01
    up_sigma_m: float = 25.0
    velocity_sigma_mps: float = 2.0
    correlation: float = 0.3


@dataclass(frozen=True)
class OverlapScene:
    """Truth and each site's picture.

    Attributes:
        region: the region ENU frame. truth: (N, 6) region ENU states.
        pictures: one per site. seen: per site, (M_s,) the truth index of each site track.
    """

    region: LocalFrame
    truth: FloatArray
    pictures: tuple[SitePicture, ...]
    seen: tuple[np.ndarray, ...]


def overlapping_sites(
    rng: np.random.Generator, n_targets: int, sites: Sequence[tuple[str, float, float]],
    region: tuple[float, float], *, t: float, extent_m: float = 20000.0,
    coverage_m: float = 15000.0, identity_fraction: float = 0.3,
    errors: SiteErrors | None = None, truth: FloatArray | None = None,
) -> OverlapScene:  # fmt: skip
    """Targets uniform in a square of side ``extent_m`` about the region origin (or the given
    ``truth``), seen by ``sites`` (name, lat, lon) at time ``t``. A fraction of the targets
    carries an ICAO identity ('icao:XXXXXX'), the same at every site."""
    errors = errors or SiteErrors()
    frame = LocalFrame(region[0], region[1], 0.0)
    if truth is None:
        truth = np.zeros((n_targets, 6))
        truth[:, :2] = rng.uniform(-extent_m / 2, extent_m / 2, (n_targets, 2))
        truth[:, 2] = rng.uniform(30.0, 500.0, n_targets)
        truth[:, 3:5] = rng.normal(0.0, 15.0, (n_targets, 2))
    n = truth.shape[0]
    addresses = [f"icao:{v:06X}" for v in rng.choice(1 << 24, n, replace=False)]
    icao = np.where(rng.random(n) < identity_fraction, addresses, "")
    common = rng.standard_normal((n, 6))
    pictures, seen = [], []
    for name, lat, lon in sites:
        site = LocalFrame(lat, lon, 0.0)
        x, _ = site_to_region(truth, np.zeros((n, 6, 6)), frame, site)  # region -> site ENU
        rng_h = np.hypot(x[:, 0], x[:, 1])
        idx = np.flatnonzero(rng_h <= coverage_m)
        P = _site_covariance(x[idx], errors)
        L = np.linalg.cholesky(P)
        rho = errors.correlation
        w = np.sqrt(rho) * common[idx] + np.sqrt(1 - rho) * rng.standard_normal((idx.size, 6))
        est = x[idx] + np.einsum("nij,nj->ni", L, w)
        ids = rng.choice(1_000_000, idx.size, replace=False)
        pictures.append(SitePicture(name, _snapshot(site, est, P, ids, icao[idx], t, rng)))
        seen.append(idx)
    return OverlapScene(frame, truth, tuple(pictures), tuple(seen))


def _site_covariance(x: FloatArray, e: SiteErrors) -> FloatArray:
    """(M, 6, 6) covariance, range/cross-range rotated to each target's bearing."""
    m = x.shape[0]
    rng_h = np.maximum(np.hypot(x[:, 0], x[:, 1]), 1.0)
    u = x[:, :2] / rng_h[:, None]  # line-of-sight unit vector (east, north)
    rot = np.zeros((m, 2, 2))
    rot[:, :, 0] = u
    rot[:, :, 1] = np.stack([-u[:, 1], u[:, 0]], axis=1)
    var = np.zeros((m, 2, 2))
    var[:, 0, 0] = e.range_sigma_m**2
    var[:, 1, 1] = (e.bearing_sigma_rad * rng_h) ** 2 + 1.0
    P = np.zeros((m, 6, 6))
    P[:, :2, :2] = rot @ var @ np.swapaxes(rot, 1, 2)
    P[:, 2, 2] = e.up_sigma_m**2
    i = np.arange(3, 6)
    P[:, i, i] = e.velocity_sigma_mps**2
    return P


def _snapshot(
    site: LocalFrame, x: FloatArray, P: FloatArray, ids: np.ndarray, identity: np.ndarray,
    t: float, rng: np.random.Generator,
) -> Snapshot:  # fmt: skip
    m = x.shape[0]
    lat, lon, alt = site.enu_to_geodetic(x[:, :3])
    text = np.empty(m, dtype=object)
    text[:] = ""
    ident = np.empty(m, dtype=object)
    ident[:] = list(identity)
    tracks = TrackArrays(
        id=ids.astype(np.int64), enu=x, lat=lat, lon=lon, alt_m=alt,
        sigma_m=np.sqrt(np.maximum(P[:, 0, 0], P[:, 1, 1])), status=np.ones(m, np.int8),
        target_class=np.ones(m, np.int8), p_class=rng.dirichlet(np.ones(4), m),
        behaviour=text, identity=ident, callsign=text.copy(), t_update=np.full(m, t),
        trail=np.zeros((m, 0, 3)), predicted=np.zeros((m, 0, 3)), cov=P,
    )  # fmt: skip
    return Snapshot(seq=1, t=t, site=(site.lat0_deg, site.lon0_deg, site.h0_m), tracks=tracks)
