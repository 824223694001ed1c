"""``skywarden export``: tracks and alerts of a time window as GeoJSON or CSV.

* GeoJSON (RFC 7946, [lon, lat, alt_m] WGS-84): one ``LineString`` Feature per track (a
  ``Point`` when the window holds a single sample of it) with ``kind: "track"``, and one
  ``Point`` Feature per alert at the object's position when the alert was first seen in the
  window, with ``kind: "alert"`` and its life (raised, cleared, states, priority).
* CSV: two files beside ``out_path``: ``<stem>_tracks.csv`` (one row per stored track state)
  and ``<stem>_alerts.csv`` (one row per alert change); ``time_utc`` is the UTC time of ``t``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from skywarden.errors import InputError
from skywarden.store.reader import HistoryReader
from skywarden.store.replay import summarise

FORMATS = ("geojson", "csv")

TRACK_CSV_COLUMNS = (
    "t",
    "track_id",
    "lat",
    "lon",
    "alt_m",
    "e",
    "n",
    "u",
    "ve",
    "vn",
    "vu",
    "sigma_m",
    "status",
    "class",
    "p_drone",
    "p_bird",
    "p_aircraft",
    "p_unknown",
    "behaviour",
    "identity",
    "callsign",
)
ALERT_CSV_COLUMNS = (
    "t",
    "alert_id",
    "zone_id",
    "track_id",
    "object",
    "state",
    "priority",
    "probability",
    "time_to_entry_s",
    "inside",
    "target_class",
    "lat",
    "lon",
    "alt_m",
    "t_raised",
    "t_state",
)


def _num(v: Any, digits: int) -> float | None:
    v = float(v)
    return round(v, digits) if math.isfinite(v) else None


def _track_features(reader: HistoryReader, t0: float, t1: float) -> list[dict[str, Any]]:
    c = reader.track_states(t0, t1)
    ok = np.isfinite(c["lat"]) & np.isfinite(c["lon"])
    c = {k: np.asarray(v)[ok] for k, v in c.items()}
    ids = np.asarray(c["track_id"], dtype=np.int64)
    if ids.size == 0:
        return []
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], ids.size]
    alt = np.where(np.isfinite(c["alt_m"]), c["alt_m"], 0.0)
    coords = np.column_stack([np.round(c["lon"], 7), np.round(c["lat"], 7), np.round(alt, 1)])
    features = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        line = coords[a:b].tolist()
        geometry = (
            {"type": "LineString", "coordinates": line}
            if b - a >= 2
            else {"type": "Point", "coordinates": line[0]}
        )
        properties = {
            "kind": "track",
            "track_id": int(ids[a]),
            "class": str(c["class"][b - 1]),
            "identity": str(c["identity"][b - 1]),
            "callsign": str(c["callsign"][b - 1]),
            "t_start": _num(c["t"][a], 3),
            "t_end": _num(c["t"][b - 1], 3),
            "times": np.round(c["t"][a:b], 3).tolist(),
        }
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return features


def _alert_features(reader: HistoryReader, t0: float, t1: float) -> list[dict[str, Any]]:
    rows = reader.alerts(t0, t1)
    first_position: dict[int, list[float]] = {}
    last_state: dict[int, str] = {}
    for r in rows:
        last_state[r["alert_id"]] = r["state"]
        if (
            r["alert_id"] not in first_position
            and math.isfinite(r["lat"])
            and math.isfinite(r["lon"])
        ):
            alt = r["alt_m"] if math.isfinite(r["alt_m"]) else 0.0
            first_position[r["alert_id"]] = [round(r["lon"], 7), round(r["lat"], 7), round(alt, 1)]
    features = []
    for s in summarise(rows):
        if s.alert_id not in first_position:
            continue  # no position ever known: nothing to put on a map
        properties = {"kind": "alert", **s.to_json(), "state": last_state[s.alert_id]}
        properties["max_probability"] = _num(s.max_probability, 3)
        geometry = {"type": "Point", "coordinates": first_position[s.alert_id]}
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return features


def geojson_document(reader: HistoryReader, t0: float, t1: float) -> dict[str, Any]:
    """The FeatureCollection of the tracks and alerts in [t0, t1] (POSIX s)."""
    return {
        "type": "FeatureCollection",
        "features": _track_features(reader, t0, t1) + _alert_features(reader, t0, t1),
    }


def _copy_csv(
    reader: HistoryReader,
    table: str,
    columns: tuple[str, ...],
    t0: float,
    t1: float,
    order: str,
    path: Path,
) -> None:
    cols = ", ".join(f'"{c}"' for c in columns)
    target = str(path).replace("'", "''")
    # open bounds (-inf / inf: no --from / --to) are left out; COPY takes no parameters, and
    # repr(inf) in SQL is a column name ("Referenced column inf not found")
    bounds = [f"t >= {float(t0)!r}"] if math.isfinite(t0) else []
    bounds += [f"t <= {float(t1)!r}"] if math.isfinite(t1) else []
    where = f" WHERE {' AND '.join(bounds)}" if bounds else ""
    reader.cursor().execute(
        f"COPY (SELECT epoch_ms(CAST(round(t * 1000) AS BIGINT)) AS time_utc, {cols} "
        f"FROM {table}{where} ORDER BY {order}) TO '{target}' (HEADER, DELIMITER ',')"
    )


def export(
    history_path: str | Path, t0: float, t1: float, out_path: str | Path, fmt: str = "geojson"
) -> list[Path]:
    """Write the tracks and alerts of [t0, t1] (POSIX s) as GeoJSON (one file, out_path) or CSV
    (``<stem>_tracks.csv`` and ``<stem>_alerts.csv`` beside out_path); returns the paths."""
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r} (use one of {', '.join(FORMATS)})")
    if not t1 >= t0:
        raise InputError(f"empty time window: t1 ({t1}) is before t0 ({t0})")
    out = Path(out_path)
    if not out.parent.is_dir():
        raise InputError("the output folder does not exist", path=str(out.parent))
    with HistoryReader(history_path) as reader:
        if fmt == "geojson":
            doc = geojson_document(reader, t0, t1)
            out.write_text(json.dumps(doc, separators=(",", ":"), allow_nan=False))
            return [out]
        tracks = out.with_name(f"{out.stem}_tracks.csv")
        alerts = out.with_name(f"{out.stem}_alerts.csv")
        _copy_csv(reader, "track_states", TRACK_CSV_COLUMNS, t0, t1, "t, track_id", tracks)
        _copy_csv(reader, "alerts", ALERT_CSV_COLUMNS, t0, t1, "t, seq, alert_id", alerts)
        return [tracks, alerts]
