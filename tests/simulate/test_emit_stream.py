"""Live streaming over loopback (127.0.0.1 only): what arrives decodes like the recordings.

Bounded waits everywhere (asyncio.wait_for), no timing assertions.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from dataclasses import fields

import numpy as np
import pytest

from skywarden.simulate import build_scenario
from skywarden.simulate.emit import (
    LivePorts,
    recording_bytes,
    scenario_messages,
    stream_live,
    stream_scenario,
)
from skywarden.simulate.emit_site import ADSB_ASTERIX, BEAST, RADAR, REMOTE_ID, SBS, SiteSetup
from skywarden.sources.asterix.decoder import AsterixDecoder, decode_capture
from skywarden.sources.modes.sbs import decode_sbs
from skywarden.sources.recordings.pcap import LINKTYPE_IEEE802_11_RADIOTAP, Frame
from skywarden.sources.remote_id import transports as remote_id_transport
from skywarden.sources.senders import TcpServerSender
from skywarden.sources.transport import TcpClientSource, UdpSource

LOOPBACK = "127.0.0.1"
TIMEOUT_S = 20.0
UDP_CHANNELS = (RADAR, ADSB_ASTERIX, REMOTE_ID)


def run(coro):
    async def bounded():
        return await asyncio.wait_for(coro, TIMEOUT_S)

    return asyncio.run(bounded())


async def read_bytes(client: TcpClientSource, total: int) -> bytes:
    data = b""
    async for chunk in client:
        data += chunk.data
        if len(data) >= total:
            break
    client.close()
    return data


async def read_datagrams(source: UdpSource, count: int) -> list[bytes]:
    out = []
    async for d in source:
        out.append(d.payload)
        if len(out) == count:
            break
    return out


@pytest.fixture(scope="module")
def wire():
    scenario = build_scenario("mixed", 2, n_scans=4)
    setup = SiteSetup()
    return scenario, setup, scenario_messages(scenario, setup)


def assert_same_records(a, b) -> None:
    assert len(a) == len(b)
    for f in fields(a):
        if f.name != "block":
            np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name), err_msg=f.name)


def test_stream_live_delivers_what_the_files_hold(wire):
    scenario, setup, messages = wire
    sent = {c: [m.data for m in messages if m.channel == c] for c in (*UDP_CHANNELS, SBS, BEAST)}
    assert all(sent.values())

    async def exchange():
        receivers = {c: UdpSource(LOOPBACK, 0) for c in UDP_CHANNELS}
        for r in receivers.values():
            await r.open()
        async with TcpServerSender(LOOPBACK, 0) as sbs, TcpServerSender(LOOPBACK, 0) as beast:
            servers = {SBS: sbs, BEAST: beast}
            readers = {
                c: asyncio.ensure_future(
                    read_bytes(
                        TcpClientSource(LOOPBACK, s.port_bound, max_attempts=20),
                        sum(map(len, sent[c])),
                    )
                )
                for c, s in servers.items()
            }
            for s in servers.values():
                assert await s.wait_for_clients(1, TIMEOUT_S / 2)
            datagrams = {
                c: asyncio.ensure_future(read_datagrams(r, len(sent[c])))
                for c, r in receivers.items()
            }
            counters = await stream_live(
                messages,
                speed=40.0,
                udp_targets={c: (LOOPBACK, r.local_port) for c, r in receivers.items()},
                tcp_servers=servers,
            )
            got = {c: await task for c, task in {**datagrams, **readers}.items()}
        for r in receivers.values():
            r.close()
        return got, counters

    got, counters = run(exchange())
    assert {c: counters[c].messages for c in sent} == {c: len(v) for c, v in sent.items()}
    for c in UDP_CHANNELS:
        assert got[c] == sent[c]
    assert got[SBS] == b"".join(sent[SBS]) and got[BEAST] == b"".join(sent[BEAST])

    # the same records as the recordings
    file_records, _ = decode_capture(recording_bytes(RADAR, messages, setup))
    live = AsterixDecoder().decode_datagrams(
        got[RADAR], [m.t for m in messages if m.channel == RADAR]
    )
    assert len(live.cat048) > 0 and len(live.cat034) == setup.sectors * scenario.n_scans
    assert_same_records(live.cat048, file_records.cat048)
    assert_same_records(live.cat034, file_records.cat034)
    file_adsb, _ = decode_capture(recording_bytes(ADSB_ASTERIX, messages, setup))
    live_adsb = AsterixDecoder().decode_datagrams(
        got[ADSB_ASTERIX], [setup.start_posix] * len(got[ADSB_ASTERIX])
    )
    assert_same_records(live_adsb.cat021, file_adsb.cat021)
    assert_same_records(decode_sbs(got[SBS])[0], decode_sbs(b"".join(sent[SBS]))[0])
    rejects: Counter[str] = Counter()
    from_file = remote_id_transport.decode_capture(
        recording_bytes(REMOTE_ID, messages, setup), rejects
    )
    live_rid = [
        received.message
        for payload in got[REMOTE_ID]
        for received in remote_id_transport.decode_frame(
            Frame(math.nan, LINKTYPE_IEEE802_11_RADIOTAP, payload), rejects
        )
    ]
    assert not rejects
    assert live_rid == [r.message for r in from_file]


def test_stream_scenario_serves_tcp_clients_on_chosen_ports(wire):
    scenario, setup, messages = wire
    expected = b"".join(m.data for m in messages if m.channel == SBS)

    async def exchange():
        probe = TcpServerSender(LOOPBACK, 0)
        await probe.start()
        port = probe.port_bound  # a free port, released again for stream_scenario
        await probe.close()
        ports = LivePorts(radar_udp=None, adsb_cat021_udp=None, sbs_tcp=port, beast_tcp=None)
        client = TcpClientSource(LOOPBACK, port, initial_backoff_s=0.01, max_attempts=200)
        reader = asyncio.ensure_future(read_bytes(client, len(expected)))
        counters = await stream_scenario(
            scenario, setup, ports, speed=math.inf, wait_for_client_s=TIMEOUT_S / 2
        )
        return await reader, counters

    got, counters = run(exchange())
    assert got == expected
    assert set(counters) == {SBS} and counters[SBS].messages == expected.count(b"MSG,3")
