"""Nearly-constant-velocity motion model, batched over tracks.

State x = [e, n, u, ve, vn, vu] in the site ENU frame (metres, m/s). Process noise is
continuous white acceleration with spectral density ``accel_sigma**2`` (m^2/s^3) per axis.
"""

from __future__ import annotations

import numpy as np

from skywarden.units import FloatArray


def transition(dt: FloatArray) -> FloatArray:
    """State transition F for each time step: dt (N,) seconds -> (N, 6, 6)."""
    n = dt.shape[0]
    F = np.zeros((n, 6, 6))
    idx = np.arange(6)
    F[:, idx, idx] = 1.0
    F[:, [0, 1, 2], [3, 4, 5]] = dt[:, None]
    return F


def process_noise(dt: FloatArray, accel_sigma: float) -> FloatArray:
    """Process noise Q for each time step: dt (N,) s, accel_sigma m/s^2/sqrt(Hz) -> (N, 6, 6)."""
    q = accel_sigma**2
    n = dt.shape[0]
    Q = np.zeros((n, 6, 6))
    pos = np.arange(3)
    vel = pos + 3
    Q[:, pos, pos] = (q * dt**3 / 3.0)[:, None]
    Q[:, pos, vel] = (q * dt**2 / 2.0)[:, None]
    Q[:, vel, pos] = (q * dt**2 / 2.0)[:, None]
    Q[:, vel, vel] = (q * dt)[:, None]
    return Q
