"""The map in a real browser: Debian chromium (headless) driven by Playwright against uvicorn.

It loads the page, waits for MapLibre to draw the tracks, sees them move, sees the drone's alert
in the panel, acknowledges it with an operator name and checks that the backend recorded it.
Screenshots go to test-artifacts/ (map-alert.png before, map.png after acknowledging).
Skips when /usr/bin/chromium, the playwright package or the vendored MapLibre is missing.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from skywarden.server import create_app
from skywarden.server.app import VENDOR_DIR
from tests.server.fake_backend import MovingBackend
from tests.server.live_server import live_server

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WAIT_MS = 30_000

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.is_file(), reason="needs Debian chromium: apt-get install -y chromium"
    ),
    pytest.mark.skipif(
        not (VENDOR_DIR / "maplibre-gl.js").is_file(),
        reason="MapLibre GL JS is not vendored: run scripts/vendor_maplibre.sh",
    ),
]


def test_map_shows_moving_tracks_and_an_alert_the_operator_acknowledges() -> None:
    backend = MovingBackend(tick_s=0.2, sim_dt_s=1.0)
    ARTIFACTS.mkdir(exist_ok=True)
    with live_server(create_app(backend, live_rate_hz=5.0)) as url:
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
            try:
                page = browser.new_page(viewport={"width": 1600, "height": 900})
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                run_the_operator_story(page, url, backend)
                assert errors == [], errors
            finally:
                browser.close()


def run_the_operator_story(page, url: str, backend: MovingBackend) -> None:
    expect = playwright_api.expect
    # filters come from the URL: birds hidden, trails on
    page.goto(f"{url}/?classes=drone,aircraft,unknown&trails=1")
    page.wait_for_function(
        "() => window.skywarden && window.skywarden.mapReady && window.skywarden.frames > 0",
        timeout=WAIT_MS,
    )
    expect(page.locator(".chip[data-cls=bird]")).to_have_class(re.compile(r"\boff\b"))
    expect(page.locator(".chip[data-cls=drone]")).not_to_have_class(re.compile(r"\boff\b"))

    # MapLibre has drawn both tracks, and they move between snapshots
    page.wait_for_function(
        "() => window.skywarden.map.queryRenderedFeatures({layers: ['tracks']}).length >= 2",
        timeout=WAIT_MS,
    )
    first = page.evaluate("() => window.skywarden.positions()")
    frames = page.evaluate("() => window.skywarden.frames")
    page.wait_for_function(f"() => window.skywarden.frames >= {frames + 3}", timeout=WAIT_MS)
    second = page.evaluate("() => window.skywarden.positions()")
    assert set(first) == set(second) == {"101", "202"}
    for track in ("101", "202"):
        assert first[track] != second[track], f"track {track} did not move"
    expect(page.locator("#labels .tlabel", has_text="DLH4AB")).to_be_visible()

    # the drone's alert appears in the panel with a countdown, and the page beeped
    card = page.locator("#alerts li.alert.state-active")
    expect(card).to_have_count(1, timeout=WAIT_MS)
    expect(card).to_contain_text("Site core")
    expect(card.locator(".tte")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    page.wait_for_function("() => window.skywarden.beeps >= 1", timeout=WAIT_MS)
    page.screenshot(path=str(ARTIFACTS / "map-alert.png"))

    # the operator acknowledges it; the backend records who did
    page.fill("#operator", "duty-officer")
    card.locator("button.ack").click()
    deadline = time.monotonic() + WAIT_MS / 1000
    while not backend.actions and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert backend.actions == [("acknowledge", 1, "duty-officer", "")]
    expect(page.locator("#alerts li.alert[data-id='1']")).to_have_class(
        re.compile("state-acknowledged"), timeout=WAIT_MS
    )

    # a filter change goes into the URL; track details open on click
    page.uncheck("#show-trails")
    assert "trails=0" in page.url
    point = page.evaluate(
        "() => { const t = window.skywarden.tracks.find(x => x.id === 101);"
        " const p = window.skywarden.map.project([t.lon, t.lat]); return [p.x, p.y]; }"
    )
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    expect(page.locator(".maplibregl-popup .details")).to_contain_text("rid:1588E0FA21")
    page.check("#show-trails")
    page.screenshot(path=str(ARTIFACTS / "map.png"))
