"""The ``[bus]`` table of a site configuration (validated; no NATS import here).

    [bus]
    url = "nats://127.0.0.1:4222"       # or tls://host:port; a list for a cluster
    token = "..."                        # or user + password, or credentials = "site.creds"
    tls_ca, tls_cert, tls_key            # client TLS (PEM files, relative to the config file)
    raw_retention_s = 86400              # how long the raw stream keeps datagrams
    replay_window_s = 60                 # recent raw input a restarted core re-forms tracks from
    max_raw_bytes = 65536                # larger raw messages are counted and dropped
    request_timeout_s = 2                # operator actions from the api to the core

Secrets live in the site file (or the credentials file it names), never on the command line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

BUS_KEYS = frozenset(
    {"url", "token", "user", "password", "credentials", "tls_ca", "tls_cert", "tls_key",
     "raw_retention_s", "replay_window_s", "max_raw_bytes", "request_timeout_s"}
)  # fmt: skip
_URL = re.compile(r"^(nats|tls)://[^\s/]+:\d{1,5}$")


@dataclass(frozen=True)
class BusConfig:
    """How a role reaches NATS and what the streams keep (times in seconds)."""

    urls: tuple[str, ...]
    token: str | None = None
    user: str | None = None
    password: str | None = None
    credentials: Path | None = None
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    raw_retention_s: float = 86_400.0
    replay_window_s: float = 60.0
    max_raw_bytes: int = 65_536
    request_timeout_s: float = 2.0

    def __repr__(self) -> str:  # never print secrets in logs or tracebacks
        return f"BusConfig(urls={self.urls!r}, auth={self.auth_kind()!r})"

    def auth_kind(self) -> str:
        if self.credentials is not None:
            return "credentials"
        if self.token is not None:
            return "token"
        return "user" if self.user is not None else "none"


def bus_config(
    table: dict[str, Any], base: Path, fail: Callable[[str, str], NoReturn]
) -> BusConfig | None:
    """Validate a ``[bus]`` table (already checked for unknown keys); None when absent."""
    if not table:
        return None
    raw = table.get("url")
    urls = [raw] if isinstance(raw, str) else raw
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        fail("bus.url", 'must be "nats://HOST:PORT" (or a list of them)')
    for u in urls:
        if not _URL.match(u):
            fail("bus.url", f'must look like "nats://HOST:PORT" or "tls://HOST:PORT", not {u!r}')

    def text(key: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            fail(f"bus.{key}", "must be a non-empty string")
        return value

    def path(key: str) -> Path | None:
        value = text(key)
        if value is None:
            return None
        p = base / value
        if not p.is_file():
            fail(f"bus.{key}", f"no such file: {p}")
        return p

    def number(key: str, default: float, lo: float, hi: float) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            fail(f"bus.{key}", f"must be a number in [{lo}, {hi}], not {value!r}")
        return float(value)

    token, user, password = text("token"), text("user"), text("password")
    credentials = path("credentials")
    if (user is None) != (password is None):
        fail("bus.user", "user and password go together")
    if sum(x is not None for x in (token, user, credentials)) > 1:
        fail("bus.token", "give one of token, user + password, or credentials")
    cert, key = path("tls_cert"), path("tls_key")
    if (cert is None) != (key is None):
        fail("bus.tls_cert", "tls_cert and tls_key go together (PEM certificate and key)")
    return BusConfig(
        urls=tuple(urls), token=token, user=user, password=password, credentials=credentials,
        tls_ca=path("tls_ca"), tls_cert=cert, tls_key=key,
        raw_retention_s=number("raw_retention_s", 86_400.0, 60.0, 365 * 86_400.0),
        replay_window_s=number("replay_window_s", 60.0, 0.0, 3_600.0),
        max_raw_bytes=int(number("max_raw_bytes", 65_536, 64, 1_000_000)),
        request_timeout_s=number("request_timeout_s", 2.0, 0.1, 60.0),
    )  # fmt: skip
