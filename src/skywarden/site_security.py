"""The security keys of a site configuration's ``[service]`` table, validated.

    users              users file (JSON, from ``skywarden user add``); turns authentication
                       on. Without it the service only listens on loopback.
    tls_cert, tls_key  PEM certificate (chain) and private key: serve HTTPS and WSS directly
    hosts              Host names the service answers to (others get 421); default: any
                       when authenticated, else the loopback names
    origins            extra browser origins allowed to change things and open the live
                       stream (``"https://console.example"``), besides the service's own
    max_zones, max_zone_vertices   bounds of a zone document (PUT /api/v1/zones and [zones])
    max_json_depth     deepest JSON nesting of a request body
    max_body_bytes     largest request body

Relative paths resolve against the config file's folder. :mod:`skywarden.site_config` calls
:func:`site_security` and keeps the result in ``SiteConfig.security``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

SECURITY_KEYS = frozenset(
    {"users", "tls_cert", "tls_key", "hosts", "origins", "max_zones", "max_zone_vertices",
     "max_json_depth", "max_body_bytes"}
)  # fmt: skip
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class SiteSecurity:
    """Authentication, TLS and request bounds of the service (see the module docstring)."""

    users: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    hosts: tuple[str, ...] | None = None
    origins: tuple[str, ...] = ()
    max_zones: int = 100
    max_zone_vertices: int = 10_000
    max_json_depth: int = 32
    max_body_bytes: int = 1_000_000

    def allowed_hosts(self, bind_host: str) -> tuple[str, ...] | None:
        """The Host names to accept: the configured ones; without them and without
        authentication only the loopback names (and the bind address), so that a web page
        elsewhere cannot reach an open loopback service through DNS rebinding; else any."""
        if self.hosts is not None:
            return self.hosts
        if self.users is None:
            return (*LOOPBACK_NAMES, bind_host)
        return None


def site_security(
    service: dict[str, Any], base: Path, fail: Callable[[str, str], NoReturn]
) -> SiteSecurity:
    """Validate the security keys of a ``[service]`` table (``fail(key, problem)`` raises)."""

    def path(key: str) -> Path | None:
        value = service.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            fail(f"service.{key}", f"must be a file path, not {value!r}")
        p = base / value
        if not p.is_file():
            hint = " (create it: skywarden user add NAME --role admin --users FILE)"
            fail(f"service.{key}", f"no such file: {p}{hint if key == 'users' else ''}")
        return p

    def names(key: str) -> tuple[str, ...] | None:
        value = service.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            fail(f"service.{key}", "must be a list of non-empty strings")
        return tuple(value)

    def count(key: str, default: int, lo: int, hi: int) -> int:
        value = service.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            fail(f"service.{key}", f"must be a whole number in [{lo}, {hi}], not {value!r}")
        return int(value)

    cert, key = path("tls_cert"), path("tls_key")
    if (cert is None) != (key is None):
        fail("service.tls_cert", "tls_cert and tls_key go together (PEM certificate and key)")
    origins = names("origins") or ()
    for origin in origins:
        if "://" not in origin:
            fail("service.origins", f"an origin looks like 'https://host:port', not {origin!r}")
    return SiteSecurity(
        users=path("users"),
        tls_cert=cert,
        tls_key=key,
        hosts=names("hosts"),
        origins=origins,
        max_zones=count("max_zones", 100, 1, 10_000),
        max_zone_vertices=count("max_zone_vertices", 10_000, 4, 1_000_000),
        max_json_depth=count("max_json_depth", 32, 4, 1_000),
        max_body_bytes=count("max_body_bytes", 1_000_000, 1_000, 100_000_000),
    )
