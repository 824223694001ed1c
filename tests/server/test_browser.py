"""The map in a real browser: Debian chromium (headless) driven by Playwright against uvicorn.

It loads the page, waits for MapLibre to draw the tracks and the learnt clutter map's cells, sees
the tracks move, sees the drone's alert in the panel, acknowledges it with an operator name and
checks that the backend recorded it.
Then it replays the stored minute: the panel's errors (no store, empty window), loading, the
slider moving the tracks to their interpolated positions, playing to the end, the URL state, and
back to live. Screenshots go to test-artifacts/ (map-alert.png before, map.png after
acknowledging, with a track's details and the "Why" line of its classification, map-replay.png
during the replay).
Skips when /usr/bin/chromium, the playwright package or the vendored MapLibre is missing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skywarden.server import create_app
from skywarden.server.map_page import VENDOR_DIR
from tests.server.fake_backend import HISTORY_T1, MovingBackend, history_paths
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


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, MovingBackend, Any]]:
    """One server (a moving live picture plus a stored minute of history) and one browser."""
    backend = MovingBackend(tick_s=0.2, sim_dt_s=1.0)
    backend.history = history_paths()
    ARTIFACTS.mkdir(exist_ok=True)
    with live_server(create_app(backend, live_rate_hz=5.0)) as url:
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
            try:
                yield url, backend, browser
            finally:
                browser.close()


@pytest.fixture
def page(served: tuple[str, MovingBackend, Any]) -> Iterator[Any]:
    """A fresh page; the test fails if the page throws."""
    page = served[2].new_page(viewport={"width": 1600, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    page.close()
    assert errors == [], errors


def test_map_shows_moving_tracks_and_an_alert_the_operator_acknowledges(served, page) -> None:
    url, backend, _ = served
    run_the_operator_story(page, url, backend)


def run_the_operator_story(page, url: str, backend: MovingBackend) -> None:
    expect = playwright_api.expect
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    # filters come from the URL: birds hidden, trails on
    page.goto(f"{url}/?classes=drone,aircraft,unknown&trails=1")
    page.wait_for_function(
        "() => window.skywarden && window.skywarden.mapReady && window.skywarden.frames > 0",
        timeout=WAIT_MS,
    )
    # the live stream comes in the compact encoding (quantised binary deltas, compressed once
    # per broadcast), which the page inflates and applies (live_compact.js)
    assert any(u.endswith("/api/v1/live?encoding=compact") for u in sockets), sockets
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

    # the learnt clutter map is a layer: the fake radar's range x azimuth cells are drawn
    page.wait_for_function(
        "() => window.skywarden.map.queryRenderedFeatures({layers: ['clutter-fill']}).length > 0",
        timeout=WAIT_MS,
    )
    drawn = page.evaluate(
        "() => window.skywarden.map.queryRenderedFeatures({layers: ['clutter-fill']})"
        ".map(f => f.properties.range_azimuth)"
    )
    assert drawn and all(drawn)
    expect(page.locator(".legend-row", has_text="Learnt clutter")).to_be_visible()

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
    # ... with its class decision in words: the probability vector and the reasons
    summary = page.evaluate("() => window.skywarden.tracks.find(x => x.id === 101).summary")
    assert summary.startswith("drone: drone ") and summary.endswith("%"), summary
    expect(page.locator(".maplibregl-popup .details")).to_contain_text(summary)
    # ... with the classifier's reasons, fetched for the selected track (readable names, units)
    why = page.locator(".maplibregl-popup .details .why")
    expect(why).to_have_text(
        "Why: hovering (25%, +1.50), mean speed (11.7 m/s, +0.75), new<i>feature</i> (–, −0.40)",
        timeout=WAIT_MS,
    )
    assert why.locator("i").count() == 0  # the raw name is text, not markup
    page.check("#show-trails")
    page.screenshot(path=str(ARTIFACTS / "map.png"))


# --- replay -------------------------------------------------------------------------------------

POSITIONS = "() => window.skywarden.positions()"


def expected_positions(t: float, hold_s: float = 2.0) -> dict[str, list[float]]:
    """Oracle: each stored path's [lon, lat] at time t by linear interpolation of its samples,
    for the paths seen at t (from their first sample to hold_s after their last)."""
    out = {}
    for path in history_paths():
        ts = np.asarray(path["t"])
        if ts[0] <= t <= ts[-1] + hold_s:
            out[str(path["id"])] = [float(np.interp(t, ts, path["lon"])),
                                    float(np.interp(t, ts, path["lat"]))]  # fmt: skip
    return out


def assert_near(got: dict, want: dict) -> None:
    assert set(got) == set(want), (got, want)
    for key, (lon, lat) in want.items():
        assert got[key] == pytest.approx([lon, lat], abs=1e-7), key


def slide_to(page, seconds: float) -> None:
    """Move the replay slider as a user would (value + an input event)."""
    page.evaluate(
        "v => { const s = document.getElementById('replay-slider'); s.value = String(v);"
        " s.dispatchEvent(new Event('input', {bubbles: true})); }",
        seconds,
    )


def utc_input(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


def test_replay_plays_back_the_stored_minute_and_returns_to_live(served, page) -> None:
    url, backend, _ = served
    expect = playwright_api.expect
    t0, t1 = HISTORY_T1 - 60, HISTORY_T1
    page.goto(url)
    page.wait_for_function(
        "() => window.skywarden && window.skywarden.mapReady && window.skywarden.frames > 0",
        timeout=WAIT_MS,
    )
    expect(page.locator("#link")).to_have_text("LIVE", timeout=WAIT_MS)

    # opening the panel proposes the last 10 minutes of history (here: all of the stored minute)
    page.click("#replay-open")
    expect(page.locator("#replay-from")).to_have_value(utc_input(t0))
    expect(page.locator("#replay-to")).to_have_value(utc_input(t1))
    expect(page.locator("#replay-span")).to_contain_text("2023-11-14 22:12:20 → 22:13:20 UTC")

    # clear messages: a time that is not one, a server without a store (501), an empty window
    page.fill("#replay-from", "yesterday")
    page.click("#replay-load")
    expect(page.locator("#replay-msg.error")).to_contain_text("YYYY-MM-DD hh:mm:ss")
    expect(page.locator("#replay-from")).to_have_class(re.compile(r"\binvalid\b"))
    page.click("button[data-preset='0']")  # All
    expect(page.locator("#replay-from")).to_have_value(utc_input(t0))
    stored, backend.history = backend.history, None
    page.click("#replay-load")
    expect(page.locator("#replay-msg.error")).to_contain_text("keeps no track history")
    backend.history = stored
    page.fill("#replay-from", utc_input(t0 - 3600))
    page.fill("#replay-to", utc_input(t0 - 3000))
    page.click("#replay-load")
    expect(page.locator("#replay-msg.error")).to_contain_text("No tracks were stored between")
    expect(page.locator("#link")).to_have_text("LIVE")
    assert page.evaluate("() => window.skywarden.replay.active") is False

    # load the minute: the header says REPLAY, the live feed no longer moves the tracks
    page.click("button[data-preset='600']")
    page.click("#replay-load")
    page.wait_for_function("() => window.skywarden.replay.active", timeout=WAIT_MS)
    expect(page.locator("#link")).to_have_text("REPLAY")
    expect(page.locator("#replay-msg.ok")).to_contain_text("2 tracks")
    expect(page.locator("#replay-bar")).to_be_visible()
    assert_near(page.evaluate(POSITIONS), expected_positions(t0))

    slide_to(page, 10.0)  # only the drone is up
    assert_near(page.evaluate(POSITIONS), expected_positions(t0 + 10))
    expect(page.locator("#stat-time")).to_have_text("22:12:30")
    slide_to(page, 36.5)  # both, the airliner between two samples and now an aircraft
    at_36 = page.evaluate(POSITIONS)
    assert_near(at_36, expected_positions(t0 + 36.5))
    expect(page.locator("#stat-tracks")).to_have_text("2")
    classes = page.evaluate(
        "() => Object.fromEntries(window.skywarden.trackFeatures.features"
        ".map(f => [f.properties.id, f.properties.cls]))"
    )
    assert classes == {"11": "drone", "12": "aircraft"}
    page.wait_for_function(
        "() => window.skywarden.map.queryRenderedFeatures({layers: ['tracks']}).length === 2",
        timeout=WAIT_MS,
    )
    frames = page.evaluate("() => window.skywarden.frames")
    page.wait_for_function(f"() => window.skywarden.frames >= {frames + 2}", timeout=WAIT_MS)
    assert page.evaluate(POSITIONS) == at_36, "live snapshots moved the replayed tracks"
    page.wait_for_url(re.compile(rf"replay={t0:.0f},{t1:.0f}&at={t0 + 36.5}"), timeout=WAIT_MS)
    expect(page.locator("#labels .tlabel", has_text="KLM1234")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "map-replay.png"))

    slide_to(page, 58.0)  # the airliner's last sample was 5 s before the end: gone
    assert_near(page.evaluate(POSITIONS), expected_positions(t1 - 2))

    # play at 20x from 30 s in: it runs to the end of the window and stops there
    slide_to(page, 30.0)
    page.click("#replay-speeds button[data-speed='20']")
    page.click("#replay-play")
    page.wait_for_function(
        f"() => !window.skywarden.replay.playing && window.skywarden.replay.at === {t1}",
        timeout=WAIT_MS,
    )
    assert_near(page.evaluate(POSITIONS), expected_positions(t1))

    # the URL alone restores the replay
    page.goto(f"{url}/?replay={t0:.0f},{t1:.0f}&at={t0 + 10:.0f}")
    page.wait_for_function(
        "() => window.skywarden && window.skywarden.replay.active && window.skywarden.mapReady",
        timeout=WAIT_MS,
    )
    assert_near(page.evaluate(POSITIONS), expected_positions(t0 + 10))
    expect(page.locator("#link")).to_have_text("REPLAY")

    # back to live: the live tracks return and the URL forgets the replay
    page.click("#replay-live")
    expect(page.locator("#link")).to_have_text("LIVE", timeout=WAIT_MS)
    expect(page.locator("#replay-bar")).to_be_hidden()
    page.wait_for_function(
        "() => { const p = window.skywarden.positions(); return '101' in p && '202' in p; }",
        timeout=WAIT_MS,
    )
    assert set(page.evaluate(POSITIONS)) == {"101", "202"}
    assert "replay=" not in page.url and "at=" not in page.url

    # a window of hours asks the server for one sample per track every few seconds
    assert backend.history_steps[-1] is None
    expect(page.locator("#replay-form")).to_be_visible()  # the panel stays open after a replay
    page.fill("#replay-from", utc_input(t1 - 3 * 3600))
    page.fill("#replay-to", utc_input(t1))
    page.click("#replay-load")
    expect(page.locator("#replay-msg.ok")).to_contain_text("one sample per 3 s per track")
    assert backend.history_steps[-1] == 3.0


def test_the_map_signs_in_with_a_token_and_acts_as_that_user(served, tmp_path) -> None:
    """With authentication on, the page asks for a token, the live stream and the alert
    actions then use it, and the acknowledgement carries the token's user and role."""
    from skywarden.server.auth import Authenticator
    from skywarden.server.users import add_user

    expect = playwright_api.expect
    users = tmp_path / "users.json"
    token = add_user(users, "op-user", "operator")
    backend = MovingBackend(tick_s=0.2, sim_dt_s=1.0)
    with live_server(create_app(backend, live_rate_hz=5.0, auth=Authenticator(users))) as url:
        page = served[2].new_page(viewport={"width": 1600, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if "Security Policy" in m.text else 0)
        try:
            page.goto(url)
            expect(page.locator("#signin")).to_be_visible(timeout=WAIT_MS)
            page.fill("#signin-token", "op-user.wrong")
            page.click("#signin button[type=submit]")
            expect(page.locator("#signin .signin-err")).to_contain_text("401")
            page.fill("#signin-token", token)
            page.click("#signin button[type=submit]")
            expect(page.locator("#signin")).to_be_hidden(timeout=WAIT_MS)
            page.wait_for_function(  # the WebSocket authenticated with the token
                "() => window.skywarden && window.skywarden.mapReady && window.skywarden.frames",
                timeout=WAIT_MS,
            )
            expect(page.locator("#operator")).to_have_value("op-user", timeout=WAIT_MS)
            card = page.locator("#alerts li.alert.state-active")
            expect(card).to_have_count(1, timeout=WAIT_MS)
            card.locator("button.ack").click()
            deadline = time.monotonic() + WAIT_MS / 1000
            while not backend.actions and time.monotonic() < deadline:
                page.wait_for_timeout(100)
            assert backend.actions == [("acknowledge", 1, "op-user", "")]
            assert backend.roles == ["operator"]
        finally:
            page.close()
    assert errors == [], errors
