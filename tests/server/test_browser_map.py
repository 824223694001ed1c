"""The operator map's geography, sensor counts and labels in a real browser (Debian chromium).

A picture with a swarm of seven drones, two airliners flying close together, a single drone
with an alert, and sensors whose message counts only /api/v1/health knows (the snapshot says 0,
as the live service's sensor list does). The page must show: the bundled world layer (land and
borders under the site), the site basemap from one PMTiles file (its magenta tile drawn),
each sensor's message count from the health endpoint, one group label for the swarm and no two
labels overprinting. The screenshot it takes, test-artifacts/map-operator.png, is the README's.
Skips when /usr/bin/chromium, playwright, or the vendored MapLibre / pmtiles is missing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skywarden.server import create_app
from skywarden.server.map_page import VENDOR_DIR
from skywarden.snapshot import SensorView, Snapshot, TrackArrays
from tests.server.fake_backend import MovingBackend, make_tracks
from tests.server.live_server import live_server
from tests.server.pmtiles_fixture import pmtiles_one_tile, png
from tests.server.test_browser import ARTIFACTS, CHROMIUM, FLAGS, WAIT_MS

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.is_file(), reason="needs Debian chromium: apt-get install -y chromium"
    ),
    pytest.mark.skipif(
        not (VENDOR_DIR / "pmtiles.js").is_file(),
        reason="MapLibre / pmtiles are not vendored: run scripts/vendor_maplibre.sh",
    ),
]
MAGENTA = (200, 40, 160)
COUNTS = {"radar-north": 5730, "adsb-roof": 48210, "rid-mast": 96}
SENSORS = tuple(
    SensorView(name, kind, lat, lon, 12.0, rng, True, 0, {})
    for name, kind, lat, lon, rng in (
        ("radar-north", "radar", 52.004, 5.0, 8000.0),
        ("adsb-roof", "adsb", 52.0, 5.002, 60000.0),
        ("rid-mast", "remote_id", 51.998, 4.997, 2500.0),
    )
)


def _concat(a: TrackArrays, b: TrackArrays) -> TrackArrays:
    return TrackArrays(
        **{
            k: np.concatenate([getattr(a, k), getattr(b, k)])
            for k in (
                "id",
                "enu",
                "lat",
                "lon",
                "alt_m",
                "sigma_m",
                "status",
                "target_class",
                "p_class",
                "behaviour",
                "identity",
                "callsign",
                "t_update",
                "trail",
                "predicted",
            )
        }  # fmt: skip
    )


class CrowdedBackend(MovingBackend):
    """MovingBackend's drone and airliner, plus a swarm and two airliners side by side; the
    sensors' counts come from health() only."""

    def _build(self, k: int) -> Snapshot:
        base = super()._build(k)
        s = k * self.sim_dt_s
        rng = np.random.default_rng(7)
        swarm = np.zeros((7, 6))
        swarm[:, :2] = [1800.0 - 6 * s, -1500.0] + rng.uniform(-60, 60, (7, 2))
        swarm[:, 2] = rng.uniform(80, 140, 7)
        swarm[:, 3] = -6.0
        # side by side, 50 m apart, slowly west in the south-west: far from the other tracks'
        # labels all along the test, so whether each gets a label depends on the pair only
        pair = np.array([[-2500.0 - 25 * s, -3000.0, 1500.0, -25.0, 0.0, 0.0],
                         [-2460.0 - 25 * s, -2970.0, 1600.0, -25.0, 0.0, 0.0]])  # fmt: skip
        extra = make_tracks(
            np.vstack([swarm, pair]), ["drone"] * 7 + ["aircraft"] * 2, [""] * 9,
            [""] * 7 + ["KLM1234", "EZY89PX"], list(range(301, 308)) + [401, 402],
            base.t, trail_dt=4.0,
        )  # fmt: skip
        tracks = _concat(base.tracks, extra)
        return Snapshot(seq=base.seq, t=base.t, site=base.site, tracks=tracks,
                        alerts=base.alerts, sensors=SENSORS)  # fmt: skip

    def health(self) -> dict:
        h = super().health()
        h["sources"] = {n: {"messages": c + 10 * self._step, "records": 3 * c, "rejects": {}}
                        for n, c in COUNTS.items()}  # fmt: skip
        return h


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, Any]]:
    basemap = tmp_path_factory.mktemp("basemap") / "site.pmtiles"
    basemap.write_bytes(pmtiles_one_tile(png(MAGENTA)))
    backend = CrowdedBackend(tick_s=0.25, sim_dt_s=1.0)
    ARTIFACTS.mkdir(exist_ok=True)
    with live_server(create_app(backend, live_rate_hz=4.0, basemap=basemap)) as url:
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
            try:
                yield url, browser
            finally:
                browser.close()


def _label_boxes(page) -> list[dict]:
    return page.evaluate(
        "() => [...document.querySelectorAll('#labels .tlabel')]"
        ".filter(e => e.style.display !== 'none' && e.offsetWidth > 0)"
        ".map(e => { const r = e.getBoundingClientRect();"
        " return {x: r.x, y: r.y, w: r.width, h: r.height, text: e.textContent}; })"
    )


def test_geography_sensor_counts_and_decluttered_labels(served) -> None:
    url, browser = served
    expect = playwright_api.expect
    page = browser.new_page(viewport={"width": 1600, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_function(
        "() => window.skywarden && window.skywarden.mapReady && window.skywarden.frames > 2",
        timeout=WAIT_MS,
    )
    # the bundled world layer: land and borders under the site (the Netherlands), offline
    page.wait_for_function(
        "() => window.skywardenBasemap.state.worldFeatures > 300 && window.skywarden.map"
        ".queryRenderedFeatures({layers: ['world-land']}).some(f => f.properties.name ==="
        " 'Netherlands')",
        timeout=WAIT_MS,
    )
    # the site basemap: the PMTiles archive was read and its tile drawn
    page.wait_for_function(
        "() => window.skywardenBasemap.state.basemap && window.skywarden.map"
        ".isSourceLoaded('basemap')",
        timeout=WAIT_MS,
    )
    assert page.evaluate("() => window.skywardenBasemap.state.basemap.tileType") == 2
    # sensor counts: what /api/v1/health says (the snapshot's list says 0)
    page.wait_for_function("() => window.skywarden.health", timeout=WAIT_MS)
    for name, count in COUNTS.items():
        row = page.locator(f"#sensors li.sensor[data-name='{name}']")
        expect(row).to_be_visible()
        page.wait_for_function(
            f"() => +document.querySelector(\"li.sensor[data-name='{name}']\").dataset.messages"
            f" >= {count}",
            timeout=WAIT_MS,
        )
    # labels: the swarm has one group label, no two labels overprint, every lone track its own
    page.wait_for_function(
        "() => window.skywarden.labels && window.skywarden.labels.groups.length >= 1",
        timeout=WAIT_MS,
    )
    labels = page.evaluate("() => window.skywarden.labels")
    swarm = [g for g in labels["groups"] if set(g) >= set(range(301, 308))]
    assert swarm, labels
    expect(page.locator("#labels .tlabel.group", has_text="SWARM · 7 drones")).to_be_visible()
    boxes = _label_boxes(page)
    overlaps = page.evaluate("b => window.skywardenLabels.overlapping(b)", boxes)
    assert overlaps == [], [(boxes[i]["text"], boxes[j]["text"]) for i, j in overlaps]
    texts = " ".join(b["text"] for b in boxes)
    for name in ("DLH4AB", "KLM1234", "EZY89PX", "rid:1588E0FA21"):
        assert name in texts, texts
    # the alert card: current probability, time to entry, state and how long ago it was raised
    card = page.locator("#alerts li.alert").first
    expect(card).to_contain_text("p now 90%", timeout=WAIT_MS)
    expect(card.locator(".age")).to_contain_text("s ago")
    shot = ARTIFACTS / "map-basemap.png"
    page.screenshot(path=str(shot))
    _assert_basemap_colour(shot, page)
    # the README's pictures: the site without the test's magenta basemap, and the region
    page.evaluate("() => window.skywarden.map.setLayoutProperty('basemap', 'visibility', 'none')")
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "map-operator.png"))
    page.evaluate("() => window.skywarden.map.jumpTo({zoom: 8.6})")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.city-label')].some(e => e.textContent ==="
        " 'Amsterdam')",
        timeout=WAIT_MS,
    )
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "map-region.png"))
    page.close()
    assert errors == [], errors


def _assert_basemap_colour(shot: Path, page) -> None:
    """Somewhere on the map the magenta basemap tile shows through (drawn at 75 % opacity)."""
    image = pytest.importorskip("PIL.Image")
    box = page.locator("#map").bounding_box()
    pixels = np.asarray(image.open(io.BytesIO(shot.read_bytes())).convert("RGB"), dtype=float)
    x0, y0 = int(box["x"]), int(box["y"])
    area = pixels[y0 : y0 + int(box["height"]), x0 : x0 + int(box["width"])]
    r, g, b = area[..., 0], area[..., 1], area[..., 2]
    magenta = (r > 110) & (b > 90) & (g < 80) & (r > 1.3 * g)
    assert magenta.mean() > 0.2, f"basemap colour on {magenta.mean():.0%} of the map"
