"""The routes that change the picture: operator alert actions and admin setting changes.

Each takes the principal from :func:`skywarden.server.auth.requires` (operator for alert
actions, admin for zones, rules and the allow-list) and hands its name and role to the
backend, which records them in the audit trail and the history. With authentication off the
operator names themself in the request body and no role is recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse

from skywarden.errors import ConfigError
from skywarden.server import schemas
from skywarden.server.auth import Authenticator, Principal, requires
from skywarden.server.backend import ServiceBackend
from skywarden.snapshot import AlertView
from skywarden.warn.alerts import AlertError

MAX_ID = 2**63 - 1  # ids are int64: anything beyond is unknown (404), never an overflow


async def json_body(request: Request) -> Any:
    body = await request.body()
    if not body.strip():
        raise HTTPException(422, "request body is empty; expected JSON")
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HTTPException(422, f"request body is not valid JSON: {exc}") from exc


def known_range(value: int, what: str) -> None:
    """404 for an id no int64 can hold (it cannot name anything)."""
    if not -MAX_ID <= value <= MAX_ID:
        raise HTTPException(404, f"unknown {what} id {value}")


def alert_action(
    method: Callable[..., AlertView], action: str, auth: Authenticator
) -> Callable[..., JSONResponse]:
    operator = requires(auth, "operator")

    def act(
        alert_id: Annotated[int, PathParam(description="alert id")],
        body: schemas.AlertAction,
        principal: Principal = operator,
    ) -> JSONResponse:
        known_range(alert_id, "alert")
        who = _operator_name(body.who, principal)
        try:
            alert = method(alert_id, who, body.note, role=recorded_role(principal))
        except KeyError as exc:
            raise HTTPException(404, f"unknown alert id {alert_id}") from exc
        except AlertError as exc:
            raise HTTPException(409, f"cannot {action} alert {alert_id}: {exc}") from exc
        return JSONResponse(alert.to_json())

    act.__doc__ = (
        f"The operator chooses to {action} an alert (with an optional note); needs the "
        "operator role. With authentication on the operator is the token's user (``who`` may "
        "be left out); without it ``who`` names the operator."
    )
    return act


def get_setting(backend: ServiceBackend, kind: str, what: str) -> Callable[[], JSONResponse]:
    def get() -> JSONResponse:
        return JSONResponse(getattr(backend, f"{kind}_json")())

    get.__doc__ = f"The {what} in force, in the site file's form (JSON)."
    return get


def put_setting(backend: ServiceBackend, kind: str, what: str, admin: Any) -> Callable[..., Any]:
    async def put(request: Request, principal: Principal = admin) -> JSONResponse:
        document = await json_body(request)
        try:
            in_force = getattr(backend, f"put_{kind}")(
                document, who=principal.name, role=recorded_role(principal)
            )
        except ConfigError as exc:
            raise HTTPException(422, str(exc)) from exc
        return JSONResponse(in_force)

    put.__doc__ = (
        f"Replace the {what} as a whole with a JSON list in the site file's form (422 names "
        "what is wrong). Needs the admin role; recorded with the principal for the audit, "
        "the history, a restart and replay."
    )
    return put


def _operator_name(who: str | None, principal: Principal) -> str:
    """Who acts: the signed-in user, or (authentication off) the name in the body."""
    if principal.authenticated:
        if who is not None and who != principal.name:
            raise HTTPException(422, f"who: you are signed in as {principal.name!r}, not {who!r}")
        return principal.name
    if who is None:
        raise HTTPException(422, "who: name the operator (authentication is off)")
    return who


def recorded_role(principal: Principal) -> str:
    """The role to record: '' when authentication is off (nobody is known)."""
    return principal.role if principal.authenticated else ""
