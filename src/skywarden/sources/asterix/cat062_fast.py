"""Vectorised CAT062 decoding: many system-track blocks at once with NumPy.

The same scheme as :mod:`skywarden.sources.asterix.cat048_fast`: the structure walk
(:mod:`skywarden.sources.asterix.structure`, compiled from libasterix's own edition specs)
finds where each item of each record starts; the items the tracker and the evidence table
need are then read as whole columns. Blocks the walk cannot handle, or that no edition walks
cleanly into plausible records, go back to the caller for libasterix, so the result is
record-for-record what libasterix gives (checked on every real CAT062 file in the tests).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from skywarden.sources.asterix.cat048_fast import (
    FastResult,
    _callsigns,
    _signed,
    _uint,
    decode_walked_blocks,
)
from skywarden.sources.asterix.editions import Edition
from skywarden.sources.asterix.layouts import CAT062_SUBITEMS, Cat062Layout
from skywarden.sources.asterix.records import Cat062Records
from skywarden.sources.asterix.structure import ColumnWriter, compound_subitem_starts
from skywarden.units import FL, FT


def _text(buf: np.ndarray, pos: np.ndarray, nbytes: int) -> np.ndarray:
    """ASCII text of nbytes at each pos, trailing spaces removed (as libasterix gives it)."""
    raw = buf[pos[:, None] + np.arange(nbytes)]
    return np.char.rstrip(raw.copy().view(f"S{nbytes}").reshape(-1).astype(f"<U{nbytes}"))


def _extension_octet(buf: np.ndarray, pos: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(present (N,), value (N,)) of octet k (0-based) of an extended item at pos."""
    present = np.ones(pos.shape[0], bool)
    for j in range(k):
        present &= (buf[pos + j] & 0x01) != 0
    value = np.where(present, buf[pos + np.where(present, k, 0)], 0)
    return present, value


def extract_cat062(
    ed: Cat062Layout, buf: np.ndarray, starts: np.ndarray, block: np.ndarray
) -> Cat062Records:
    """Read the CAT062 columns from walked records (``starts``: (R, n_frn))."""
    n = starts.shape[0]
    end = np.full(n, buf.shape[0], np.int64)
    w = ColumnWriter(ed.layout, starts, Cat062Records, block)
    present, put = w.present, w.put

    def subitems(item: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        idx, p = present(item)
        node = ed.layout.nodes[ed.layout.frn[item]]
        sub = compound_subitem_starts(node, buf, p, end[idx])
        return idx, {name: sub[:, k] for name, k in ed.sub[item].items()}

    idx, p = present("010")
    put("sac", idx, buf[p])
    put("sic", idx, buf[p + 1])
    idx, p = present("070")
    put("tod_s", idx, _uint(buf, p, 3) / 128.0)
    idx, p = present("040")
    put("track_number", idx, _uint(buf, p, 2))
    idx, p = present("105")
    put("lat_deg", idx, _signed(_uint(buf, p, 4), 32) * (180.0 / 2**25))
    put("lon_deg", idx, _signed(_uint(buf, p + 4, 4), 32) * (180.0 / 2**25))
    idx, p = present("100")
    put("x_m", idx, _signed(_uint(buf, p, 3), 24) * 0.5)
    put("y_m", idx, _signed(_uint(buf, p + 3, 3), 24) * 0.5)
    idx, p = present("185")
    put("vx_mps", idx, _signed(_uint(buf, p, 2), 16) * 0.25)
    put("vy_mps", idx, _signed(_uint(buf, p + 2, 2), 16) * 0.25)
    idx, p = present("060")
    v = _uint(buf, p, 2)
    put("mode3a", idx, v & 0x0FFF)
    put("mode3a_valid", idx, (v & 0xC000) == 0)
    idx, p = present("136")
    put("pressure_altitude_m", idx, _signed(_uint(buf, p, 2), 16) * (FL / 4.0))
    idx, p = present("135")
    v = _uint(buf, p, 2)
    put("qnh_corrected", idx, (v & 0x8000) != 0)
    put("barometric_altitude_m", idx, _signed(v & 0x7FFF, 15) * (FL / 4.0))
    idx, p = present("130")
    put("geometric_height_m", idx, _signed(_uint(buf, p, 2), 16) * (6.25 * FT))
    idx, p = present("080")
    has, octet = _extension_octet(buf, p, 1)
    put("simulated", idx[has], (octet[has] & 0x80) != 0)
    put("plan_correlated", idx[has], (octet[has] & 0x10) != 0)
    has, octet = _extension_octet(buf, p, 3)  # CST PSR SSR MDS ADS SUC AAC FX
    put("secondary_recent", idx[has], (octet[has] & 0x30) != 0x30)
    if ed.has_sfc:
        has, octet = _extension_octet(buf, p, 5)
        put("surface", idx[has], (octet[has] & 0x10) != 0)
    idx, p = present("245")
    put("callsign", idx, _callsigns(buf, p + 1))
    idx, sub = subitems("380")
    s = sub.get("ADR", np.full(idx.size, -1))
    put("address", idx[s >= 0], _uint(buf, s[s >= 0], 3))
    s = sub.get("ID", np.full(idx.size, -1))
    put("callsign", idx[s >= 0], _callsigns(buf, s[s >= 0]))
    idx, sub = subitems("390")
    put("has_flight_plan", idx, True)
    text_columns = (("CS", "plan_callsign"), ("TAC", "aircraft_type"), ("WTC", "wake_category"))
    for name, column in text_columns:
        s = sub.get(name, np.full(idx.size, -1))
        put(column, idx[s >= 0], _text(buf, s[s >= 0], CAT062_SUBITEMS["390"][name]))
    s = sub.get("FCT", np.full(idx.size, -1))
    put("flight_rules", idx[s >= 0], (buf[s[s >= 0]] >> 4) & 0x03)
    idx, sub = subitems("500")
    s = sub.get("APC", np.full(idx.size, -1))
    put("sigma_x_m", idx[s >= 0], _uint(buf, s[s >= 0], 2) * 0.5)
    put("sigma_y_m", idx[s >= 0], _uint(buf, s[s >= 0] + 2, 2) * 0.5)
    return Cat062Records.from_columns(w.columns, n)


def decode_cat062_blocks(
    buf: np.ndarray,
    first: np.ndarray,
    end: np.ndarray,
    source: np.ndarray,
    editions: Sequence[Edition],
    memory: dict[tuple[int, int, int], Edition],
) -> FastResult:
    """Decode B CAT062 blocks whose records span ``buf[first:end]``.

    Args as :func:`~skywarden.sources.asterix.cat048_fast.decode_cat048_blocks`: the whole
    input as uint8, (B,) offsets of each block's first record and end, (B,) SAC*256+SIC of
    its first record (-1 unknown), the editions in order, and the (62, SAC, SIC) -> edition
    memory (tried first, updated here).
    """
    return decode_walked_blocks(
        62, Cat062Records, extract_cat062, buf, first, end, source, editions, memory
    )
