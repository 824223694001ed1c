"""Track trails as fixed-size ring buffers keyed by track number (bounded memory).

The core keeps no history; the pipeline keeps the last L positions of every live track here
for the snapshot (the map draws them). Updated for all tracks at once each tick.
"""

from __future__ import annotations

import numpy as np

from skywarden.track.tracks import rows_by_id
from skywarden.units import FloatArray, IntArray


class TrailBuffer:
    """Last ``length`` points (any 3 numbers, e.g. lat, lon, alt) of each live track."""

    def __init__(self, length: int = 30) -> None:
        self.length = length
        self.ids = np.zeros(0, np.int64)
        self.points = np.zeros((0, length, 3))

    def update(self, ids: IntArray, points: FloatArray) -> FloatArray:
        """Append one point per track (ids (N,), points (N, 3)); tracks not in ids are
        forgotten. Returns the trails (N, length, 3), oldest first, NaN-padded, in ids order."""
        ids = np.asarray(ids, dtype=np.int64)
        trails = np.full((ids.shape[0], self.length, 3), np.nan)
        row = rows_by_id(self.ids, ids)
        known = row >= 0
        trails[known, :-1] = self.points[row[known], 1:]
        trails[:, -1] = points
        self.ids = ids.copy()
        self.points = trails
        return trails
