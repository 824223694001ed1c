"""Track trails as fixed-size ring buffers keyed by track number (bounded memory).

The core keeps no history; the pipeline keeps the last L positions of every live track here
for the snapshot (the map draws them). Updated for all tracks at once each tick.

With ``t_update`` a track's trail gains a point only when the track was updated by a
measurement since its last point (or is new): the trail is its last L measured positions.
Appending at every tick instead made a trail cover the last L *ticks*: the live loop ticks
once per batch of datagrams (tens of times a second at scale), so the map's trails were under
a second long, and every trail point of every track moved at every tick (the live stream could
not send trails as new points only: skywarden.server.live_compact).
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
        self.t_update = np.zeros(0)

    def update(self, ids: IntArray, points: FloatArray, t_update: FloatArray | None = None
               ) -> FloatArray:  # fmt: skip
        """Append one point per track (ids (N,), points (N, 3)); tracks not in ids are
        forgotten. With ``t_update`` (N,) POSIX s of each track's last measurement, a known
        track whose t_update has not changed keeps its trail as it is. Returns the trails
        (N, length, 3), oldest first, NaN-padded, in ids order."""
        ids = np.asarray(ids, dtype=np.int64)
        trails = np.full((ids.shape[0], self.length, 3), np.nan)
        row = rows_by_id(self.ids, ids)
        known = row >= 0
        moved = known.copy()
        if t_update is not None:
            t_update = np.asarray(t_update, dtype=np.float64)
            same = known.copy()
            same[known] = self.t_update[row[known]] == t_update[known]
            moved &= ~same
            trails[same] = self.points[row[same]]
            self.t_update = t_update.copy()
        else:
            self.t_update = np.full(ids.shape[0], np.nan)
        trails[moved, :-1] = self.points[row[moved], 1:]
        grow = ~known | moved
        trails[grow, -1] = np.asarray(points)[grow]
        self.ids = ids.copy()
        self.points = trails
        return trails
