"""export: GeoJSON (FeatureCollection, LineString per track, Point per alert) and CSV."""

from __future__ import annotations

import csv
import datetime
import json

import numpy as np
import pytest
import shapely.geometry

from skywarden.errors import InputError
from skywarden.store import HistoryWriter, export
from skywarden.store.export import ALERT_CSV_COLUMNS, TRACK_CSV_COLUMNS
from tests.store.snapshot_builders import make_alert, make_snapshot

T0 = 1_700_000_000.0


@pytest.fixture
def history(tmp_path):
    """20 s: tracks 1-3 throughout, track 9 only at t=10; alert 1 raised at 5, cleared at 12;
    alert 2 raised at 15."""
    path = tmp_path / "h.duckdb"
    with HistoryWriter(path) as w:
        for k in range(20):
            t = T0 + k
            alerts = []
            if 5 <= k:
                alerts.append(make_alert(1, t, "active" if k < 12 else "cleared", t_raised=T0 + 5))
            if 15 <= k:
                alerts.append(make_alert(2, t, zone_id="Z2", track_id=3, t_raised=T0 + 15))
            w.add_snapshot(make_snapshot(k, t, [1, 2, 3] + ([9] if k == 10 else []), tuple(alerts)))
    return path


def test_geojson(history, tmp_path):
    out = tmp_path / "window.geojson"
    assert export(history, T0 + 4, T0 + 16, out) == [out]
    doc = json.loads(out.read_text())
    assert doc["type"] == "FeatureCollection"
    tracks = [f for f in doc["features"] if f["properties"]["kind"] == "track"]
    alerts = [f for f in doc["features"] if f["properties"]["kind"] == "alert"]
    assert len(tracks) + len(alerts) == len(doc["features"])
    for f in doc["features"]:
        assert f["type"] == "Feature"
        geometry = shapely.geometry.shape(f["geometry"])  # an independent GeoJSON parser
        assert geometry.is_valid and geometry.has_z
    by_id = {f["properties"]["track_id"]: f for f in tracks}
    assert sorted(by_id) == [1, 2, 3, 9]
    line = by_id[2]
    assert line["geometry"]["type"] == "LineString"
    coords = np.array(line["geometry"]["coordinates"])
    assert coords.shape == (13, 3)
    snap = make_snapshot(4, T0 + 4, [2])  # the first sample, rebuilt
    np.testing.assert_allclose(
        coords[0], [snap.tracks.lon[0], snap.tracks.lat[0], snap.tracks.alt_m[0]], atol=1e-6
    )
    assert np.all(np.diff(coords[:, 0]) > 0)  # moving east
    assert line["properties"]["times"] == [T0 + k for k in range(4, 17)]
    assert line["properties"]["class"] == "drone" and line["properties"]["t_start"] == T0 + 4
    assert by_id[9]["geometry"]["type"] == "Point"  # one sample in the window
    assert sorted(a["properties"]["alert_id"] for a in alerts) == [1, 2]
    a1 = next(a for a in alerts if a["properties"]["alert_id"] == 1)
    assert a1["geometry"]["type"] == "Point" and a1["properties"]["state"] == "cleared"
    assert a1["properties"]["t_raised"] == T0 + 5 and a1["properties"]["t_cleared"] == T0 + 12
    assert a1["properties"]["states"] == ["active", "cleared"]
    empty = tmp_path / "empty.geojson"
    export(history, T0 + 100, T0 + 200, empty)
    assert json.loads(empty.read_text()) == {"type": "FeatureCollection", "features": []}


def _utc(text: str) -> float:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC).timestamp()


def test_csv(history, tmp_path):
    tracks_csv, alerts_csv = export(history, T0 + 4, T0 + 16, tmp_path / "out.csv", fmt="csv")
    assert tracks_csv.name == "out_tracks.csv" and alerts_csv.name == "out_alerts.csv"
    with tracks_csv.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["time_utc", *TRACK_CSV_COLUMNS]
    assert len(rows) == 13 * 3 + 1
    assert all(T0 + 4 <= float(r["t"]) <= T0 + 16 for r in rows)
    assert all(abs(_utc(r["time_utc"]) - float(r["t"])) < 1e-3 for r in rows)
    assert {r["class"] for r in rows} == {"drone"} and {r["status"] for r in rows} == {"confirmed"}
    with alerts_csv.open(newline="") as f:
        alerts = list(csv.DictReader(f))
    assert list(alerts[0]) == ["time_utc", *ALERT_CSV_COLUMNS]
    assert [(int(a["alert_id"]), float(a["t"]) - T0, a["state"]) for a in alerts] == [
        (1, 5.0, "active"),
        (1, 12.0, "cleared"),
        (2, 15.0, "active"),
    ]


def test_bad_requests(history, tmp_path):
    with pytest.raises(InputError, match="unknown export format"):
        export(history, T0, T0 + 1, tmp_path / "x.kml", fmt="kml")
    with pytest.raises(InputError, match="empty time window"):
        export(history, T0 + 1, T0, tmp_path / "x.geojson")
    with pytest.raises(InputError, match="output folder does not exist"):
        export(history, T0, T0 + 1, tmp_path / "nowhere" / "x.geojson")
    with pytest.raises(InputError, match="no such history"):
        export(tmp_path / "none.duckdb", T0, T0 + 1, tmp_path / "x.geojson")


@pytest.mark.parametrize(
    ("window", "rows"),
    [(["--format", "csv"], 20 * 3 + 1), (["--format", "csv", "--from", str(T0 + 10)], 10 * 3 + 1),
     (["--format", "csv", "--to", str(T0 + 9)], 10 * 3), (["--format", "geojson"], None)],
)  # fmt: skip
def test_the_command_exports_with_open_time_bounds(history, tmp_path, window, rows):
    """`skywarden export` without --from and/or --to: the whole history on that side (it
    used to crash on the CSV path: BinderException, column "inf" not found)."""
    from skywarden.cli import main

    out = tmp_path / ("all.csv" if "csv" in window else "all.geojson")
    assert main(["export", str(history), "--out", str(out), *window]) == 0
    if rows is None:
        doc = json.loads(out.read_text())
        tracks = [f for f in doc["features"] if f["properties"].get("kind") != "alert"]
        assert tracks
        return
    with out.with_name("all_tracks.csv").open(newline="") as f:
        assert len(list(csv.DictReader(f))) == rows
