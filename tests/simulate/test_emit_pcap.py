"""The small pcap writer used by the simulator (sources/pcap.py), checked against the reader
and against the RFC 791 / RFC 768 checksum definitions computed here."""

from __future__ import annotations

import struct
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.sources.recordings.pcap import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IEEE802_11_RADIOTAP,
    ethernet_udp_frame,
    iter_frames,
    multicast_mac,
    udp_datagrams,
    write_pcap,
)


def ones_complement_sum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f">{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def test_frame_layout_and_checksums():
    payload = b"\x30\x00\x05ab"
    frame = ethernet_udp_frame(payload, "10.10.0.1", "239.0.0.1", 50000, 8600, ident=7)
    assert frame[:6] == bytes.fromhex("01005e000001") == multicast_mac("239.0.0.1")
    assert frame[12:14] == b"\x08\x00"
    ip = frame[14:34]
    assert ip[0] == 0x45 and struct.unpack(">H", ip[2:4])[0] == 20 + 8 + len(payload)
    assert ones_complement_sum(ip) == 0xFFFF  # header checksum valid
    udp = frame[34:]
    assert struct.unpack(">HHH", udp[:6]) == (50000, 8600, 8 + len(payload))
    pseudo = ip[12:20] + struct.pack(">BBH", 0, 17, len(udp))
    assert ones_complement_sum(pseudo + udp) == 0xFFFF  # UDP checksum valid
    assert udp[8:] == payload
    unicast = ethernet_udp_frame(payload, "10.0.0.1", "10.0.0.2", 1, 2)
    assert unicast[:6] == b"\xff" * 6


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.0, 4e9, allow_nan=False), st.binary(min_size=1, max_size=300)),
        max_size=8,
    )
)
def test_written_pcap_reads_back(items):
    items.sort(key=lambda x: x[0])
    frames = [(t, ethernet_udp_frame(p, "10.0.0.1", "239.1.2.3", 5, 6)) for t, p in items]
    data = write_pcap(frames, LINKTYPE_ETHERNET)
    rejects: Counter[str] = Counter()
    back = list(udp_datagrams(iter_frames(data, rejects), rejects))
    assert not rejects
    assert [d.payload for d in back] == [p for _, p in items]
    for d, (t, _) in zip(back, items, strict=True):
        assert abs(d.t - t) <= 1e-6


def test_microseconds_carry_into_seconds():
    data = write_pcap([(1.9999999, b"x"), (5.0, b"y")], LINKTYPE_IEEE802_11_RADIOTAP)
    sec, usec = struct.unpack("<II", data[24:32])
    assert (sec, usec) == (2, 0)
    assert [f.linktype for f in iter_frames(data)] == [LINKTYPE_IEEE802_11_RADIOTAP] * 2
