"""Input that cannot hurt the service, and the transport checks: zone bounds (422), deep JSON,
ids out of range, Origin and Host checks, security headers."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from skywarden.server import create_app
from skywarden.server.http_security import HttpPolicy, json_depth
from tests.server.fake_backend import ZONES, FakeBackend
from tests.server.live_server import live_server
from tests.server.test_api import Client

V1 = "/api/v1"


def zones_with(**props) -> dict:
    doc = copy.deepcopy(ZONES)
    doc["features"][0]["properties"].update(props)
    return doc


def circles(n: int) -> dict:
    feature = ZONES["features"][0]
    return {"type": "FeatureCollection",
            "features": [dict(copy.deepcopy(feature), id=f"c{i}") for i in range(n)]}  # fmt: skip


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def client(backend: FakeBackend) -> Client:
    return Client(create_app(backend, max_body_bytes=2_000_000))


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (zones_with(priority=10**30), "priority"),  # the overflow
        (zones_with(priority=0), "priority"),
        (zones_with(priority=10), "priority"),
        (zones_with(radius_m=1e308), "radius_m"),  # the overflow
        (zones_with(ceiling_m=25_000.0), "ceiling_m"),
        (zones_with(floor_m=-30_000.0), "floor_m"),
        (zones_with(ground_height_m=1e12), "ground_height_m"),
        (circles(4000), "at most 100"),  # the 4,000 zones
    ],
)
def test_zone_values_out_of_bounds_are_422(client, backend, document, expected) -> None:
    before = backend.zones
    r = client.put(f"{V1}/zones", json=document)
    assert r.status_code == 422, r.text
    assert expected in r.json()["detail"]
    assert backend.zones is before


def test_too_many_vertices_is_422(client) -> None:
    ring = [[5.0 + 0.01 * (k % 2), 52.0 + 1e-5 * k] for k in range(6000)]
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": f"p{i}", "properties": {"role": "warning", "floor_m": 0,
         "ceiling_m": 100}, "geometry": {"type": "Polygon", "coordinates": [ring]}}
        for i in range(2)]}  # fmt: skip
    r = client.put(f"{V1}/zones", json=doc)
    assert r.status_code == 422 and "positions" in r.json()["detail"]


def test_deep_json_is_422_not_a_500(client, backend) -> None:
    for path, method in ((f"{V1}/zones", "PUT"), (f"{V1}/alerts/5/acknowledge", "POST")):
        r = client.request(method, path, content=nested(50_000))
        assert r.status_code == 422 and "nested 50000 deep" in r.json()["detail"]
    assert backend.actions == []
    body = json.dumps({"who": "ann", "note": "[[[[" * 100}).encode()  # brackets in a string
    r = client.post(f"{V1}/alerts/5/acknowledge", content=body,
                    headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code == 200


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.integers() | st.text(alphabet='[]{}"\\ab', max_size=6),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(alphabet='[]{}"\\', max_size=3), inner, max_size=3),
                    max_leaves=20))  # fmt: skip
def test_json_depth_matches_the_structure(value) -> None:
    def depth(v) -> int:
        if isinstance(v, list):
            return 1 + max((depth(x) for x in v), default=0)
        if isinstance(v, dict):
            return 1 + max((depth(x) for x in v.values()), default=0)
        return 0

    assert json_depth(json.dumps(value).encode()) == depth(value)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", f"/tracks/{2**70}"), ("GET", f"/tracks/{2**70}/sources"),
     ("GET", f"/tracks/{-(2**70)}/classification"), ("GET", f"/alerts/{2**70}"),
     ("POST", f"/alerts/{2**70}/acknowledge")],
)  # fmt: skip
def test_ids_out_of_range_are_404(client, method: str, path: str) -> None:
    r = client.request(method, V1 + path, json={"who": "ann"})
    assert r.status_code == 404, r.text
    assert "unknown" in r.json()["detail"]


def test_security_headers_on_page_and_api(client) -> None:
    for path in ("/", f"{V1}/tracks", "/healthz"):
        h = client.get(path).headers
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert "script-src 'self'" in h["content-security-policy"]
        assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
    assert client.get(f"{V1}/tracks").headers["cache-control"] == "no-store"
    assert client.get("/healthz").headers["cache-control"] == "no-store"
    tiles = Client(create_app(FakeBackend(), tile_url="https://tiles.example/{z}/{x}/{y}.png"))
    assert "https://tiles.example" in tiles.get("/").headers["content-security-policy"]


def test_cross_origin_changes_are_refused(client, backend) -> None:
    evil = {"Origin": "https://evil.example"}
    r = client.post(f"{V1}/alerts/5/acknowledge", json={"who": "ann"}, headers=evil)
    assert r.status_code == 403 and "evil.example" in r.json()["detail"]
    assert client.put(f"{V1}/zones", json=ZONES, headers=evil).status_code == 403
    assert backend.actions == [] and client.get(f"{V1}/tracks", headers=evil).status_code == 200
    same = {"Origin": "http://test"}  # the page's own origin (Host: test)
    assert client.post(f"{V1}/alerts/5/acknowledge", json={"who": "a"}, headers=same).is_success
    allowed = Client(
        create_app(backend, policy=HttpPolicy(allowed_origins=("https://ops.example",)))
    )
    r = allowed.post(f"{V1}/alerts/7/reject", json={"who": "a"},
                     headers={"Origin": "https://ops.example"})  # fmt: skip
    assert r.status_code == 200


def test_host_check_stops_dns_rebinding() -> None:
    client = Client(create_app(FakeBackend(), policy=HttpPolicy(allowed_hosts=("test",))))
    assert client.get(f"{V1}/tracks").status_code == 200
    r = client.get(f"{V1}/tracks", headers={"Host": "rebind.example"})
    assert r.status_code == 421 and "rebind.example" in r.json()["detail"]
    security = client.get(f"{V1}/health").json()["security"]  # refusals are counted
    assert security == {"auth_failures": 0, "refused_requests": {"host": 1}}


def test_websocket_from_another_origin_is_refused() -> None:
    app = create_app(FakeBackend())
    with live_server(app) as base:
        url = base.replace("http", "ws") + f"{V1}/live"
        with pytest.raises(InvalidStatus) as refused:
            connect(url, origin="https://evil.example", open_timeout=10)
        assert refused.value.response.status_code == 403
        with connect(url, origin=base, open_timeout=10) as ws:  # the page's own origin
            assert json.loads(ws.recv(timeout=10))["seq"] == 1
