"""A scenario as the wire bytes real sensors send: messages, recordings and a live stream.

* :func:`scenario_messages`: every channel's :class:`WireMessage` (send time, channel,
  bytes) in send order (radar CAT034/CAT048, ADS-B CAT021, Beast, SBS, Remote ID); see
  :mod:`~skywarden.simulate.emit_radar` and :mod:`~skywarden.simulate.emit_cooperative`.
* :func:`write_scenario_recordings`: the files a receiver would have recorded.
* :func:`stream_live`: the messages paced by :class:`~skywarden.sources.transport.FileReplay`
  at a speed factor: UDP datagrams (ASTERIX, Remote ID frames) and TCP servers that every
  client gets the same bytes from (SBS like dump1090's port 30003, Beast like 30005).
  :func:`stream_scenario` sets those up on :class:`LivePorts` (for the CLI).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from skywarden.simulate.emit_cooperative import (
    beast_messages,
    cat021_messages,
    remote_id_messages,
    sbs_messages,
)
from skywarden.simulate.emit_radar import radar_messages
from skywarden.simulate.emit_site import (
    ADSB_ASTERIX,
    BEAST,
    CHANNELS,
    RADAR,
    REMOTE_ID,
    SBS,
    SiteSetup,
    WireMessage,
)
from skywarden.simulate.simulator import Scenario
from skywarden.sources.recordings.pcap import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IEEE802_11_RADIOTAP,
    ethernet_udp_frame,
    write_pcap,
)
from skywarden.sources.senders import TcpServerSender, UdpSender
from skywarden.sources.transport import FileReplay, TransportCounters

RADAR_SOURCE_IP = "10.10.0.1"
ADSB_SOURCE_IP = "10.10.0.2"
SOURCE_PORT = 50000
RECORDING_NAMES = {
    RADAR: "radar.pcap",
    ADSB_ASTERIX: "adsb_cat021.pcap",
    BEAST: "adsb.beast",
    SBS: "adsb.sbs",
    REMOTE_ID: "remote_id.pcap",
}

_EMITTERS: dict[str, Callable[[Scenario, SiteSetup], list[WireMessage]]] = {
    RADAR: lambda scenario, setup: radar_messages(scenario, setup).messages,
    ADSB_ASTERIX: cat021_messages,
    BEAST: beast_messages,
    SBS: sbs_messages,
    REMOTE_ID: remote_id_messages,
}


def scenario_messages(
    scenario: Scenario, setup: SiteSetup, channels: Iterable[str] = CHANNELS
) -> list[WireMessage]:
    """The scenario's messages on the given channels, merged in send order (stable)."""
    chosen = list(channels)
    unknown = sorted(set(chosen) - set(CHANNELS))
    if unknown:
        raise ValueError(f"unknown channel(s) {unknown}; valid: {', '.join(CHANNELS)}")
    merged = [m for c in chosen for m in _EMITTERS[c](scenario, setup)]
    return sorted(merged, key=lambda m: m.t)


def udp_pcap(messages: Iterable[WireMessage], src: str, dst: str, dport: int) -> bytes:
    """An Ethernet pcap of the messages as UDP datagrams src:50000 -> dst:dport."""
    frames = (
        (m.t, ethernet_udp_frame(m.data, src, dst, SOURCE_PORT, dport, ident=i))
        for i, m in enumerate(messages)
    )
    return write_pcap(frames, LINKTYPE_ETHERNET)


def recording_bytes(channel: str, messages: Sequence[WireMessage], setup: SiteSetup) -> bytes:
    """The file content of one channel's messages (pcap for ASTERIX and Remote ID, raw
    concatenated bytes for Beast and SBS)."""
    mine = [m for m in messages if m.channel == channel]
    if channel == RADAR:
        return udp_pcap(mine, RADAR_SOURCE_IP, setup.radar_group, setup.radar_port)
    if channel == ADSB_ASTERIX:
        return udp_pcap(mine, ADSB_SOURCE_IP, setup.adsb_group, setup.adsb_port)
    if channel == REMOTE_ID:
        return write_pcap(((m.t, m.data) for m in mine), LINKTYPE_IEEE802_11_RADIOTAP)
    if channel in (BEAST, SBS):
        return b"".join(m.data for m in mine)
    raise ValueError(f"unknown channel {channel!r}")


def write_scenario_recordings(
    scenario: Scenario,
    setup: SiteSetup,
    out_dir: Path,
    channels: Iterable[str] = CHANNELS,
) -> dict[str, Path]:
    """Write each channel's recording into ``out_dir`` (created if needed).

    Files: ``radar.pcap`` (CAT034 + CAT048 to radar_group:radar_port), ``adsb_cat021.pcap``
    (CAT021 to adsb_group:adsb_port), ``adsb.beast``, ``adsb.sbs``, ``remote_id.pcap``
    (radiotap). Returns channel -> path.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    chosen = list(channels)
    messages = scenario_messages(scenario, setup, chosen)
    paths = {}
    for channel in chosen:
        path = out_dir / RECORDING_NAMES[channel]
        path.write_bytes(recording_bytes(channel, messages, setup))
        paths[channel] = path
    return paths


async def stream_live(
    messages: Iterable[WireMessage],
    *,
    speed: float = 1.0,
    udp_targets: Mapping[str, tuple[str, int]] | None = None,
    tcp_servers: Mapping[str, TcpServerSender] | None = None,
    multicast_interface: str | None = None,
) -> dict[str, TransportCounters]:
    """Send the messages at ``speed`` x real time (``math.inf``: as fast as possible).

    ``udp_targets`` maps a channel to the (host, port) its payloads are sent to, one datagram
    per message; ``tcp_servers`` maps a channel to a started :class:`TcpServerSender` whose
    clients get its bytes. Messages of other channels are skipped. ``multicast_interface``
    (a local IPv4 address) sends multicast destinations out of that interface. Returns the
    counters of each sender (keyed by channel).
    """
    udp = {
        c: UdpSender(host, port, multicast_interface=multicast_interface)
        for c, (host, port) in (udp_targets or {}).items()
    }
    tcp = dict(tcp_servers or {})
    chosen = [m for m in messages if m.channel in udp or m.channel in tcp]
    replay = FileReplay([(m.t, m.data) for m in chosen], speed=speed)
    try:
        count = 0
        async for _, data in replay:
            channel = chosen[count].channel
            count += 1
            if channel in udp:
                udp[channel].send(data)
                await asyncio.sleep(0)  # let local receivers drain their sockets
            else:
                await tcp[channel].send(data)
    finally:
        for sender in udp.values():
            sender.close()
    return {**{c: s.counters for c, s in udp.items()}, **{c: s.counters for c, s in tcp.items()}}


@dataclass(frozen=True)
class LivePorts:
    """Where :func:`stream_scenario` sends: UDP destinations and TCP listening ports.

    None leaves a channel out. UDP goes to ``host`` (unicast, or a multicast group sent out
    of ``multicast_interface``); TCP servers listen on ``listen_host``. Remote ID frames
    (radiotap + 802.11 bytes, one per datagram) are off unless ``remote_id_udp`` is set.
    """

    host: str = "127.0.0.1"
    radar_udp: int | None = 8600
    adsb_cat021_udp: int | None = 8601
    remote_id_udp: int | None = None
    sbs_tcp: int | None = 30003
    beast_tcp: int | None = 30005
    listen_host: str = "127.0.0.1"
    multicast_interface: str | None = None


async def stream_scenario(
    scenario: Scenario,
    setup: SiteSetup,
    ports: LivePorts = LivePorts(),
    *,
    speed: float = 1.0,
    wait_for_client_s: float = 0.0,
    clock: Callable[[], float] | None = None,
) -> dict[str, TransportCounters]:
    """Stream a scenario live on ``ports`` (see :func:`stream_live`).

    With ``wait_for_client_s`` > 0 each TCP server waits up to that long for a first client
    before the stream starts. With a ``clock`` (POSIX seconds) at speed 1, messages leave at
    the times they carry (the scenario starts at ``setup.start_posix``), so receivers see
    each plot as fresh as a real sensor's; if encoding and waiting ran past the start, the
    messages are encoded again for a later start rather than sent stale.
    """
    udp = {
        channel: (ports.host, port)
        for channel, port in (
            (RADAR, ports.radar_udp),
            (ADSB_ASTERIX, ports.adsb_cat021_udp),
            (REMOTE_ID, ports.remote_id_udp),
        )
        if port is not None
    }
    servers = {
        channel: TcpServerSender(ports.listen_host, port)
        for channel, port in ((SBS, ports.sbs_tcp), (BEAST, ports.beast_tcp))
        if port is not None
    }
    channels = [*udp, *servers]
    built_at = clock() if clock is not None else 0.0
    messages = scenario_messages(scenario, setup, channels)
    try:
        for server in servers.values():
            await server.start()
        if wait_for_client_s > 0.0:
            await asyncio.gather(
                *(s.wait_for_clients(1, wait_for_client_s) for s in servers.values())
            )
        if clock is not None and speed == 1.0 and messages:
            now = clock()
            if messages[0].t < now:  # stale: start again after another encoding's time
                later = math.ceil(now + 2.0 * (now - built_at) + 1.0)
                messages = scenario_messages(scenario, replace(setup, start_posix=later), channels)
            await asyncio.sleep(max(0.0, messages[0].t - clock()))
        return await stream_live(
            messages,
            speed=speed,
            udp_targets=udp,
            tcp_servers=servers,
            multicast_interface=ports.multicast_interface,
        )
    finally:
        for server in servers.values():
            await server.close()
