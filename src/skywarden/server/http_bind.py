"""The HTTP server's listening socket, bound before the service starts.

uvicorn binds its own socket only once it runs, and a port in use then ends the process with
uvicorn's own message and status 3, after the sensors and the pipeline have started. Binding
here first turns that into one :class:`HttpBindError` line (the command
line's exit status 2), before anything else runs; uvicorn is handed the bound socket.
"""

from __future__ import annotations

import socket

from skywarden.errors import SkywardenError, bind_failure

LISTEN_BACKLOG = 2048  # uvicorn's default


class HttpBindError(SkywardenError):
    """The HTTP port cannot be bound (in use, no such address, no permission)."""


def bind_http(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (host name, IPv4 or IPv6 address). SO_REUSEADDR
    only lets a restart take a port left in TIME_WAIT: a port another process listens on
    still fails. HttpBindError says why when the bind fails."""
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except OSError as exc:
        raise HttpBindError(f"cannot serve HTTP on {host}:{port}: {exc}") from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(LISTEN_BACKLOG)
    except OSError as exc:
        sock.close()
        why = bind_failure(exc, in_use="the port is in use (another server listens on it)")
        raise HttpBindError(f"cannot serve HTTP on {host}:{port}: {why}") from exc
    return sock
