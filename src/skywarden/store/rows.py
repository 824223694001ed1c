"""Table rows of the history from the pipeline's values: track states and detections (Arrow,
vectorised), alert changes (one row per change of an alert, :class:`AlertChangeFilter`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from skywarden.detections import Detections
from skywarden.snapshot import CLASS_NAMES, STATUS_NAMES, AlertView, Snapshot
from skywarden.store.schema import TABLES, arrow_schema

_ALERT_KEY = ("state", "zone_id", "track_id", "object", "priority", "inside")


class AlertChangeFilter:
    """Turns the per-tick alert views into one row per *change* of an alert.

    A row is emitted when an alert first appears or when any of its state, zone, track,
    object, priority or inside flag differs from its previous row (probability, time to entry
    and position ride along but do not make a row by themselves). An alert that disappears from
    the snapshot without being cleared gets one last row with state ``"removed"``.
    """

    def __init__(self) -> None:
        self._last: dict[int, AlertView] = {}

    def changes(self, alerts: Sequence[AlertView]) -> list[AlertView]:
        rows: list[AlertView] = []
        seen: set[int] = set()
        for view in alerts:
            seen.add(view.id)
            previous = self._last.get(view.id)
            if previous is None or any(
                getattr(view, k) != getattr(previous, k) for k in _ALERT_KEY
            ):
                rows.append(view)
            self._last[view.id] = view
        for gone in [k for k in self._last if k not in seen]:
            view = self._last.pop(gone)
            if view.state.lower() not in ("cleared", "removed"):
                rows.append(replace(view, state="removed"))
        return rows


def alert_rows(seq: int, t: float, views: Sequence[AlertView]) -> pa.Table:
    """The ``alerts`` table rows of the given alert views at snapshot seq / time t."""
    cols: dict[str, list[Any]] = {name: [] for name, _ in TABLES["alerts"]}
    for v in views:
        cols["seq"].append(seq)
        cols["t"].append(t)
        cols["alert_id"].append(v.id)
        cols["state"].append(v.state.lower())
        for name in ("zone_id", "track_id", "object", "priority", "probability"):
            cols[name].append(getattr(v, name))
        for name in ("time_to_entry_s", "inside", "target_class", "lat", "lon", "alt_m"):
            cols[name].append(getattr(v, name))
        cols["t_raised"].append(v.t_raised)
        cols["t_state"].append(v.t_state)
    return pa.table(cols, schema=arrow_schema("alerts"))


def _strings(values: np.ndarray) -> pa.Array:
    """Object array of str/None -> Arrow strings with '' for None."""
    return pc.fill_null(pa.array(np.asarray(values, dtype=object), type=pa.string()), "")


def track_rows(snapshot: Snapshot) -> pa.Table:
    """The ``track_states`` rows of a snapshot's tracks (vectorised, no loop per track)."""
    tr = snapshot.tracks
    n = len(tr)
    enu = np.asarray(tr.enu, dtype=np.float64).reshape(n, 6)
    p = np.asarray(tr.p_class, dtype=np.float64).reshape(n, 4)
    class_names = np.asarray(CLASS_NAMES, dtype=object)
    status_names = np.asarray(STATUS_NAMES, dtype=object)
    cols: dict[str, Any] = {
        "seq": np.full(n, snapshot.seq, dtype=np.int64),
        "t": np.full(n, snapshot.t, dtype=np.float64),
        "track_id": np.asarray(tr.id, dtype=np.int64),
    }
    for k, name in enumerate(("e", "n", "u", "ve", "vn", "vu")):
        cols[name] = enu[:, k]
    cols |= {"lat": tr.lat, "lon": tr.lon, "alt_m": tr.alt_m, "sigma_m": tr.sigma_m}
    cols["status"] = _strings(status_names[np.asarray(tr.status, dtype=np.intp)])
    cols["class"] = _strings(class_names[np.asarray(tr.target_class, dtype=np.intp)])
    for k, name in enumerate(("p_drone", "p_bird", "p_aircraft", "p_unknown")):
        cols[name] = p[:, k]
    for name in ("behaviour", "identity", "callsign"):
        cols[name] = _strings(getattr(tr, name))
    cols["t_update"] = tr.t_update
    return pa.table(cols, schema=arrow_schema("track_states"))


def detection_rows(t_tick: float, d: Detections) -> pa.Table:
    """The ``detections`` rows of one batch consumed at tick time t_tick."""
    n = len(d)
    cols: dict[str, Any] = {
        "t_tick": np.full(n, t_tick, dtype=np.float64),
        "t": d.t,
        "sensor": np.asarray(d.sensor, dtype=np.int32),
        "kind": np.asarray(d.kind, dtype=np.int8),
        "identity": np.asarray(d.identity, dtype=np.int64),
    }
    for k, name in enumerate(("e", "n", "u")):
        cols[name] = d.z[:, k]
    for k, name in enumerate(("ve", "vn", "vu")):
        cols[name] = d.v[:, k]
    for name, (i, j) in zip(
        ("r_ee", "r_en", "r_eu", "r_nn", "r_nu", "r_uu"),
        ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)),
        strict=True,
    ):
        cols[name] = np.ascontiguousarray(d.R[:, i, j])
    cols["rcs_dbsm"] = np.asarray(d.rcs_dbsm, dtype=np.float64)
    cols["evidence"] = np.asarray(d.evidence, dtype=np.int32)
    return pa.table(cols, schema=arrow_schema("detections"))
