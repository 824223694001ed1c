"""Vectorised CAT034 decoding: the radar service messages (north markers, sector crossings)
that come with CAT048, many blocks at once with NumPy.

The same scheme as the CAT048 and CAT062 fast paths (structure walk compiled from
libasterix's edition specs, then whole columns; blocks the walk cannot take go back to
libasterix), so the records are record-for-record what libasterix gives.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from skywarden.sources.asterix.cat048_fast import FastResult, _signed, _uint, decode_walked_blocks
from skywarden.sources.asterix.editions import Edition
from skywarden.sources.asterix.layouts import Cat034Layout
from skywarden.sources.asterix.records import Cat034Records
from skywarden.sources.asterix.structure import ColumnWriter, compound_subitem_starts
from skywarden.units import DEG


def extract_cat034(
    ed: Cat034Layout, buf: np.ndarray, starts: np.ndarray, block: np.ndarray
) -> Cat034Records:
    """Read the CAT034 columns from walked records (``starts``: (R, n_frn))."""
    n = starts.shape[0]
    w = ColumnWriter(ed.layout, starts, Cat034Records, block)
    present, put = w.present, w.put

    idx, p = present("010")
    put("sac", idx, buf[p])
    put("sic", idx, buf[p + 1])
    idx, p = present("000")
    put("message_type", idx, buf[p])
    idx, p = present("030")
    put("tod_s", idx, _uint(buf, p, 3) / 128.0)
    idx, p = present("020")
    put("sector_azimuth_rad", idx, buf[p] * (360.0 / 256.0) * DEG)
    idx, p = present("041")
    put("rotation_period_s", idx, _uint(buf, p, 2) / 128.0)
    idx, p = present("120")
    put("radar_height_m", idx, _signed(_uint(buf, p, 2), 16).astype(np.float64))
    put("radar_lat_deg", idx, _signed(_uint(buf, p + 2, 3), 24) * (180.0 / 2**23))
    put("radar_lon_deg", idx, _signed(_uint(buf, p + 5, 3), 24) * (180.0 / 2**23))
    if ed.com >= 0:
        idx, p = present("050")
        node = ed.layout.nodes[ed.layout.frn["050"]]
        sub = compound_subitem_starts(node, buf, p, np.full(p.shape, buf.shape[0]))[:, ed.com]
        has = sub >= 0
        put("nogo", idx[has], buf[sub[has]] >> 7)
    return Cat034Records.from_columns(w.columns, n)


def decode_cat034_blocks(
    buf: np.ndarray,
    first: np.ndarray,
    end: np.ndarray,
    source: np.ndarray,
    editions: Sequence[Edition],
    memory: dict[tuple[int, int, int], Edition],
) -> FastResult:
    """Decode B CAT034 blocks whose records span ``buf[first:end]`` (arguments as
    :func:`~skywarden.sources.asterix.cat062_fast.decode_cat062_blocks`)."""
    return decode_walked_blocks(
        34, Cat034Records, extract_cat034, buf, first, end, source, editions, memory
    )
