"""The map's compact-stream decoder (live_compact.js) in a real browser gives the pictures the
Python reference client gives, message by message, for a real pipeline's snapshots (tracks
coming and going, trails growing) and for the fake backend's aircraft, alerts and sensors.
Skips when /usr/bin/chromium or playwright is missing."""

from __future__ import annotations

import base64
import zlib
from pathlib import Path

import pytest

from skywarden.server.live_compact import encode
from skywarden.server.live_compact_reference import CompactClient
from tests.server.fake_backend import static_snapshot
from tests.server.test_browser import CHROMIUM, FLAGS
from tests.test_pipeline_tick_cost import T0, drones, make_pipeline

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason="needs Debian chromium: apt-get install -y chromium"
)
SCRIPT = Path(__file__).resolve().parents[2] / "src/skywarden/server/web/live_compact.js"
DECODE_ALL = """(messages) => {
  const client = window.skywardenCompact.client();
  return messages.map((b64) => client.apply(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))));
}"""


def same(js: object, py: object, path: str = "") -> None:
    """Equal, numbers to 1e-9 relative (JS rounds halves up, Python to even: both to the same
    digits, so they may differ in the last one)."""
    if isinstance(py, dict):
        assert isinstance(js, dict) and set(js) == set(py), (path, js, py)
        for k in py:
            same(js[k], py[k], f"{path}.{k}")
    elif isinstance(py, list):
        assert isinstance(js, list) and len(js) == len(py), (path, js, py)
        for i, (a, b) in enumerate(zip(js, py, strict=True)):
            same(a, b, f"{path}[{i}]")
    elif isinstance(py, float) or (isinstance(js, float) and isinstance(py, int)):
        assert abs(js - py) <= 1e-9 * max(1.0, abs(py)) + 1.1e-7, (path, js, py)
    else:
        assert js == py, (path, js, py)


def test_the_browser_decoder_gives_the_reference_clients_pictures() -> None:
    pipeline = make_pipeline()
    snapshots = [pipeline.process(T0 + k, drones(T0 + k, 6 if k < 15 else 3))[0]
                 for k in range(20)]  # fmt: skip
    snapshots += [static_snapshot(seq=100 + k, t=T0 + 30 + k) for k in range(3)]
    messages, state = [], None
    for k, snapshot in enumerate(snapshots):
        message, state = encode(None if k == 20 else state, snapshot)  # a keyframe on the way
        messages.append(message)
    reference = CompactClient()
    expected = [reference.apply(m) for m in messages]
    inflated = [base64.b64encode(zlib.decompress(m)).decode() for m in messages]
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            page = browser.new_page()
            page.set_content("<html><body></body></html>")
            page.add_script_tag(path=str(SCRIPT))
            got = page.evaluate(DECODE_ALL, inflated)
        finally:
            browser.close()
    assert any(len(r["trail"]) > 3 for r in expected[19]["tracks"])
    assert expected[-1]["alerts"] and expected[-1]["sensors"]
    for js, py in zip(got, expected, strict=True):
        same(js, py)
