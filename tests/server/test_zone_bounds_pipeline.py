"""Property: no zone document the API accepts can stop the pipeline. Random (often absurd)
numbers go through PUT /api/v1/zones on the real pipeline; each is a 200, 400 or 422, and the
pipeline keeps ticking with a drone flying at the site afterwards."""

from __future__ import annotations

import json
import math
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.classify.trained import identity_and_speed_classes
from skywarden.detections import SourceKind, make_detections, remote_id_identity
from skywarden.pipeline import Pipeline
from skywarden.server import create_app
from skywarden.site_config import site_config_from_dict
from tests.server.test_api import Client

SITE = {"lat": 47.0, "lon": 8.0}
T0 = 1_750_000_000.0
numbers = st.one_of(
    st.sampled_from([1, 3, 9, 50.0, 300.0, 1000.0, 100_000.0]),  # sane: accepted when ordered
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-30_000.0, 30_000.0),
    st.integers(-(10**40), 10**40),
)


def make_pipeline() -> tuple[Pipeline, Client, list[float]]:
    config = site_config_from_dict({"site": SITE}, Path("."))
    now = [T0]
    pipeline = Pipeline(config, clock=lambda: now[0], classifier=identity_and_speed_classes)
    return pipeline, Client(create_app(pipeline)), now


PIPELINE, CLIENT, NOW = make_pipeline()


def tick(pipeline: Pipeline, now: list[float], k: int):
    """A Remote ID drone 2 km east flying west at 20 m/s, one report per second."""
    now[0] += 1.0
    position = [[2000.0 - 20.0 * (k % 90), 0.0, 60.0]]
    velocity = [[-20.0, 0.0, 0.0]]
    detections = make_detections(now[0], position, 5.0, kind=SourceKind.REMOTE_ID,
                                 identity=remote_id_identity("PROP-1"), v=velocity)  # fmt: skip
    return pipeline.process(now[0], detections)


@settings(max_examples=40, deadline=None)
@given(priority=numbers, radius=numbers, floor=numbers, ceiling=numbers, n=st.integers(1, 3))
def test_accepted_zones_never_stop_the_pipeline(priority, radius, floor, ceiling, n) -> None:
    feature = {
        "type": "Feature",
        "properties": {"role": "protected", "priority": priority, "radius_m": radius,
                       "floor_m": floor, "ceiling_m": ceiling},
        "geometry": {"type": "Point", "coordinates": [SITE["lon"], SITE["lat"]]},
    }  # fmt: skip
    doc = {"type": "FeatureCollection",
           "features": [dict(feature, id=f"z{i}") for i in range(n)]}  # fmt: skip
    r = CLIENT.put("/api/v1/zones", content=json.dumps(doc).encode())  # NaN, Infinity too
    assert r.status_code in (200, 400, 422), r.text
    if r.status_code == 200:
        props = r.json()["features"][0]["properties"]
        assert 1 <= props["priority"] <= 9 and 0 < props["radius_m"] <= 100_000.0
        assert -20_000.0 <= props["floor_m"] < props["ceiling_m"] <= 20_000.0
    seq = PIPELINE.snapshot().seq
    for k in range(3):
        snapshot, _ = tick(PIPELINE, NOW, seq + k)
    assert snapshot.seq == seq + 3  # still ticking
    assert all(1 <= a.priority <= 9 and math.isfinite(a.t_raised) for a in snapshot.alerts)


ZONE = {"type": "FeatureCollection", "features": [{
    "type": "Feature", "id": "core",
    "properties": {"role": "protected", "priority": 3, "radius_m": 500.0, "floor_m": 0,
                   "ceiling_m": 300},
    "geometry": {"type": "Point", "coordinates": [SITE["lon"], SITE["lat"]]}}]}  # fmt: skip


offsets = st.one_of(st.floats(-0.05, 0.05), st.floats(-200.0, 200.0), st.just(0.0))


@settings(max_examples=30, deadline=None)
@given(ring=st.lists(st.tuples(offsets, offsets), min_size=0, max_size=12), priority=numbers,
       floor=numbers, ceiling=numbers)  # fmt: skip
def test_accepted_polygons_never_stop_the_pipeline(ring, priority, floor, ceiling) -> None:
    coords = [[SITE["lon"] + dx, SITE["lat"] + dy] for dx, dy in ring]
    doc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": "poly",
        "properties": {"role": "warning", "priority": priority, "floor_m": floor,
                       "ceiling_m": ceiling},
        "geometry": {"type": "Polygon", "coordinates": [coords + coords[:1]]}}]}  # fmt: skip
    r = CLIENT.put("/api/v1/zones", content=json.dumps(doc).encode())
    assert r.status_code in (200, 400, 422), r.text
    seq = PIPELINE.snapshot().seq
    for k in range(2):
        snapshot, _ = tick(PIPELINE, NOW, seq + k)
    assert snapshot.seq == seq + 2


def test_the_drone_is_alerted_with_a_sane_zone() -> None:
    pipeline, client, now = make_pipeline()
    assert client.put("/api/v1/zones", json=ZONE).status_code == 200
    alerts = []
    for k in range(60):
        snapshot, _ = tick(pipeline, now, k)
        alerts = alerts or list(snapshot.alerts)
    assert alerts and alerts[0].zone_id == "core" and alerts[0].priority == 3
    # the operator's name and role land in the audit trail beside the admin's zone change
    pipeline.acknowledge(alerts[0].id, "olga", "seen", role="operator")
    trail = [(e["action"], e["who"], e["role"]) for e in pipeline.audit()]
    assert ("acknowledged", "olga", "operator") in trail and ("put_zones", "", "") in trail


def test_rules_and_allow_list_through_the_api_are_bounded_and_audited() -> None:
    pipeline, client, now = make_pipeline()
    for bad in ([{"priority": 10**30}], [{"max_height_m": 1e308}], [{"horizon_s": -1}],
                [{"classes": ["dragon"]}], [{"naem": "typo"}], {"name": "not a list"},
                [{"name": f"r{i}"} for i in range(101)]):  # fmt: skip
        r = client.put("/api/v1/rules", json=bad)
        assert r.status_code == 422, (bad, r.text)
    for bad in ([{"identity": "icao:ZZZ"}], [{"identity_key": 2**70}], [{"identity": "x"}],
                [{"identity": "rid:A", "valid_from": "tomorrow"}], [7]):  # fmt: skip
        r = client.put("/api/v1/allow", json=bad)
        assert r.status_code == 422, (bad, r.text)
    rules = [{"name": "drones low", "classes": ["drone"], "max_height_m": 500, "priority": 2,
              "horizon_s": 600}]  # fmt: skip
    r = client.put("/api/v1/rules", json=rules)
    assert r.status_code == 200 and r.json()[0]["name"] == "drones low"
    assert pipeline.entry_model.horizon_s == 600 * 1.5  # forecasts look as far as the rules
    pipeline.put_zones(ZONE)
    for k in range(30):
        snapshot, _ = tick(pipeline, now, k)
    assert [(a.state, a.priority) for a in snapshot.alerts] == [("active", 2)]  # the new rule
    allow = [{"identity": "rid:PROP-1", "note": "survey drone"}]
    assert client.put("/api/v1/allow", json=allow).status_code == 200
    assert client.get("/api/v1/allow").json()[0]["note"] == "survey drone"
    for k in range(30, 40):  # still ticking; the allow-listed drone is no longer alerted
        snapshot, _ = tick(pipeline, now, k)
    assert all(a.state != "active" for a in snapshot.alerts)
    actions = [e["action"] for e in client.get("/api/v1/audit").json()]
    assert actions == ["put_rules", "put_zones", "raised", "put_allow", "cleared"]
