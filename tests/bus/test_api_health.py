"""The api node's /health says when the core has gone silent (dead, stalled, cut off): its
last "ok" is not repeated as news. No nats-server needed: the backend's health document."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from skywarden.bus import api
from skywarden.bus.api import CORE_SILENT_S, BusBackend
from skywarden.bus.settings import BusConfig
from skywarden.bus.subjects import SiteSubjects
from skywarden.site_config import load_site_config

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "site.toml"


def _backend() -> BusBackend:
    config = load_site_config(EXAMPLE)
    return BusBackend(config, BusConfig(urls=("nats://127.0.0.1:4222",)), SiteSubjects.of("x"))


def test_core_heard_recently_keeps_its_own_status() -> None:
    backend = _backend()
    backend.core_health = {"status": "ok", "degraded": [], "sources": {}}
    backend.core_health_t = time.time() - 1.0
    body = backend.health()
    assert body["status"] == "ok" and body["degraded"] == []
    assert 0.9 < body["bus"]["core_health_age_s"] < CORE_SILENT_S


def test_core_never_heard_is_degraded() -> None:
    body = _backend().health()
    assert body["status"] == "degraded"
    assert body["degraded"] == ["core: no health heard from the core yet"]
    assert body["bus"]["core_health_age_s"] is None


def test_silent_core_is_degraded_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    backend = _backend()
    backend.core_health = {"status": "degraded", "degraded": ["store: disk full"], "sources": {}}
    backend.core_health_t = time.time() - (CORE_SILENT_S + 2.0)
    with caplog.at_level(logging.WARNING, logger=api.__name__):
        first, again = backend.health(), backend.health()
    assert first["status"] == again["status"] == "degraded"
    assert first["degraded"][0] == "store: disk full"  # the core's own reasons are kept
    assert first["degraded"][1].startswith("core: no health from the core for 7 s")
    assert sum("not current" in r.getMessage() for r in caplog.records) == 1
    backend.core_health = {"status": "ok", "degraded": [], "sources": {}}
    backend.core_health_t = time.time()  # heard again
    assert backend.health()["status"] == "ok"


def test_silence_threshold_is_more_than_two_core_health_periods() -> None:
    from skywarden.bus.core import HEALTH_PERIOD_S

    assert CORE_SILENT_S >= 2 * HEALTH_PERIOD_S
