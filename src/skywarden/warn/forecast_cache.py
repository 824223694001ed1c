"""Zone-entry forecasts of the shown tracks, kept between ticks and recomputed only where needed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from skywarden.track.tracks import Tracks, rows_by_id
from skywarden.warn.time_to_entry import EntryForecast, forecast_entry


class ForecastCache:
    """Zone-entry forecasts of the shown tracks, recomputed only where needed.

    A track's forecast is recomputed when it was updated (or is new) or when its forecast is
    older than ``max_age_s``; the others keep theirs with the time to entry counted down. When
    the zones change, every track is recomputed. This keeps the warning work per arrival batch
    proportional to the tracks that batch updated, instead of a full recompute at scan ends.

    "Updated" is ``updated``, the ids of the tracks a detection updated in this tick, when the
    caller gives it: then a plot's forecast (entry probability, inside) is redone in the plot's
    own tick, so an alert it sets off is raised there. Without it, a changed ``t_update``; the
    tracker sets that for an already confirmed track only when it closes the scan
    (track.lifecycle.record_scan), up to a scan period after the plot, which held back every
    alert a plot of a confirmed track set off (docs/bus.md). A scan's close moves no state
    (the tracker only predicts), so with ``updated`` it redoes nothing by itself.
    """

    max_age_s = 1.0

    def __init__(self) -> None:
        self.key: tuple[str, ...] = ()
        self.id = np.zeros(0, np.int64)
        self.t_update = np.zeros(0)
        self.t_row = np.zeros(0)
        self.t = 0.0
        self.value: EntryForecast | None = None

    def forecast(
        self,
        shown: Tracks,
        t: float,
        zones: Sequence[Any],
        model: Any,
        full: bool,
        updated: np.ndarray | None = None,
    ) -> EntryForecast:
        """(N, Z) forecasts of the shown tracks at POSIX time t; ``full`` redoes every track;
        ``updated``: (K,) ids of the tracks a detection updated since the last call (None:
        use ``t_update``, see the class docstring)."""
        key = tuple(z.id for z in zones)
        n, z = len(shown), len(zones)
        redo = np.ones(n, bool)
        rows = np.full(n, -1)
        if not full and self.value is not None and key == self.key and self.id.size:
            rows = rows_by_id(self.id, shown.id)
            known = rows >= 0
            safe = np.maximum(rows, 0)
            if updated is None:
                redo = ~known | (shown.t_update != self.t_update[safe])
            else:
                redo = ~known | np.isin(shown.id, updated)
            redo |= t - self.t_row[safe] > self.max_age_s
        out = EntryForecast(
            probability=np.zeros((n, z)), time_s=np.full((n, z), np.inf),
            inside=np.zeros((n, z), bool), evaluated=np.zeros((n, z), bool),
        )  # fmt: skip
        keep = ~redo
        if keep.any():
            old, r = self.value, rows[keep]
            out.probability[keep] = old.probability[r]
            out.time_s[keep] = np.maximum(old.time_s[r] - (t - self.t), 0.0)
            out.inside[keep], out.evaluated[keep] = old.inside[r], old.evaluated[r]
        if redo.any():
            fresh = forecast_entry(shown.x[redo], shown.P[redo], zones, model)
            out.probability[redo], out.time_s[redo] = fresh.probability, fresh.time_s
            out.inside[redo], out.evaluated[redo] = fresh.inside, fresh.evaluated
        t_row = np.full(n, t)
        if keep.any():
            t_row[keep] = self.t_row[rows[keep]]
        self.key, self.id, self.t_update, self.t = key, shown.id.copy(), shown.t_update.copy(), t
        self.t_row, self.value = t_row, out
        return out
