"""The core's ack floor survives a crash at any point of its restart: from the durable
consumer; if the core died after deleting it and before re-creating it, from the floor it
noted first; for a brand-new site, the stream's end (a new core starts now)."""

from __future__ import annotations

import asyncio

from skywarden.bus.connection import declare_streams
from skywarden.bus.core import _ack_floor, _durable
from skywarden.bus.settings import BusConfig
from skywarden.bus.subjects import HEADER_T, SiteSubjects
from tests.bus.nats_server import TOKEN, NatsServer


def test_ack_floor_across_restarts(nats_server: NatsServer) -> None:
    asyncio.run(asyncio.wait_for(_floors(nats_server.url), timeout=60))


async def _floors(url: str) -> None:
    import nats

    subjects = SiteSubjects.of("floor test")
    nc = await nats.connect(url, token=TOKEN)
    js = nc.jetstream()
    await declare_streams(js, subjects, BusConfig(urls=(url,)))
    for k in range(10):
        await js.publish(subjects.raw("radar"), b"x", headers={HEADER_T: str(k)})
    assert await _ack_floor(js, subjects) == 10  # new site: from the stream's end
    psub = await _durable(js, subjects, 3)
    msgs = await psub.fetch(4, timeout=5)
    assert [m.metadata.sequence.stream for m in msgs] == [4, 5, 6, 7]
    for m in msgs[:3]:
        await m.ack_sync()
    assert await _ack_floor(js, subjects) == 6  # acknowledged up to 6; 7 was only delivered
    await psub.unsubscribe()
    await js.publish(subjects.core_floor, b"6")  # the restart notes the floor, then dies
    await js.delete_consumer(subjects.stream("raw"), subjects.core_consumer)
    assert await _ack_floor(js, subjects) == 6
    await nc.close()
