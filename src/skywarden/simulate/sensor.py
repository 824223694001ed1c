"""Simulated sensor: surveillance volume, detection, Cartesian noise and Poisson clutter.

The model, kept simple on purpose (everything in the site ENU frame, metres):

* A scan every ``scan_period`` seconds; every detection of a scan carries the scan time.
* Each target inside the surveillance volume is detected on each scan with probability ``pd``,
  independently of everything else.
* A detection is the true position plus Gaussian noise, independent per axis, with 1-sigma
  ``sigma_at(range) = sqrt(sigma**2 + (sigma_per_km * range_km)**2)`` metres (``sigma_per_km``
  = 0 gives a constant sigma); the detection reports that sigma (covariance sigma^2 I).
* Clutter: a Poisson number of false detections per scan with mean ``clutter_rate``,
  uniformly distributed in the volume, reported with the sigma at their own range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from skywarden.errors import ConfigError
from skywarden.units import FloatArray


class Volume(Protocol):
    """A region of the site ENU frame (metres)."""

    def contains(self, p: FloatArray) -> np.ndarray:
        """(N,) bool: which points p (N, 3) lie inside."""
        ...

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """n points (n, 3) uniformly distributed in the volume."""
        ...

    @property
    def volume_m3(self) -> float:
        """Size of the region, cubic metres."""
        ...


@dataclass(frozen=True, slots=True)
class BoxVolume:
    """Axis-aligned box [lo, hi] in the site ENU frame: lo, hi are (e, n, u) metres."""

    lo: tuple[float, float, float]
    hi: tuple[float, float, float]

    def __post_init__(self) -> None:
        if not all(a < b for a, b in zip(self.lo, self.hi, strict=True)):
            raise ConfigError(f"box volume needs lo < hi on every axis, got {self.lo}, {self.hi}")

    def contains(self, p: FloatArray) -> np.ndarray:
        """(N,) bool: which points p (N, 3) lie inside (bounds included)."""
        return np.all((p >= np.asarray(self.lo)) & (p <= np.asarray(self.hi)), axis=1)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """n points (n, 3) uniform in the box."""
        return rng.uniform(self.lo, self.hi, size=(n, 3))

    @property
    def volume_m3(self) -> float:
        """Size of the box, cubic metres."""
        return float(np.prod(np.subtract(self.hi, self.lo)))


@dataclass(frozen=True, slots=True)
class CylinderVolume:
    """Vertical cylinder around the site: horizontal range <= radius, u_min <= u <= u_max (m)."""

    radius: float
    u_min: float
    u_max: float

    def __post_init__(self) -> None:
        if not (self.radius > 0.0 and self.u_min < self.u_max):
            raise ConfigError("cylinder volume needs radius > 0 and u_min < u_max")

    def contains(self, p: FloatArray) -> np.ndarray:
        """(N,) bool: which points p (N, 3) lie inside (bounds included)."""
        r2 = p[:, 0] ** 2 + p[:, 1] ** 2
        return (r2 <= self.radius**2) & (p[:, 2] >= self.u_min) & (p[:, 2] <= self.u_max)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """n points (n, 3) uniform in the cylinder."""
        u = rng.random((n, 3))
        r = self.radius * np.sqrt(u[:, 0])
        az = 2.0 * math.pi * u[:, 1]
        h = self.u_min + (self.u_max - self.u_min) * u[:, 2]
        return np.column_stack([r * np.cos(az), r * np.sin(az), h])

    @property
    def volume_m3(self) -> float:
        """Size of the cylinder, cubic metres."""
        return math.pi * self.radius**2 * (self.u_max - self.u_min)


@dataclass(frozen=True, slots=True)
class SensorParams:
    """The simulated sensor (see the module docstring).

    Attributes:
        pd: probability of detecting a target in the volume on one scan, in (0, 1].
        sigma: position noise 1-sigma per axis at the site, metres.
        clutter_rate: mean number of false detections per scan (Poisson).
        volume: surveillance volume (:class:`BoxVolume` or :class:`CylinderVolume`).
        scan_period: seconds between scans.
        sigma_per_km: extra noise 1-sigma per km of 3-D range, added in quadrature, metres.
    """

    pd: float
    sigma: float
    clutter_rate: float
    volume: BoxVolume | CylinderVolume
    scan_period: float = 1.0
    sigma_per_km: float = 0.0

    def __post_init__(self) -> None:
        checks = [
            (0.0 < self.pd <= 1.0, f"pd must be in (0, 1], got {self.pd}"),
            (self.sigma > 0.0, f"sigma must be > 0 m, got {self.sigma}"),
            (self.clutter_rate >= 0.0, f"clutter_rate must be >= 0, got {self.clutter_rate}"),
            (self.scan_period > 0.0, f"scan_period must be > 0 s, got {self.scan_period}"),
            (self.sigma_per_km >= 0.0, f"sigma_per_km must be >= 0, got {self.sigma_per_km}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    @property
    def clutter_density(self) -> float:
        """Mean false detections per cubic metre per scan (for a tracker's clutter model)."""
        return self.clutter_rate / self.volume.volume_m3

    def sigma_at(self, p: FloatArray) -> FloatArray:
        """Noise 1-sigma (N,) in metres for detections at points p (N, 3)."""
        if self.sigma_per_km == 0.0:
            return np.full(p.shape[0], self.sigma)
        range_km = np.linalg.norm(p, axis=1) / 1000.0
        return np.sqrt(self.sigma**2 + (self.sigma_per_km * range_km) ** 2)


@dataclass(frozen=True, slots=True)
class ScanDetections:
    """Detections of one scan: z (D,3) m, sigma (D,) m, truth_id (D,) (-1 = clutter)."""

    z: FloatArray
    sigma: FloatArray
    truth_id: np.ndarray


def observe(
    rng: np.random.Generator, positions: FloatArray, ids: np.ndarray, params: SensorParams
) -> ScanDetections:
    """One scan of the targets at positions (K, 3) with ids (K,) (all inside the volume).

    Detects each with probability pd, adds noise, adds Poisson clutter, and shuffles the rows
    so that their order carries no information. Draws: detection, noise, clutter, shuffle.
    """
    hit = rng.random(ids.shape[0]) < params.pd
    true_z = positions[hit]
    sigma = params.sigma_at(true_z)
    z = true_z + sigma[:, None] * rng.standard_normal(true_z.shape)
    n_clutter = int(rng.poisson(params.clutter_rate))
    clutter = params.volume.sample(rng, n_clutter)
    z = np.concatenate([z, clutter])
    sigma = np.concatenate([sigma, params.sigma_at(clutter)])
    truth_id = np.concatenate([ids[hit], np.full(n_clutter, -1, dtype=ids.dtype)])
    order = rng.permutation(z.shape[0])
    return ScanDetections(z=z[order], sigma=sigma[order], truth_id=truth_id[order])
