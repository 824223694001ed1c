"""An alert that a plot sets off is raised in the plot's own tick, not at the scan's close.

The live loop runs many ticks per scan and closes the scan once per ``scan_period_s``; the
tracker sets an already confirmed track's ``t_update`` only at the close. The zone forecasts
are redone for the tracks a tick's detections updated (warn/forecast_cache.py), so the
detection-in to alert-out latency (issue 14) does not wait up to a scan period for the close.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from skywarden.classify.trained import identity_and_speed_classes
from skywarden.detections import Detections, SourceKind, make_detections, remote_id_identity
from skywarden.pipeline import Pipeline
from skywarden.site_config import site_config_from_dict
from skywarden.track.tracks import Tracks
from skywarden.warn import make_entry_model, parse_zones
from skywarden.warn.forecast_cache import ForecastCache

SITE = {"lat": 47.0, "lon": 8.0}
T0 = 1_750_000_000.0
ZONES = {"type": "FeatureCollection", "features": [{
    "type": "Feature", "id": "zone-0",
    "properties": {"role": "protected", "radius_m": 1000.0, "floor_m": 0, "ceiling_m": 300},
    "geometry": {"type": "Point", "coordinates": [SITE["lon"], SITE["lat"]]}}]}  # fmt: skip
TURN_SCAN = 10


def make_pipeline() -> Pipeline:
    config = site_config_from_dict(
        {
            "site": SITE,
            "alert_rules": [{"classes": ["drone"], "horizon_s": 180, "min_probability": 0.3}],
        },
        Path("."),
    )
    config = dataclasses.replace(config, zones_geojson=ZONES)
    return Pipeline(config, clock=lambda: T0, classifier=identity_and_speed_classes)


def report(k: int, t: float) -> object:
    """A Remote ID drone 2 km east of the zone's centre flying north at 15 m/s (it would pass
    the zone's edge 1 km off), turning at TURN_SCAN straight at the zone (west)."""
    if k < TURN_SCAN:
        position, velocity = [2000.0, -300.0 + 15.0 * (t - T0), 60.0], [0.0, 15.0, 0.0]
    else:
        turned = t - (T0 + TURN_SCAN)
        position = [2000.0 - 15.0 * turned, -300.0 + 15.0 * TURN_SCAN, 60.0]
        velocity = [-15.0, 0.0, 0.0]
    rid = remote_id_identity("TURN-1")
    z, v = np.array([position]), np.array([velocity])
    return make_detections(t, z, 5.0, kind=SourceKind.REMOTE_ID, identity=rid, v=v)


def test_an_alert_a_plot_sets_off_is_raised_in_the_plots_tick() -> None:
    pipeline = make_pipeline()
    raised: list[tuple[int, str]] = []
    for k in range(TURN_SCAN + 8):
        t_plot = T0 + k + 0.3
        _, events = pipeline.process(t_plot, report(k, t_plot), end_of_scan=False)
        raised += [(k, "plot") for e in events if e.action == "raised"]
        _, events = pipeline.process(T0 + k + 1.0, Detections.empty(), end_of_scan=True)
        raised += [(k, "close") for e in events if e.action == "raised"]
    assert len(raised) == 1  # by the turn (the track's velocity follows in a few plots)
    scan, tick = raised[0]
    assert scan >= TURN_SCAN and tick == "plot"


def shown_tracks(x: np.ndarray, t_update: float) -> Tracks:
    """Confirmed tracks with states x (N, 6) and a 20 m / 1 m/s covariance."""
    from skywarden.track.step import new_tracks
    from skywarden.track.tracks import CONFIRMED

    n = x.shape[0]
    base = new_tracks(make_pipeline().params)
    m = base.xm.shape[1]  # motion models
    P = np.tile(np.diag([400.0, 400.0, 400.0, 1.0, 1.0, 1.0]), (n, 1, 1))
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}
    fields.update(
        t=t_update, id=np.arange(1, n + 1, dtype=np.int64), x=x, P=P,
        xm=np.repeat(x[:, None], m, 1), Pm=np.repeat(P[:, None], m, 1), mu=np.full((n, m), 1 / m),
        status=np.full(n, CONFIRMED, np.int8), history=np.ones(n, np.uint32),
        age=np.ones(n, np.int32), misses=np.zeros(n, np.int32), hits=np.ones(n, np.int32),
        t_birth=np.full(n, t_update), t_update=np.full(n, t_update),
        identity=np.full(n, -1, np.int64), pending_hit=np.zeros(n, bool),
        rcs_dbsm=np.full(n, np.nan), score=np.zeros(n), evidence=np.zeros(n, np.int32),
    )  # fmt: skip
    return Tracks(**fields)


def test_the_cache_redoes_the_updated_tracks_only() -> None:
    pipeline = make_pipeline()
    zones = parse_zones(ZONES, pipeline.frame)
    model = make_entry_model(np.random.default_rng(0), horizon_s=180.0)
    away = [[2500.0, 0.0, 60.0, 0.0, 15.0, 0.0], [0.0, 2500.0, 60.0, 15.0, 0.0, 0.0]]
    cache = ForecastCache()
    first = cache.forecast(shown_tracks(np.array(away), T0), T0, zones, model, full=False)
    assert (first.probability == 0.0).all()
    towards = np.array(away)
    towards[:, 3:5] = [[-15.0, 0.0], [0.0, -15.0]]  # both now head at the zone
    turned = shown_tracks(towards, T0)  # t_update unchanged: the scan is still open
    again = cache.forecast(turned, T0 + 0.3, zones, model, full=False, updated=np.array([2]))
    assert again.probability[0, 0] == 0.0  # track 1 keeps its forecast (no detection)
    assert again.probability[1, 0] > 0.5  # track 2's detection redid it
    # without the ids, a changed t_update is what says "updated"
    old = ForecastCache()
    old.forecast(shown_tracks(np.array(away), T0), T0, zones, model, full=False)
    kept = old.forecast(turned, T0 + 0.3, zones, model, full=False)
    assert (kept.probability == 0.0).all()
    assert (kept.time_s == np.inf).all()
