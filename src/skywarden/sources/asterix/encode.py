"""ASTERIX encoding with libasterix: CAT048 plots, CAT034 service messages, CAT021 reports.

The simulator builds record columns (:mod:`skywarden.sources.asterix.records`) and turns
them into the data blocks a real radar or ADS-B ground station sends. Values are rounded
to each item's least significant bit here (angles wrap; ranges, speeds, amplitudes and
runlengths saturate), so a round trip through
:class:`~skywarden.sources.asterix.decoder.AsterixDecoder` returns them within half an LSB.
Absent values (NaN, -1, "") leave their item (or I048/130 subitem) out.
"""

from __future__ import annotations

import math
from typing import Any

import asterix.generated as gen
import numpy as np

from skywarden.sources.asterix.records import (
    Cat021Records,
    Cat034Records,
    Cat048Records,
    ColumnRecords,
)
from skywarden.units import DEG, FL, FPM, FT, NM

CAT048_EDITION = gen.Cat_048_1_32
RUNLENGTH_LSB_DEG = 360.0 / 2**13  # I048/130 SRL and PRL
AMPLITUDE_LSB_DBM = 1.0  # I048/130 SAM and PAM (signed byte: -128 .. 127 dBm)
CAT034_EDITION = gen.Cat_034_1_29
CAT021_EDITION = gen.Cat_021_2_7
SECONDS_PER_DAY = 86400.0


def _raw(value: float, lsb: float, bits: int, *, signed: bool = False, wrap: bool = False) -> int:
    """Round to the LSB; wrap (angles) or saturate into the field; two's complement if signed."""
    n = int(round(value / lsb))
    if wrap:
        return n % (1 << bits)
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    return min(max(n, lo), hi) & ((1 << bits) - 1)


def _tod(tod_s: float) -> int:
    return _raw(tod_s % SECONDS_PER_DAY, 1.0 / 128.0, 24)


def _present(x: Any) -> bool:
    if isinstance(x, (float, np.floating)):
        return not math.isnan(x)
    if isinstance(x, str):
        return x != ""
    if isinstance(x, (bool, np.bool_)):
        return True
    return int(x) >= 0


def _callsign(text: str) -> str:
    return "".join(c if c.isalnum() or c == " " else " " for c in text.upper())[:8]


def _blocks(spec: type, records: list[Any], per_block: int) -> list[bytes]:
    return [
        spec.create(records[i : i + per_block]).unparse().to_bytes()
        for i in range(0, len(records), max(per_block, 1))
    ]


def _rows(records: ColumnRecords) -> list[dict[str, Any]]:
    names = list(type(records).dtypes())
    cols = [getattr(records, n).tolist() for n in names]
    return [dict(zip(names, values, strict=True)) for values in zip(*cols, strict=True)]


def cat048_record(row: dict[str, Any], spec: type = CAT048_EDITION) -> Any:
    """One libasterix CAT048 record from a row of :class:`Cat048Records` values."""
    items: dict[str, Any] = {"010": (("SAC", row["sac"]), ("SIC", row["sic"]))}
    if _present(row["tod_s"]):
        items["140"] = _tod(row["tod_s"])
    items["020"] = ((max(row["typ"], 0) & 7) << 4,)
    if _present(row["range_m"]) and _present(row["azimuth_rad"]):
        rho = _raw(row["range_m"] / NM, 1.0 / 256.0, 16)
        theta = _raw(row["azimuth_rad"] / DEG, 360.0 / 65536.0, 16, wrap=True)
        items["040"] = (("RHO", rho), ("THETA", theta))
    if _present(row["mode3a"]):
        items["070"] = (
            ("V", 0 if row["mode3a_valid"] else 1),
            ("G", 0),
            ("L", 0),
            0,
            ("MODE3A", row["mode3a"] & 0xFFF),
        )
    if _present(row["pressure_altitude_m"]):
        fl = _raw(row["pressure_altitude_m"], FL / 4.0, 14, signed=True)
        items["090"] = (("V", 0 if row["mode_c_valid"] else 1), ("G", 0), ("FL", fl))
    if _present(row["measured_height_m"]):
        items["110"] = (0, ("3DH", _raw(row["measured_height_m"], 25.0 * FT, 14, signed=True)))
    if _present(row["address"]):
        items["220"] = row["address"] & 0xFFFFFF
    if _present(row["callsign"]):
        items["240"] = _callsign(row["callsign"])
    if _present(row["track_number"]):
        items["161"] = (0, ("TRN", row["track_number"] & 0xFFF))
    if _present(row["ground_speed_mps"]) and _present(row["heading_rad"]):
        gsp = _raw(row["ground_speed_mps"] / NM, 2.0**-14, 16)
        hdg = _raw(row["heading_rad"] / DEG, 360.0 / 65536.0, 16, wrap=True)
        items["200"] = (("GSP", gsp), ("HDG", hdg))
    characteristics = _plot_characteristics(row)
    if characteristics:
        items["130"] = characteristics
    return spec.cv_record.create(items)


def _plot_characteristics(row: dict[str, Any]) -> dict[str, int]:
    """I048/130 subitems of the finite amplitude / runlength columns (empty: leave it out)."""
    out = {}
    for name, column in (("SRL", "ssr_runlength_rad"), ("PRL", "primary_runlength_rad")):
        if _present(row[column]):
            out[name] = _raw(row[column] / DEG, RUNLENGTH_LSB_DEG, 8)
    for name, column in (("SAM", "ssr_amplitude_dbm"), ("PAM", "primary_amplitude_dbm")):
        if _present(row[column]):
            out[name] = _raw(row[column], AMPLITUDE_LSB_DBM, 8, signed=True)
    return out


def encode_cat048(
    plots: Cat048Records, *, records_per_block: int = 1, spec: type = CAT048_EDITION
) -> list[bytes]:
    """CAT048 data blocks (``records_per_block`` records each) for the plots, in order."""
    return _blocks(spec, [cat048_record(r, spec) for r in _rows(plots)], records_per_block)


def cat034_record(row: dict[str, Any], spec: type = CAT034_EDITION) -> Any:
    """One libasterix CAT034 record from a row of :class:`Cat034Records` values."""
    items: dict[str, Any] = {
        "010": (("SAC", row["sac"]), ("SIC", row["sic"])),
        "000": row["message_type"] & 0xFF,
    }
    if _present(row["tod_s"]):
        items["030"] = _tod(row["tod_s"])
    if _present(row["sector_azimuth_rad"]):
        items["020"] = _raw(row["sector_azimuth_rad"] / DEG, 360.0 / 256.0, 8, wrap=True)
    if _present(row["rotation_period_s"]):
        items["041"] = _raw(row["rotation_period_s"], 1.0 / 128.0, 16)
    if _present(row["radar_lat_deg"]) and _present(row["radar_lon_deg"]):
        height = row["radar_height_m"] if _present(row["radar_height_m"]) else 0.0
        items["120"] = (
            ("HGT", _raw(height, 1.0, 16, signed=True)),
            ("LAT", _raw(row["radar_lat_deg"], 180.0 / 2**23, 24, signed=True)),
            ("LON", _raw(row["radar_lon_deg"], 180.0 / 2**23, 24, signed=True)),
        )
    return spec.cv_record.create(items)


def encode_cat034(messages: Cat034Records, *, spec: type = CAT034_EDITION) -> list[bytes]:
    """One CAT034 data block per service message (north marker, sector crossing ...)."""
    return _blocks(spec, [cat034_record(r, spec) for r in _rows(messages)], 1)


def radar_service_messages(
    sac: int,
    sic: int,
    tod_s: np.ndarray,
    sector_azimuth_rad: np.ndarray,
    *,
    rotation_period_s: float = math.nan,
    radar_lat_deg: float = math.nan,
    radar_lon_deg: float = math.nan,
    radar_height_m: float = math.nan,
) -> Cat034Records:
    """Sector crossings (north marker where the azimuth is 0) of a rotating radar.

    ``tod_s`` and ``sector_azimuth_rad`` are (M,) arrays; the radar position (I034/120)
    and rotation period (I034/041) go into the north markers.
    """
    az = np.mod(np.asarray(sector_azimuth_rad, dtype=np.float64), 2 * math.pi)
    north = np.isclose(az, 0.0) | np.isclose(az, 2 * math.pi)
    m = az.shape[0]
    cols = {
        "sac": np.full(m, sac),
        "sic": np.full(m, sic),
        "message_type": np.where(north, 1, 2),
        "tod_s": np.asarray(tod_s, dtype=np.float64),
        "sector_azimuth_rad": np.where(north, math.nan, az),
        "rotation_period_s": np.where(north, rotation_period_s, math.nan),
        "radar_lat_deg": np.where(north, radar_lat_deg, math.nan),
        "radar_lon_deg": np.where(north, radar_lon_deg, math.nan),
        "radar_height_m": np.where(north, radar_height_m, math.nan),
    }
    return Cat034Records.from_columns(cols, m)


def cat021_record(row: dict[str, Any], spec: type = CAT021_EDITION) -> Any:
    """One libasterix CAT021 (2.x) record from a row of :class:`Cat021Records` values."""
    items: dict[str, Any] = {
        "010": (("SAC", row["sac"]), ("SIC", row["sic"])),
        "040": ((1 << 4,)),  # ATP = 24-bit ICAO address, ARC = 25 ft
    }
    if _present(row["tod_s"]):
        items["071"] = _tod(row["tod_s"])
    if _present(row["lat_deg"]) and _present(row["lon_deg"]):
        lsb = 180.0 / 2**30
        items["131"] = (
            ("LAT", _raw(row["lat_deg"], lsb, 32, signed=True)),
            ("LON", _raw(row["lon_deg"], lsb, 32, signed=True)),
        )
    if _present(row["address"]):
        items["080"] = row["address"] & 0xFFFFFF
    if _present(row["callsign"]):
        items["170"] = _callsign(row["callsign"])
    if _present(row["geometric_height_m"]):
        items["140"] = _raw(row["geometric_height_m"], 6.25 * FT, 16, signed=True)
    if _present(row["pressure_altitude_m"]):
        items["145"] = _raw(row["pressure_altitude_m"], FL / 4.0, 16, signed=True)
    if _present(row["ground_speed_mps"]) and _present(row["track_angle_rad"]):
        gs = _raw(row["ground_speed_mps"] / NM, 2.0**-14, 15)
        items["160"] = (
            ("RE", 0),
            ("GS", gs),
            ("TA", _raw(row["track_angle_rad"] / DEG, 360.0 / 65536.0, 16, wrap=True)),
        )
    if _present(row["vertical_rate_mps"]):
        items["155"] = (
            ("RE", 0),
            ("BVR", _raw(row["vertical_rate_mps"], 6.25 * FPM, 15, signed=True)),
        )
    if _present(row["emitter_category"]):
        items["020"] = row["emitter_category"] & 0xFF
    if _present(row["nacp"]):
        nic = max(row["nic"], 0) & 0xF
        items["090"] = (nic, row["nacp"] & 0xF)
    return spec.cv_record.create(items)


def encode_cat021(
    reports: Cat021Records, *, records_per_block: int = 1, spec: type = CAT021_EDITION
) -> list[bytes]:
    """CAT021 (edition 2.7) data blocks for the ADS-B reports, in order."""
    return _blocks(spec, [cat021_record(r, spec) for r in _rows(reports)], records_per_block)
