"""The service around the security pieces: zone changes survive a restart (unless the zone
file changed), a dead pipeline is never reported healthy and ends the service, HTTPS/WSS with
tls_cert/tls_key, and config tables that name unknown keys."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from skywarden import service as service_module
from skywarden.errors import ConfigError
from skywarden.server import create_app
from skywarden.service import PipelineStopped, build_service, serve
from skywarden.site_config import load_site_config, site_config_from_dict
from skywarden.store import HistoryReader

SITE = {"name": "t", "lat": 47.0, "lon": 8.0}


def circle(zone_id: str, radius_m: float) -> dict:
    return {"type": "Feature", "id": zone_id,
            "properties": {"role": "protected", "floor_m": 0, "ceiling_m": 300,
                           "radius_m": radius_m},
            "geometry": {"type": "Point", "coordinates": [8.0, 47.0]}}  # fmt: skip


def write_site(folder: Path, zones: list[dict], extra: str = "") -> Path:
    (folder / "zones.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": zones})
    )
    path = folder / "site.toml"
    path.write_text(
        '[site]\nname = "t"\nlat = 47.0\nlon = 8.0\n\n[zones]\nfile = "zones.geojson"\n\n'
        '[storage]\npath = "history.duckdb"\n' + extra
    )
    return path


def zone_ids(service) -> list[str]:
    return [z.id for z in service.pipeline.zones]


def test_zone_changes_survive_a_restart_until_the_zone_file_changes(tmp_path: Path) -> None:
    site = write_site(tmp_path, [circle("file-core", 500.0)])
    first = build_service(load_site_config(site), with_server=False)
    assert zone_ids(first) == ["file-core"]
    doc = {"type": "FeatureCollection", "features": [circle("runtime-a", 800.0),
                                                     circle("runtime-b", 1500.0)]}  # fmt: skip
    first.pipeline.put_zones(doc, who="alice", role="admin")
    audit = [e for e in first.pipeline.audit() if e["action"] == "put_zones"]
    assert audit and audit[0]["who"] == "alice" and audit[0]["role"] == "admin"
    first.history.close()

    second = build_service(load_site_config(site), with_server=False)  # the restart
    assert zone_ids(second) == ["runtime-a", "runtime-b"]
    second.history.close()
    with HistoryReader(tmp_path / "history.duckdb") as reader:
        stored = json.loads(reader.meta().config_text)["zones"]["geojson"]
        changes = reader.changes()
    assert [f["id"] for f in stored["features"]] == ["runtime-a", "runtime-b"]  # replay starts here
    assert [(c["who"], c["role"]) for c in changes] == [("alice", "admin")]

    write_site(tmp_path, [circle("edited-core", 600.0)])  # the operator edits the zone file
    third = build_service(load_site_config(site), with_server=False)
    assert zone_ids(third) == ["edited-core"]  # the newer file wins over the old change
    third.pipeline.put_rules([{"name": "only drones", "classes": ["drone"], "priority": 4}],
                             who="alice", role="admin")  # fmt: skip
    third.pipeline.put_allow([{"identity": "icao:3C660C", "note": "police"}], "bob", "admin")
    third.history.close()

    fourth = build_service(load_site_config(site), with_server=False)
    assert [r.name for r in fourth.pipeline.config.rules] == ["only drones"]
    assert fourth.pipeline.allow_json()[0]["note"] == "police"
    assert zone_ids(fourth) == ["edited-core"]
    fourth.history.close()


def test_a_dead_pipeline_answers_503_logs_why_and_ends_the_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(service_module, "FAILURE_GRACE_S", 0.5)
    config = site_config_from_dict({"site": SITE, "service": {"scan_period_s": 0.05}}, tmp_path)
    service = build_service(config, with_server=False)
    app = create_app(service.pipeline)

    def explode(*args, **kwargs):
        raise OverflowError("Python int too large to convert to C long")

    service.pipeline.advance = explode  # the live tick's tracker part (tick_thread.py)
    statuses = []

    async def run() -> None:
        serving = asyncio.create_task(serve(service))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for _ in range(100):
                if service.pipeline.failure:
                    break
                await asyncio.sleep(0.05)
            for path in ("/healthz", "/api/v1/health"):
                r = await client.get(path)
                statuses.append((r.status_code, r.json()))
        with pytest.raises(PipelineStopped, match="OverflowError"):
            await serving

    with caplog.at_level(logging.ERROR, logger="skywarden.service"):
        asyncio.run(run())
    assert [s for s, _ in statuses] == [503, 503]
    assert all("OverflowError" in body["reason"] for _, body in statuses)
    assert any("pipeline stopped: OverflowError" in r.getMessage() for r in caplog.records)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed: cannot make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_tls_serves_https_and_wss(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    port = free_port()
    doc = {"site": SITE, "service": {"bind": f"127.0.0.1:{port}", "tls_cert": "cert.pem",
                                     "tls_key": "key.pem"}}  # fmt: skip
    service = build_service(site_config_from_dict(doc, tmp_path))
    trust = ssl.create_default_context(cafile=str(cert))
    seen: dict[str, object] = {}

    async def run() -> None:
        serving = asyncio.create_task(serve(service))
        try:
            async with httpx.AsyncClient(verify=trust) as client:
                for _ in range(200):
                    try:
                        r = await client.get(f"https://127.0.0.1:{port}/healthz")
                        seen["https"] = r.status_code
                        seen["hsts"] = r.headers.get("strict-transport-security")
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
            async with httpx.AsyncClient() as plain:  # no plain HTTP on the TLS port
                with pytest.raises(httpx.HTTPError):
                    await plain.get(f"http://127.0.0.1:{port}/healthz")

            def wss() -> int:
                url = f"wss://127.0.0.1:{port}/api/v1/live"
                with connect(url, ssl=trust, open_timeout=10) as ws:
                    return json.loads(ws.recv(timeout=10))["seq"]

            seen["wss"] = await asyncio.to_thread(wss)
        finally:
            service.stop.set()
            await serving

    asyncio.run(run())
    assert seen["https"] == 200 and isinstance(seen["wss"], int)
    assert seen["hsts"] == "max-age=31536000"


def test_a_failed_history_flush_is_logged_and_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from skywarden.store.history import HistoryError

    doc = {"site": SITE, "storage": {"path": "h.duckdb", "flush_s": 0.1}}
    service = build_service(site_config_from_dict(doc, tmp_path), with_server=False)
    flush, calls = service.history.flush, []

    def failing_once() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise HistoryError("disk full")
        return flush()

    monkeypatch.setattr(service.history, "flush", failing_once)

    async def run() -> None:
        serving = asyncio.create_task(serve(service))
        for _ in range(100):
            if len(calls) >= 3:
                break
            await asyncio.sleep(0.05)
        service.stop.set()
        await serving

    with caplog.at_level(logging.ERROR, logger="skywarden.service"):
        asyncio.run(run())
    assert len(calls) >= 3  # the flush task went on after the failure
    assert any("disk full" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("table", "key"),
    [("site", "elevation"), ("service", "auth_token"), ("service", "tls"),
     ("storage", "pth"), ("sinks", "mqtt"), ("zones", "files")],
)  # fmt: skip
def test_unknown_keys_in_every_table_are_named(tmp_path: Path, table: str, key: str) -> None:
    doc = {"site": dict(SITE), table: {key: "x"}}
    if table == "site":
        doc["site"][key] = 1
    with pytest.raises(ConfigError, match=f"{table}: unknown key.*{key}.*known: ") as err:
        site_config_from_dict(doc, tmp_path)
    assert "known:" in str(err.value)


@pytest.mark.parametrize(
    ("service", "expected"),
    [({"users": "missing.json"}, "user add"), ({"tls_cert": "cert.pem"}, "no such file"),
     ({"max_zones": 0}, "max_zones"), ({"hosts": "one"}, "list"),
     ({"origins": ["ops.example"]}, "https://")],
)  # fmt: skip
def test_bad_security_keys_say_what_is_wrong(tmp_path: Path, service: dict, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        site_config_from_dict({"site": SITE, "service": service}, tmp_path)


def test_allow_from_only_for_udp_and_must_be_addresses(tmp_path: Path) -> None:
    sensor = {"name": "rid", "kind": "remote_id", "transport": "udp", "port": 4000}
    ok = site_config_from_dict(
        {"site": SITE, "sensors": [dict(sensor, allow_from=["192.0.2.7", "10.0.0.0/8"])]},
        tmp_path,
    )
    assert ok.sensors[0].allow_from == ("192.0.2.7", "10.0.0.0/8")
    with pytest.raises(ConfigError, match="not an IP"):
        site_config_from_dict({"site": SITE, "sensors": [dict(sensor, allow_from=["x"])]},
                              tmp_path)  # fmt: skip
    tcp = dict(sensor, transport="tcp", allow_from=["192.0.2.7"])
    with pytest.raises(ConfigError, match="only a udp"):
        site_config_from_dict({"site": SITE, "sensors": [tcp]}, tmp_path)
