"""Surface traffic as class evidence: a radar track that stays at ground level and moves like
a road vehicle.

Cars and trucks on a road near the site are radar-visible (RCS around +10 dBsm), carry no
transponder and no Remote ID, and move at 3-40 m/s: from kinematics alone a tree model can
take one for a multirotor in cruise (issue 11: 16 car and truck scans labelled ``drone`` on
``loitering`` seeds 0-11, all on tracks that never left the ground). What separates them is
the height: a road vehicle's track stays at ground level for as long as it is seen.

**Rule** (:func:`surface_traffic`). A track with no cooperative identity is *surface
traffic* when its newest :data:`SURFACE_STATES` stored states (at least
:data:`SURFACE_MIN_STATES` of them) have a mean height above the site sphere within
±:data:`SURFACE_MAX_MEAN_HEIGHT_M`, no height beyond ±:data:`SURFACE_MAX_ABS_HEIGHT_M`, and a
mean horizontal speed in :data:`SURFACE_SPEED_MPS`. The limits are the radar's height noise
at a few km around the simulator's 1-3 m vehicles (99 % of vehicle scans on
``loitering``/``mixed`` seeds 0-11 have a 16-state mean height within -4..10 m and no
height beyond 20 m), and no drone scan there matched (drones' 1st percentile of the mean
height is 39 m). The height is above the sphere through the site origin: where the ground
is well above or below the site's height (hills, a radar on a mast with its height as the
site height) the rule does not fire, so it errs towards leaving the model alone.

**Likelihood** (:data:`SURFACE_LIKELIHOOD`): 0.1 against ``drone`` only. It is evidence, not
an exclusion: a radar cannot tell a drone flying a few metres above a road from a car, so a
confident drone stays ``drone`` (p_drone 0.95 against 0.05 becomes 0.66, which the default
policy shows as ``unknown`` and the unknown-object rule still warns of in the protected
zone), and the track carries the reason "at ground level, moving like road traffic" in the
API and on the map. A hovering or landed drone (mean speed under 3 m/s) and a drone
climbing away from the ground (heights beyond the limits) are never matched. Birds keep
their likelihood: birds do fly low over roads and water.
"""

from __future__ import annotations

import numpy as np

from skywarden.classify.features import height_above_site
from skywarden.classify.history import StateWindow
from skywarden.classify.physics import is_cooperative
from skywarden.units import BoolArray, FloatArray, IntArray

SURFACE_STATES = 16  # newest stored states looked at (16 s at a 1 s scan period)
SURFACE_MIN_STATES = 8  # fewer states: too short to say the track stays on the ground
SURFACE_MAX_MEAN_HEIGHT_M = 15.0  # |mean height| of those states
SURFACE_MAX_ABS_HEIGHT_M = 30.0  # no single state higher (or lower) than this
SURFACE_SPEED_MPS = (3.0, 40.0)  # mean horizontal speed of road traffic (hover/landed: out)
SURFACE_LIKELIHOOD = (0.1, 1.0, 1.0, 1.0)  # [drone, bird, aircraft, unknown]


def surface_traffic(window: StateWindow, identity: IntArray | None = None) -> BoolArray:
    """(N,) True where a track of ``window`` (rows in its order) is surface traffic (module
    docstring); identity: (N,) identity keys (cooperative tracks are never matched)."""
    t = np.asarray(window.t, dtype=np.float64)[:, -SURFACE_STATES:]
    x = np.asarray(window.x, dtype=np.float64)[:, -SURFACE_STATES:, :]
    n, w = t.shape
    if n == 0 or w == 0:
        return np.zeros(n, bool)
    valid = np.isfinite(t) & np.all(np.isfinite(x), axis=2)
    h, _ = height_above_site(
        np.nan_to_num(x[..., :3]).reshape(-1, 3), np.nan_to_num(x[..., 3:]).reshape(-1, 3)
    )
    h = h.reshape(n, w)
    speed = np.linalg.norm(np.nan_to_num(x[..., 3:5]), axis=2)
    count = valid.sum(axis=1)
    k = np.maximum(count, 1)
    mean_h = np.where(valid, h, 0.0).sum(axis=1) / k
    max_h = np.where(valid, np.abs(h), 0.0).max(axis=1)
    mean_speed = np.where(valid, speed, 0.0).sum(axis=1) / k
    lo, hi = SURFACE_SPEED_MPS
    out = (
        (count >= SURFACE_MIN_STATES)
        & (np.abs(mean_h) <= SURFACE_MAX_MEAN_HEIGHT_M)
        & (max_h <= SURFACE_MAX_ABS_HEIGHT_M)
        & (mean_speed >= lo)
        & (mean_speed <= hi)
    )
    if identity is not None:
        out &= ~is_cooperative(identity)
    return out


def surface_likelihood(surface: BoolArray) -> FloatArray:
    """(N, 4) likelihood multipliers [drone, bird, aircraft, unknown]: SURFACE_LIKELIHOOD
    where ``surface`` (N,) is True, else 1."""
    s = np.asarray(surface, dtype=bool)
    out = np.ones((s.shape[0], 4))
    out[s] = SURFACE_LIKELIHOOD
    return out


__all__ = [
    "SURFACE_LIKELIHOOD",
    "surface_likelihood",
    "surface_traffic",
]
