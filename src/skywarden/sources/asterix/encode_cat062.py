"""CAT062 (SDPS system tracks, edition 1.21) encoding with libasterix.

What an ATC display reads from skywarden's tracks (the ``[sinks] asterix_cat062`` output and
its tests). Items written per record: I062/010 data source (SAC/SIC), I062/070 time of track
information, I062/040 track number, I062/080 track status (CST set for coasting tracks),
I062/105 WGS-84 position, I062/185 Cartesian velocity (Vx east, Vy north), I062/060 Mode 3/A
(where known), I062/130 calculated geometric altitude (above the WGS-84 ellipsoid), I062/245
target identification (callsign), I062/380 ADR (ICAO address) and I062/500 APC (position
accuracy, 1 sigma). Values are rounded to each item's LSB as in
:mod:`skywarden.sources.asterix.encode`; absent values (NaN, -1, "") leave their item out, so a
round trip through :class:`~skywarden.sources.asterix.decoder.AsterixDecoder` gives the values
back within half an LSB.
"""

from __future__ import annotations

from typing import Any

import asterix.generated as gen
import numpy as np

from skywarden.sources.asterix.encode import _blocks, _callsign, _present, _raw, _rows, _tod
from skywarden.sources.asterix.records import Cat062Records
from skywarden.units import FT

CAT062_EDITION = gen.Cat_062_1_21
POSITION_LSB_DEG = 180.0 / 2**25  # I062/105
VELOCITY_LSB_MPS = 0.25  # I062/185
HEIGHT_LSB_M = 6.25 * FT  # I062/130
ACCURACY_LSB_M = 0.5  # I062/500 APC


def cat062_record(row: dict[str, Any], coasting: bool = False, spec: type = CAT062_EDITION) -> Any:
    """One libasterix CAT062 record from a row of :class:`Cat062Records` values."""
    items: dict[str, Any] = {
        "010": (("SAC", row["sac"]), ("SIC", row["sic"])),
        "070": _tod(row["tod_s"]),
        "040": row["track_number"] & 0xFFFF,
        # MON SPI MRH SRC CNF: multisensor, geometric altitude more reliable, confirmed;
        # extents 2-4 only to set CST (coasting)
        "080": (0b0010000, 0, 0, 1 << 6) if coasting else (0b0010000,),
        "105": (
            ("LAT", _raw(row["lat_deg"], POSITION_LSB_DEG, 32, signed=True)),
            ("LON", _raw(row["lon_deg"], POSITION_LSB_DEG, 32, signed=True)),
        ),
    }
    if _present(row["vx_mps"]) and _present(row["vy_mps"]):
        items["185"] = (
            ("VX", _raw(row["vx_mps"], VELOCITY_LSB_MPS, 16, signed=True)),
            ("VY", _raw(row["vy_mps"], VELOCITY_LSB_MPS, 16, signed=True)),
        )
    if _present(row["mode3a"]):
        items["060"] = (("V", 0), ("G", 0), ("CH", 0), 0, ("MODE3A", row["mode3a"] & 0xFFF))
    if _present(row["geometric_height_m"]):
        items["130"] = _raw(row["geometric_height_m"], HEIGHT_LSB_M, 16, signed=True)
    if _present(row["callsign"]):
        items["245"] = (("STI", 0), 0, ("CHR", _callsign(row["callsign"]).ljust(8)))
    if _present(row["address"]):
        items["380"] = {"ADR": row["address"] & 0xFFFFFF}
    if _present(row["sigma_x_m"]) and _present(row["sigma_y_m"]):
        x = _raw(row["sigma_x_m"], ACCURACY_LSB_M, 16)
        items["500"] = {"APC": (("X", x), ("Y", _raw(row["sigma_y_m"], ACCURACY_LSB_M, 16)))}
    return spec.cv_record.create(items)


def encode_cat062(
    tracks: Cat062Records,
    *,
    coasting: np.ndarray | None = None,
    records_per_block: int = 50,
    spec: type = CAT062_EDITION,
) -> list[bytes]:
    """CAT062 data blocks for the system tracks, in order (``coasting``: (N,) bool, CST).

    Rows without a finite position or time are left out (CAT062 requires both)."""
    n = len(tracks)
    coast = np.zeros(n, bool) if coasting is None else np.asarray(coasting, bool)
    records = [
        cat062_record(row, bool(c), spec)
        for row, c in zip(_rows(tracks), coast, strict=True)
        if _present(row["lat_deg"]) and _present(row["lon_deg"]) and _present(row["tod_s"])
    ]
    return _blocks(spec, records, records_per_block)
