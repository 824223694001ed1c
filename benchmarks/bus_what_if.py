"""A what-if for benchmarks/bus.py's latency run, never shipped: the tracker confirming a
track at the hit that makes it confirmed, instead of at the scan close after it.

The tracker confirms tracks only when the live loop closes a scan (once per
``scan_period_s``; skywarden.track.lifecycle.record_scan), and a new track's alert is raised
on confirmation, so most alerts wait for the close: up to a whole scan after their plot.
Whether a tentative track that was hit this scan will be confirmed at the close is already
known at the hit (the close adds the hit to its history and, with score confirmation, no
penalty), so this patch (on skywarden.pipeline's ``step``, for one run) confirms it then,
with its IMM modes started as the close would. At the close it is then an already
confirmed track that was hit. Likewise the close is where a hit track's ``t_update`` is set
(to the close's time), and the zone forecasts (skywarden.warn.forecast_cache) are redone
for tracks whose ``t_update`` changed (or every 1 s): here it is set at the hit, so a
track's forecast, hence its alert, follows its plot. Run: ``python benchmarks/bus.py --parts latency
--what-if-confirm-at-hit``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from skywarden import pipeline as pipeline_module
from skywarden.track import score as track_score
from skywarden.track.filtering import start_modes
from skywarden.track.lifecycle import popcount
from skywarden.track.tracks import CONFIRMED, TENTATIVE


def confirm_at_hit() -> Any:
    """Patch it in; returns a function that takes it out again."""
    step = pipeline_module.step

    def early(tracks, batch, t, params, *, end_of_scan: bool = True):
        tracks, events = step(tracks, batch, t, params, end_of_scan=end_of_scan)
        if end_of_scan or not len(tracks):
            return tracks, events
        hit_now = tracks.pending_hit & (tracks.t_update < t)
        if hit_now.any():  # updated at the hit (the close sets it again, to its own time)
            tracks = dataclasses.replace(tracks, t_update=np.where(hit_now, t, tracks.t_update))
        history = (tracks.history << np.uint32(1)) | np.uint32(1)  # as the close will have it
        hit = (tracks.status == TENTATIVE) & tracks.pending_hit
        if params.confirmation == "score":
            sure = hit & (tracks.score >= track_score.confirm_threshold(params))
            sure &= popcount(history) >= params.confirm_m
        else:
            window = np.uint32((1 << params.confirm_n) - 1)
            sure = hit & (popcount(history & window) >= params.confirm_m)
        if not sure.any():
            return tracks, events
        status = tracks.status.copy()
        status[sure] = CONFIRMED
        tracks = dataclasses.replace(tracks, status=status, xm=tracks.xm.copy(),
                                     Pm=tracks.Pm.copy(), mu=tracks.mu.copy())  # fmt: skip
        start_modes(tracks, sure)
        return tracks, events

    pipeline_module.step = early

    def undo() -> None:
        pipeline_module.step = step

    return undo
