"""UDP receive sockets: an exclusive bind, a large receive buffer and the kernel's drop count.

* **No port sharing.** A unicast socket is bound without ``SO_REUSEADDR`` (on Linux two UDP
  sockets that both set it share the port, and the newest takes every datagram) and never
  with ``SO_REUSEPORT``: a second receiver on the same port fails to bind. A multicast
  socket sets ``SO_REUSEADDR`` (every member socket of a group gets every datagram, so
  sharing steals nothing).
* **Receive buffer.** ``receive_buffer_bytes`` (default 8 MiB; the kernel's default is about
  200 kB, a fraction of a second at 10,000 datagrams/s) is asked for with ``SO_RCVBUFFORCE``
  where the process may, else ``SO_RCVBUF`` (capped by ``net.core.rmem_max``); the size the
  kernel granted is returned and a smaller one is logged.
* **Kernel drops.** Datagrams the kernel dropped because the socket's buffer was full are
  counted per socket in the ``drops`` column of ``/proc/net/udp`` (Linux), found by the
  socket's inode. :func:`kernel_drops` reads it (None where there is no such file).
"""

from __future__ import annotations

import logging
import os
import socket
import sys

DEFAULT_RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024
_PROC_UDP = ("/proc/net/udp", "/proc/net/udp6")
_SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33 if sys.platform == "linux" else None)

log = logging.getLogger(__name__)


def open_udp_socket(
    host: str, port: int, group: str | None, interface: str, receive_buffer_bytes: int
) -> socket.socket:
    """A non-blocking IPv4 UDP socket bound to (host, port), or to the multicast ``group``
    joined on ``interface``; raises OSError (the caller names the address)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        if group is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        set_receive_buffer(sock, receive_buffer_bytes)
        if group is None:
            sock.bind((host, port))
        else:
            # POSIX: binding the group address filters out other traffic to the port.
            sock.bind(("" if sys.platform == "win32" else group, port))
            mreq = socket.inet_aton(group) + socket.inet_aton(interface)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def set_receive_buffer(sock: socket.socket, size_bytes: int) -> int:
    """Ask for a receive buffer of ``size_bytes``; returns the bytes the kernel granted (on
    Linux the usable payload space is about half of what it reports)."""
    if size_bytes > 0:
        forced = False
        if _SO_RCVBUFFORCE is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, size_bytes)
                forced = True
            except OSError:  # needs CAP_NET_ADMIN
                pass
        if not forced:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size_bytes)
    granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    if 0 < granted < size_bytes:
        log.warning(
            "UDP receive buffer is %d bytes, not the %d asked for "
            "(raise net.core.rmem_max, or run with CAP_NET_ADMIN)", granted, size_bytes,
        )  # fmt: skip
    return granted


def kernel_drops(sock: socket.socket) -> int | None:
    """Datagrams the kernel dropped for this socket (its receive buffer was full), from
    /proc/net/udp; None where that is not available (not Linux, socket closed)."""
    try:
        inode = os.fstat(sock.fileno()).st_ino
    except (OSError, ValueError):
        return None
    needle = f" {inode} "
    for path in _PROC_UDP:
        try:
            with open(path, encoding="ascii") as f:
                text = f.read()
        except OSError:
            continue
        at = text.find(needle)
        while at >= 0:
            line = text[text.rfind("\n", 0, at) + 1 : text.find("\n", at)].split()
            # sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
            if len(line) >= 13 and line[9] == str(inode):
                return int(line[-1])
            at = text.find(needle, at + 1)
    return None
