"""The service: REST API, live WebSocket and the web map, around a ServiceBackend.

``create_app(backend)`` builds the FastAPI application; see :mod:`skywarden.server.app`.
Both names load on first use, so that light modules of this package (the users file, read by
``skywarden user``) do not pull in FastAPI and the whole pipeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from skywarden.server.app import create_app
    from skywarden.server.backend import ServiceBackend

__all__ = ["ServiceBackend", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from skywarden.server.app import create_app

        return create_app
    if name == "ServiceBackend":
        from skywarden.server.backend import ServiceBackend

        return ServiceBackend
    raise AttributeError(f"module 'skywarden.server' has no attribute {name!r}")
