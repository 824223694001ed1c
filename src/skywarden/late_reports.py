"""Late cooperative reports, moved on along their own velocity to the tracker's time.

The tracker takes a tick's detections in time order at times no earlier than its tracks'
(``Tracks.t``); one measured before that is *late* and is taken at the tracks' time. The live
loop's reorder buffer (skywarden.reorder) does not wait for sources whose detections all
report a velocity (Remote ID, ADS-B: a Remote ID sender's own delay is 20-220 ms in the
simulation, up to 1 s under ASTM F3411), so their reports may come after the tracker moved
on. Such a report says where its target went meanwhile: its position is moved along its
reported velocity to the tracks' time (constant velocity over a few hundred milliseconds: a
few metres at drone speeds, against the 0.2 s the tracker's grouping already spans). A late
detection without velocity (a radar plot) is taken where it was measured, as before, and
counted late.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from skywarden.detections import Detections
from skywarden.units import BoolArray, FloatArray


def carry_forward(
    detections: Detections, times: FloatArray, t_tracks: float
) -> tuple[Detections, BoolArray]:
    """Move late detections that report a velocity on to the tracks' time.

    Args:
        detections: D detections (site ENU m, m/s).
        times: (D,) POSIX s at which each is taken (its measurement time, clamped to the tick).
        t_tracks: the tracks' time (POSIX s).

    Returns:
        The detections (positions of the carried ones moved by ``v * (t_tracks - times)``;
        their measurement times and everything else unchanged) and the (D,) mask of the
        carried ones: late (``times < t_tracks``) with a finite velocity.
    """
    carried = (times < t_tracks) & np.isfinite(detections.v).all(axis=1)
    if not carried.any():
        return detections, carried
    z = detections.z.copy()
    z[carried] += detections.v[carried] * (t_tracks - times[carried])[:, None]
    return dataclasses.replace(detections, z=z), carried
