"""A tiny PMTiles v3 archive for the basemap tests: one raster tile (z0, a solid colour PNG).

Written from the PMTiles v3 specification (github.com/protomaps/PMTiles, spec/v3): a 127-byte
header, the root directory (varint columns), JSON metadata, the tile data; nothing compressed."""

from __future__ import annotations

import json
import struct
import zlib


def png(rgb: tuple[int, int, int], size: int = 256) -> bytes:
    """A size x size PNG of one colour."""
    row = b"\x00" + bytes(rgb) * size
    raw = zlib.compress(row * size)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pmtiles_one_tile(tile: bytes, tile_type: int = 2) -> bytes:
    """A PMTiles v3 archive whose only tile is z0/0/0 (tile_type 2 = PNG)."""
    # root directory: 1 entry: tile id 0, run length 1, length, offset 0 (+1)
    directory = _varint(1) + _varint(0) + _varint(1) + _varint(len(tile)) + _varint(1)
    metadata = json.dumps({"name": "test basemap"}).encode()
    root_at = 127
    meta_at = root_at + len(directory)
    data_at = meta_at + len(metadata)
    header = b"PMTiles" + bytes([3])
    header += struct.pack("<QQQQQQQQQQQ", root_at, len(directory), meta_at, len(metadata),
                          0, 0, data_at, len(tile), 1, 1, 1)  # fmt: skip
    e7 = 10_000_000
    header += struct.pack("<BBBBBBiiiiBii", 0, 1, 1, tile_type, 0, 0, -180 * e7, -85 * e7,
                          180 * e7, 85 * e7, 0, 0, 0)  # fmt: skip
    assert len(header) == 127
    return header + directory + metadata + tile
