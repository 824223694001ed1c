"""``skywarden run --role``: start one role of a site over the bus (the CLI's entry)."""

from __future__ import annotations

import asyncio
import signal

from skywarden.errors import ConfigError
from skywarden.site_config import SiteConfig

ROLES = ("all", "edge", "core", "api", "region")


def run_role(config: SiteConfig, role: str, sites: tuple[str, ...] = ()) -> int:
    """Run ``role`` (edge, core, api, or region over ``sites``) until SIGINT/SIGTERM.
    ConfigError without ``[bus]``, or with ``sites`` for another role than region."""
    if bool(sites) != (role == "region"):
        raise ConfigError("--sites a,b,c goes with --role region (and it needs them)")
    if config.bus is None:
        raise ConfigError(f'--role {role} needs a [bus] table with url = "nats://HOST:PORT"')
    bus = config.bus

    async def main() -> None:
        from skywarden.bus.api import run_api
        from skywarden.bus.core import run_core
        from skywarden.bus.edge import run_edge
        from skywarden.bus.region import run_region

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        where = (f"map on http://{config.bind_host}:{config.bind_port}/"
                 if role in ("api", "region") else "")  # fmt: skip
        print(f"skywarden: {config.name}: role {role} on {', '.join(bus.urls)} {where}".strip(),
              flush=True)  # fmt: skip
        if role == "edge":
            await run_edge(config, bus, stop)
        elif role == "core":
            await run_core(config, bus, stop)
        elif role == "region":
            await run_region(config, bus, sites, stop)
        else:
            await run_api(config, bus, stop)

    asyncio.run(main())
    return 0
