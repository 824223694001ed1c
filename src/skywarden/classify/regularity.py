"""Flight-regularity features: how steadily a track holds its speed, height and heading.

Multirotors and fixed-wing drones hold heading, speed and height steadily (or hover still);
birds flap-glide (speed and height undulate with a period of seconds), wander around their
flock's course and climb and sink in small steps. Those undulations live at periods of a few
scans, where a constant-velocity leg, a steady climb and a coordinated turn have no energy:
each feature below is the RMS of a track quantity about its own centred running mean over
:data:`SMOOTH` scans, so a steady trend (a climb, a constant turn, a slow acceleration) is
removed and only the wiggle about it is left. They are computed from the tracker's filtered
states in the classifier's window (:mod:`skywarden.classify.history`), the same states a live
radar track gives, so the tracker's smoothing and the measurement noise are in them exactly
as at run time; ``position_sigma_m`` (in :mod:`skywarden.classify.features`) is the noise
level they are seen at.

Inputs: ``valid (N, W)`` bool, and per slot ``speed (N, W)`` m/s horizontal speed,
``height (N, W)`` m, ``heading (N, W)`` rad (of the horizontal velocity), ``pos (N, W, 2)`` m
site ENU e, n; oldest column first (:class:`~skywarden.classify.history.StateWindow`).
Outputs: ``(N,)`` floats, NaN where a track has fewer than :data:`MIN_POINTS` slots with a full
running-mean neighbourhood.

=================== ======= =================================================================
speed_wiggle        m/s     RMS of horizontal speed about its 5-scan running mean
height_wiggle       m       RMS of height about its 5-scan running mean (flap-glide undulation)
heading_wiggle      rad     RMS of heading about its 5-scan running mean (only where the speed
                            is >= 2 m/s over the whole neighbourhood; a constant turn is a
                            straight line in heading and leaves nothing)
path_wiggle         m       RMS horizontal distance of the positions from their 5-scan
                            running mean (a weave across the course)
heading_persistence 1       length of the mean unit velocity vector over the window (1: one
                            heading held; about 0: circling or wandering every way)
=================== ======= =================================================================
"""

from __future__ import annotations

import numpy as np

from skywarden.units import BoolArray, FloatArray

SMOOTH = 5  # scans in the centred running mean (odd)
MIN_POINTS = 4  # slots with a full neighbourhood needed for a wiggle feature
MIN_SPEED = 2.0  # m/s: heading is not defined below this

REGULARITY_NAMES: tuple[str, ...] = (
    "speed_wiggle",
    "height_wiggle",
    "heading_wiggle",
    "path_wiggle",
    "heading_persistence",
)


def _running(a: FloatArray, ok: BoolArray) -> tuple[FloatArray, BoolArray]:
    """Centred running mean (N, W) of a over SMOOTH slots, and where it has all SMOOTH of
    them ``ok`` (edges and gaps: False)."""
    n, w = ok.shape
    half = SMOOTH // 2
    out = np.full((n, w), np.nan)
    full = np.zeros((n, w), bool)
    if w < SMOOTH:
        return out, full
    values = np.where(ok, a, 0.0)
    cs = np.concatenate([np.zeros((n, 1)), np.cumsum(values, axis=1)], axis=1)
    cn = np.concatenate([np.zeros((n, 1)), np.cumsum(ok, axis=1)], axis=1)
    total = cs[:, SMOOTH:] - cs[:, :-SMOOTH]
    count = cn[:, SMOOTH:] - cn[:, :-SMOOTH]
    out[:, half : w - half] = total / SMOOTH
    full[:, half : w - half] = count == SMOOTH
    return out, full


def _rms(d: FloatArray, m: BoolArray) -> FloatArray:
    """Row RMS of d over the mask m; NaN with fewer than MIN_POINTS entries."""
    k = m.sum(axis=1)
    s = np.where(m, d * d, 0.0).sum(axis=1)
    return np.sqrt(np.divide(s, k, out=np.full(k.shape, np.nan), where=k >= MIN_POINTS))


def wiggle(a: FloatArray, ok: BoolArray) -> FloatArray:
    """(N,) RMS of a (N, W) about its centred running mean, over the slots where the mean
    has a full neighbourhood of ``ok`` slots."""
    mean, full = _running(a, ok)
    return _rms(np.nan_to_num(a - mean), full)


def heading_wiggle(heading: FloatArray, speed: FloatArray, valid: BoolArray) -> FloatArray:
    """(N,) RMS of the heading (rad) about its running mean, unwrapped along each row; only
    slots whose whole neighbourhood flies at >= MIN_SPEED count."""
    moving = valid & (speed >= MIN_SPEED)
    unwrapped = np.unwrap(np.where(valid, heading, 0.0), axis=1)
    return wiggle(unwrapped, moving)


def path_wiggle(pos: FloatArray, valid: BoolArray) -> FloatArray:
    """(N,) RMS horizontal distance (m) of the positions (N, W, 2) from their running mean."""
    me, full = _running(pos[..., 0], valid)
    mn, _ = _running(pos[..., 1], valid)
    d = np.hypot(np.nan_to_num(pos[..., 0] - me), np.nan_to_num(pos[..., 1] - mn))
    return _rms(d, full)


def heading_persistence(heading: FloatArray, speed: FloatArray, valid: BoolArray) -> FloatArray:
    """(N,) length of the mean unit horizontal velocity over the moving slots (1: straight)."""
    moving = valid & (speed >= MIN_SPEED)
    k = moving.sum(axis=1)
    c = np.where(moving, np.cos(heading), 0.0).sum(axis=1)
    s = np.where(moving, np.sin(heading), 0.0).sum(axis=1)
    return np.divide(np.hypot(c, s), k, out=np.full(k.shape, np.nan), where=k >= MIN_POINTS)


def regularity_features(
    valid: BoolArray, speed: FloatArray, height: FloatArray, heading: FloatArray, pos: FloatArray
) -> dict[str, FloatArray]:
    """The :data:`REGULARITY_NAMES` columns, each (N,) (inputs: module docstring)."""
    return {
        "speed_wiggle": wiggle(speed, valid),
        "height_wiggle": wiggle(height, valid),
        "heading_wiggle": heading_wiggle(heading, speed, valid),
        "path_wiggle": path_wiggle(pos, valid),
        "heading_persistence": heading_persistence(heading, speed, valid),
    }
