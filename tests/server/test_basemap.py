"""The site basemap: one PMTiles file served with HTTP range requests, named in map-config; and
the bundled world layer."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from skywarden.server import create_app
from skywarden.server.map_page import WEB_DIR
from tests.server.fake_backend import FakeBackend, static_snapshot
from tests.server.pmtiles_fixture import pmtiles_one_tile, png


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "site.pmtiles"
    path.write_bytes(pmtiles_one_tile(png((200, 40, 160))))
    return path


def _get(app, url: str, headers: dict | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.get(url, headers=headers or {})

    return asyncio.run(go())


def test_basemap_is_served_in_ranges_and_named_in_map_config(archive: Path) -> None:
    app = create_app(FakeBackend(static_snapshot()), basemap=archive)
    cfg = (_get(app, "/api/v1/map-config")).json()
    assert cfg["basemap"] == "/basemap.pmtiles"
    head = _get(app, "/basemap.pmtiles", {"Range": "bytes=0-126"})
    assert head.status_code == 206
    assert head.content == archive.read_bytes()[:127] and head.content.startswith(b"PMTiles\x03")
    assert head.headers["content-range"] == f"bytes 0-126/{archive.stat().st_size}"
    whole = _get(app, "/basemap.pmtiles")
    assert whole.status_code == 200 and whole.content == archive.read_bytes()


def test_without_a_basemap_there_is_none() -> None:
    app = create_app(FakeBackend(static_snapshot()))
    assert (_get(app, "/api/v1/map-config")).json()["basemap"] is None
    assert (_get(app, "/basemap.pmtiles")).status_code == 404


def test_world_layer_is_small_and_has_countries_and_cities() -> None:
    path = WEB_DIR / "world-110m.geojson"
    assert path.stat().st_size < 300_000
    kinds = [f["properties"]["kind"] for f in json.loads(path.read_text())["features"]]
    assert kinds.count("country") > 150 and kinds.count("city") > 150
    assert (WEB_DIR / "world-110m.LICENSE.txt").read_text().count("public domain") >= 1


def test_site_config_basemap_key(archive: Path) -> None:
    from skywarden.errors import ConfigError
    from skywarden.site_config import site_config_from_dict

    doc = {"site": {"lat": 52.0, "lon": 5.0}, "service": {"basemap": archive.name}}
    assert site_config_from_dict(doc, archive.parent).basemap == archive
    doc["service"]["basemap"] = "missing.pmtiles"
    with pytest.raises(ConfigError, match="service.basemap: no such file"):
        site_config_from_dict(doc, archive.parent)
