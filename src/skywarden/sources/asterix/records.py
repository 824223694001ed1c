"""ASTERIX records as column arrays (struct of arrays), and their extraction from libasterix.

One dataclass per category; each field is an array with one row per record, in SI units:
metres, metres per second, radians, seconds of day (``tod_s``) and POSIX seconds (``t``,
NaN when no reference time was given). Absent values are NaN (floats), -1 (integers),
False (flags) or "" (text). ``block`` is the index of the data block the record came from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeVar

import numpy as np

from skywarden.units import DEG, FL, FPM, FT, NM

_T = TypeVar("_T", bound="ColumnRecords")
SECONDS_PER_DAY = 86400.0
_TEXT = np.dtype("<U8")  # callsigns: 8 characters


@dataclass(frozen=True)
class ColumnRecords:
    """Base of the per-category record columns (all fields are (N,) arrays)."""

    category: ClassVar[int] = 0

    def __len__(self) -> int:
        return int(getattr(self, fields(self)[0].name).shape[0])

    @classmethod
    def dtypes(cls) -> dict[str, np.dtype]:
        """Column name -> dtype (the field's default value's dtype)."""
        return {
            f.name: _TEXT if isinstance(f.default, str) else np.asarray(f.default).dtype
            for f in fields(cls)
        }

    @classmethod
    def fill_values(cls) -> dict[str, Any]:
        """Column name -> value meaning 'absent'."""
        return {f.name: f.default for f in fields(cls)}

    @classmethod
    def from_columns(cls: type[_T], columns: dict[str, Any], n: int | None = None) -> _T:
        """Build from name -> sequence; missing columns are filled with their absent value."""
        if n is None:
            n = len(next(iter(columns.values()))) if columns else 0
        out = {}
        for name, dtype in cls.dtypes().items():
            if name in columns:
                out[name] = np.asarray(columns[name], dtype=dtype).reshape(n)
            else:
                out[name] = np.full(n, cls.fill_values()[name], dtype=dtype)
        return cls(**out)

    @classmethod
    def from_rows(cls: type[_T], rows: list[dict[str, Any]]) -> _T:
        """Build from one dict per record (missing keys are absent values)."""
        fill = cls.fill_values()
        cols = {name: [row.get(name, fill[name]) for row in rows] for name in fill}
        return cls.from_columns(cols, len(rows))

    @classmethod
    def empty(cls: type[_T]) -> _T:
        """No records."""
        return cls.from_columns({}, 0)

    @classmethod
    def concat(cls: type[_T], parts: list[_T]) -> _T:
        """Concatenate record batches in order."""
        if not parts:
            return cls.empty()
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        )

    def take(self: _T, index: np.ndarray) -> _T:
        """Records selected by a mask or index array."""
        return type(self)(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


# Dataclass defaults are the 'absent' fill values and fix each column's dtype.
_I16, _I32, _I64, _I8 = np.int16(-1), np.int32(-1), np.int64(-1), np.int8(-1)
_F, _B, _S = np.float64(np.nan), np.bool_(False), np.str_("")


@dataclass(frozen=True)
class Cat048Records(ColumnRecords):
    """CAT048 monoradar target reports.

    range_m / azimuth_rad: I048/040 slant range and azimuth (clockwise from north at the radar).
    pressure_altitude_m: I048/090 Mode C flight level x 100 ft (pressure altitude, not height).
    measured_height_m: I048/110 3-D radar height. typ: I048/020 TYP (0 none .. 7 Mode S RC+PSR).
    ground_speed_mps / heading_rad: I048/200 calculated track velocity (polar).
    primary_amplitude_dbm / ssr_amplitude_dbm: I048/130 PAM / SAM, amplitude of the primary
    plot / of the (M)SSR reply (dBm, 1 dB steps, signed; what the radar calls 0 dBm is its
    own reference, so an RCS needs the radar's calibration).
    primary_runlength_rad / ssr_runlength_rad: I048/130 PRL / SRL, azimuth extent of the
    primary plot / of the (M)SSR reply (360/2^13 deg steps).
    simulated / test_target / field_monitor: I048/020 SIM, TST (first extension) and RAB
    (report from a fixed field-monitor transponder). flight_status: I048/230 STAT
    (0 airborne, 1 on ground, 2 alert airborne, 3 alert on ground, 4-5 SPI, 7 unknown).
    """

    category: ClassVar[int] = 48
    block: np.ndarray = _I64
    sac: np.ndarray = _I16
    sic: np.ndarray = _I16
    tod_s: np.ndarray = _F
    t: np.ndarray = _F
    typ: np.ndarray = _I8
    range_m: np.ndarray = _F
    azimuth_rad: np.ndarray = _F
    mode3a: np.ndarray = _I32
    mode3a_valid: np.ndarray = _B
    pressure_altitude_m: np.ndarray = _F
    mode_c_valid: np.ndarray = _B
    measured_height_m: np.ndarray = _F
    address: np.ndarray = _I64
    callsign: np.ndarray = _S
    track_number: np.ndarray = _I32
    ground_speed_mps: np.ndarray = _F
    heading_rad: np.ndarray = _F
    primary_amplitude_dbm: np.ndarray = _F
    primary_runlength_rad: np.ndarray = _F
    ssr_amplitude_dbm: np.ndarray = _F
    ssr_runlength_rad: np.ndarray = _F
    simulated: np.ndarray = _B
    test_target: np.ndarray = _B
    field_monitor: np.ndarray = _B
    flight_status: np.ndarray = _I8


@dataclass(frozen=True)
class Cat021Records(ColumnRecords):
    """CAT021 ADS-B target reports (editions 0.23-0.26 and 2.x).

    tod_s: time of applicability for position (2.x I021/071, else /073; 0.2x I021/030).
    lat_deg / lon_deg: WGS-84 (I021/131 high resolution when present, else I021/130).
    geometric_height_m: I021/140. pressure_altitude_m: I021/145 flight level x 100 ft.
    nic: I021/090 NUCp-or-NIC (2.x only); nacp: I021/090 NACp (2.x only); -1 when absent.
    on_ground: I021/040 GBS (1 ground bit set, 0 not set, -1 not reported); simulated /
    test_target: I021/040 SIM / TST or RAB. mode3a: I021/070 (-1 when absent).
    """

    category: ClassVar[int] = 21
    block: np.ndarray = _I64
    sac: np.ndarray = _I16
    sic: np.ndarray = _I16
    tod_s: np.ndarray = _F
    t: np.ndarray = _F
    lat_deg: np.ndarray = _F
    lon_deg: np.ndarray = _F
    geometric_height_m: np.ndarray = _F
    pressure_altitude_m: np.ndarray = _F
    ground_speed_mps: np.ndarray = _F
    track_angle_rad: np.ndarray = _F
    vertical_rate_mps: np.ndarray = _F
    address: np.ndarray = _I64
    callsign: np.ndarray = _S
    emitter_category: np.ndarray = _I16
    nacp: np.ndarray = _I8
    nic: np.ndarray = _I8
    on_ground: np.ndarray = _I8
    simulated: np.ndarray = _B
    test_target: np.ndarray = _B
    mode3a: np.ndarray = _I32


@dataclass(frozen=True)
class Cat062Records(ColumnRecords):
    """CAT062 system tracks. x_m/y_m/vx_mps/vy_mps: I062/100 and /185 in the system plane.

    mode3a / mode3a_valid: I062/060 (valid: V and G bits zero). address: I062/380 ADR;
    callsign: I062/380 ID, else I062/245. pressure_altitude_m: I062/136 measured flight level
    x 100 ft; barometric_altitude_m: I062/135 calculated barometric altitude (qnh_corrected:
    its QNH bit); geometric_height_m: I062/130 (above WGS-84). has_flight_plan: I062/390 is
    present; plan_callsign, flight_rules (FR1/FR2: 0 IFR, 1 VFR, 2 n/a, 3 controlled VFR),
    aircraft_type, wake_category: its CS, FCT, TAC and WTC. I062/080 flags: simulated (SIM),
    plan_correlated (FPC), surface (SFC, editions 1.17+; False where absent);
    secondary_recent: octet 4 says a secondary detection (SSR or Mode S, bits SSR and MDS) is
    no older than the system's threshold (False where octet 4 is absent).
    sigma_x_m / sigma_y_m: I062/500 APC estimated accuracy of the Cartesian position (1 sigma).
    """

    category: ClassVar[int] = 62
    block: np.ndarray = _I64
    sac: np.ndarray = _I16
    sic: np.ndarray = _I16
    tod_s: np.ndarray = _F
    t: np.ndarray = _F
    track_number: np.ndarray = _I32
    lat_deg: np.ndarray = _F
    lon_deg: np.ndarray = _F
    x_m: np.ndarray = _F
    y_m: np.ndarray = _F
    vx_mps: np.ndarray = _F
    vy_mps: np.ndarray = _F
    mode3a: np.ndarray = _I32
    address: np.ndarray = _I64
    callsign: np.ndarray = _S
    pressure_altitude_m: np.ndarray = _F
    geometric_height_m: np.ndarray = _F
    mode3a_valid: np.ndarray = _B
    barometric_altitude_m: np.ndarray = _F
    qnh_corrected: np.ndarray = _B
    has_flight_plan: np.ndarray = _B
    plan_callsign: np.ndarray = _S
    flight_rules: np.ndarray = _I8
    aircraft_type: np.ndarray = _S
    wake_category: np.ndarray = _S
    simulated: np.ndarray = _B
    plan_correlated: np.ndarray = _B
    surface: np.ndarray = _B
    secondary_recent: np.ndarray = _B
    sigma_x_m: np.ndarray = _F
    sigma_y_m: np.ndarray = _F


@dataclass(frozen=True)
class Cat034Records(ColumnRecords):
    """CAT034 radar service messages.

    message_type: I034/000 (1 north marker, 2 sector crossing, 3 geographical filtering,
    4 jamming strobe, 5 solar storm, 6 SSR jamming, 7 Mode S jamming).
    sector_azimuth_rad: I034/020. radar_*: I034/120 (WGS-84). nogo: I034/050 COM NOGO bit.
    """

    category: ClassVar[int] = 34
    block: np.ndarray = _I64
    sac: np.ndarray = _I16
    sic: np.ndarray = _I16
    message_type: np.ndarray = _I16
    tod_s: np.ndarray = _F
    t: np.ndarray = _F
    sector_azimuth_rad: np.ndarray = _F
    rotation_period_s: np.ndarray = _F
    radar_lat_deg: np.ndarray = _F
    radar_lon_deg: np.ndarray = _F
    radar_height_m: np.ndarray = _F
    nogo: np.ndarray = _I8


RECORD_TYPES: dict[int, type[ColumnRecords]] = {
    48: Cat048Records,
    21: Cat021Records,
    62: Cat062Records,
    34: Cat034Records,
}


def resolve_time_of_day(tod_s: np.ndarray, reference_t: np.ndarray | float) -> np.ndarray:
    """POSIX seconds for times of day (s since UTC midnight), nearest to ``reference_t``.

    ``reference_t`` (POSIX s, scalar or per record) is any time within half a day of the
    data, e.g. the capture time of the datagram or the start of the recording. NaN -> NaN.
    """
    tod = np.asarray(tod_s, dtype=np.float64)
    ref = np.broadcast_to(np.asarray(reference_t, dtype=np.float64), tod.shape)
    day0 = np.floor(ref / SECONDS_PER_DAY) * SECONDS_PER_DAY
    t = day0 + tod
    t = np.where(t - ref > SECONDS_PER_DAY / 2, t - SECONDS_PER_DAY, t)
    return np.where(ref - t > SECONDS_PER_DAY / 2, t + SECONDS_PER_DAY, t)


# --- extraction from libasterix records (the reference path) ---------------------------


def _get(rec: Any, name: str, *path: str) -> Any:
    item = rec.get_item(name)
    for sub in path:
        if item is None:
            return None
        item = item.variation.get_item(sub)
    return item


def _quantity(item: Any, unit: str, scale: float = 1.0) -> float:
    return math.nan if item is None else item.variation.content.as_quantity(unit) * scale


def _uint(item: Any) -> int:
    return -1 if item is None else int(item.as_uint())


def _text(item: Any) -> str:
    return "" if item is None else item.variation.content.as_string().rstrip()


def _sac_sic(rec: Any) -> tuple[int, int]:
    return _uint(_get(rec, "010", "SAC")), _uint(_get(rec, "010", "SIC"))


def _valid_code(item: Any) -> bool:
    """V and G bits both zero (validated, not garbled)."""
    return (
        item is not None
        and _uint(item.variation.get_item("V")) == 0
        and _uint(item.variation.get_item("G")) == 0
    )


def cat048_row(rec: Any) -> dict[str, Any]:
    """Fields of one libasterix CAT048 record."""
    sac, sic = _sac_sic(rec)
    i070, i090 = rec.get_item("070"), rec.get_item("090")
    return {
        "sac": sac,
        "sic": sic,
        "tod_s": _quantity(rec.get_item("140"), "s"),
        "typ": _uint(_get(rec, "020", "TYP")),
        "range_m": _quantity(_get(rec, "040", "RHO"), "NM", NM),
        "azimuth_rad": _quantity(_get(rec, "040", "THETA"), "°", DEG),
        "mode3a": _uint(_get(rec, "070", "MODE3A")),
        "mode3a_valid": _valid_code(i070),
        "pressure_altitude_m": _quantity(_get(rec, "090", "FL"), "FL", FL),
        "mode_c_valid": _valid_code(i090),
        "measured_height_m": _quantity(_get(rec, "110", "3DH"), "ft", FT),
        "address": _uint(rec.get_item("220")),
        "callsign": _text(rec.get_item("240")),
        "track_number": _uint(_get(rec, "161", "TRN")),
        "ground_speed_mps": _quantity(_get(rec, "200", "GSP"), "NM/s", NM),
        "heading_rad": _quantity(_get(rec, "200", "HDG"), "°", DEG),
        "primary_amplitude_dbm": _quantity(_get(rec, "130", "PAM"), "dBm"),
        "primary_runlength_rad": _quantity(_get(rec, "130", "PRL"), "°", DEG),
        "ssr_amplitude_dbm": _quantity(_get(rec, "130", "SAM"), "dBm"),
        "ssr_runlength_rad": _quantity(_get(rec, "130", "SRL"), "°", DEG),
        "simulated": _uint(_get(rec, "020", "SIM")) == 1,
        "test_target": _uint(_get(rec, "020", "TST")) == 1,
        "field_monitor": _uint(_get(rec, "020", "RAB")) == 1,
        "flight_status": _uint(_get(rec, "230", "STAT")),
    }


def cat021_row(rec: Any) -> dict[str, Any]:
    """Fields of one libasterix CAT021 record (edition 0.2x or 2.x)."""
    sac, sic = _sac_sic(rec)
    v2 = "071" in type(rec).cv_items_dict
    if v2:
        tod_item = rec.get_item("071") or rec.get_item("073")
        vrate = _get(rec, "155", "BVR") or _get(rec, "157", "GVR")
        nacp, nic = _uint(_get(rec, "090", "NACP")), _uint(_get(rec, "090", "NUCPNIC"))
    else:
        tod_item = rec.get_item("030")
        vrate = rec.get_item("155") or rec.get_item("157")
        nacp = nic = -1
    hi = rec.get_item("131")
    pos = ("131",) if hi is not None and v2 else ("130",)
    return {
        "sac": sac,
        "sic": sic,
        "tod_s": _quantity(tod_item, "s"),
        "lat_deg": _quantity(_get(rec, *pos, "LAT"), "°"),
        "lon_deg": _quantity(_get(rec, *pos, "LON"), "°"),
        "geometric_height_m": _quantity(rec.get_item("140"), "ft", FT),
        "pressure_altitude_m": _quantity(rec.get_item("145"), "FL", FL),
        "ground_speed_mps": _quantity(_get(rec, "160", "GS"), "NM/s", NM),
        "track_angle_rad": _quantity(_get(rec, "160", "TA"), "°", DEG),
        "vertical_rate_mps": _quantity(vrate, "ft/min", FPM),
        "address": _uint(rec.get_item("080")),
        "callsign": _text(rec.get_item("170")),
        "emitter_category": _uint(rec.get_item("020")),
        "nacp": nacp,
        "nic": nic,
        "on_ground": _uint(_get(rec, "040", "GBS")),
        "simulated": _uint(_get(rec, "040", "SIM")) == 1,
        "test_target": _uint(_get(rec, "040", "TST")) == 1 or _uint(_get(rec, "040", "RAB")) == 1,
        "mode3a": _uint(_get(rec, "070", "MODE3A")),
    }


def cat062_row(rec: Any) -> dict[str, Any]:
    """Fields of one libasterix CAT062 record."""
    sac, sic = _sac_sic(rec)
    callsign = _text(_get(rec, "380", "ID")) or _text(_get(rec, "245", "CHR"))
    return {
        "sac": sac,
        "sic": sic,
        "tod_s": _quantity(rec.get_item("070"), "s"),
        "track_number": _uint(rec.get_item("040")),
        "lat_deg": _quantity(_get(rec, "105", "LAT"), "°"),
        "lon_deg": _quantity(_get(rec, "105", "LON"), "°"),
        "x_m": _quantity(_get(rec, "100", "X"), "m"),
        "y_m": _quantity(_get(rec, "100", "Y"), "m"),
        "vx_mps": _quantity(_get(rec, "185", "VX"), "m/s"),
        "vy_mps": _quantity(_get(rec, "185", "VY"), "m/s"),
        "mode3a": _uint(_get(rec, "060", "MODE3A")),
        "address": _uint(_get(rec, "380", "ADR")),
        "callsign": callsign,
        "pressure_altitude_m": _quantity(rec.get_item("136"), "FL", FL),
        "geometric_height_m": _quantity(rec.get_item("130"), "ft", FT),
        "mode3a_valid": _valid_code(rec.get_item("060")),
        "barometric_altitude_m": _quantity(_get(rec, "135", "CTB"), "FL", FL),
        "qnh_corrected": _uint(_get(rec, "135", "QNH")) == 1,
        "has_flight_plan": rec.get_item("390") is not None,
        "plan_callsign": _text(_get(rec, "390", "CS")),
        "flight_rules": _uint(_get(rec, "390", "FCT", "FR1FR2")),
        "aircraft_type": _text(_get(rec, "390", "TAC")),
        "wake_category": _text(_get(rec, "390", "WTC")),
        "simulated": _uint(_get(rec, "080", "SIM")) == 1,
        "plan_correlated": _uint(_get(rec, "080", "FPC")) == 1,
        "surface": _uint(_get(rec, "080", "SFC")) == 1,
        "secondary_recent": 0 in (_uint(_get(rec, "080", "SSR")), _uint(_get(rec, "080", "MDS"))),
        "sigma_x_m": _quantity(_get(rec, "500", "APC", "X"), "m"),
        "sigma_y_m": _quantity(_get(rec, "500", "APC", "Y"), "m"),
    }


def cat034_row(rec: Any) -> dict[str, Any]:
    """Fields of one libasterix CAT034 record."""
    sac, sic = _sac_sic(rec)
    return {
        "sac": sac,
        "sic": sic,
        "message_type": _uint(rec.get_item("000")),
        "tod_s": _quantity(rec.get_item("030"), "s"),
        "sector_azimuth_rad": _quantity(rec.get_item("020"), "°", DEG),
        "rotation_period_s": _quantity(rec.get_item("041"), "s"),
        "radar_lat_deg": _quantity(_get(rec, "120", "LAT"), "°"),
        "radar_lon_deg": _quantity(_get(rec, "120", "LON"), "°"),
        "radar_height_m": _quantity(_get(rec, "120", "HGT"), "m"),
        "nogo": _uint(_get(rec, "050", "COM", "NOGO")),
    }


ROW_EXTRACTORS = {48: cat048_row, 21: cat021_row, 62: cat062_row, 34: cat034_row}


def implausible(records: ColumnRecords) -> np.ndarray:
    """(N,) bool: records whose values cannot be real, which marks a wrong edition or garbage.

    Every record must carry its data source (I010 SAC/SIC); a time of day must lie in
    [0, 86400) s; WGS-84 positions must lie within +-90 deg latitude, +-180 deg longitude.
    """
    bad = np.asarray(records.sac) < 0
    tod = records.tod_s
    bad |= ~np.isnan(tod) & ((tod < 0.0) | (tod >= SECONDS_PER_DAY))
    for lat_name, lon_name in (("lat_deg", "lon_deg"), ("radar_lat_deg", "radar_lon_deg")):
        lat = getattr(records, lat_name, None)
        if lat is not None:
            lon = getattr(records, lon_name)
            bad |= np.abs(np.nan_to_num(lat)) > 90.0
            bad |= np.abs(np.nan_to_num(lon)) > 180.0
    return bad
