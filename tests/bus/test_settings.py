"""The [bus] table: validated with the site file's unknown-key checker; secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from skywarden.errors import ConfigError
from skywarden.site_config import site_config_from_dict

SITE = {"site": {"name": "north", "lat": 50.0, "lon": 4.0}}


def _load(bus: dict, tmp_path: Path):
    return site_config_from_dict({**SITE, "bus": bus}, tmp_path, "site.toml")


def test_no_bus_table_is_one_process(tmp_path: Path) -> None:
    assert site_config_from_dict(dict(SITE), tmp_path).bus is None


def test_url_token_and_defaults(tmp_path: Path) -> None:
    bus = _load({"url": "nats://10.0.0.5:4222", "token": "t0ken"}, tmp_path).bus
    assert bus.urls == ("nats://10.0.0.5:4222",) and bus.token == "t0ken"
    assert bus.auth_kind() == "token" and "t0ken" not in repr(bus)
    assert bus.replay_window_s == 60.0 and bus.max_raw_bytes == 65_536


def test_credentials_file_and_tls(tmp_path: Path) -> None:
    for name in ("site.creds", "ca.pem", "c.pem", "k.pem"):
        (tmp_path / name).write_text("x")
    table = {"url": ["tls://a:4222", "tls://b:4222"], "credentials": "site.creds",
             "tls_ca": "ca.pem", "tls_cert": "c.pem", "tls_key": "k.pem"}  # fmt: skip
    bus = _load(table, tmp_path).bus
    assert bus.credentials == tmp_path / "site.creds" and bus.tls_key == tmp_path / "k.pem"
    assert len(bus.urls) == 2 and bus.auth_kind() == "credentials"


@pytest.mark.parametrize(
    ("bus", "message"),
    [
        ({"url": "nats://h:4222", "secret": "x"}, r"unknown key\(s\) secret"),
        ({"token": "x"}, "bus.url"),
        ({"url": "http://h:4222"}, "bus.url"),
        ({"url": "nats://h"}, "bus.url"),
        ({"url": "nats://h:1", "token": "a", "user": "u", "password": "p"}, "one of"),
        ({"url": "nats://h:1", "user": "u"}, "go together"),
        ({"url": "nats://h:1", "credentials": "missing.creds"}, "no such file"),
        ({"url": "nats://h:1", "replay_window_s": -1}, "bus.replay_window_s"),
        ({"url": "nats://h:1", "max_raw_bytes": True}, "bus.max_raw_bytes"),
    ],
)
def test_bad_bus_tables_name_the_key(bus: dict, message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=message):
        _load(bus, tmp_path)


def test_role_needs_a_bus_table(tmp_path: Path) -> None:
    from skywarden.bus.roles import run_role

    with pytest.raises(ConfigError, match=r"\[bus\]"):
        run_role(site_config_from_dict(dict(SITE), tmp_path), "core")
