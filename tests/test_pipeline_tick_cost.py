"""What the pipeline does to keep a live tick cheap must not change what readers see: alert
views built for all alerts at once equal the one-by-one construction, and a tick within a
scan shows the tracks moved on to its time without running the tracker again."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from skywarden.classify.decision import summary_line
from skywarden.classify.trained import identity_and_speed_classes
from skywarden.detections import SourceKind, make_detections, remote_id_identity
from skywarden.pipeline import TICK_EXTRAPOLATE_S, Pipeline
from skywarden.site_config import site_config_from_dict
from skywarden.snapshot import CLASS_NAMES

SITE = {"lat": 47.0, "lon": 8.0}
T0 = 1_750_000_000.0
ZONES = {"type": "FeatureCollection", "features": [{
    "type": "Feature", "id": f"zone-{k}",
    "properties": {"role": "protected", "priority": 3, "radius_m": 400.0, "floor_m": 0,
                   "ceiling_m": 300},
    "geometry": {"type": "Point", "coordinates": [SITE["lon"] + 0.002 * k, SITE["lat"]]}}
    for k in range(3)]}  # fmt: skip


def make_pipeline() -> Pipeline:
    config = site_config_from_dict(
        {"site": SITE, "alert_rules": [{"classes": ["drone", "unknown"], "horizon_s": 180}]},
        Path("."),
    )
    config = dataclasses.replace(config, zones_geojson=ZONES)
    return Pipeline(config, clock=lambda: T0, classifier=identity_and_speed_classes)


def drones(t: float, n: int = 4) -> object:
    """n Remote ID drones 1.5-3 km east of the site flying west at 20 m/s."""
    east = 1500.0 + 500.0 * np.arange(n) - 20.0 * (t - T0)
    position = np.column_stack([east, 100.0 * np.arange(n), np.full(n, 60.0)])
    velocity = np.tile([-20.0, 0.0, 0.0], (n, 1))
    ids = [remote_id_identity(f"DRONE-{k}") for k in range(n)]
    return make_detections(t, position, 5.0, kind=SourceKind.REMOTE_ID, identity=ids, v=velocity)


def test_alert_views_equal_one_by_one_construction() -> None:
    pipeline = make_pipeline()
    for k in range(12):
        snapshot, _ = pipeline.process(T0 + k, drones(T0 + k))
    assert len(snapshot.alerts) >= 4
    tracks = snapshot.tracks
    for view in snapshot.alerts:
        alert = next(a for a in pipeline.book.alerts if a.id == view.id)
        lat, lon, alt = pipeline.frame.enu_to_geodetic(np.array([alert.position]))
        assert (view.lat, view.lon, view.alt_m) == (float(lat[0]), float(lon[0]), float(alt[0]))
        assert view.object == pipeline.identity_label(alert.object_key) == "remote_id"
        i = int(np.flatnonzero(tracks.id == alert.track_id)[0])
        label = CLASS_NAMES[int(tracks.target_class[i])]
        reasons = tuple(tracks.reasons[i])
        assert view.p_class == tuple(tracks.p_class[i].tolist())
        assert view.summary == summary_line(label, tracks.p_class[i], reasons)
    # an operator action rebuilds the one view from the same shown tracks
    first = snapshot.alerts[0]
    assert pipeline.acknowledge(first.id, "op").summary == first.summary


def test_tick_within_a_scan_moves_the_shown_tracks_not_the_tracker() -> None:
    pipeline = make_pipeline()
    for k in range(6):
        pipeline.process(T0 + k, drones(T0 + k))
    t_data = T0 + 6.0
    late = 0.3
    assert late < TICK_EXTRAPOLATE_S
    snapshot, _ = pipeline.process(t_data + late, drones(t_data), end_of_scan=False)
    assert pipeline.tracks.t == t_data  # the tracker was not predicted again
    shown = pipeline.tracks.take(pipeline.tracks.confirmed)
    order = np.argsort(shown.id)
    moved = shown.x[order, :3] + late * shown.x[order, 3:]
    np.testing.assert_allclose(snapshot.tracks.enu[np.argsort(snapshot.tracks.id), :3], moved)
    assert snapshot.t == t_data + late
    # a tick further from its data, or closing the scan, runs the tracker to its time
    pipeline.process(t_data + late + 1.0, drones(t_data + late + 0.1), end_of_scan=False)
    assert pipeline.tracks.t == t_data + late + 1.0
    pipeline.process(t_data + 2.0, drones(t_data + 2.0), end_of_scan=True)
    assert pipeline.tracks.t == t_data + 2.0
