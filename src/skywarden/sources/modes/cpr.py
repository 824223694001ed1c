"""Compact Position Reporting (CPR) for ADS-B positions, vectorised with NumPy.

Airborne CPR encodes latitude and longitude in 17 bits each within zones: 60 latitude zones
for even frames, 59 for odd ones; the longitude zone count follows the latitude (NL).
Degrees here are the wire unit (converted to radians/ENU elsewhere). Global decoding needs
one even and one odd frame of the same aircraft (taken within ~10 s); local decoding needs
one frame and a reference position within half a zone (~333 km in latitude).
Surface positions (TC 5-8) use the same 17 bits over zones a quarter as large (90 degrees
instead of 360), so they are decoded locally only, near a reference within 45 NM.
All functions take and return (N,) arrays; failed decodes are NaN.
"""

from __future__ import annotations

import numpy as np

from skywarden.units import BoolArray, FloatArray, IntArray

NZ = 15
CPR_SCALE = float(1 << 17)
_DLAT = (360.0 / 60.0, 360.0 / 59.0)


def number_of_longitude_zones(lat_deg: FloatArray) -> IntArray:
    """NL(lat): the number of longitude zones at each latitude (1 ... 59)."""
    lat = np.abs(np.asarray(lat_deg, dtype=np.float64))
    a = 1.0 - np.cos(np.pi / (2.0 * NZ))
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.cos(np.radians(lat)) ** 2
        arg = np.clip(1.0 - a / c, -1.0, 1.0)
        nl = np.floor(2.0 * np.pi / np.arccos(arg))
    nl = np.where(lat < 1e-9, 59.0, nl)
    nl = np.where(lat >= 87.0, np.where(lat > 87.0, 1.0, 2.0), nl)
    return np.nan_to_num(nl, nan=1.0).astype(np.int64)


def _span(surface: bool) -> float:
    """Degrees spanned by all zones: 360 airborne, 90 surface."""
    return 90.0 if surface else 360.0


def encode(
    lat_deg: FloatArray, lon_deg: FloatArray, odd: BoolArray, surface: bool = False
) -> tuple[IntArray, IntArray]:
    """CPR encoding (airborne, or surface with ``surface``): degrees and frame parity ->
    (17-bit lat, 17-bit lon) integers."""
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    i = np.asarray(odd, dtype=np.int64)
    span = _span(surface)
    dlat = span / (60.0 - i)
    yz = np.floor(CPR_SCALE * np.mod(lat, dlat) / dlat + 0.5)
    rlat = dlat * (yz / CPR_SCALE + np.floor(lat / dlat))
    zones = number_of_longitude_zones(rlat) - i
    dlon = span / np.maximum(zones, 1)
    xz = np.floor(CPR_SCALE * np.mod(lon, dlon) / dlon + 0.5)
    mask = (1 << 17) - 1
    return yz.astype(np.int64) & mask, xz.astype(np.int64) & mask


def decode_global(
    lat_even: IntArray,
    lon_even: IntArray,
    lat_odd: IntArray,
    lon_odd: IntArray,
    latest_odd: BoolArray,
) -> tuple[FloatArray, FloatArray]:
    """Global decoding of even/odd CPR pairs -> (lat, lon) degrees of the latest frame.

    NaN where the two frames lie in different longitude-zone bands (no unique answer).
    """
    y0 = np.asarray(lat_even, dtype=np.float64) / CPR_SCALE
    x0 = np.asarray(lon_even, dtype=np.float64) / CPR_SCALE
    y1 = np.asarray(lat_odd, dtype=np.float64) / CPR_SCALE
    x1 = np.asarray(lon_odd, dtype=np.float64) / CPR_SCALE
    odd = np.asarray(latest_odd, dtype=bool)
    j = np.floor(59.0 * y0 - 60.0 * y1 + 0.5)
    rlat0 = _DLAT[0] * (np.mod(j, 60.0) + y0)
    rlat1 = _DLAT[1] * (np.mod(j, 59.0) + y1)
    rlat0 = np.where(rlat0 >= 270.0, rlat0 - 360.0, rlat0)
    rlat1 = np.where(rlat1 >= 270.0, rlat1 - 360.0, rlat1)
    nl0 = number_of_longitude_zones(rlat0)
    ok = (nl0 == number_of_longitude_zones(rlat1)) & (np.abs(rlat0) <= 90) & (np.abs(rlat1) <= 90)
    lat = np.where(odd, rlat1, rlat0)
    ni = np.maximum(nl0 - odd, 1)
    m = np.floor(x0 * (nl0 - 1) - x1 * nl0 + 0.5)
    lon = (360.0 / ni) * (np.mod(m, ni) + np.where(odd, x1, x0))
    lon = np.where(lon >= 180.0, lon - 360.0, lon)
    return np.where(ok, lat, np.nan), np.where(ok, lon, np.nan)


def decode_local(
    lat_cpr: IntArray,
    lon_cpr: IntArray,
    odd: BoolArray,
    ref_lat_deg: FloatArray,
    ref_lon_deg: FloatArray,
    surface: bool = False,
) -> tuple[FloatArray, FloatArray]:
    """Local decoding of single CPR frames near reference positions -> (lat, lon) degrees.

    Correct when the true position is within half a zone of the reference (airborne: 3
    degrees of latitude; surface, with ``surface``: 0.75 degrees); NaN results where the
    reference is NaN.
    """
    y = np.asarray(lat_cpr, dtype=np.float64) / CPR_SCALE
    x = np.asarray(lon_cpr, dtype=np.float64) / CPR_SCALE
    i = np.asarray(odd, dtype=np.int64)
    ref_lat = np.asarray(ref_lat_deg, dtype=np.float64)
    ref_lon = np.asarray(ref_lon_deg, dtype=np.float64)
    span = _span(surface)
    dlat = span / (60.0 - i)
    j = np.floor(ref_lat / dlat) + np.floor(np.mod(ref_lat, dlat) / dlat - y + 0.5)
    lat = dlat * (j + y)
    dlon = span / np.maximum(number_of_longitude_zones(lat) - i, 1)
    m = np.floor(ref_lon / dlon) + np.floor(np.mod(ref_lon, dlon) / dlon - x + 0.5)
    lon = dlon * (m + x)
    lon = np.where(lon >= 180.0, lon - 360.0, np.where(lon < -180.0, lon + 360.0, lon))
    bad = np.abs(lat) > 90.0
    return np.where(bad, np.nan, lat), np.where(bad, np.nan, lon)
