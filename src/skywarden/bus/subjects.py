"""Subject and stream names of one site on the bus, and the raw message headers.

    skywarden.<site>.raw.<sensor>   raw datagrams / stream chunks (stream SW_<SITE>_RAW)
    skywarden.<site>.picture        the latest snapshot, JSON (stream SW_<SITE>_PICTURE, last)
    skywarden.<site>.alerts         alert events with the alert, JSON (stream SW_<SITE>_ALERTS)
    skywarden.<site>.audit          operator and system actions, JSON (stream SW_<SITE>_AUDIT)
    skywarden.<site>.health.<role>  health of a role, JSON (plain NATS, every few seconds)
    skywarden.<site>.rpc            operator actions and queries to the core (request/reply)
    skywarden.<site>.core.floor     the core's ack floor, noted across its restart (stream
                                    SW_<SITE>_CORE, last)

``<site>`` and ``<sensor>`` are the configured names made subject-safe (:func:`token`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADER_T = "Sw-T"  # receive time, POSIX s (repr of a float)
HEADER_CONNECTION = "Sw-Conn"  # connection number of a stream transport (0 for datagrams)
HEADER_ENCODING = "Sw-Encoding"  # "deflate" when a picture is compressed
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def token(name: str) -> str:
    """A subject token for a configured name: anything but letters, digits, '-' and '_'
    becomes '_' (so '.', '*', '>' and spaces cannot change the subject's meaning)."""
    return _UNSAFE.sub("_", name) or "_"


@dataclass(frozen=True)
class SiteSubjects:
    """All names of one site (built from the site's configured name)."""

    site: str

    @staticmethod
    def of(site_name: str) -> SiteSubjects:
        return SiteSubjects(token(site_name))

    @property
    def prefix(self) -> str:
        return f"skywarden.{self.site}"

    def raw(self, sensor: str) -> str:
        return f"{self.prefix}.raw.{token(sensor)}"

    @property
    def raw_all(self) -> str:
        return f"{self.prefix}.raw.>"

    @property
    def picture(self) -> str:
        return f"{self.prefix}.picture"

    @property
    def alerts(self) -> str:
        return f"{self.prefix}.alerts"

    @property
    def audit(self) -> str:
        return f"{self.prefix}.audit"

    def health(self, role: str) -> str:
        return f"{self.prefix}.health.{role}"

    @property
    def rpc(self) -> str:
        return f"{self.prefix}.rpc"

    def stream(self, kind: str) -> str:
        """JetStream stream name: SW_<SITE>_<KIND> (no '.', '*', '>' or spaces)."""
        return f"SW_{self.site.upper()}_{kind.upper()}"

    @property
    def core_floor(self) -> str:
        """Where the core notes its ack floor while it re-creates its consumer."""
        return f"{self.prefix}.core.floor"

    @property
    def core_consumer(self) -> str:
        return "core"
