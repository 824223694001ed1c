"""Which recording format a file is, from its first bytes (pure: bytes in, a format out).

Recognised, in this order (the first test that passes wins):

- ``asterix-pcap`` / ``remote-id-pcap``: a pcap or pcapng capture (magic number). The link
  type of the first interface decides what is inside: Ethernet, Linux SLL or raw IP frames
  carry UDP datagrams (ASTERIX); 802.11 (plain or radiotap) and Bluetooth LE (Nordic sniffer
  or bare link layer) carry Remote ID broadcasts.
- ``beast``: Mode-S Beast binary, ``0x1A`` + type ``'1'..'4'`` frames from the first byte,
  with (almost) no bytes between frames.
- ``sbs``: BaseStation text, the first non-blank line starts ``MSG,`` (or ``SEL,`` ``ID,``
  ``AIR,`` ``STA,`` ``CLK,``).
- ``asterix``: raw ASTERIX data blocks back to back (``.ast``, ``.raw``, ``.bin``): every
  block length is at least 4 and the chain of blocks ends exactly at the end of the file (or
  runs past the end of the bytes looked at, when only the head of a large file is given).

Anything else raises :class:`~skywarden.errors.InputError` naming the file.
"""

from __future__ import annotations

import struct
from enum import StrEnum

from skywarden.errors import InputError
from skywarden.sources.recordings.pcap import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IEEE802_11,
    LINKTYPE_IEEE802_11_RADIOTAP,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_NORDIC_BLE,
    LINKTYPE_RAW,
    PCAP_MAGICS,
    PCAPNG_MAGIC,
)

HEAD_BYTES = 65536  # how much of a file detect_format needs to see
LINKTYPE_BLUETOOTH_LE_LL = 251
LINKTYPE_IPV4 = 228
UDP_LINKTYPES = (LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_RAW, LINKTYPE_IPV4)
RADIO_LINKTYPES = (
    LINKTYPE_IEEE802_11,
    LINKTYPE_IEEE802_11_RADIOTAP,
    LINKTYPE_NORDIC_BLE,
    LINKTYPE_BLUETOOTH_LE_LL,
)
SBS_PREFIXES = (b"MSG,", b"SEL,", b"ID,", b"AIR,", b"STA,", b"CLK,")
_BEAST_TYPES = b"1234"


class RecordingFormat(StrEnum):
    """The recording formats ``skywarden inspect`` and ``skywarden track`` read."""

    ASTERIX_PCAP = "asterix-pcap"  # ASTERIX over UDP in a pcap/pcapng capture
    ASTERIX = "asterix"  # raw ASTERIX data blocks (.ast)
    REMOTE_ID_PCAP = "remote-id-pcap"  # Remote ID over Wi-Fi / Bluetooth in a capture
    BEAST = "beast"  # Mode-S Beast binary
    SBS = "sbs"  # BaseStation port-30003 text


def parse_format(name: str) -> RecordingFormat:
    """A format from its name (``ast`` is accepted for ``asterix``); InputError if unknown."""
    key = name.strip().lower()
    if key == "ast":
        key = RecordingFormat.ASTERIX.value
    try:
        return RecordingFormat(key)
    except ValueError:
        known = ", ".join(f.value for f in RecordingFormat)
        raise InputError(f"unknown recording format {name!r}; known: {known}") from None


def capture_linktype(head: bytes) -> int | None:
    """Link type of a pcap file, or of the first interface of a pcapng file; None if the
    bytes are not a capture or its header is cut before the link type."""
    magic = head[:4]
    if magic in PCAP_MAGICS:
        if len(head) < 24:
            return None
        order = "<" if magic in (PCAP_MAGICS[0], PCAP_MAGICS[2]) else ">"
        return struct.unpack(order + "I", head[20:24])[0] & 0xFFFF  # upper bits: FCS info
    if magic != PCAPNG_MAGIC or len(head) < 12:
        return None
    order = "<" if head[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    i = 0
    while i + 12 <= len(head):
        block_type, length = struct.unpack(order + "II", head[i : i + 8])
        if length < 12:
            return None
        if block_type == 1:  # Interface Description Block: link type is the first field
            return struct.unpack(order + "H", head[i + 8 : i + 10])[0]
        i += length
    return None


def _is_beast(head: bytes) -> bool:
    """Beast frames from the first byte: 0x1A + type, and most 0x1A pairs are frame starts."""
    if len(head) < 2 or head[0] != 0x1A or head[1] not in _BEAST_TYPES:
        return False
    starts = 0
    i = 0
    # count frame starts the cheap way: an escape byte followed by a type byte that is not
    # itself preceded by an escape (doubled 0x1A inside a frame reads as 1A 1A).
    while (j := head.find(b"\x1a", i)) >= 0 and j + 1 < len(head):
        if head[j + 1] == 0x1A:
            i = j + 2
            continue
        if head[j + 1] in _BEAST_TYPES:
            starts += 1
        i = j + 1
    return starts >= min(3, max(1, len(head) // 30))


def _is_sbs(head: bytes) -> bool:
    for line in head.splitlines():
        text = line.strip()
        if text:
            return text.startswith(SBS_PREFIXES)
    return False


def looks_like_text(head: bytes) -> bool:
    """Mostly printable ASCII (CSV, JSON, logs): never binary ASTERIX blocks, whose length
    and FSPEC bytes are rarely all printable."""
    sample = head[:4096]
    printable = sum(1 for b in sample if 32 <= b < 127 or b in (9, 10, 13))
    return printable >= 0.95 * len(sample)


def _is_asterix_blocks(head: bytes, size: int) -> bool:
    """Blocks chain from byte 0 to the end of the file (or past the end of ``head``)."""
    if looks_like_text(head):
        return False
    i = 0
    blocks = 0
    while i + 3 <= len(head):
        length = int.from_bytes(head[i + 1 : i + 3], "big")
        if head[i] == 0 or length < 4 or i + length > size:
            return False
        blocks += 1
        i += length
    if i == size:
        return blocks >= 1
    return i >= len(head) and blocks >= 2  # the chain runs past the bytes we looked at


def detect_format(head: bytes, name: str = "", size: int | None = None) -> RecordingFormat:
    """The format of a recording from its first bytes (at least :data:`HEAD_BYTES` of it,
    or all of it).

    Args:
        head: the file's first bytes.
        name: the file name, only used in error messages.
        size: the whole file's size in bytes (default ``len(head)``: the whole file).

    Raises:
        InputError: an empty file, a capture of another link type, or no known format.
    """
    size = len(head) if size is None else size
    if size == 0:
        raise InputError("empty file: not a recording", path=name or None)
    if head[:4] in PCAP_MAGICS or head[:4] == PCAPNG_MAGIC:
        linktype = capture_linktype(head)
        if linktype in UDP_LINKTYPES:
            return RecordingFormat.ASTERIX_PCAP
        if linktype in RADIO_LINKTYPES:
            return RecordingFormat.REMOTE_ID_PCAP
        what = "unreadable" if linktype is None else f"{linktype}"
        raise InputError(
            f"capture link type {what} is neither Ethernet/IP (ASTERIX over UDP) nor "
            "802.11/Bluetooth LE (Remote ID)",
            path=name or None,
        )
    if _is_beast(head):
        return RecordingFormat.BEAST
    if _is_sbs(head):
        return RecordingFormat.SBS
    if _is_asterix_blocks(head, size):
        return RecordingFormat.ASTERIX
    known = ", ".join(f.value for f in RecordingFormat)
    raise InputError(
        f"unknown recording format (not {known}); name one with --format", path=name or None
    )
