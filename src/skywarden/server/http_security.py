"""Transport checks and headers of every HTTP response and WebSocket handshake.

* **Host**: with ``allowed_hosts`` (names, without port) a request for any other Host gets 421
  (a WebSocket is refused). This stops DNS rebinding: a web page on another name that resolves
  to this service cannot talk to it through the visitor's browser.
* **Origin**: a WebSocket handshake, and every request that changes something (any method but
  GET, HEAD and OPTIONS), that carries an ``Origin`` header must come from this service's own
  origin (scheme-less ``host:port`` equal to the Host header) or one of ``allowed_origins``;
  otherwise 403. Clients that send no Origin (curl, scripts, sensors) are not browsers and are
  not affected; they still need their token.
* **Headers**: a Content-Security-Policy (scripts only from this server, no framing),
  ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``, ``Referrer-Policy:
  no-referrer``, ``Cache-Control: no-store`` on every ``/api/`` response (the picture and
  tokens are never cached) and, when served over TLS, ``Strict-Transport-Security``.

Refusals are counted (``counters``) and logged once per kind. :class:`BodyLimit` answers 413
for a request body larger than the policy allows (declared or streamed).
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')  # a JSON string (escapes unrolled: fast)


@dataclass(frozen=True)
class HttpPolicy:
    """What the service accepts and sends.

    Attributes:
        allowed_hosts: Host names (no port) the service answers to; None = any.
        allowed_origins: extra browser origins (``https://console.example:8443``) allowed to
            change things and open the live stream, besides the service's own.
        tile_url: the map's tile URL template, whose origin the CSP lets the page load.
        max_json_depth: deepest nesting of arrays/objects accepted in a request body.
    """

    allowed_hosts: tuple[str, ...] | None = None
    allowed_origins: tuple[str, ...] = ()
    tile_url: str | None = None
    max_json_depth: int = 32
    hsts: bool = False  # served over TLS: tell browsers to use nothing else

    def csp(self, path: str) -> bytes:
        """The Content-Security-Policy of a response for ``path``."""
        extra = ""
        if self.tile_url:
            parts = urlsplit(self.tile_url.replace("{", "").replace("}", ""))
            if parts.scheme and parts.netloc:
                extra = f" {parts.scheme}://{parts.netloc}"
        if path == "/docs":  # FastAPI's Swagger page is an inline script (CDN when not vendored)
            return (
                b"default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
                b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
                b"img-src 'self' data: https://fastapi.tiangolo.com; frame-ancestors 'none'"
            )
        return (
            f"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: blob:{extra}; connect-src 'self' ws: wss:{extra}; "
            f"worker-src 'self' blob:; child-src blob:; object-src 'none'; base-uri 'none'; "
            f"frame-ancestors 'none'; form-action 'self'"
        ).encode()


def json_depth(body: bytes) -> int:
    """Deepest nesting of arrays and objects in a JSON text (strings skipped), vectorised: no
    recursion, so a 50,000-deep document costs one pass, not a RecursionError."""
    if not body:
        return 0
    stripped = _STRING.sub(b'""', body)
    a = np.frombuffer(stripped, dtype=np.uint8)
    step = np.isin(a, (ord("["), ord("{"))).astype(np.int64) - np.isin(a, (ord("]"), ord("}")))
    return int(np.cumsum(step).max(initial=0))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            return value.decode("latin-1")
    return None


class HttpSecurity:
    """ASGI middleware enforcing an :class:`HttpPolicy` (see the module docstring)."""

    def __init__(
        self, app: ASGIApp, policy: HttpPolicy, counters: Counter[str] | None = None
    ) -> None:
        self.app = app
        self.policy = policy
        self.counters: Counter[str] = counters if counters is not None else Counter()
        hosts = policy.allowed_hosts
        self._hosts = None if hosts is None else {h.lower().strip("[]") for h in hosts}
        self._origins = {o.rstrip("/").lower() for o in policy.allowed_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            status, kind, reason = refusal
            self._count(kind, reason)
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": reason})
            else:
                await _json(send, status, reason)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in SAFE_METHODS:
            receive = await self._checked_body(scope, receive, send)
            if receive is None:
                return
        await self.app(scope, receive, self._with_headers(scope, send))

    def _refusal(self, scope: Scope) -> tuple[int, str, str] | None:
        host = _header(scope, b"host") or ""
        if self._hosts is not None:
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name.lower().strip("[]") not in self._hosts:
                return 421, "host", f"host {host!r} is not served here"
        origin = _header(scope, b"origin")
        if origin is None or (scope["type"] == "http" and scope["method"] in SAFE_METHODS):
            return None
        if origin.rstrip("/").lower() in self._origins:
            return None
        if urlsplit(origin).netloc.lower() != host.lower() or not host:
            return 403, "origin", f"cross-origin request from {origin!r} refused"
        return None

    async def _checked_body(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Read the (size-limited) body once, refuse JSON nested too deeply, replay it."""
        chunks = []
        while True:
            try:
                message = await receive()
            except HTTPException as exc:  # the body limit (413) outside this middleware
                await _json(send, exc.status_code, str(exc.detail))
                return None
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        depth = json_depth(body)
        if depth > self.policy.max_json_depth:
            limit = self.policy.max_json_depth
            reason = f"request body nested {depth} deep; the limit is {limit}"
            self._count("json_depth", reason)
            await _json(send, 422, reason)
            return None
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay

    def _with_headers(self, scope: Scope, send: Send) -> Send:
        path = scope.get("path", "")
        csp = self.policy.csp(path)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"cache-control"
                           or not path.startswith("/api/")]  # fmt: skip
                headers += [
                    (b"content-security-policy", csp),
                    (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                if path.startswith("/api/"):
                    headers.append((b"cache-control", b"no-store"))
                if self.policy.hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message = {**message, "headers": headers}
            await send(message)

        return send_with_headers

    def _count(self, kind: str, reason: str) -> None:
        self.counters[kind] += 1
        if self.counters[kind] == 1:
            log.warning("http: refused a request: %s (further ones of this kind counted)", reason)


async def _json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body)),
               (b"cache-control", b"no-store")]  # fmt: skip
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware: 413 for request bodies over max_bytes (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413, self._detail())
            return message

        await self.app(scope, limited, send)

    def _detail(self) -> str:
        return f"request body larger than {self.max_bytes} bytes"

    async def _too_large(self, send: Send) -> None:
        body = json.dumps({"detail": self._detail()}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
