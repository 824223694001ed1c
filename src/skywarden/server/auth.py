"""Authentication and roles of the service: bearer tokens from the users file.

Roles, each including the ones before it:

* ``viewer``: reads tracks, alerts, zones, history, health and the live stream;
* ``operator``: also acknowledges, rejects and ignores alerts;
* ``admin``: also changes zones.

With a users file (``[service] users``) every ``/api/v1`` route needs ``Authorization: Bearer
TOKEN``: none or a wrong one is 401, a role too low 403. The WebSocket ``/api/v1/live``
authenticates before its first snapshot, from the same header or, because a browser cannot
set headers on a WebSocket, from its subprotocol list: ``new WebSocket(url,
["skywarden.bearer", TOKEN])`` (the server answers with the subprotocol ``skywarden.bearer``;
the token is never put in a URL, so it does not end up in access logs). A refused WebSocket
is closed with code 1008 (policy violation) before it is accepted (HTTP 403 at the handshake).

Without a users file nothing is checked (the demo, loopback-only use) and the operator names
what they do in the request body; with one the name comes from the token. The service refuses
to listen on a non-loopback address without a users file (:func:`check_bind`).

Verifying a token costs one scrypt (tens of ms, in a worker thread); a verified token is
remembered (by its SHA-256) until the users file changes, which is checked on every request,
so ``skywarden user remove`` revokes a running service's token at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Depends, HTTPException, Request
from starlette.websockets import WebSocket

from skywarden.errors import ConfigError
from skywarden.server.users import ROLES, read_users, split_token

log = logging.getLogger(__name__)

WS_SUBPROTOCOL = "skywarden.bearer"
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
MAX_REMEMBERED_TOKENS = 1024
SCRYPT_SLOTS = 2  # concurrent scrypt checks of new tokens


@dataclass(frozen=True)
class Principal:
    """Who is asking: the user's name and role (``authenticated`` False when auth is off)."""

    name: str
    role: str
    authenticated: bool = True

    def may(self, role: str) -> bool:
        """Whether this principal's role includes ``role``."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


NOBODY = Principal("", "admin", authenticated=False)  # auth off: every route is open


class Authenticator:
    """Checks bearer tokens against a users file (None: authentication is off)."""

    def __init__(self, users_path: str | Path | None) -> None:
        self.path = Path(users_path) if users_path is not None else None
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._users: dict[str, Any] = {}
        self._known: dict[bytes, Principal] = {}
        self._refused: set[bytes] = set()
        self._slots = threading.BoundedSemaphore(SCRYPT_SLOTS)
        self.failures = 0
        if self.path is not None:
            self._reload()
            if not self._users:
                log.warning("users file %s has no users: nobody can sign in", self.path)

    @property
    def enabled(self) -> bool:
        return self.path is not None

    def _reload(self) -> None:
        """Re-read the users file when it changed (and forget remembered tokens)."""
        assert self.path is not None
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = (0, 0, 0)
        if stamp != self._stamp:
            self._users = read_users(self.path)
            self._known.clear()
            self._refused.clear()
            self._stamp = stamp

    def _matches(self, user: Any, secret: str) -> bool:
        """One scrypt check, at most SCRYPT_SLOTS at a time: a flood of made-up tokens
        queues here instead of taking every core (remembered tokens never wait)."""
        with self._slots:
            return bool(user.matches(secret))

    def remembered(self, token: str | None) -> Principal | None:
        """The principal of a token already verified (or :data:`NOBODY` with authentication
        off) without any scrypt: None means 'unknown yet', not 'refused'."""
        if self.path is None:
            return NOBODY
        if not token:
            return None
        key = hashlib.sha256(token.encode()).digest()
        with self._lock:
            try:
                self._reload()
            except ConfigError:
                return None
            return self._known.get(key)

    def principal(self, token: str | None) -> Principal | None:
        """The principal of a token; None for a missing or wrong one. :data:`NOBODY` when
        authentication is off."""
        if self.path is None:
            return NOBODY
        if not token:
            return None
        key = hashlib.sha256(token.encode()).digest()
        with self._lock:
            try:
                self._reload()
            except ConfigError as exc:  # a broken users file admits nobody, loudly
                log.error("users file unreadable, refusing every token: %s", exc)
                return None
            known = self._known.get(key)
            if known is not None:
                return known
            if key in self._refused:  # the same wrong token again: no second scrypt
                self.failures += 1
                return None
            parts = split_token(token)
            user = self._users.get(parts[0]) if parts is not None else None
        if user is None or parts is None or not self._matches(user, parts[1]):
            with self._lock:
                self.failures += 1
                if len(self._refused) >= MAX_REMEMBERED_TOKENS:
                    self._refused.clear()
                self._refused.add(key)
            return None
        found = Principal(user.name, user.role)
        with self._lock:
            if len(self._known) >= MAX_REMEMBERED_TOKENS:
                self._known.clear()
            self._known[key] = found
        return found


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header value, else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def requires(auth: Authenticator, role: str) -> Any:
    """A FastAPI dependency: the request's :class:`Principal`, which must have ``role``
    (401 without a valid token, 403 for a role too low)."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")

    async def dependency(request: Request) -> Principal:
        token = bearer_token(request.headers.get("authorization"))
        found = auth.remembered(token)  # on the loop: a dict look-up
        if found is None and token:  # a new token: scrypt in a worker thread
            found = await asyncio.to_thread(auth.principal, token)
        if found is None:
            raise HTTPException(
                401,
                "sign in: this service needs 'Authorization: Bearer TOKEN' "
                "(a token from 'skywarden user add')",
                headers={"WWW-Authenticate": 'Bearer realm="skywarden"'},
            )
        if not found.may(role):
            raise HTTPException(403, f"{found.name} is {found.role}; this needs {role}")
        request.state.principal = found
        return found

    dependency.__name__ = f"requires_{role}"
    return Depends(dependency)


def websocket_token(websocket: WebSocket) -> tuple[str | None, str | None]:
    """(token, subprotocol to answer with) of a WebSocket handshake: from the Authorization
    header, or the entry after ``skywarden.bearer`` in its subprotocol list."""
    token = bearer_token(websocket.headers.get("authorization"))
    offered = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",")]
    chosen = WS_SUBPROTOCOL if WS_SUBPROTOCOL in offered else None
    if token is None and chosen is not None:
        rest = [p for p in offered if p and p != WS_SUBPROTOCOL]
        token = rest[0] if rest else None
    return token, chosen


def is_loopback(host: str) -> bool:
    """Whether a bind address only listens on this machine."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


def check_bind(host: str, users: Path | None) -> None:
    """Refuse to listen beyond loopback without authentication (ConfigError saying why)."""
    if users is None and not is_loopback(host):
        raise ConfigError(
            f"service.bind: refusing to listen on {host!r} without authentication: anyone who "
            "can reach it could change zones and silence alerts. Set [service] users = "
            '"users.json" (create users with \'skywarden user add NAME --role admin --users '
            "users.json'), or bind to 127.0.0.1 and put an authenticating reverse proxy in front"
        )
