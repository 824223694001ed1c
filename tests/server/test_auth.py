"""Authentication and roles: the users file, the role x endpoint matrix, the WebSocket, the
open liveness route, the principal in operator actions, and the loopback-only rule."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from skywarden.cli import main
from skywarden.errors import ConfigError
from skywarden.server import create_app
from skywarden.server.auth import WS_SUBPROTOCOL, Authenticator, check_bind, is_loopback
from skywarden.server.users import add_user, read_users, remove_user
from skywarden.service import build_service, serve
from skywarden.site_config import site_config_from_dict
from tests.server.fake_backend import ZONES, FakeBackend
from tests.server.live_server import live_server
from tests.server.test_api import Client

V1 = "/api/v1"
ROLES = ("viewer", "operator", "admin")


@pytest.fixture(scope="module")
def users(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("auth") / "users.json"
    return path, {role: add_user(path, f"{role}-user", role) for role in ROLES}


def authed(users: tuple[Path, dict[str, str]]) -> tuple[Client, FakeBackend]:
    backend = FakeBackend()
    return Client(create_app(backend, auth=Authenticator(users[0]))), backend


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# every /api/v1 route: method, route, a concrete path, body, the least role that may use it
MATRIX = [
    ("GET", "/tracks", "/tracks", None, "viewer"),
    ("GET", "/tracks/{track_id}", "/tracks/101", None, "viewer"),
    ("GET", "/tracks/{track_id}/sources", "/tracks/101/sources", None, "viewer"),
    ("GET", "/tracks/{track_id}/classification", "/tracks/101/classification", None, "viewer"),
    ("GET", "/alerts", "/alerts", None, "viewer"),
    ("GET", "/alerts/{alert_id}", "/alerts/5", None, "viewer"),
    ("GET", "/zones", "/zones", None, "viewer"),
    ("GET", "/clutter", "/clutter", None, "viewer"),
    ("GET", "/zones/{zone_id}", "/zones/site-core", None, "viewer"),
    ("GET", "/health", "/health", None, "viewer"),
    ("GET", "/audit", "/audit", None, "viewer"),
    ("GET", "/history/tracks", "/history/tracks?t0=1&t1=2", None, "viewer"),
    ("GET", "/history/span", "/history/span", None, "viewer"),
    ("GET", "/map-config", "/map-config", None, "viewer"),
    ("GET", "/me", "/me", None, "viewer"),
    ("POST", "/alerts/{alert_id}/acknowledge", "/alerts/5/acknowledge", {"note": "x"}, "operator"),
    ("POST", "/alerts/{alert_id}/reject", "/alerts/7/reject", {}, "operator"),
    ("POST", "/alerts/{alert_id}/ignore", "/alerts/5/ignore", {}, "operator"),
    ("PUT", "/zones", "/zones", ZONES, "admin"),
    ("GET", "/rules", "/rules", None, "viewer"),
    ("PUT", "/rules", "/rules", [{"name": "r", "classes": ["drone"], "priority": 2}], "admin"),
    ("GET", "/allow", "/allow", None, "viewer"),
    ("PUT", "/allow", "/allow", [{"identity": "icao:3C660C", "note": "police"}], "admin"),
]


def test_the_matrix_covers_every_api_route(users) -> None:
    client, _ = authed(users)
    paths = client.get("/openapi.json").json()["paths"]  # the schema itself is public
    routes = {(m.upper(), p) for p, ops in paths.items() if p.startswith(V1) for m in ops}
    assert routes == {(m, V1 + route) for m, route, _, _, _ in MATRIX}


@pytest.mark.parametrize(("method", "route", "path", "body", "least"), MATRIX)
def test_role_matrix(users, method: str, route: str, path: str, body, least: str) -> None:
    client, backend = authed(users)
    tokens = users[1]
    outcomes = {}
    for who, headers in [("none", {}), ("wrong", bearer("viewer-user.not-the-secret")),
                         ("garbage", bearer("x")), ("basic", {"Authorization": "Basic eDp5"}),
                         *((role, bearer(tokens[role])) for role in ROLES)]:  # fmt: skip
        r = client.request(method, V1 + path, json=body, headers=headers)
        outcomes[who] = r.status_code
        if who in ("none", "wrong", "garbage", "basic"):
            assert r.status_code == 401, (who, r.text)
            assert r.headers["www-authenticate"].startswith("Bearer")
        elif ROLES.index(who) < ROLES.index(least):
            assert r.status_code == 403, (who, r.text)
            assert least in r.json()["detail"]
        else:
            assert r.status_code not in (401, 403), (who, r.text)
    if least != "viewer":  # only the allowed roles got through to the backend
        acted = backend.actions or backend.zone_changes
        allowed = [r for r in ROLES if ROLES.index(r) >= ROLES.index(least)]
        got = backend.roles if backend.actions else [role for _, role in backend.zone_changes]
        assert acted and set(got) <= set(allowed), outcomes


def test_operator_name_and_role_come_from_the_token(users) -> None:
    client, backend = authed(users)
    token = users[1]["operator"]
    r = client.post(f"{V1}/alerts/5/acknowledge", json={"note": "seen"}, headers=bearer(token))
    assert r.status_code == 200
    assert backend.actions == [("acknowledge", 5, "operator-user", "seen")]
    assert backend.roles == ["operator"]
    # a different name in the body is refused, not silently replaced
    r = client.post(f"{V1}/alerts/7/reject", json={"who": "mallory"}, headers=bearer(token))
    assert r.status_code == 422 and "operator-user" in r.json()["detail"]
    me = client.get(f"{V1}/me", headers=bearer(token)).json()
    assert me == {"name": "operator-user", "role": "operator", "authenticated": True}
    r = client.put(f"{V1}/zones", json=ZONES, headers=bearer(users[1]["admin"]))
    assert r.status_code == 200 and backend.zone_changes == [("admin-user", "admin")]


def test_without_users_everything_stays_open_and_who_is_required() -> None:
    backend = FakeBackend()
    client = Client(create_app(backend))
    assert client.get(f"{V1}/tracks").status_code == 200
    assert client.get(f"{V1}/me").json()["authenticated"] is False
    assert client.post(f"{V1}/alerts/5/acknowledge", json={"note": "x"}).status_code == 422
    assert client.post(f"{V1}/alerts/5/acknowledge", json={"who": "ann"}).status_code == 200
    assert backend.roles == [""]


def test_healthz_is_open_says_nothing_and_503_once_the_pipeline_stopped(users) -> None:
    client, backend = authed(users)
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    backend.failure = "pipeline stopped: OverflowError: int too large"
    r = client.get("/healthz")
    assert r.status_code == 503 and "OverflowError" in r.json()["reason"]
    assert set(r.json()) == {"status", "reason"}  # nothing about tracks, alerts or sensors
    r = client.get(f"{V1}/health", headers=bearer(users[1]["viewer"]))
    assert r.status_code == 503 and r.json()["status"] == "stopped"


def test_websocket_authenticates_before_the_first_snapshot(users) -> None:
    app = create_app(FakeBackend(), auth=Authenticator(users[0]))
    viewer = users[1]["viewer"]
    with live_server(app) as base:
        url = base.replace("http", "ws") + f"{V1}/live"
        for attempt in ({}, {"subprotocols": [WS_SUBPROTOCOL, "viewer-user.wrong"]},
                        {"additional_headers": bearer("nobody.x")}):  # fmt: skip
            with pytest.raises(InvalidStatus) as refused:  # refused at the handshake
                connect(url, open_timeout=10, **attempt)
            assert refused.value.response.status_code == 403
        with connect(url, subprotocols=[WS_SUBPROTOCOL, viewer], open_timeout=10) as ws:
            assert ws.subprotocol == WS_SUBPROTOCOL
            assert json.loads(ws.recv(timeout=10))["seq"] == 1
        with connect(url, additional_headers=bearer(viewer), open_timeout=10) as ws:
            assert json.loads(ws.recv(timeout=10))["seq"] == 1


def test_users_file_keeps_only_salted_hashes_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    token_a = add_user(path, "ann", "admin")
    token_b = add_user(path, "bob", "viewer")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text()
    for token in (token_a, token_b):
        assert token.split(".")[1] not in text  # the secret is nowhere in the file
    users = read_users(path)
    assert users["ann"].salt != users["bob"].salt and users["ann"].role == "admin"
    with pytest.raises(ConfigError, match="role"):
        add_user(path, "carl", "root")
    with pytest.raises(ConfigError, match="name"):
        add_user(path, "bad name", "viewer")


def test_a_wrong_token_costs_one_scrypt_however_often_it_is_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from skywarden.server import users as users_module

    path = tmp_path / "users.json"
    token = add_user(path, "ann", "viewer")
    checks = []
    real = users_module.User.matches
    monkeypatch.setattr(users_module.User, "matches",
                        lambda self, secret: checks.append(1) or real(self, secret))  # fmt: skip
    auth = Authenticator(path)
    for _ in range(5):
        assert auth.principal("ann.guessed") is None
        assert auth.principal(token).name == "ann"
    assert len(checks) == 2 and auth.failures == 5  # one scrypt each, every refusal counted
    assert auth.principal("nobody.guessed") is None and len(checks) == 2  # no such user


def test_removing_a_user_revokes_the_token_of_a_running_service(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    token = add_user(path, "ann", "viewer")
    client = Client(create_app(FakeBackend(), auth=Authenticator(path)))
    assert client.get(f"{V1}/tracks", headers=bearer(token)).status_code == 200
    remove_user(path, "ann")
    assert client.get(f"{V1}/tracks", headers=bearer(token)).status_code == 401
    with pytest.raises(ConfigError, match="no user"):
        remove_user(path, "ann")


def test_cli_user_add_prints_the_token_once_and_remove_revokes(tmp_path, capsys) -> None:
    path = tmp_path / "users.json"
    assert main(["user", "add", "ops", "--role", "operator", "--users", str(path)]) == 0
    token = capsys.readouterr().out.strip()
    assert Authenticator(path).principal(token).role == "operator"
    assert main(["user", "list", "--users", str(path)]) == 0
    assert capsys.readouterr().out == "ops\toperator\n"
    assert main(["user", "remove", "ops", "--users", str(path)]) == 0
    assert Authenticator(path).principal(token) is None
    assert main(["user", "remove", "ops", "--users", str(path)]) == 2


def test_a_non_loopback_bind_without_users_refuses_to_start(tmp_path: Path) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1")
    assert not is_loopback("console.example")
    with pytest.raises(ConfigError, match="users"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", tmp_path / "users.json")
    doc = {"site": {"lat": 47.0, "lon": 8.0}, "service": {"bind": "0.0.0.0:18080"}}
    with pytest.raises(ConfigError, match="without authentication"):
        build_service(site_config_from_dict(doc, tmp_path))
    doc["service"]["bind"] = "127.0.0.1:18080"
    service = build_service(site_config_from_dict(doc, tmp_path))
    with pytest.raises(ConfigError, match="without authentication"):  # a host given to serve
        asyncio.run(serve(service, host="0.0.0.0"))
