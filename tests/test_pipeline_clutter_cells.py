"""The site's ASTERIX radars get range x azimuth clutter cells; /health shows the layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skywarden.detections import SourceKind, make_detections
from skywarden.pipeline import Pipeline
from skywarden.site_config import radar_positions, site_config_from_dict

SBS = {"name": "adsb", "kind": "sbs", "transport": "tcp", "host": "h", "port": 30003}
RADAR = {"name": "r", "kind": "asterix", "port": 8600, "lat": 47.0, "lon": 8.01, "height_m": 0.0}


def test_radar_clutter_is_kept_in_range_azimuth_cells_and_shown_in_health() -> None:
    doc = {"site": {"lat": 47.0, "lon": 8.0}, "sensors": [SBS, RADAR]}
    cfg = site_config_from_dict(doc, Path("."))
    radars = radar_positions(cfg)
    assert list(radars) == [1] and 700.0 < radars[1][0] < 800.0 and abs(radars[1][1]) < 1.0
    pipe = Pipeline(cfg, clock=lambda: 0.0)
    rng = np.random.default_rng(0)
    for k in range(3):
        z = np.column_stack([rng.uniform(-3e3, 3e3, (30, 2)), np.zeros(30)])
        pipe.process(float(k), make_detections(float(k), z, 30.0, sensor=1, kind=SourceKind.RADAR))
    learnt = pipe.health()["tracker"]["clutter_map"]
    assert learnt["layout"]["range_azimuth_sensors"] == [1]
    assert learnt["cells"] > 0 and learnt["range_azimuth_cells"] == learnt["cells"]
    layer = pipe.clutter_geojson()  # GET /api/v1/clutter
    assert layer["cells_shown"] == layer["cells_total"] == learnt["cells"]
    for f in layer["features"]:
        ring = np.array(f["geometry"]["coordinates"][0])
        assert f["properties"]["range_azimuth"] and f["properties"]["sensor"] == 1
        assert np.all(np.abs(ring[:, 1] - 47.0) < 0.1) and np.all(np.abs(ring[:, 0] - 8.0) < 0.15)


def test_without_radars_every_cell_is_on_the_grid() -> None:
    cfg = site_config_from_dict({"site": {"lat": 47.0, "lon": 8.0}, "sensors": [SBS]}, Path("."))
    pipe = Pipeline(cfg, clock=lambda: 0.0)
    z = np.column_stack([np.linspace(-2e3, 2e3, 20), np.zeros(20), np.zeros(20)])
    pipe.process(0.0, make_detections(0.0, z, 30.0, sensor=0, kind=SourceKind.RADAR))
    learnt = pipe.health()["tracker"]["clutter_map"]
    assert "range_azimuth_sensors" not in learnt["layout"]
    assert learnt["cells"] > 0 and learnt["range_azimuth_cells"] == 0
