"""Run the tracker over a sequence of scans and collect confirmed track states.

Pure: (time, Detections) pairs in, flat arrays out. Used by ``skywarden track``, the demo and
the benchmarks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from skywarden.detections import Detections
from skywarden.track.params import TrackerParams
from skywarden.track.step import new_tracks, step
from skywarden.track.tracks import Tracks
from skywarden.units import FloatArray, IntArray


@dataclass(frozen=True, slots=True)
class TrackHistory:
    """Confirmed track states at every scan: t (K,), id (K,), x (K, 6) ENU m and m/s."""

    t: FloatArray
    id: IntArray
    x: FloatArray

    def __len__(self) -> int:
        return int(self.t.shape[0])


def run_tracker(
    scans: Iterable[tuple[float, Detections] | tuple[float, Detections, bool]],
    params: TrackerParams,
    on_scan: Callable[[int, Tracks], None] | None = None,
) -> tuple[TrackHistory, Tracks]:
    """Step the tracker through the batches (in time order) and record confirmed tracks.

    Each item is ``(t, detections)`` (one batch = one scan) or ``(t, detections,
    end_of_scan)`` for scans delivered in several batches (see :func:`step`).

    ``on_scan(n_detections, tracks)`` is called after each scan (progress bars, timing).
    Returns the history and the final tracker state.
    """
    tracks = new_tracks(params)
    t_out: list[FloatArray] = []
    id_out: list[IntArray] = []
    x_out: list[FloatArray] = []
    started = False
    for t, detections, *end in scans:
        if not started:
            tracks = new_tracks(params, t)
            started = True
        tracks, _ = step(tracks, detections, t, params, end_of_scan=end[0] if end else True)
        shown = tracks.confirmed
        id_out.append(tracks.id.compress(shown))
        x_out.append(tracks.x.compress(shown, axis=0))
        t_out.append(np.full(id_out[-1].shape[0], t))
        if on_scan is not None:
            on_scan(len(detections), tracks)
    if not t_out:
        return TrackHistory(np.zeros(0), np.zeros(0, np.int64), np.zeros((0, 6))), tracks
    history = TrackHistory(np.concatenate(t_out), np.concatenate(id_out), np.concatenate(x_out))
    return history, tracks
