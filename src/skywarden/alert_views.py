"""Alerts as readers see them (:class:`~skywarden.snapshot.AlertView`), built for all alerts of
a tick at once.

Each tick the snapshot carries every open (and recently cleared) alert: at 1,000 targets that
is tens of alerts per tick, ten or more ticks a second. Built one by one they cost one geodetic
conversion, one search of the shown tracks and one class summary each; here the positions go
through one vectorised conversion, the tracks are found with one sorted search, and the class
summary of a track is remembered while its class and probabilities stay the same (they change
once per scan).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from skywarden.classify.decision import summary_line
from skywarden.detections import identity_kind
from skywarden.geo import LocalFrame
from skywarden.snapshot import CLASS_NAMES, AlertView, TrackArrays
from skywarden.warn import Alert

SUMMARY_CACHE_LIMIT = 8192  # remembered class summaries (cleared when full: bounded memory)


class AlertViewer:
    """Builds the AlertViews of a tick; remembers class summaries across ticks (bounded)."""

    def __init__(self, frame: LocalFrame, label_of: Callable[[int], str]) -> None:
        self.frame = frame
        self.label_of = label_of  # identity key -> 'icao:..', 'rid:..' or ''
        self._summaries: dict[tuple, str] = {}

    def views(self, alerts: Sequence[Alert], tracks: TrackArrays) -> tuple[AlertView, ...]:
        """One AlertView per alert, in the given order; ``tracks`` are the shown tracks whose
        class probabilities and decision the views carry (empty for an alert whose track is
        not shown)."""
        if not alerts:
            return ()
        enu = np.array([a.position for a in alerts], dtype=np.float64).reshape(-1, 3)
        lat, lon, alt = self.frame.enu_to_geodetic(enu)
        rows = _rows_of(tracks.id, np.array([a.track_id for a in alerts], dtype=np.int64))
        out = []
        for k, alert in enumerate(alerts):
            key = alert.object_key
            label = self.label_of(key) if identity_kind(key) != "none" else ""
            p_class, summary = self._decision(tracks, int(rows[k]))
            out.append(
                AlertView(
                    id=alert.id,
                    zone_id=alert.zone_id,
                    track_id=alert.track_id,
                    object=label or f"track:{alert.track_id}",
                    state=alert.state.name.lower(),
                    priority=alert.priority,
                    probability=alert.probability,
                    time_to_entry_s=alert.time_to_entry_s,
                    inside=alert.inside,
                    target_class=CLASS_NAMES[int(alert.target_class)],
                    lat=float(lat[k]),
                    lon=float(lon[k]),
                    alt_m=float(alt[k]),
                    t_raised=alert.t_raised,
                    t_state=alert.t_state,
                    p_class=p_class,
                    summary=summary,
                )
            )
        return tuple(out)

    def _decision(self, tracks: TrackArrays, i: int) -> tuple[tuple[float, ...], str]:
        """Row i's class probabilities and decision in words; ((), '') for no row (-1)."""
        if i < 0:
            return (), ""
        words = tuple(tracks.reasons[i]) if tracks.reasons is not None else ()
        label = CLASS_NAMES[int(tracks.target_class[i])]
        p = tuple(tracks.p_class[i].tolist())
        key = (label, p, words)
        summary = self._summaries.get(key)
        if summary is None:
            if len(self._summaries) >= SUMMARY_CACHE_LIMIT:
                self._summaries.clear()
            summary = self._summaries[key] = summary_line(label, tracks.p_class[i], words)
        return p, summary


def _rows_of(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Row of each wanted id in ids (unique ids, any order), -1 where absent."""
    if ids.size == 0:
        return np.full(wanted.shape, -1, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    pos = np.clip(np.searchsorted(ids[order], wanted), 0, ids.size - 1)
    return np.where(ids[order][pos] == wanted, order[pos], -1)
