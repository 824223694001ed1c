"""Coordinated-turn motion model with a fixed turn rate, batched over tracks.

Horizontal motion turns at ``turn_rate`` rad/s (positive = counter-clockwise seen from above,
i.e. a left turn); vertical motion is nearly constant velocity. State x = [e, n, u, ve, vn, vu]
(ENU metres, m/s). With the turn rate fixed the model stays linear, so an IMM of CV plus a
left and a right turn covers manoeuvres without an extended filter.
"""

from __future__ import annotations

import numpy as np

from skywarden.track import constant_velocity
from skywarden.units import FloatArray


def transition(dt: FloatArray, turn_rate: float) -> FloatArray:
    """State transition F: dt (N,) s, turn_rate rad/s -> (N, 6, 6)."""
    if turn_rate == 0.0:
        return constant_velocity.transition(dt)
    w = turn_rate
    s, c = np.sin(w * dt), np.cos(w * dt)
    F = constant_velocity.transition(dt)
    F[:, 0, 3] = s / w
    F[:, 0, 4] = -(1.0 - c) / w
    F[:, 1, 3] = (1.0 - c) / w
    F[:, 1, 4] = s / w
    F[:, 3, 3] = c
    F[:, 3, 4] = -s
    F[:, 4, 3] = s
    F[:, 4, 4] = c
    return F


def process_noise(dt: FloatArray, accel_sigma: float) -> FloatArray:
    """Process noise Q: white acceleration on every axis, as for constant velocity.

    Over one scan the turn rotates the acceleration by a small angle; the white-noise
    approximation is the usual one for fixed-rate turn models.
    """
    return constant_velocity.process_noise(dt, accel_sigma)
