"""Connecting a role to NATS and declaring the site's JetStream streams.

The site's ``[bus]`` table gives the servers and the secrets (token, user + password or a
credentials file) and the client TLS files; nothing comes from the command line.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

from skywarden.bus.settings import BusConfig
from skywarden.bus.subjects import SiteSubjects
from skywarden.errors import SkywardenError

log = logging.getLogger(__name__)
PICTURE_MAX_BYTES = 8 * 1024 * 1024  # a compressed picture of many thousand tracks
ALERT_RETENTION_S = 30 * 86_400.0


class BusError(SkywardenError):
    """The bus cannot be reached, refused us, or the core did not answer."""


async def connect(bus: BusConfig, name: str) -> Any:
    """An open ``nats.aio.client.Client`` (reconnecting forever); BusError if the first
    connection fails."""
    import nats

    kwargs: dict[str, Any] = {
        "servers": list(bus.urls), "name": name, "max_reconnect_attempts": -1,
        "reconnect_time_wait": 0.5, "connect_timeout": 5, "allow_reconnect": True,
    }  # fmt: skip
    if bus.token is not None:
        kwargs["token"] = bus.token
    if bus.user is not None:
        kwargs["user"], kwargs["password"] = bus.user, bus.password
    if bus.credentials is not None:
        kwargs["user_credentials"] = str(bus.credentials)
    if bus.tls_ca is not None or bus.tls_cert is not None:
        context = ssl.create_default_context(cafile=str(bus.tls_ca) if bus.tls_ca else None)
        if bus.tls_cert is not None:
            context.load_cert_chain(str(bus.tls_cert), str(bus.tls_key))
        kwargs["tls"] = context

    async def on_error(exc: Exception) -> None:
        log.warning("bus (%s): %s", name, exc)

    kwargs["error_cb"] = on_error
    try:
        return await nats.connect(**kwargs)
    except Exception as exc:  # nats raises several unrelated types for one cause
        raise BusError(f"cannot connect to {', '.join(bus.urls)}: {exc!r}") from None


async def declare_streams(js: Any, subjects: SiteSubjects, bus: BusConfig) -> None:
    """Create (or update) the site's streams: raw (file storage, ``raw_retention_s``), the
    last picture, alerts and audit (durable, 30 days). Idempotent; any role may call it."""
    from nats.js.api import DiscardPolicy, StorageType, StreamConfig

    streams = [
        StreamConfig(name=subjects.stream("raw"), subjects=[subjects.raw_all],
                     storage=StorageType.FILE, max_age=bus.raw_retention_s,
                     max_msg_size=bus.max_raw_bytes + 1024),
        StreamConfig(name=subjects.stream("picture"), subjects=[subjects.picture],
                     storage=StorageType.MEMORY, max_msgs_per_subject=1,
                     discard=DiscardPolicy.OLD),
        StreamConfig(name=subjects.stream("alerts"), subjects=[subjects.alerts],
                     storage=StorageType.FILE, max_age=ALERT_RETENTION_S),
        StreamConfig(name=subjects.stream("audit"), subjects=[subjects.audit],
                     storage=StorageType.FILE, max_age=ALERT_RETENTION_S),
        StreamConfig(name=subjects.stream("core"), subjects=[subjects.core_floor],
                     storage=StorageType.FILE, max_msgs_per_subject=1),
    ]  # fmt: skip
    for config in streams:
        try:
            await js.add_stream(config)
        except Exception as exc:  # exists with other limits: update in place
            try:
                await js.update_stream(config)
            except Exception:
                raise BusError(f"stream {config.name}: {exc!r}") from None
