"""Vectorised CAT048 decoding: many blocks at once with NumPy, no Python object per record.

The structure walk (:mod:`skywarden.sources.asterix.structure`) finds where each item of each
record starts, using the layout of a libasterix CAT048 edition; the items the tracker needs
are then read as whole columns. Blocks the walk cannot handle (random field sequencing, or
no edition walks them cleanly) are returned to the caller, which decodes them with
libasterix; so the result is record-for-record what libasterix gives, only faster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from skywarden.sorted_distinct import sorted_distinct
from skywarden.sources.asterix.editions import Edition, edition_layout
from skywarden.sources.asterix.layouts import Cat048Layout
from skywarden.sources.asterix.records import Cat048Records, ColumnRecords, implausible
from skywarden.sources.asterix.structure import (
    ColumnWriter,
    compound_subitem_starts,
    walk_blocks,
)
from skywarden.units import DEG, FL, FT, NM

_ICAO_CHARS = np.zeros(64, dtype=np.uint8)  # 6-bit ICAO alphabet; 0 = dropped character
_ICAO_CHARS[1:27] = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)
_ICAO_CHARS[32] = ord(" ")
_ICAO_CHARS[48:58] = np.frombuffer(b"0123456789", dtype=np.uint8)


def _uint(buf: np.ndarray, pos: np.ndarray, nbytes: int) -> np.ndarray:
    value = np.zeros(pos.shape[0], dtype=np.int64)
    for j in range(nbytes):
        value = (value << 8) | buf[pos + j].astype(np.int64)
    return value


def _signed(value: np.ndarray, bits: int) -> np.ndarray:
    return np.where(value >= 1 << (bits - 1), value - (1 << bits), value)


def _callsigns(buf: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """I048/240 six bytes -> text (ICAO 6-bit characters), trailing spaces removed."""
    raw = buf[pos[:, None] + np.arange(6)].astype(np.uint64)
    word = np.zeros(pos.shape[0], dtype=np.uint64)
    for j in range(6):
        word = (word << np.uint64(8)) | raw[:, j]
    shifts = np.arange(42, -1, -6, dtype=np.uint64)
    codes = ((word[:, None] >> shifts) & np.uint64(63)).astype(np.intp)
    chars = _ICAO_CHARS[codes]
    if (chars == 0).any():  # rare: characters outside the alphabet are dropped
        text = [bytes(row[row != 0]).decode("ascii").rstrip() for row in chars]
        return np.asarray(text, dtype="<U8")
    return np.char.rstrip(chars.view("S8").reshape(-1).astype("<U8"))


def extract_cat048(
    ed: Cat048Layout, buf: np.ndarray, starts: np.ndarray, block: np.ndarray
) -> Cat048Records:
    """Read the tracker's CAT048 items from walked records (``starts``: (R, n_frn))."""
    n = starts.shape[0]
    w = ColumnWriter(ed.layout, starts, Cat048Records, block)
    present, put = w.present, w.put

    idx, p = present("010")
    put("sac", idx, buf[p])
    put("sic", idx, buf[p + 1])
    idx, p = present("140")
    put("tod_s", idx, _uint(buf, p, 3) / 128.0)
    idx, p = present("020")
    put("typ", idx, buf[p] >> 5)
    put("simulated", idx, (buf[p] & 0x10) != 0)
    put("field_monitor", idx, (buf[p] & 0x02) != 0)
    put("test_target", idx, ((buf[p] & 0x01) != 0) & ((buf[p + 1] & 0x80) != 0))
    idx, p = present("230")
    put("flight_status", idx, (buf[p] >> 2) & 0x07)
    idx, p = present("040")
    put("range_m", idx, _uint(buf, p, 2) * (NM / 256.0))
    put("azimuth_rad", idx, _uint(buf, p + 2, 2) * (360.0 / 65536.0) * DEG)
    idx, p = present("070")
    v = _uint(buf, p, 2)
    put("mode3a", idx, v & 0x0FFF)
    put("mode3a_valid", idx, (v & 0xC000) == 0)
    idx, p = present("090")
    v = _uint(buf, p, 2)
    fl = _signed(v & 0x3FFF, 14) if ed.fl_signed else v & 0x3FFF
    put("pressure_altitude_m", idx, fl * (FL / 4.0))
    put("mode_c_valid", idx, (v & 0xC000) == 0)
    idx, p = present("110")
    put("measured_height_m", idx, _signed(_uint(buf, p, 2) & 0x3FFF, 14) * (25.0 * FT))
    idx, p = present("220")
    put("address", idx, _uint(buf, p, 3))
    idx, p = present("240")
    put("callsign", idx, _callsigns(buf, p))
    idx, p = present("161")
    put("track_number", idx, _uint(buf, p, 2) & 0x0FFF)
    idx, p = present("200")
    put("ground_speed_mps", idx, _uint(buf, p, 2) * (NM / 16384.0))
    put("heading_rad", idx, _uint(buf, p + 2, 2) * (360.0 / 65536.0) * DEG)
    if ed.plot_characteristics:
        idx, p = present("130")
        node = ed.layout.nodes[ed.layout.frn["130"]]
        sub_starts = compound_subitem_starts(node, buf, p, np.full(p.shape, buf.shape[0]))
        for sub in ed.plot_characteristics:
            s = sub_starts[:, sub.index]
            has = s >= 0
            raw = _uint(buf, s[has], sub.nbytes)
            value = _signed(raw, 8 * sub.nbytes) if sub.signed else raw
            put(sub.column, idx[has], value * sub.lsb * sub.unit)
    return Cat048Records.from_columns(w.columns, n)


@dataclass
class FastResult:
    """Records of the blocks decoded here, and the blocks left to libasterix."""

    records: ColumnRecords  # of the category decoded
    fallback: np.ndarray  # indices (into the caller's block arrays) to decode with libasterix


def decode_cat048_blocks(
    buf: np.ndarray,
    first: np.ndarray,
    end: np.ndarray,
    source: np.ndarray,
    editions: Sequence[Edition],
    memory: dict[tuple[int, int, int], Edition],
) -> FastResult:
    """Decode B CAT048 blocks whose records span ``buf[first:end]``.

    Args:
        buf: the whole input as a uint8 array.
        first, end: (B,) byte offsets of each block's first record and of its end.
        source: (B,) SAC*256+SIC of the block's first record, -1 if unknown.
        editions: the CAT048 editions in order of preference.
        memory: (48, SAC, SIC) -> edition that decoded this source before; tried first
            and updated with the editions chosen here.
    """
    return decode_walked_blocks(
        48, Cat048Records, extract_cat048, buf, first, end, source, editions, memory
    )


def decode_walked_blocks(
    cat: int,
    record_type: type[ColumnRecords],
    extract: Callable[..., ColumnRecords],
    buf: np.ndarray,
    first: np.ndarray,
    end: np.ndarray,
    source: np.ndarray,
    editions: Sequence[Edition],
    memory: dict[tuple[int, int, int], Edition],
) -> FastResult:
    """The edition search of the fast paths, for any category: for each block, the first
    edition (the one its source used before first, then in order) that walks every record
    cleanly into plausible values, as the libasterix path chooses.
    ``extract(layout, buf, starts, block)`` reads the columns; ``layout`` is the edition's
    :func:`~skywarden.sources.asterix.editions.edition_layout`."""
    n_blocks = first.shape[0]
    pref = _preference(cat, source, editions, memory)
    undecided = np.ones(n_blocks, dtype=bool)
    fallback = np.zeros(n_blocks, dtype=bool)
    parts: list[ColumnRecords] = []
    for attempt in range(len(editions)):
        for e_index, edition in enumerate(editions):
            chosen = np.flatnonzero(undecided & (pref[:, attempt] == e_index))
            if chosen.size == 0:
                continue
            ed = edition_layout(edition)
            walked = walk_blocks(ed.layout, buf, first[chosen], end[chosen])
            unsupported = chosen[~walked.block_supported]
            fallback[unsupported] = True
            undecided[unsupported] = False
            clean = walked.block_ok & walked.block_supported
            rows = clean[walked.block]
            records = extract(ed, buf, walked.starts[rows], chosen[walked.block[rows]])
            bad_blocks = records.block[implausible(records)]
            good = chosen[clean & ~np.isin(chosen, bad_blocks)]
            keep = np.isin(records.block, good)
            parts.append(records if keep.all() else records.take(keep))
            undecided[good] = False
            for s in sorted_distinct(source[good]):
                if s >= 0:
                    memory[(cat, int(s) >> 8, int(s) & 0xFF)] = edition
    fallback |= undecided
    merged = record_type.concat(parts)
    if np.any(np.diff(merged.block) < 0):
        merged = merged.take(np.argsort(merged.block, kind="stable"))
    return FastResult(merged, np.flatnonzero(fallback))


def _preference(
    cat: int,
    source: np.ndarray,
    editions: Sequence[Edition],
    memory: dict[tuple[int, int, int], Edition],
) -> np.ndarray:
    """(B, n_editions) order in which to try the editions for each block's source."""
    default = list(range(len(editions)))
    uniq, inverse = np.unique(source, return_inverse=True)
    table = np.empty((uniq.size, len(editions)), dtype=np.int64)
    for row, s in enumerate(uniq):
        known = memory.get((cat, int(s) >> 8, int(s) & 0xFF)) if s >= 0 else None
        if known is not None and known in editions:
            k = list(editions).index(known)
            table[row] = [k, *(i for i in default if i != k)]
        else:
            table[row] = default
    return table[inverse.reshape(-1)]
