"""ADS-B (DF17 extended squitter) encoder for the simulator: arrays -> 14-byte messages.

Builds airborne position (TC 9-18, barometric altitude, CPR), airborne velocity (TC 19
subtype 1, ground speed) and identification (TC 1-4) messages with the Mode S CRC-24
parity, vectorised with NumPy. Frame them with :func:`skywarden.sources.modes.beast.encode_beast`.
Inputs are in wire units (degrees, feet, knots, ft/min): convert from SI at the caller with
:mod:`skywarden.units`. Returns (N, 14) uint8 arrays; :func:`as_payloads` gives bytes.
"""

from __future__ import annotations

import numpy as np

from skywarden.sources.modes import cpr
from skywarden.sources.modes import crc as modes_crc
from skywarden.units import BoolArray, FloatArray, IntArray

DF17_CA5 = (17 << 3) | 5  # DF17, capability 5 (level 2+, airborne)
ALTITUDE_MIN_FT = -1000.0
ALTITUDE_MAX_FT = 50175.0  # 25-ft (Q-bit) coding limit
CALLSIGN_CHARSET = "#ABCDEFGHIJKLMNOPQRSTUVWXYZ##### ###############0123456789######"


def _u64(a: np.ndarray | int) -> np.ndarray:
    return np.asarray(a).astype(np.uint64)


def _message(icao: IntArray, me: np.ndarray) -> np.ndarray:
    """DF17 header + 56-bit ME (uint64) -> (N, 14) uint8 with parity."""
    icao = np.asarray(icao, dtype=np.int64)
    n = icao.shape[0]
    data = np.zeros((n, 11), dtype=np.uint8)
    data[:, 0] = DF17_CA5
    for k in range(3):
        data[:, 1 + k] = (icao >> (16 - 8 * k)) & 0xFF
    me = _u64(me)
    for k in range(7):
        data[:, 4 + k] = ((me >> np.uint64(48 - 8 * k)) & np.uint64(0xFF)).astype(np.uint8)
    return modes_crc.with_parity(data)


def encode_altitude_ft(altitude_ft: FloatArray) -> IntArray:
    """Barometric altitude (ft) -> 12-bit AC field with Q=1 (25 ft steps, clipped)."""
    alt = np.clip(np.asarray(altitude_ft, dtype=np.float64), ALTITUDE_MIN_FT, ALTITUDE_MAX_FT)
    n = np.round((alt + 1000.0) / 25.0).astype(np.int64)
    return ((n & 0x7F0) << 1) | 0x10 | (n & 0x0F)


def airborne_position(
    icao: IntArray,
    lat_deg: FloatArray,
    lon_deg: FloatArray,
    altitude_ft: FloatArray,
    odd: BoolArray,
    typecode: int = 11,
) -> np.ndarray:
    """Airborne position messages (N, 14): CPR of the given parity, baro altitude (ft).

    ``typecode`` 9-18 sets the NUCp / NIC the receiver infers (11: < 0.1 NM class).
    """
    if not 9 <= typecode <= 18:
        raise ValueError("barometric airborne position typecode must be 9..18")
    odd = np.asarray(odd, dtype=bool)
    lat_cpr, lon_cpr = cpr.encode(lat_deg, lon_deg, odd)
    me = (
        (_u64(typecode) << np.uint64(51))
        | (_u64(encode_altitude_ft(altitude_ft)) << np.uint64(36))
        | (_u64(odd) << np.uint64(34))
        | (_u64(lat_cpr) << np.uint64(17))
        | _u64(lon_cpr)
    )
    return _message(icao, me)


# ground-speed movement codes (DO-260B 2.2.3.2.4.2): first code, first speed (kt), step (kt)
_MOVEMENT_BANDS = ((2, 0.125, 0.125), (9, 1.0, 0.25), (13, 2.0, 0.5), (39, 15.0, 1.0),
                   (94, 70.0, 2.0), (109, 100.0, 5.0))  # fmt: skip


def encode_movement(speed_kt: FloatArray) -> IntArray:
    """Ground speed (kt) -> the 7-bit surface movement code (1 stopped, 124 >= 175 kt)."""
    v = np.asarray(speed_kt, dtype=np.float64)
    code = np.where(v < 0.125, 1, 124)
    for first, low, step in reversed(_MOVEMENT_BANDS):
        band = (v >= low) & (code == 124) & (v < 175.0)
        code = np.where(band, first + np.floor((v - low) / step + 1e-9), code)
    return code.astype(np.int64)


def surface_position(
    icao: IntArray,
    lat_deg: FloatArray,
    lon_deg: FloatArray,
    speed_kt: FloatArray,
    track_deg: FloatArray,
    odd: BoolArray,
    typecode: int = 7,
) -> np.ndarray:
    """Surface position messages (N, 14), TC 5-8: surface CPR of the given parity,
    movement and ground track (valid)."""
    if not 5 <= typecode <= 8:
        raise ValueError("surface position typecode must be 5..8")
    odd = np.asarray(odd, dtype=bool)
    lat_cpr, lon_cpr = cpr.encode(lat_deg, lon_deg, odd, surface=True)
    track = np.round(np.mod(np.asarray(track_deg, dtype=np.float64), 360.0) / 360.0 * 128) % 128
    me = (
        (_u64(typecode) << np.uint64(51))
        | (_u64(encode_movement(speed_kt)) << np.uint64(44))
        | (_u64(1) << np.uint64(43))
        | (_u64(track.astype(np.int64)) << np.uint64(36))
        | (_u64(odd) << np.uint64(34))
        | (_u64(lat_cpr) << np.uint64(17))
        | _u64(lon_cpr)
    )
    return _message(icao, me)


def _signed_field(value: FloatArray, scale: float, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(sign bit, magnitude/scale + 1 clipped to the field); NaN -> (0, 0) = unavailable."""
    v = np.asarray(value, dtype=np.float64)
    known = ~np.isnan(v)
    mag = np.where(
        known, np.minimum(np.round(np.abs(np.nan_to_num(v)) / scale) + 1, 2**bits - 1), 0
    )
    return _u64(known & (v < 0)), _u64(mag.astype(np.int64))


def airborne_velocity(
    icao: IntArray,
    east_kt: FloatArray,
    north_kt: FloatArray,
    vertical_rate_fpm: FloatArray,
    geo_minus_baro_ft: FloatArray | None = None,
) -> np.ndarray:
    """Airborne velocity messages (N, 14), TC 19 subtype 1 (ground speed, 1 kt steps).

    Vertical rate is barometric in 64 ft/min steps; ``geo_minus_baro_ft`` (25 ft steps,
    NaN = unavailable) is the GNSS minus barometric altitude difference.
    """
    icao = np.asarray(icao, dtype=np.int64)
    s_ew, v_ew = _signed_field(east_kt, 1.0, 10)  # sign 1 = west
    s_ns, v_ns = _signed_field(north_kt, 1.0, 10)  # 1 = south
    s_vr, v_vr = _signed_field(vertical_rate_fpm, 64.0, 9)  # 1 = down
    gmb = np.full(icao.shape[0], np.nan) if geo_minus_baro_ft is None else geo_minus_baro_ft
    s_d, v_d = _signed_field(gmb, 25.0, 7)
    me = (
        (_u64(19) << np.uint64(51))
        | (_u64(1) << np.uint64(48))
        | (s_ew << np.uint64(42))
        | (v_ew << np.uint64(32))
        | (s_ns << np.uint64(31))
        | (v_ns << np.uint64(21))
        | (_u64(1) << np.uint64(20))  # vertical rate source: barometric
        | (s_vr << np.uint64(19))
        | (v_vr << np.uint64(10))
        | (s_d << np.uint64(7))
        | v_d
    )
    return _message(icao, me)


def identification(icao: IntArray, callsign: list[str], category: int = 3) -> np.ndarray:
    """Identification messages (N, 14), TC 4 (aircraft category set A, ``category`` 0-7).

    Callsigns are upper-cased and padded with spaces to 8 characters; characters outside
    A-Z, 0-9 and space raise ValueError.
    """
    codes = np.zeros((len(callsign), 8), dtype=np.int64)
    for i, text in enumerate(callsign):
        text = text.upper().ljust(8)[:8]
        for j, ch in enumerate(text):
            index = CALLSIGN_CHARSET.find(ch)
            if ch == "#" or index < 0:
                raise ValueError(f"callsign {text!r}: {ch!r} cannot be sent")
            codes[i, j] = index
    me = (_u64(4) << np.uint64(51)) | (_u64(category & 7) << np.uint64(48))
    for j in range(8):
        me = me | (_u64(codes[:, j]) << np.uint64(42 - 6 * j))
    return _message(icao, me)


def as_payloads(messages: np.ndarray) -> list[bytes]:
    """(N, 14) uint8 -> N bytes objects (for encode_beast / decode_messages)."""
    return [row.tobytes() for row in np.asarray(messages, dtype=np.uint8)]
