"""A picture watcher for benchmarks/bus.py's latency run, as a process of its own (an api
node's view): when each alert first appeared on a picture the core published. Decoding a
1,000-track picture takes tens of ms, which in the edge's process would have held its
datagrams back; here only the alerts' ids are read (msgspec skips the rest).

    python benchmarks/bus_picture_probe.py URL TOKEN SITE OUT.json   (until SIGTERM)
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
import zlib
from pathlib import Path

import msgspec

from skywarden.bus.subjects import HEADER_ENCODING, SiteSubjects


class _Alert(msgspec.Struct):
    id: int


class _Picture(msgspec.Struct):
    alerts: list[_Alert] = []


async def main(url: str, token: str, site: str, out: Path) -> None:
    import nats

    shown: dict[int, float] = {}  # alert id -> receive time of the first picture showing it
    decoder = msgspec.json.Decoder(_Picture)

    async def on_picture(msg) -> None:
        now = time.time()
        data = msg.data
        if (msg.headers or {}).get(HEADER_ENCODING) == "deflate":
            data = zlib.decompress(data)
        for alert in decoder.decode(data).alerts:
            shown.setdefault(alert.id, now)

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    nc = await nats.connect(url, token=token)
    await nc.subscribe(SiteSubjects.of(site).picture, cb=on_picture)
    await stop.wait()
    await nc.close()
    out.write_text(json.dumps({"shown": shown}))


if __name__ == "__main__":
    url, token, site, out = sys.argv[1:5]
    asyncio.run(main(url, token, site, Path(out)))
