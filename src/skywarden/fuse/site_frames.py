"""Site tracks into the region's ENU frame, and to a common time (pure).

Two ENU frames are both Cartesian frames fixed to the Earth (ECEF rotated and shifted), so
a site-ENU state goes to region ENU exactly by one rotation and one offset:
``p_r = R p_s + o``, ``v_r = R v_s``, ``P_r = B P_s B^T`` with ``B = diag(R, R)``,
``R = R_region R_site^T`` (each ECEF -> ENU) and ``o`` the site origin in region ENU
(WGS-84 through pyproj, skywarden.geo). No projection error, whatever the distance.

Tracks of different site pictures are predicted to the region time with a constant
velocity model and white-noise acceleration of spectral density ``q`` (m^2/s^3 per axis).
"""

from __future__ import annotations

import numpy as np

from skywarden.geo import LocalFrame
from skywarden.track import constant_velocity, kalman
from skywarden.units import FloatArray

DEFAULT_VELOCITY_SIGMA_MPS = 10.0  # for pictures without a covariance (an older core)
VERTICAL_SIGMA_FACTOR = 2.0


def site_to_region(
    x: FloatArray, P: FloatArray, site: LocalFrame, region: LocalFrame
) -> tuple[FloatArray, FloatArray]:
    """States x (N, 6) and covariances P (N, 6, 6) in ``site`` ENU -> ``region`` ENU."""
    R = region.ecef_to_enu_rotation() @ site.ecef_to_enu_rotation().T
    offset = region.ecef_to_enu(site.origin_ecef())[0]
    B = np.zeros((6, 6))
    B[:3, :3] = R
    B[3:, 3:] = R
    x_r = x @ B.T
    x_r[:, :3] += offset
    return x_r, B @ P @ B.T


def covariance_from_sigma(sigma_m: FloatArray) -> FloatArray:
    """(N, 6, 6) diagonal covariances for pictures that carry only the 1-sigma horizontal
    position (sigma_m, metres): vertical VERTICAL_SIGMA_FACTOR times worse, velocity
    DEFAULT_VELOCITY_SIGMA_MPS. Non-finite sigma -> 1 km."""
    s = np.where(np.isfinite(sigma_m) & (sigma_m > 0), sigma_m, 1000.0)
    v = np.full_like(s, DEFAULT_VELOCITY_SIGMA_MPS)
    d = np.stack([s, s, VERTICAL_SIGMA_FACTOR * s, v, v, v], axis=1)
    out = np.zeros((s.size, 6, 6))
    i = np.arange(6)
    out[:, i, i] = d**2
    return out


def predict(
    x: FloatArray, P: FloatArray, dt: FloatArray, q: float
) -> tuple[FloatArray, FloatArray]:
    """Constant-velocity prediction of x (N, 6), P (N, 6, 6) by dt (N,) seconds with white
    acceleration noise of spectral density q (m^2/s^3) on each axis (the tracker's own
    nearly-constant-velocity model and Kalman predict)."""
    dt = np.asarray(dt, float)
    F = constant_velocity.transition(dt)
    Q = constant_velocity.process_noise(dt, float(np.sqrt(q)))
    return kalman.predict(x, P, F, Q)
