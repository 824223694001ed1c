"""REST API in-process (httpx.ASGITransport) against a fake backend: every endpoint, bad input."""

from __future__ import annotations

import asyncio
import copy
import json

import httpx
import numpy as np
import pytest

from skywarden.pipeline import Pipeline
from skywarden.server import ServiceBackend, create_app, map_page
from skywarden.site_config import SiteConfig
from skywarden.store import HistoryWriter
from tests.server.fake_backend import (
    HISTORY_T1,
    SITE,
    ZONES,
    FakeBackend,
    history_paths,
    static_snapshot,
)

V1 = "/api/v1"


class Client:
    """A synchronous face on httpx.AsyncClient + ASGITransport (one event loop per request)."""

    def __init__(self, app) -> None:
        self.app = app

    def request(self, method: str, url: str, **kw) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                return await c.request(method, url, **kw)

        return asyncio.run(go())

    def get(self, url: str, **kw) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw) -> httpx.Response:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw) -> httpx.Response:
        return self.request("PUT", url, **kw)


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def client(backend: FakeBackend) -> Client:
    return Client(create_app(backend, max_body_bytes=20_000))


# --- tracks ------------------------------------------------------------------------------------


def test_tracks_lists_every_track_of_the_latest_snapshot(client: Client) -> None:
    r = client.get(f"{V1}/tracks")
    assert r.status_code == 200
    body = r.json()
    assert body["seq"] == 1 and body["count"] == 3
    by_id = {t["id"]: t for t in body["tracks"]}
    assert {by_id[101]["class"], by_id[202]["class"], by_id[303]["class"]} == {
        "drone",
        "aircraft",
        "bird",
    }
    assert by_id[202]["callsign"] == "DLH4AB" and by_id[202]["identity"] == "icao:3C660C"
    assert len(by_id[101]["trail"]) == 8 and len(by_id[101]["predicted"]) == 6


def test_tracks_bbox_filter_keeps_only_tracks_inside(client: Client) -> None:
    everything = client.get(f"{V1}/tracks").json()["tracks"]
    drone = next(t for t in everything if t["id"] == 101)
    lon, lat = drone["lon"], drone["lat"]
    box = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    r = client.get(f"{V1}/tracks", params={"bbox": box})
    assert r.status_code == 200
    assert [t["id"] for t in r.json()["tracks"]] == [101]
    far = client.get(f"{V1}/tracks", params={"bbox": "10,10,11,11"}).json()
    assert far["count"] == 0


def test_tracks_class_filter_repeated_or_comma_separated(client: Client) -> None:
    one = client.get(f"{V1}/tracks", params={"class": "drone"}).json()
    assert [t["id"] for t in one["tracks"]] == [101]
    repeated = client.get(f"{V1}/tracks", params=[("class", "drone"), ("class", "bird")]).json()
    comma = client.get(f"{V1}/tracks", params={"class": "bird,drone"}).json()
    assert sorted(t["id"] for t in repeated["tracks"]) == [101, 303]
    assert sorted(t["id"] for t in comma["tracks"]) == [101, 303]


def test_tracks_altitude_band(client: Client) -> None:
    r = client.get(f"{V1}/tracks", params={"min_alt_m": 100, "max_alt_m": 1000})
    assert [t["id"] for t in r.json()["tracks"]] == [101]


@pytest.mark.parametrize(
    "params",
    [
        {"class": "helicopter"},
        {"bbox": "1,2,3"},
        {"bbox": "a,b,c,d"},
        {"bbox": "5,52,4,53"},  # min_lon > max_lon
        {"bbox": "4,52,5,nan"},
        {"min_alt_m": "high"},
    ],
)
def test_tracks_bad_filters_are_422_with_a_message(client: Client, params: dict) -> None:
    r = client.get(f"{V1}/tracks", params=params)
    assert r.status_code == 422
    assert r.json()["detail"]


def test_one_track_by_id_and_unknown_id(client: Client) -> None:
    assert client.get(f"{V1}/tracks/202").json()["callsign"] == "DLH4AB"
    r = client.get(f"{V1}/tracks/999")
    assert r.status_code == 404 and "999" in r.json()["detail"]


# --- alerts ------------------------------------------------------------------------------------


def test_alerts_sorted_by_priority_then_time_to_entry(client: Client) -> None:
    body = client.get(f"{V1}/alerts").json()
    assert [a["id"] for a in body["alerts"]] == [6, 5, 7]  # (1, 30 s), (1, 90 s), (2, 5 s)
    active = client.get(f"{V1}/alerts", params={"state": "active"}).json()
    assert [a["id"] for a in active["alerts"]] == [5, 7]
    assert client.get(f"{V1}/alerts/7").json()["zone_id"] == "approach"
    assert client.get(f"{V1}/alerts/70").status_code == 404


def test_acknowledge_records_who_and_changes_state(client: Client, backend: FakeBackend) -> None:
    r = client.post(f"{V1}/alerts/5/acknowledge", json={"who": "  Alice ", "note": "seen it"})
    assert r.status_code == 200
    assert r.json()["state"] == "acknowledged" and r.json()["id"] == 5
    assert backend.actions == [("acknowledge", 5, "Alice", "seen it")]
    assert client.get(f"{V1}/alerts/5").json()["state"] == "acknowledged"
    audit = client.get(f"{V1}/audit").json()
    assert audit[0]["who"] == "Alice" and audit[0]["alert_id"] == 5


def test_reject_and_ignore(client: Client, backend: FakeBackend) -> None:
    assert client.post(f"{V1}/alerts/5/reject", json={"who": "bob"}).json()["state"] == "rejected"
    assert client.post(f"{V1}/alerts/7/ignore", json={"who": "bob"}).json()["state"] == "ignored"
    assert [a[0] for a in backend.actions] == ["reject", "ignore"]


def test_acknowledge_unknown_id_is_404(client: Client, backend: FakeBackend) -> None:
    r = client.post(f"{V1}/alerts/12345/acknowledge", json={"who": "alice"})
    assert r.status_code == 404 and "12345" in r.json()["detail"]
    assert backend.actions == []


def test_acknowledge_illegal_transition_is_409(client: Client, backend: FakeBackend) -> None:
    r = client.post(f"{V1}/alerts/6/acknowledge", json={"who": "alice"})  # already acknowledged
    assert r.status_code == 409
    assert "acknowledged" in r.json()["detail"]
    assert backend.actions == []


@pytest.mark.parametrize(
    "content",
    [
        b'{"who": "alice"',  # malformed JSON
        b"",  # no body
        b'{"note": "no operator"}',
        b'{"who": ""}',
        b'{"who": 7}',
        b'{"who": "alice", "extra": 1}',
        b'["who", "alice"]',
    ],
)
def test_acknowledge_bad_body_is_422(client: Client, backend: FakeBackend, content: bytes) -> None:
    r = client.post(
        f"{V1}/alerts/5/acknowledge", content=content, headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["detail"]
    assert backend.actions == []


def test_alert_id_must_be_an_integer(client: Client) -> None:
    assert client.post(f"{V1}/alerts/abc/acknowledge", json={"who": "a"}).status_code == 422


# --- zones -------------------------------------------------------------------------------------


def test_zones_get_and_one_zone(client: Client) -> None:
    fc = client.get(f"{V1}/zones").json()
    assert fc["type"] == "FeatureCollection"
    assert [f["id"] for f in fc["features"]] == ["site-core", "approach"]
    one = client.get(f"{V1}/zones/site-core").json()
    assert one["properties"]["radius_m"] == 1000.0


def test_clutter_map_layer_is_range_azimuth_polygons_near_the_site(client: Client) -> None:
    fc = client.get(f"{V1}/clutter").json()
    assert fc["type"] == "FeatureCollection" and fc["cells_shown"] == len(fc["features"]) > 0
    lat0, lon0 = 52.0, 5.0  # the fake site; the patch is 1.5-2.5 km north-east of it
    for f in fc["features"]:
        ring = np.array(f["geometry"]["coordinates"][0])
        assert f["geometry"]["type"] == "Polygon" and np.allclose(ring[0], ring[-1])
        assert f["properties"]["range_azimuth"] is True
        assert f["properties"]["rate_per_km2_per_scan"] > 0
        assert np.all(np.abs(ring[:, 1] - lat0) < 0.05) and np.all(np.abs(ring[:, 0] - lon0) < 0.08)
    rates = [f["properties"]["rate_per_km2_per_scan"] for f in fc["features"]]
    assert rates == sorted(rates, reverse=True)  # densest first


def test_unknown_zone_id_is_404_naming_the_known_ones(client: Client) -> None:
    r = client.get(f"{V1}/zones/nowhere")
    assert r.status_code == 404
    assert "nowhere" in r.json()["detail"] and "site-core" in r.json()["detail"]


def test_put_zones_replaces_them(client: Client) -> None:
    doc = copy.deepcopy(ZONES)
    doc["features"] = doc["features"][:1]
    doc["features"][0]["properties"]["name"] = "Renamed core"
    r = client.put(f"{V1}/zones", json=doc)
    assert r.status_code == 200
    assert [f["properties"]["name"] for f in r.json()["features"]] == ["Renamed core"]
    assert len(client.get(f"{V1}/zones").json()["features"]) == 1


def _broken(change) -> dict:
    doc = copy.deepcopy(ZONES)
    change(doc)
    return doc


BOWTIE = [[[5.0, 52.0], [5.01, 52.01], [5.01, 52.0], [5.0, 52.01], [5.0, 52.0]]]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (_broken(lambda d: d["features"][1]["geometry"].update(coordinates=BOWTIE)), "invalid"),
        (_broken(lambda d: d["features"][0]["properties"].pop("role")), "role"),
        (_broken(lambda d: d["features"][0]["properties"].update(floor_m=900)), "floor_m"),
        (_broken(lambda d: d["features"][1]["geometry"].update(type="LineString")), "LineString"),
        (_broken(lambda d: d["features"][1]["geometry"].update(coordinates=[[[5, 99]]])), "lat"),
        (_broken(lambda d: d["features"][1].update(id="site-core")), "duplicate"),
        (_broken(lambda d: d.update(type="Topology")), "FeatureCollection"),
        ([1, 2, 3], "GeoJSON object"),
    ],
)
def test_put_broken_geojson_is_400_naming_the_problem(
    client: Client, backend: FakeBackend, document, expected: str
) -> None:
    before = backend.zones
    r = client.put(f"{V1}/zones", json=document)
    assert r.status_code == 400
    assert expected in r.json()["detail"]
    assert backend.zones is before  # nothing changed
    assert client.get(f"{V1}/health").status_code == 200  # and the service goes on


def test_put_zones_malformed_or_empty_json_is_422(client: Client) -> None:
    r = client.put(f"{V1}/zones", content=b'{"type": "FeatureCollection", "features": [')
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]
    assert client.put(f"{V1}/zones", content=b"  ").status_code == 422


def test_oversized_body_is_413(client: Client, backend: FakeBackend) -> None:
    big = json.dumps({"type": "FeatureCollection", "features": [], "pad": "x" * 30_000})
    r = client.put(f"{V1}/zones", content=big.encode())
    assert r.status_code == 413 and "20000" in r.json()["detail"]

    async def chunks():  # streamed without a Content-Length
        for _ in range(30):
            yield b" " * 1000

    r = client.put(f"{V1}/zones", content=chunks())
    assert r.status_code == 413
    r = client.post(f"{V1}/alerts/5/acknowledge", content=b'{"who": "' + b"a" * 30_000 + b'"}')
    assert r.status_code == 413
    assert backend.actions == []
    assert client.get(f"{V1}/zones").status_code == 200


# --- health, audit, history, map config ---------------------------------------------------------


def test_health_reports_sources_latency_queue_and_live(client: Client) -> None:
    h = client.get(f"{V1}/health").json()
    assert h["sources"]["radar-north"]["rejects"] == {"bad_crc": 3}
    assert h["sources"]["rid-mast"]["connected"] is False
    assert set(h["tick_latency_ms"]) == {"p50", "p99", "last"}
    assert h["queue_depth"] == 2 and h["snapshot_seq"] == 1
    assert [s["name"] for s in h["sensors"]] == ["radar-north", "adsb-roof", "rid-mast"]
    assert h["live"] == {"clients": 0, "sent": 0, "dropped_clients": 0, "rate_hz": 2.0}


def test_history_without_store_is_501_and_bad_range_422(client: Client) -> None:
    assert client.get(f"{V1}/history/tracks", params={"t0": 1, "t1": 2}).status_code == 501
    assert client.get(f"{V1}/history/tracks", params={"t0": 2, "t1": 1}).status_code == 422
    for step in (0, -5, "inf", "nan", "fast"):
        r = client.get(f"{V1}/history/tracks", params={"t0": 1, "t1": 2, "step_s": step})
        assert r.status_code == 422, step


def test_history_step_reaches_the_backend(backend: FakeBackend, client: Client) -> None:
    backend.history = history_paths()
    window = {"t0": HISTORY_T1 - 60, "t1": HISTORY_T1}
    assert client.get(f"{V1}/history/tracks", params=window).status_code == 200
    assert client.get(f"{V1}/history/tracks", params={**window, "step_s": 7.5}).status_code == 200
    assert backend.history_steps == [None, 7.5]


def test_history_span_without_store_is_501(client: Client) -> None:
    r = client.get(f"{V1}/history/span")
    assert r.status_code == 501 and r.json() == {"detail": "no track history store is configured"}


def test_history_span_and_tracks_of_a_stored_minute(backend: FakeBackend, client: Client) -> None:
    backend.history = history_paths()
    assert client.get(f"{V1}/history/span").json() == {"t0": HISTORY_T1 - 60, "t1": HISTORY_T1}
    r = client.get(f"{V1}/history/tracks", params={"t0": HISTORY_T1 - 40, "t1": HISTORY_T1 - 31})
    assert r.status_code == 200
    paths = {p["id"]: p for p in r.json()}
    assert paths[11]["t"] == [HISTORY_T1 - 40 + k for k in range(10)]
    assert paths[12]["t"] == [HISTORY_T1 - 39 + 2 * k for k in range(5)]
    assert paths[12]["class"] == "unknown" and paths[12]["callsign"] == "KLM1234"
    assert client.get(f"{V1}/history/tracks", params={"t0": 1, "t1": 2}).json() == []
    backend.history = []
    assert client.get(f"{V1}/history/span").json() == {"t0": None, "t1": None}


def test_history_endpoints_over_the_pipeline_and_a_duckdb_store() -> None:
    empty = {"type": "FeatureCollection", "features": []}
    config = SiteConfig("test", *SITE, sensors=(), zones_geojson=empty, rules=())
    pipeline = Pipeline(config, clock=lambda: HISTORY_T1)
    client = Client(create_app(pipeline))
    assert client.get(f"{V1}/history/span").status_code == 501
    assert client.get(f"{V1}/history/tracks", params={"t0": 1, "t1": 2}).status_code == 501
    with HistoryWriter(":memory:") as writer:
        for k in range(3):
            writer.add_snapshot(static_snapshot(k + 1, HISTORY_T1 + k))
        writer.flush()
        pipeline.history_reader = writer.reader
        span = client.get(f"{V1}/history/span").json()
        assert span == {"t0": HISTORY_T1, "t1": HISTORY_T1 + 2}
        paths = client.get(f"{V1}/history/tracks", params=span).json()
        assert [p["id"] for p in paths] == [101, 202, 303]
        assert paths[0]["t"] == [HISTORY_T1, HISTORY_T1 + 1, HISTORY_T1 + 2]
        thinned = client.get(f"{V1}/history/tracks", params={**span, "step_s": 2}).json()
        assert [p["id"] for p in thinned] == [101, 202, 303]
        assert all(p["t"] == [HISTORY_T1, HISTORY_T1 + 2] for p in thinned)
        # the store refusing a query (here: its connection gone; in a service, a window beyond
        # [storage] memory_limit_mb) is a 503 that says why, not a 500
        reader = writer.reader()
        reader._con.close()
        pipeline.history_reader = lambda: reader
        for url, params in ((f"{V1}/history/tracks", span), (f"{V1}/history/span", None)):
            r = client.get(url, params=params)
            assert r.status_code == 503 and "history query failed" in r.json()["detail"]


def test_map_config(client: Client) -> None:
    cfg = client.get(f"{V1}/map-config").json()
    assert cfg["site"] == {"lat": 52.0, "lon": 5.0, "h_m": 10.0}
    assert cfg["tile_url"] is None and cfg["live_rate_hz"] == 2.0


def test_backend_fault_is_a_json_500_and_the_service_goes_on(backend: FakeBackend) -> None:
    def broken() -> dict:
        raise RuntimeError("sensor table corrupted")

    backend.health = broken  # type: ignore[method-assign]
    client = Client(create_app(backend))
    r = client.get(f"{V1}/health")
    assert r.status_code == 500 and r.json() == {"detail": "internal error: RuntimeError"}
    assert client.get(f"{V1}/tracks").status_code == 200


# --- OpenAPI and the page ----------------------------------------------------------------------


def test_openapi_lists_the_v1_routes(client: Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/tracks",
        "/api/v1/alerts",
        "/api/v1/alerts/{alert_id}/acknowledge",
        "/api/v1/zones",
        "/api/v1/zones/{zone_id}",
        "/api/v1/health",
    ):
        assert path in paths, path
    assert {"get", "put"} <= set(paths["/api/v1/zones"])
    put_body = paths["/api/v1/zones"]["put"]["requestBody"]["content"]["application/json"]
    assert "features" in json.dumps(put_body)
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text
    if (map_page.VENDOR_DIR / "swagger-ui-bundle.js").is_file():  # offline: no CDN
        assert "/vendor/swagger-ui-bundle.js" in docs.text and "https://" not in docs.text


def test_page_and_its_scripts_are_served(client: Client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "/static/map.js" in page.text
    for name in ("map.js", "panels.js", "map.css"):
        assert client.get(f"/static/{name}").status_code == 200


def test_missing_vendored_maplibre_is_a_clear_404(
    backend: FakeBackend, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(map_page, "VENDOR_DIR", tmp_path)
    client = Client(create_app(backend))
    r = client.get("/vendor/maplibre-gl.js")
    assert r.status_code == 404 and "vendor_maplibre.sh" in r.json()["detail"]
    assert client.get("/vendor/../app.py").status_code == 404
    assert client.get(f"{V1}/map-config").json()["maplibre"] is False
    docs = client.get("/docs")  # falls back to the Swagger UI CDN
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text


def test_track_sources_is_the_fusion_audit_and_404_for_unknown(
    client: Client, backend: FakeBackend
) -> None:
    track_id = int(backend.snapshot().tracks.id[0])
    answer = client.get(f"/api/v1/tracks/{track_id}/sources")
    assert answer.status_code == 200
    body = answer.json()
    assert body["reports"][0]["kind"] == "radar"
    assert body["last"]["remote_id"] is None  # NaN becomes null, strict JSON
    assert client.get("/api/v1/tracks/999999/sources").status_code == 404


def test_track_classification_is_the_backend_explanation_and_404_for_unknown(
    client: Client, backend: FakeBackend
) -> None:
    assert isinstance(backend, ServiceBackend)
    track_id = int(backend.snapshot().tracks.id[0])
    answer = client.get(f"{V1}/tracks/{track_id}/classification")
    assert answer.status_code == 200
    body = answer.json()
    assert body["track_id"] == track_id and body["class"] == "drone"
    assert [r["name"] for r in body["top_features"]][:2] == ["hover_fraction", "speed_mean"]
    assert body["top_features"][2]["value"] is None
    missing = client.get(f"{V1}/tracks/999999/classification")
    assert missing.status_code == 404 and missing.json() == {"detail": "unknown track id 999999"}
    assert client.get(f"{V1}/tracks/abc/classification").status_code == 422
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/tracks/{track_id}/classification" in paths


def test_track_classification_404_says_why_when_the_backend_has_none(
    client: Client, backend: FakeBackend, monkeypatch
) -> None:
    monkeypatch.setattr(backend, "explain_track", lambda track_id: None)
    track_id = int(backend.snapshot().tracks.id[0])
    answer = client.get(f"{V1}/tracks/{track_id}/classification")
    assert answer.status_code == 404 and "no trained classifier" in answer.json()["detail"]
