"""ASTERIX records -> Detections in the site ENU frame (CAT048 radar plots, CAT021, CAT062).

Heights. Mode C (I048/090, I021/145, I062/136) reports *pressure altitude*: the height in
the ICAO standard atmosphere (ISA: 1013.25 hPa and 15 degC at sea level, -6.5 K/km) that has
the measured static pressure. We convert it to a height with the ISA itself:
pressure p = 1013.25 (1 - H / 44330.77)^5.25588 hPa, then the ISA altitude of p above the
given QNH (1013.25 hPa by default: no correction), then geopotential -> geometric height
(h = r H / (r - H), r = 6,356,766 m), plus the geoid undulation (default 0) to get a height
above the WGS-84 ellipsoid. Real temperature and pressure make this wrong by up to a few
hundred metres, so the vertical sigma for Mode C heights is large (default 75 m).

Radar cross-section. The received power of a point target falls with the fourth power of
range (radar equation), so a plot's I048/130 primary amplitude PAM (dBm) gives its RCS as
``rcs_dbsm = PAM - C + 40 log10(R / 1 km)``, R the slant range and C the radar's
calibration: the PAM a 1 m^2 target gives at 1 km. Without C an amplitude is not an RCS
(each radar has its own reference), so the RCS is then NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from skywarden import evidence as ev
from skywarden.detections import (
    NO_IDENTITY,
    Detections,
    SourceKind,
    icao_identities,
    make_detections,
    track_number_identity,
)
from skywarden.geo import LocalFrame, geodetic_to_enu_with_cov, nacp_to_sigma_m, radar_plot_to_enu
from skywarden.sources.asterix.records import (
    Cat021Records,
    Cat034Records,
    Cat048Records,
    Cat062Records,
)
from skywarden.units import DEG, FloatArray

ISA_SEA_LEVEL_HPA = 1013.25
_ISA_H_SCALE_M = 44330.77  # T0 / L
_ISA_EXPONENT = 5.25588  # g M / (R L)
_EARTH_RADIUS_GEOPOTENTIAL_M = 6356766.0


def pressure_altitude_to_height_m(
    pressure_altitude_m: FloatArray,
    qnh_hpa: float = ISA_SEA_LEVEL_HPA,
    geoid_undulation_m: float = 0.0,
) -> FloatArray:
    """Pressure altitude (m, ISA) -> approximate height above the WGS-84 ellipsoid (m)."""
    h_p = np.asarray(pressure_altitude_m, dtype=np.float64)
    ratio = np.clip(1.0 - h_p / _ISA_H_SCALE_M, 1e-6, None)
    pressure = ISA_SEA_LEVEL_HPA * ratio**_ISA_EXPONENT
    geopotential = _ISA_H_SCALE_M * (1.0 - (pressure / qnh_hpa) ** (1.0 / _ISA_EXPONENT))
    r = _EARTH_RADIUS_GEOPOTENTIAL_M
    return r * geopotential / (r - geopotential) + geoid_undulation_m


RCS_REFERENCE_RANGE_M = 1000.0  # the calibration's reference slant range


def rcs_from_amplitude(
    amplitude_dbm: FloatArray, range_m: FloatArray, calibration_dbm: float | None
) -> FloatArray:
    """RCS (dBsm) of radar plots from their primary amplitude (dBm) and slant range (m).

    ``calibration_dbm``: the amplitude a 1 m^2 target gives at 1 km. NaN where the amplitude
    is NaN, the range is not positive, or (everywhere) when the calibration is None.
    """
    amplitude = np.asarray(amplitude_dbm, dtype=np.float64)
    r = np.asarray(range_m, dtype=np.float64)
    if calibration_dbm is None:
        return np.full(np.broadcast_shapes(amplitude.shape, r.shape), np.nan)
    return amplitude - calibration_dbm + _spreading_loss_db(r)


def amplitude_from_rcs(
    rcs_dbsm: FloatArray, range_m: FloatArray, calibration_dbm: float
) -> FloatArray:
    """Primary amplitude (dBm, unquantised) of plots of RCS rcs_dbsm at slant range_m (m):
    the inverse of :func:`rcs_from_amplitude`; NaN where the range is not positive."""
    spread = _spreading_loss_db(np.asarray(range_m, dtype=np.float64))
    return np.asarray(rcs_dbsm, dtype=np.float64) + calibration_dbm - spread


def _spreading_loss_db(r: FloatArray) -> FloatArray:
    """40 log10(r / 1 km): the two-way R^4 loss beyond the reference range; NaN for r <= 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return 40.0 * np.log10(np.where(r > 0.0, r, np.nan) / RCS_REFERENCE_RANGE_M)


@dataclass(frozen=True)
class RadarSite:
    """Radar antenna position: WGS-84 degrees and height above the ellipsoid (m)."""

    lat_deg: float
    lon_deg: float
    h_m: float


@dataclass(frozen=True)
class RadarSigmas:
    """1-sigma measurement noise of a radar's plots."""

    range_m: float = 70.0
    azimuth_rad: float = 0.08 * DEG
    mode_c_height_m: float = 75.0  # 25/100 ft quantisation + ISA-vs-real atmosphere
    measured_height_m: float = 300.0  # I048/110 3-D radar height


def radar_site_from_cat034(services: Cat034Records, sac: int, sic: int) -> RadarSite | None:
    """The last I034/120 radar position reported by (SAC, SIC), or None."""
    mask = (services.sac == sac) & (services.sic == sic) & np.isfinite(services.radar_lat_deg)
    if not mask.any():
        return None
    i = np.flatnonzero(mask)[-1]
    h = float(services.radar_height_m[i])
    return RadarSite(
        float(services.radar_lat_deg[i]),
        float(services.radar_lon_deg[i]),
        h if math.isfinite(h) else 0.0,
    )


def _polar_velocity(
    speed: FloatArray, course_rad: FloatArray, vertical: FloatArray | None = None
) -> FloatArray:
    v = np.full((speed.shape[0], 3), np.nan)
    v[:, 0] = speed * np.sin(course_rad)
    v[:, 1] = speed * np.cos(course_rad)
    if vertical is not None:
        v[:, 2] = vertical
    return v


def cat048_to_detections(
    plots: Cat048Records,
    frame: LocalFrame,
    radar: RadarSite,
    sigmas: RadarSigmas = RadarSigmas(),
    *,
    sensor: int = 0,
    qnh_hpa: float = ISA_SEA_LEVEL_HPA,
    geoid_undulation_m: float = 0.0,
    rcs_calibration_dbm: float | None = None,
) -> Detections:
    """CAT048 plots of one radar -> RADAR detections.

    Plots without range/azimuth or without a POSIX time ``t`` are left out. Height comes from
    a validated Mode C code (converted as in the module docstring), else from I048/110, else
    geo's default for 2-D plots. Identity is the Mode S address when present. Velocity is the
    radar's I048/200 track velocity (horizontal only), NaN where absent. ``rcs_dbsm`` comes
    from the I048/130 primary amplitude with ``rcs_calibration_dbm`` (the PAM of a 1 m^2
    target at 1 km; see the module docstring); NaN without either.
    """
    keep = np.isfinite(plots.range_m) & np.isfinite(plots.azimuth_rad) & np.isfinite(plots.t)
    p = plots.take(keep)
    mode_c = p.mode_c_valid & np.isfinite(p.pressure_altitude_m)
    h_mode_c = pressure_altitude_to_height_m(p.pressure_altitude_m, qnh_hpa, geoid_undulation_m)
    height = np.where(mode_c, h_mode_c, p.measured_height_m)
    sigma_h = np.where(mode_c, sigmas.mode_c_height_m, sigmas.measured_height_m)
    z, R = radar_plot_to_enu(
        frame,
        radar.lat_deg,
        radar.lon_deg,
        radar.h_m,
        p.range_m,
        p.azimuth_rad,
        height_m=height,
        sigma_range_m=sigmas.range_m,
        sigma_azimuth_rad=sigmas.azimuth_rad,
        sigma_height_m=sigma_h,
    )
    v_local = _polar_velocity(p.ground_speed_mps, p.heading_rad)
    v = v_local.copy()
    v[:, :2] = v_local[:, :2] @ frame.rotation_at(radar.lat_deg, radar.lon_deg)[0][:2, :2].T
    rcs = rcs_from_amplitude(p.primary_amplitude_dbm, p.range_m, rcs_calibration_dbm)
    return make_detections(
        p.t, z, R, v=v, sensor=sensor, kind=SourceKind.RADAR,
        identity=icao_identities(p.address), rcs_dbsm=rcs, evidence=cat048_evidence(p),
    )  # fmt: skip


def cat048_evidence(plots: Cat048Records) -> np.ndarray:
    """(N,) :mod:`skywarden.evidence` bits of CAT048 plots.

    A Mode S reply (I048/020 TYP 4-7 with an I048/220 address), or a validated Mode 3/A
    code or Mode C flight level (I048/090, "Mode C only" replies included) on an SSR or
    Mode S plot (TYP 2-7), was measured by the radar itself at the plot's range and azimuth:
    a transponder is there. I048/230 STAT gives the ground state (1, 3:
    on the ground; 0, 2: airborne; the others say neither). SIM, TST and RAB flag
    simulated, test and field-monitor plots.
    """
    typ = np.asarray(plots.typ)
    out = np.zeros(len(plots), np.int32)
    out |= np.where((typ >= 4) & (plots.address >= 0), ev.MODE_S_REPLY, 0).astype(np.int32)
    code = plots.mode3a_valid & (plots.mode3a >= 0)
    mode_c = plots.mode_c_valid & np.isfinite(plots.pressure_altitude_m)
    out |= np.where((code | mode_c) & (typ >= 2), ev.SSR_REPLY, 0).astype(np.int32)
    out |= np.where(code, ev.MODE_3A, 0).astype(np.int32)
    stat = np.asarray(plots.flight_status)
    out |= np.where((stat == 1) | (stat == 3), ev.ON_GROUND, 0).astype(np.int32)
    out |= np.where((stat == 0) | (stat == 2), ev.AIRBORNE, 0).astype(np.int32)
    out |= np.where(plots.simulated, ev.SIMULATED, 0).astype(np.int32)
    out |= np.where(plots.test_target | plots.field_monitor, ev.TEST, 0).astype(np.int32)
    return out


def _report_height(r, qnh_hpa: float, geoid_undulation_m: float) -> tuple[FloatArray, np.ndarray]:
    """Height above the ellipsoid (m, NaN if unknown) of CAT021 reports: the geometric
    height where given, else the pressure altitude through the ISA; and the geometric mask."""
    geometric = np.isfinite(r.geometric_height_m)
    h_baro = pressure_altitude_to_height_m(r.pressure_altitude_m, qnh_hpa, geoid_undulation_m)
    return np.where(geometric, r.geometric_height_m, h_baro), geometric


def cat062_height(
    r: Cat062Records, qnh_hpa: float = ISA_SEA_LEVEL_HPA, geoid_undulation_m: float = 0.0
) -> tuple[FloatArray, np.ndarray]:
    """Height above the ellipsoid (m, NaN if unknown) of CAT062 system tracks, and the mask
    of those that come from a barometric altitude.

    Barometric first, as ATC works in flight levels and CAT048 plots give Mode C: the
    measured flight level I062/136 (pressure altitude, through the ISA), else the calculated
    barometric altitude I062/135 (through the ISA; when its QNH bit says it is already
    QNH-corrected it is an altitude above mean sea level, so only the geoid is added), else
    the calculated geometric altitude I062/130.
    """
    fl = pressure_altitude_to_height_m(r.pressure_altitude_m, qnh_hpa, geoid_undulation_m)
    baro = np.where(
        r.qnh_corrected,
        r.barometric_altitude_m + geoid_undulation_m,
        pressure_altitude_to_height_m(r.barometric_altitude_m, qnh_hpa, geoid_undulation_m),
    )
    h = np.where(np.isfinite(fl), fl, np.where(np.isfinite(baro), baro, r.geometric_height_m))
    return h, np.isfinite(fl) | np.isfinite(baro)


def cat021_evidence(r: Cat021Records) -> np.ndarray:
    """(N,) :mod:`skywarden.evidence` bits of CAT021 ADS-B reports: I021/040 GBS (1 on the
    ground, 0 airborne), SIM, TST/RAB; a Mode 3/A code (I021/070)."""
    out = np.where(r.on_ground == 1, ev.ON_GROUND, 0)
    out |= np.where(r.on_ground == 0, ev.AIRBORNE, 0)
    out |= np.where(r.simulated, ev.SIMULATED, 0)
    out |= np.where(r.test_target, ev.TEST, 0)
    out |= np.where(r.mode3a >= 0, ev.MODE_3A, 0)
    return out.astype(np.int32)


def cat062_evidence(r: Cat062Records) -> np.ndarray:
    """(N,) :mod:`skywarden.evidence` bits of CAT062 system tracks: a valid Mode 3/A code
    (I062/060), a flight plan (I062/390 or the I062/080 FPC bit), a secondary (SSR or Mode S)
    detection within the system's age threshold (I062/080 SSR or MDS bit 0: a transponder
    replies, even where no Mode 3/A code is given, "Mode C only"), a surface target (I062/080
    SFC), simulated (SIM). A Mode S address (I062/380) makes the identity an ICAO key."""
    out = np.where(r.mode3a_valid & (r.mode3a >= 0), ev.MODE_3A, 0)
    out |= np.where(r.has_flight_plan | r.plan_correlated, ev.FLIGHT_PLAN, 0)
    out |= np.where(r.secondary_recent, ev.SSR_REPLY, 0)
    out |= np.where(r.surface, ev.ON_GROUND, 0)
    out |= np.where(r.simulated, ev.SIMULATED, 0)
    return out.astype(np.int32)


def _site_velocity(
    frame: LocalFrame, lat_deg: FloatArray, lon_deg: FloatArray, v_local: FloatArray
) -> FloatArray:
    """Velocities (N, 3) in each target's local ENU rotated into the site frame; NaN kept."""
    v = np.einsum("nij,nj->ni", frame.rotation_at(lat_deg, lon_deg), np.nan_to_num(v_local))
    v[np.isnan(v_local)] = np.nan
    return v


def cat021_to_detections(
    reports: Cat021Records,
    frame: LocalFrame,
    *,
    sensor: int = 0,
    sigma_geometric_m: float = 15.0,
    sigma_pressure_m: float = 75.0,
    qnh_hpa: float = ISA_SEA_LEVEL_HPA,
    geoid_undulation_m: float = 0.0,
) -> Detections:
    """CAT021 ADS-B reports -> ADSB detections (needs position and ``t``).

    Height: I021/140 geometric height, else the pressure altitude converted with the ISA.
    Horizontal sigma from NACp (unknown NACp gives geo's large 'unknown' sigma).
    """
    keep = np.isfinite(reports.lat_deg) & np.isfinite(reports.lon_deg) & np.isfinite(reports.t)
    r = reports.take(keep)
    height, geometric = _report_height(r, qnh_hpa, geoid_undulation_m)
    known = np.isfinite(height)
    sigma_v = np.where(known, np.where(geometric, sigma_geometric_m, sigma_pressure_m), 1e4)
    z, R = geodetic_to_enu_with_cov(
        frame, r.lat_deg, r.lon_deg, np.where(known, height, 0.0), nacp_to_sigma_m(r.nacp), sigma_v
    )
    v_local = _polar_velocity(r.ground_speed_mps, r.track_angle_rad, r.vertical_rate_mps)
    v = _site_velocity(frame, r.lat_deg, r.lon_deg, v_local)
    return make_detections(
        r.t, z, R, v=v, sensor=sensor, kind=SourceKind.ADSB,
        identity=icao_identities(r.address), evidence=cat021_evidence(r),
    )  # fmt: skip


def cat062_to_detections(
    tracks: Cat062Records,
    frame: LocalFrame,
    *,
    sensor: int = 0,
    sigma_horizontal_m: float = 150.0,
    sigma_flight_level_m: float = 15.0,
    sigma_vertical_m: float = 75.0,
    qnh_hpa: float = ISA_SEA_LEVEL_HPA,
    geoid_undulation_m: float = 0.0,
) -> Detections:
    """CAT062 system tracks -> SYSTEM_TRACK detections (needs WGS-84 position and ``t``).

    A system track is already the output of another tracker, so its height is taken nearly as
    reported: where the measured flight level I062/136 is given, its vertical sigma is
    ``sigma_flight_level_m``, half a Mode C step (100 ft), so skywarden's filter follows the
    reported level instead of smoothing it a second time (with 75 m it lagged level changes
    by up to 150 m; on fds260429 15 m keeps 99.9 % of airborne outputs within 100 m of the
    last reported level, against 99.4 % at 75 m and at 7.6 m, one I062/136 step, where the
    vertical rate from 25-ft steps overshoots between reports).
    Heights from I062/135 or I062/130 alone keep ``sigma_vertical_m``.

    Identity: the Mode S address when present, else the track number of the (SAC, SIC).
    Height: :func:`cat062_height`. Horizontal sigma: the track's own I062/500 APC accuracy
    (the larger of x and y) where given, else ``sigma_horizontal_m``. Velocity: I062/185
    (Vx, Vy), taken as local east/north at the track. Evidence: :func:`cat062_evidence`.
    """
    keep = np.isfinite(tracks.lat_deg) & np.isfinite(tracks.lon_deg) & np.isfinite(tracks.t)
    r = tracks.take(keep)
    height, _ = cat062_height(r, qnh_hpa, geoid_undulation_m)
    known = np.isfinite(height)
    sigma_v = np.where(
        np.isfinite(r.pressure_altitude_m),
        sigma_flight_level_m,
        np.where(known, sigma_vertical_m, 1e4),
    )
    own = np.fmax(r.sigma_x_m, r.sigma_y_m)
    sigma_h = np.where(np.isfinite(own) & (own > 0.0), own, sigma_horizontal_m)
    z, R = geodetic_to_enu_with_cov(
        frame,
        r.lat_deg,
        r.lon_deg,
        np.where(known, height, 0.0),
        sigma_h,
        sigma_v,
    )
    v_local = np.stack([r.vx_mps, r.vy_mps, np.full(len(r), np.nan)], axis=-1)
    v = _site_velocity(frame, r.lat_deg, r.lon_deg, v_local)
    identity = icao_identities(r.address)
    for i in np.flatnonzero((identity == NO_IDENTITY) & (r.track_number >= 0)):
        identity[i] = track_number_identity(
            int(r.sac[i]) << 8 | int(r.sic[i]), int(r.track_number[i])
        )
    return make_detections(
        r.t, z, R, v=v, sensor=sensor, kind=SourceKind.SYSTEM_TRACK, identity=identity,
        evidence=cat062_evidence(r),
    )  # fmt: skip
