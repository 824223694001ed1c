"""The ``site`` scenario (the default demo): every kind of traffic, and every demo sensor live.

The demo's wire messages go through the demo site's feeds and pipeline (recorded-input replay,
no sockets): each sensor decodes messages into detections, only the inspection drone speaks
Remote ID, and its allow-listed serial raises no alert."""

from __future__ import annotations

import math

import numpy as np
import pytest

from skywarden.demo import DemoPorts, demo_site
from skywarden.loop import replay_inputs
from skywarden.pipeline import Pipeline
from skywarden.service import make_feed
from skywarden.simulate import build_scenario
from skywarden.simulate.emit import scenario_messages
from skywarden.simulate.emit_site import (
    ADSB_ASTERIX,
    RADAR,
    REMOTE_ID,
    SBS,
    SiteSetup,
    remote_id_serial,
)
from skywarden.simulate.site_picture import (
    INSPECTION_DISTANCE_M,
    INSPECTION_KIND,
    ROAD_DISTANCE_M,
    VEHICLE_HEIGHT_M,
)

CHANNEL_SENSOR = {RADAR: "radar", ADSB_ASTERIX: "adsb-cat021", REMOTE_ID: "remote-id",
                  SBS: "adsb-sbs"}  # fmt: skip


def _kinds(scenario) -> dict[str, int]:
    kinds, counts = np.unique(np.asarray(scenario.target_kind, dtype=str), return_counts=True)
    return dict(zip(kinds.tolist(), counts.tolist(), strict=True))


@pytest.mark.parametrize("seed", [0, 3])
def test_every_kind_of_traffic_is_there(seed: int) -> None:
    s = build_scenario("site", seed, n_scans=60)
    kinds = _kinds(s)
    assert 3 <= kinds["munition"] <= 6 and kinds["transit"] == 2 and kinds["inspection"] == 1
    assert 6 <= sum(kinds.get(k, 0) for k in ("loiter", "hover", "loiter-dive")) <= 9
    assert kinds["flock"] >= 8 and kinds["gull"] >= 2 and 3 <= kinds["vehicle"] <= 5
    cls = dict(zip(s.target_kind.tolist(), s.target_class.tolist(), strict=True))
    assert cls["vehicle"] == "generic" and cls["inspection"] == "drone"
    vehicles = np.isin(s.truth_id, np.flatnonzero(s.target_kind == "vehicle"))
    v = s.truth_state[vehicles]
    np.testing.assert_allclose(v[:, 2], VEHICLE_HEIGHT_M)  # on the road
    assert np.hypot(v[:, 0], v[:, 1]).min() >= ROAD_DISTANCE_M[0] - 1.0
    inspection = s.truth_state[s.truth_id == np.flatnonzero(s.target_kind == INSPECTION_KIND)[0]]
    r = np.hypot(inspection[:, 0], inspection[:, 1])
    assert r.min() >= INSPECTION_DISTANCE_M[0] - 1.0
    assert r.max() <= math.hypot(INSPECTION_DISTANCE_M[1], 200.0) + 20.0


def test_every_demo_sensor_is_live_and_the_inspection_drone_is_allowed(tmp_path) -> None:
    scenario = build_scenario("site", 1, n_scans=90)
    setup = SiteSetup(start_posix=1_750_000_000.0, remote_id_kinds=frozenset({INSPECTION_KIND}))
    config = demo_site(scenario, DemoPorts(), setup, None)
    inspection = int(np.flatnonzero(scenario.target_kind == INSPECTION_KIND)[0])
    assert len(config.allow) == 1
    now = [0.0]
    pipeline = Pipeline(config, clock=lambda: now[0])
    feeds = {s.name: make_feed(s, i, pipeline.frame) for i, s in enumerate(config.sensors)}
    messages = scenario_messages(scenario, setup, CHANNEL_SENSOR)

    def inputs():
        for m in messages:
            now[0] = m.t
            yield m.t, CHANNEL_SENSOR[m.channel], m.data

    snapshots = list(replay_inputs(pipeline, feeds, inputs(), batch_window_s=0.5))
    for name, feed in feeds.items():
        assert feed.counters.chunks > 0 and feed.counters.detections > 0, name
    assert set(feeds["remote-id"].names.values()) == {f"rid:{remote_id_serial(inspection)}"}
    # the inspection drone's track carries its Remote ID serial (replay copies the feeds'
    # labels into the pipeline, as the live loop does) and no alert is about it
    rid_tracks = {int(t) for s in snapshots for t, i in zip(s.tracks.id, s.tracks.identity,
                  strict=True) if i == f"rid:{remote_id_serial(inspection)}"}  # fmt: skip
    assert rid_tracks
    alerted = {a.track_id for s in snapshots for a in s.alerts}
    assert not rid_tracks & alerted
    assert alerted  # the threats are alerted
