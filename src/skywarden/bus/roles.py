"""``skywarden run --role``: start one role of a site over the bus (the CLI's entry)."""

from __future__ import annotations

import asyncio
import signal

from skywarden.errors import ConfigError
from skywarden.site_config import SiteConfig

ROLES = ("all", "edge", "core", "api")


def run_role(config: SiteConfig, role: str) -> int:
    """Run ``role`` (edge, core or api) until SIGINT/SIGTERM. ConfigError without ``[bus]``."""
    if config.bus is None:
        raise ConfigError(f'--role {role} needs a [bus] table with url = "nats://HOST:PORT"')
    bus = config.bus

    async def main() -> None:
        from skywarden.bus.api import run_api
        from skywarden.bus.core import run_core
        from skywarden.bus.edge import run_edge

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        where = f"map on http://{config.bind_host}:{config.bind_port}/" if role == "api" else ""
        print(f"skywarden: {config.name}: role {role} on {', '.join(bus.urls)} {where}".strip(),
              flush=True)  # fmt: skip
        if role == "edge":
            await run_edge(config, bus, stop)
        elif role == "core":
            await run_core(config, bus, stop)
        else:
            await run_api(config, bus, stop)

    asyncio.run(main())
    return 0
