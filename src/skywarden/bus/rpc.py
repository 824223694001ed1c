"""Operator actions and queries between api nodes and the core, as NATS request/reply.

A request is JSON ``{"method": NAME, "args": {...}}`` on ``skywarden.<site>.rpc``; the core
calls the same :class:`~skywarden.server.backend.ServiceBackend` method of its pipeline
(``METHODS``, nothing else) and answers ``{"ok": RESULT}`` or ``{"error": {"type", "message"}}``.
The api node raises the matching exception, so the server maps it to the same HTTP status as
in one process (KeyError 404, AlertError 409, ConfigError 400/422, ZoneLimitError 422,
NotImplementedError 501). The operator's name and role travel in ``args`` and are recorded by
the core's audit trail. A malformed or oversized request is answered with an error and counted.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from skywarden.bus.picture import BusMessageError, alert_from_json
from skywarden.errors import ConfigError
from skywarden.snapshot import AlertView, json_safe
from skywarden.warn.alerts import AlertError
from skywarden.warn.zones import ZoneLimitError

MAX_REQUEST_BYTES = 4 * 1024 * 1024
# method -> the argument names it takes (all by keyword)
METHODS: dict[str, tuple[str, ...]] = {
    "acknowledge": ("alert_id", "who", "note", "role"),
    "reject": ("alert_id", "who", "note", "role"),
    "ignore": ("alert_id", "who", "note", "role"),
    "zones_geojson": (),
    "put_zones": ("geojson", "who", "role"),
    "rules_json": (),
    "put_rules": ("rules", "who", "role"),
    "allow_json": (),
    "put_allow": ("allow", "who", "role"),
    "audit": ("since_t",),
    "history_tracks": ("t0", "t1", "step_s"),
    "history_span": (),
    "track_sources": ("track_id",),
    "explain_track": ("track_id",),
    "health": (),
}
ALERT_METHODS = frozenset({"acknowledge", "reject", "ignore"})
_ERRORS: dict[str, type[Exception]] = {
    "KeyError": KeyError, "AlertError": AlertError, "ZoneLimitError": ZoneLimitError,
    "ConfigError": ConfigError, "NotImplementedError": NotImplementedError,
}  # fmt: skip


def encode_request(method: str, **args: Any) -> bytes:
    if method not in METHODS:
        raise ValueError(f"unknown bus method {method!r}")
    return json.dumps({"method": method, "args": args}).encode()


def answer(backend: Any, payload: bytes, rejects: Counter) -> bytes:
    """The core's reply to one request (never raises: a bad request is an error reply)."""
    try:
        method, args = _parse(payload)
        result = getattr(backend, method)(**args)
        if isinstance(result, AlertView):
            result = result.to_json()
        return json.dumps({"ok": json_safe(result)}, allow_nan=False).encode()
    except BusMessageError as exc:
        rejects[str(exc).split(":", 1)[0]] += 1
        return _error("BusMessageError", str(exc))
    except tuple(_ERRORS.values()) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        kind = type(exc).__name__ if type(exc).__name__ in _ERRORS else "ConfigError"
        return _error(kind, str(message))
    except Exception as exc:  # a fault in the core must not stop it answering
        rejects["fault"] += 1
        return _error("Fault", f"{type(exc).__name__}: {exc}")


def _parse(payload: bytes) -> tuple[str, dict[str, Any]]:
    if len(payload) > MAX_REQUEST_BYTES:
        raise BusMessageError(f"oversized: {len(payload)} bytes")
    try:
        doc = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BusMessageError(f"not_json: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("args", {}), dict):
        raise BusMessageError("bad_request: expected {method, args}")
    method, args = doc.get("method"), doc.get("args", {})
    if method not in METHODS:
        raise BusMessageError(f"unknown_method: {method!r}")
    extra = set(args) - set(METHODS[method])
    if extra:
        raise BusMessageError(f"bad_request: {method} takes no {', '.join(sorted(extra))}")
    return method, args


def _error(kind: str, message: str) -> bytes:
    return json.dumps({"error": {"type": kind, "message": message}}).encode()


def decode_reply(method: str, payload: bytes, fault: Callable[[str], Exception]) -> Any:
    """The result of a reply, or the matching exception raised (``fault(message)`` for
    anything else: a core fault or a reply that is not one)."""
    try:
        doc = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise fault(f"{method}: the core's reply is not JSON") from None
    if not isinstance(doc, dict):
        raise fault(f"{method}: the core's reply is not an object")
    if "error" in doc:
        error = doc["error"] if isinstance(doc["error"], dict) else {}
        kind, message = str(error.get("type")), str(error.get("message", ""))
        if kind in _ERRORS:
            raise _ERRORS[kind](message)
        raise fault(f"{method}: {kind}: {message}")
    result = doc.get("ok")
    if method in ALERT_METHODS:
        return alert_from_json(result)
    if method == "history_span" and result is not None:
        return (float(result[0]), float(result[1]))
    return result
