"""Mode S / ADS-B payload decoding: raw messages -> a struct of decoded fields (pure).

Field decoding is done by ``rs1090`` (MIT, Rust) in batches; this module checks the CRC-24
first (vectorised, :mod:`skywarden.sources.modes.crc`), hands rs1090 only well-formed
messages and copies the fields the tracker needs into arrays. Turning the message stream into
positions (CPR pairing per aircraft) is :class:`skywarden.sources.modes.state.ModeSState`.

Units here are the wire units (feet, knots, degrees, ft/min), in arrays named after them;
conversion to SI happens in :mod:`skywarden.sources.modes.state` when reports are built.
"""

from __future__ import annotations

import pickle
from collections import Counter
from dataclasses import dataclass

import numpy as np
import rs1090

from skywarden.sources.modes import crc as modes_crc
from skywarden.units import BoolArray, FloatArray, IntArray

ADSB_DF = (17, 18)
ADDRESS_PARITY_DF = (0, 4, 5, 16, 20, 21)  # parity XOR address: the syndrome is the address
SUPPORTED_DF = (0, 4, 5, 11, 16, 17, 18, 20, 21)
RS1090_BATCH = 4096
# NUCp (DO-260 version 0, from the typecode) -> the NACp of equal 95 % accuracy (HFOM):
# 9:<3 m, 8:<10 m, 7:<0.05 NM, 6:<0.1 NM, 5:<0.25 NM (~0.3), 4:<0.5 NM, 3:<1 NM, 2:<5 NM
NUCP_TO_NACP = np.array([0, 1, 1, 4, 5, 6, 7, 8, 10, 11], dtype=np.int8)


@dataclass(frozen=True, slots=True)
class ModeSMessages:
    """M decoded Mode S messages (struct of arrays, input order; NaN / -1 / '' = absent).

    Attributes:
        t: (M,) POSIX seconds of reception.
        icao: (M,) int64 24-bit address (from AA, or recovered from AP parity).
        df: (M,) int8 downlink format.  tc: (M,) int8 ADS-B typecode (DF17/18), else -1.
        address_verified: (M,) bool, True when the CRC proves the address (DF11/17/18).
        altitude_ft: (M,) barometric or GNSS altitude in feet.
        altitude_gnss: (M,) bool, True when altitude_ft is GNSS height (TC 20-22).
        cpr_lat, cpr_lon: (M,) int64 17-bit CPR values of positions, else -1.
        cpr_odd: (M,) bool CPR frame parity.
        surface: (M,) bool, True for surface position messages (TC 5-8: on the ground; their
            CPR values use the surface zones, and groundspeed_kt / track_deg their movement
            and ground track).
        nucp: (M,) int8 NUCp implied by the position typecode, else -1.
        groundspeed_kt, track_deg, vertical_rate_fpm: (M,) ground velocity (TC 19 sub 1/2).
        geo_minus_baro_ft: (M,) GNSS minus barometric altitude from TC 19, feet.
        nacp: (M,) int8 NACp from target state (TC 29) / operational status (TC 31), else -1.
        squawk: (M,) int16 Mode A code as four octal digits read as decimal, else -1.
        callsign: (M,) object array of str ('' = none), from identification (TC 1-4) or
            Comm-B BDS 2,0 (DF20/21).
    """

    t: FloatArray
    icao: IntArray
    df: np.ndarray
    tc: np.ndarray
    address_verified: BoolArray
    altitude_ft: FloatArray
    altitude_gnss: BoolArray
    cpr_lat: IntArray
    cpr_lon: IntArray
    cpr_odd: BoolArray
    surface: BoolArray
    nucp: np.ndarray
    groundspeed_kt: FloatArray
    track_deg: FloatArray
    vertical_rate_fpm: FloatArray
    geo_minus_baro_ft: FloatArray
    nacp: np.ndarray
    squawk: np.ndarray
    callsign: np.ndarray

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def is_airborne_position(self) -> BoolArray:
        """DF17/18 airborne position messages with a CPR position (TC 9-18, 20-22)."""
        return (self.cpr_lat >= 0) & ~self.surface

    def is_surface_position(self) -> BoolArray:
        """DF17/18 surface position messages (TC 5-8) with a CPR position."""
        return (self.cpr_lat >= 0) & self.surface


def _payload_array(payloads: list[bytes], size: int) -> np.ndarray:
    """Stack equal-length payloads into an (M, size) uint8 array."""
    if not payloads:
        return np.zeros((0, size), dtype=np.uint8)
    return np.frombuffer(b"".join(payloads), dtype=np.uint8).reshape(-1, size)


def _validate(
    payloads: list[bytes], rejects: Counter
) -> tuple[np.ndarray, IntArray, np.ndarray, np.ndarray]:
    """Indices of acceptable messages, their addresses, typecodes and DFs (CRC-checked)."""
    lengths = np.fromiter((len(p) for p in payloads), dtype=np.int64, count=len(payloads))
    keep = np.zeros(len(payloads), dtype=bool)
    icao = np.full(len(payloads), -1, dtype=np.int64)
    tc = np.full(len(payloads), -1, dtype=np.int8)
    dfs = np.full(len(payloads), -1, dtype=np.int8)
    for size in (7, 14):
        index = np.flatnonzero(lengths == size)
        rows = _payload_array([payloads[i] for i in index], size)
        df = rows[:, 0] >> 3 if len(rows) else np.zeros(0, dtype=np.uint8)
        syn = modes_crc.syndrome(rows) if len(rows) else np.zeros(0, dtype=np.int64)
        aa = (rows[:, 1].astype(np.int64) << 16) | (rows[:, 2].astype(np.int64) << 8) | rows[:, 3]
        wrong_size = np.isin(df, (16, 17, 18, 20, 21)) != (size == 14)
        supported = np.isin(df, SUPPORTED_DF) & ~wrong_size
        adsb = np.isin(df, ADSB_DF)
        ok_crc = np.where(adsb, syn == 0, np.where(df == 11, syn < 0x80, True))
        good = supported & ok_crc
        rejects["unsupported_df"] += int(np.count_nonzero(~supported))
        rejects["crc_error"] += int(np.count_nonzero(supported & ~ok_crc))
        keep[index] = good
        icao[index] = np.where(adsb | (df == 11), aa, syn)
        dfs[index] = df
        if size == 14:
            tc[index] = np.where(adsb, rows[:, 4] >> 3, -1)
    rejects["bad_length"] += int(np.count_nonzero((lengths != 7) & (lengths != 14)))
    return np.flatnonzero(keep), icao, tc, dfs


def _rs1090_decode(hex_messages: list[str]) -> list[dict | None]:
    """rs1090 batch decode (single call, batches of RS1090_BATCH) -> dicts or None."""
    if not hex_messages:
        return []
    batches = [
        hex_messages[i : i + RS1090_BATCH] for i in range(0, len(hex_messages), RS1090_BATCH)
    ]
    return pickle.loads(bytes(rs1090.decode_1090_vec(batches)))


def decode_messages(
    payloads: list[bytes], t: FloatArray, rejects: Counter | None = None
) -> ModeSMessages:
    """Decode raw Mode S messages (7 or 14 bytes each) received at times ``t`` (M,) seconds.

    Messages with a bad length, an unsupported downlink format or a failed CRC (DF11/17/18)
    are dropped and counted in ``rejects`` (a Counter, updated in place when given).
    DF0/4/5/16/20/21 keep the address recovered from their parity; whether that address is
    real is decided by :class:`~skywarden.sources.modes.state.ModeSState` (known aircraft).
    """
    rejects = Counter() if rejects is None else rejects
    t = np.broadcast_to(np.asarray(t, dtype=np.float64), (len(payloads),))
    keep, icao, tc, df = _validate(payloads, rejects)
    m = len(keep)
    # DF11 all-call replies carry only the address (already CRC-checked): no rs1090 needed
    fields = np.flatnonzero(df[keep] != 11)
    decoded: list[dict | None] = [{"df": "11"}] * m
    for j, msg in zip(
        fields, _rs1090_decode([payloads[keep[j]].hex() for j in fields]), strict=True
    ):
        decoded[j] = msg
    out = _empty_columns(m)
    out["t"] = t[keep]
    out["icao"] = icao[keep]
    out["tc"] = tc[keep]
    out["df"] = df[keep]
    out["address_verified"] = np.isin(out["df"], (11, 17, 18))
    undecoded = _fill_columns(decoded, out)
    rejects["undecoded"] += undecoded
    return ModeSMessages(**out)


def _empty_columns(m: int) -> dict[str, np.ndarray]:
    """Columns of M messages, every field absent."""
    return {
        "altitude_ft": np.full(m, np.nan),
        "altitude_gnss": np.zeros(m, dtype=bool),
        "cpr_lat": np.full(m, -1, dtype=np.int64),
        "cpr_lon": np.full(m, -1, dtype=np.int64),
        "cpr_odd": np.zeros(m, dtype=bool),
        "surface": np.zeros(m, dtype=bool),
        "nucp": np.full(m, -1, dtype=np.int8),
        "groundspeed_kt": np.full(m, np.nan),
        "track_deg": np.full(m, np.nan),
        "vertical_rate_fpm": np.full(m, np.nan),
        "geo_minus_baro_ft": np.full(m, np.nan),
        "nacp": np.full(m, -1, dtype=np.int8),
        "squawk": np.full(m, -1, dtype=np.int16),
        "callsign": np.full(m, "", dtype=object),
    }


def _number(value: object) -> float:
    """A float from an rs1090 field that may be None."""
    return float("nan") if value is None else float(value)  # type: ignore[arg-type]


def _squawk(value: object) -> int:
    """'7700' -> 7700; anything else -> -1."""
    return int(value) if isinstance(value, str) and value.isdigit() else -1


def _fill_columns(decoded: list[dict | None], out: dict[str, np.ndarray]) -> int:
    """Copy the fields of rs1090's dicts into the columns; returns how many were None."""
    alt, gnss, cpr_lat, cpr_lon, odd = (
        out["altitude_ft"],
        out["altitude_gnss"],
        out["cpr_lat"],
        out["cpr_lon"],
        out["cpr_odd"],
    )
    nucp, gs, trk, vr, gmb = (
        out["nucp"],
        out["groundspeed_kt"],
        out["track_deg"],
        out["vertical_rate_fpm"],
        out["geo_minus_baro_ft"],
    )
    nacp, squawk, callsign = out["nacp"], out["squawk"], out["callsign"]
    surface = out["surface"]
    undecoded = 0
    for i, msg in enumerate(decoded):
        if msg is None:
            undecoded += 1
            continue
        bds = msg.get("bds")
        if bds is None:  # surveillance replies and Comm-B: altitude or identity
            if "altitude" in msg:
                alt[i] = _number(msg["altitude"])
            elif "squawk" in msg:
                squawk[i] = _squawk(msg["squawk"])
            ident = msg.get("bds20")
            if ident:  # Comm-B aircraft identification (BDS 2,0)
                callsign[i] = str(ident.get("callsign", "")).strip("_ #")
        elif bds == "05":
            alt[i] = _number(msg.get("altitude"))
            gnss[i] = msg.get("source") == "GNSS"
            cpr_lat[i] = msg["lat_cpr"]
            cpr_lon[i] = msg["lon_cpr"]
            odd[i] = msg["parity"] == "odd"
            nucp[i] = msg.get("NUCp", 0)
        elif bds == "06":  # surface position: no altitude, movement and ground track
            cpr_lat[i] = msg["lat_cpr"]
            cpr_lon[i] = msg["lon_cpr"]
            odd[i] = msg["parity"] == "odd"
            nucp[i] = msg.get("NUCp", 0)
            surface[i] = True
            gs[i] = _number(msg.get("groundspeed"))
            trk[i] = _number(msg.get("track"))
        elif bds == "09":
            gs[i] = _number(msg.get("groundspeed"))
            trk[i] = _number(msg.get("track"))
            vr[i] = _number(msg.get("vertical_rate"))
            gmb[i] = _number(msg.get("geo_minus_baro"))
        elif bds == "08":
            callsign[i] = str(msg.get("callsign", "")).strip("_ #")
        elif bds in ("62", "65"):
            nacp[i] = msg.get("NACp", -1)
        elif bds == "61":
            squawk[i] = _squawk(msg.get("squawk"))
    return undecoded
