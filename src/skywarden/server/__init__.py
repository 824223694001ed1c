"""The service: REST API, live WebSocket and the web map, around a ServiceBackend.

``create_app(backend)`` builds the FastAPI application; see :mod:`skywarden.server.app`.
"""

from skywarden.server.app import create_app
from skywarden.server.backend import ServiceBackend

__all__ = ["ServiceBackend", "create_app"]
