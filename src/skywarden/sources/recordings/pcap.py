"""pcap / pcapng containers: file bytes -> captured frames (pure, no I/O), and a small writer.

Uses dpkt for the container formats and for Ethernet/IP/UDP. Frames keep their link type so
that the Remote ID decoder can read radiotap / 802.11 and Nordic BLE sniffer frames itself.
"""

from __future__ import annotations

import io
import socket
import struct
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # dpkt (~40 ms) loads when a capture is read or written, not per command
    import dpkt

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IEEE802_11 = 105
LINKTYPE_IEEE802_11_RADIOTAP = 127
LINKTYPE_NORDIC_BLE = 272

PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured frame: capture time (POSIX s), link type and the link-layer bytes."""

    t: float
    linktype: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Datagram:
    """One UDP payload with its capture time and addresses."""

    t: float
    src: str
    dst: str
    sport: int
    dport: int
    payload: bytes


def is_capture(data: bytes) -> bool:
    """True if the bytes start like a pcap or pcapng file."""
    return data[:4] in PCAP_MAGICS or data[:4] == PCAPNG_MAGIC


def iter_frames(data: bytes, rejects: Counter[str] | None = None) -> Iterator[Frame]:
    """Yield every frame of a pcap or pcapng file held in memory.

    A truncated or corrupt tail ends the iteration and is counted in ``rejects`` under
    ``"pcap_truncated"`` instead of raising.
    """
    import dpkt

    fh = io.BytesIO(data)
    try:
        reader = dpkt.pcapng.Reader(fh) if data[:4] == PCAPNG_MAGIC else dpkt.pcap.Reader(fh)
    except (ValueError, dpkt.dpkt.Error) as exc:
        if rejects is not None:
            rejects["pcap_bad_header"] += 1
        raise ValueError(f"not a readable pcap/pcapng capture: {exc}") from exc
    linktype = reader.datalink()
    it = iter(reader)
    while True:
        try:
            ts, buf = next(it)
        except StopIteration:
            return
        except (ValueError, dpkt.dpkt.Error, EOFError, IndexError, OSError):
            if rejects is not None:
                rejects["pcap_truncated"] += 1
            return
        yield Frame(float(ts), linktype, bytes(buf))


def _ip_packet(frame: Frame) -> dpkt.ip.IP | dpkt.ip6.IP6 | None:
    import dpkt

    if frame.linktype == LINKTYPE_ETHERNET:
        eth = dpkt.ethernet.Ethernet(frame.data)
        ip = eth.data
    elif frame.linktype == LINKTYPE_LINUX_SLL:
        ip = dpkt.sll.SLL(frame.data).data
    elif frame.linktype == LINKTYPE_RAW:
        ip = dpkt.ip.IP(frame.data) if frame.data[:1] and frame.data[0] >> 4 == 4 else None
    else:
        return None
    return ip if isinstance(ip, (dpkt.ip.IP, dpkt.ip6.IP6)) else None


def udp_datagrams(
    frames: Iterator[Frame], rejects: Counter[str] | None = None
) -> Iterator[Datagram]:
    """UDP payloads of Ethernet / Linux SLL / raw-IP frames; other frames are counted.

    Fragmented IPv4 datagrams are not reassembled (ASTERIX senders keep blocks under the MTU);
    they are counted as ``"ip_fragment"``.
    """
    import dpkt

    for frame in frames:
        try:
            ip = _ip_packet(frame)
        except (dpkt.dpkt.Error, ValueError, IndexError):
            ip = None
        if ip is None or not isinstance(ip.data, dpkt.udp.UDP):
            if rejects is not None:
                rejects["not_udp"] += 1
            continue
        if isinstance(ip, dpkt.ip.IP) and (ip.mf or ip.offset):
            if rejects is not None:
                rejects["ip_fragment"] += 1
            continue
        udp = ip.data
        if isinstance(ip, dpkt.ip.IP):
            src, dst = _inet(ip.src), _inet(ip.dst)
        else:
            src, dst = ip.src.hex(), ip.dst.hex()
        yield Datagram(frame.t, src, dst, int(udp.sport), int(udp.dport), bytes(udp.data))


def _inet(addr: bytes) -> str:
    return ".".join(str(b) for b in addr)


# --- writing (simulator, tests) ------------------------------------------------------------

PCAP_SNAPLEN = 65535
_PCAP_GLOBAL_HEADER = struct.Struct("<IHHiIII")
_PCAP_RECORD_HEADER = struct.Struct("<IIII")


def write_pcap(frames: Iterable[tuple[float, bytes]], linktype: int) -> bytes:
    """A classic little-endian pcap file (microsecond timestamps) of ``(t, frame)`` pairs.

    ``t`` is POSIX seconds (>= 0), rounded to the microsecond; ``frame`` the link-layer bytes
    of ``linktype`` (e.g. :data:`LINKTYPE_ETHERNET`, :data:`LINKTYPE_IEEE802_11_RADIOTAP`).
    """
    out = [_PCAP_GLOBAL_HEADER.pack(0xA1B2C3D4, 2, 4, 0, 0, PCAP_SNAPLEN, linktype)]
    for t, data in frames:
        micros = round(float(t) * 1e6)
        if micros < 0:
            raise ValueError(f"pcap timestamps must be >= 0 s, got {t}")
        sec, usec = divmod(micros, 1_000_000)
        out.append(_PCAP_RECORD_HEADER.pack(sec, usec, len(data), len(data)))
        out.append(bytes(data))
    return b"".join(out)


def multicast_mac(group: str) -> bytes:
    """Ethernet destination MAC of an IPv4 multicast group (01:00:5e + low 23 bits)."""
    raw = socket.inet_aton(group)
    return bytes([0x01, 0x00, 0x5E, raw[1] & 0x7F, raw[2], raw[3]])


def udp_ipv4_packet(
    payload: bytes, src: str, dst: str, sport: int, dport: int, *, ttl: int = 16, ident: int = 0
) -> bytes:
    """An IPv4 packet (checksums filled in, DF clear, no fragmentation) carrying one UDP datagram.

    Raises ValueError for payloads that do not fit one IPv4 datagram.
    """
    import dpkt

    if len(payload) > 65535 - 28:
        raise ValueError(f"UDP payload of {len(payload)} bytes does not fit an IPv4 datagram")
    udp = dpkt.udp.UDP(sport=sport, dport=dport, data=payload)
    udp.ulen = 8 + len(payload)
    ip = dpkt.ip.IP(
        src=socket.inet_aton(src),
        dst=socket.inet_aton(dst),
        p=dpkt.ip.IP_PROTO_UDP,
        ttl=ttl,
        id=ident & 0xFFFF,
        data=udp,
    )
    ip.len = 20 + udp.ulen
    return bytes(ip)


def ethernet_udp_frame(
    payload: bytes,
    src: str,
    dst: str,
    sport: int,
    dport: int,
    *,
    src_mac: bytes = b"\x02\x00\x00\x00\x00\x01",
    dst_mac: bytes | None = None,
    ttl: int = 16,
    ident: int = 0,
) -> bytes:
    """Ethernet II + IPv4 + UDP frame. ``dst_mac`` None: the multicast MAC of a multicast
    ``dst`` (224.0.0.0/4), else the broadcast address."""
    import dpkt

    if dst_mac is None:
        first = socket.inet_aton(dst)[0]
        dst_mac = multicast_mac(dst) if 224 <= first <= 239 else b"\xff" * 6
    ip = udp_ipv4_packet(payload, src, dst, sport, dport, ttl=ttl, ident=ident)
    return dst_mac + src_mac + struct.pack(">H", dpkt.ethernet.ETH_TYPE_IP) + ip
