"""A rotating radar's wire output for a scenario: CAT034 service messages and CAT048 plots.

Timing model (one scenario scan = one antenna rotation of period T): the antenna crosses
north at ``times[s] - T/2`` and turns clockwise, so the scan's detection time is mid-rotation
and a plot's time, ``north + azimuth / 2pi * T``, is within T/2 of it. The plot *positions*
are the scenario's detections moved to the plot time along the target's true velocity
(``z + v (t_plot - t_scan)``; clutter stays put), so each plot's time and position agree, as
a real rotating radar's do.

Per rotation: a CAT034 north marker (with I034/041 rotation period and I034/120 radar
position) and ``sectors - 1`` sector crossing messages, each sent as the antenna reaches
the sector's start; the plots of a sector go out when the antenna leaves it, sorted by
azimuth, ``plots_per_datagram`` records per CAT048 block, one block per UDP payload.

Plots (I048/040 slant range and azimuth from :func:`skywarden.geo.enu_to_radar_plot`):
* primary plots (TYP 1, single PSR) carry the target's ellipsoidal height in I048/110;
* plots of targets with a transponder (TYP 7, Mode S roll-call + PSR) carry the Mode S
  address (I048/220), Mode 3/A (I048/070), callsign (I048/240) and a validated Mode C
  pressure altitude (I048/090): the height converted to ISA pressure altitude with the
  exact inverse of :func:`~skywarden.sources.asterix.detections.pressure_altitude_to_height_m`
  (standard QNH, geoid 0), so :func:`cat048_to_detections` gives back the same height;
* every plot (both types have a primary detection) carries its I048/130 primary amplitude
  PAM: the plot's RCS (``scenario.det_rcs_dbsm``) through the radar equation with the
  setup's ``rcs_calibration_dbm``, ``PAM = rcs + C - 40 log10(R / 1 km)``, R the slant
  range the plot reports (I048/040 after quantisation, so that a receiver with the same
  calibration gets the RCS back within the 0.5 dB rounding of PAM), rounded to 1 dB and
  clipped to the signed byte (-128..127 dBm).

Quantisation after a round trip: range 1/256 NM, azimuth 360/65536 deg, height 25 ft, time
1/128 s. Detections beyond ``max_range_m`` of the radar are not sent (``outside`` marks them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from skywarden.geo import enu_to_radar_plot
from skywarden.simulate.emit_site import (
    RADAR,
    SiteSetup,
    WireMessage,
    callsigns,
    carriers,
    mode3a_code,
)
from skywarden.simulate.simulator import Scenario
from skywarden.sources.asterix.detections import amplitude_from_rcs
from skywarden.sources.asterix.encode import encode_cat034, encode_cat048, radar_service_messages
from skywarden.sources.asterix.records import Cat048Records
from skywarden.units import NM, FloatArray, IntArray

TYP_PSR = 1  # I048/020 TYP: single PSR detection
TYP_MODE_S_ROLL_CALL_PSR = 7  # Mode S roll-call + PSR
ISA_GEOPOTENTIAL_RADIUS_M = 6356766.0  # r in h = r H / (r - H)
SECONDS_PER_DAY = 86400.0
PAM_MIN_DBM, PAM_MAX_DBM = -128.0, 127.0  # I048/130 PAM: signed byte, 1 dBm


def primary_amplitude_dbm(
    rcs_dbsm: FloatArray, range_m: FloatArray, calibration_dbm: float
) -> FloatArray:
    """I048/130 PAM (dBm, whole, clipped to a signed byte) of plots of RCS rcs_dbsm (D,) at
    slant range_m (D,), for a radar whose 1 m^2 target at 1 km gives calibration_dbm.

    The range is taken as the plot reports it (rounded to 1/256 NM); NaN where that is 0 or
    the RCS is unknown (the item is then left out).
    """
    reported = np.round(np.asarray(range_m, dtype=np.float64) / NM * 256.0) / 256.0 * NM
    amplitude = amplitude_from_rcs(rcs_dbsm, reported, calibration_dbm)
    return np.clip(np.rint(amplitude), PAM_MIN_DBM, PAM_MAX_DBM)


def height_to_pressure_altitude_m(height_m: FloatArray) -> FloatArray:
    """Ellipsoidal height (m) -> ISA pressure altitude (m) at standard QNH and geoid 0.

    With a standard QNH the ISA altitude of the pressure equals the geopotential altitude,
    so this is H = r h / (r + h), the inverse of the decoder's geopotential -> geometric step.
    """
    h = np.asarray(height_m, dtype=np.float64)
    return ISA_GEOPOTENTIAL_RADIUS_M * h / (ISA_GEOPOTENTIAL_RADIUS_M + h)


@dataclass(frozen=True)
class RadarEmission:
    """The radar's messages and how they map to the scenario.

    Attributes:
        messages: (send time POSIX s, ``radar``, UDP payload), in send order.
        plot_detection: (P,) scenario detection index of each CAT048 record, in wire order.
        plot_t: (P,) POSIX time of each plot (its I048/140 before quantisation).
        outside: (D,) bool, detections not sent because they lie beyond ``max_range_m``.
        north_t: (S,) POSIX time of each rotation's north crossing.
        plot_amplitude_dbm: (P,) I048/130 PAM of each CAT048 record (NaN: none sent).
    """

    messages: list[WireMessage]
    plot_detection: IntArray
    plot_t: FloatArray
    outside: np.ndarray
    north_t: FloatArray
    plot_amplitude_dbm: FloatArray


def truth_velocity_of_detections(scenario: Scenario, det: IntArray) -> FloatArray:
    """True ENU velocity (D, 3) m/s of each detection's target at its scan; 0 for clutter."""
    v = np.zeros((det.shape[0], 3))
    if scenario.truth_id.size == 0:  # no target yet (clutter only)
        return v
    tid = scenario.det_truth_id[det]
    scan = scenario.scan_index[det]
    width = int(scenario.truth_id.max()) + 1
    keys = scenario.truth_scan.astype(np.int64) * width + scenario.truth_id
    order = np.argsort(keys, kind="stable")
    want = scan.astype(np.int64) * width + np.maximum(tid, 0)
    pos = np.clip(np.searchsorted(keys[order], want), 0, keys.size - 1)
    found = (tid >= 0) & (keys[order][pos] == want)
    v[found] = scenario.truth_state[order[pos[found]], 3:]
    return v


def _plot_positions(scenario: Scenario, setup: SiteSetup, keep: IntArray, plot_t: FloatArray):
    """Detections ``keep`` moved from their scan time to their plot time (ENU m)."""
    scan_t = setup.posix(scenario.times)[scenario.scan_index[keep]]
    v = truth_velocity_of_detections(scenario, keep)
    return scenario.det_z[keep] + v * (plot_t - scan_t)[:, None]


def _plot_columns(
    scenario: Scenario, setup: SiteSetup, keep: IntArray, plot_t: FloatArray
) -> dict[str, np.ndarray]:
    """Cat048Records columns (SI) of the detections ``keep`` seen at POSIX times plot_t."""
    radar = setup.radar_site
    r, az, _, h = enu_to_radar_plot(
        setup.frame,
        radar.lat_deg,
        radar.lon_deg,
        radar.h_m,
        _plot_positions(scenario, setup, keep, plot_t),
    )
    target = scenario.det_truth_id[keep]
    xpdr = (target >= 0) & carriers(scenario, setup.transponder_classes)[np.maximum(target, 0)]
    n = keep.shape[0]
    return {
        "sac": np.full(n, setup.radar_sac),
        "sic": np.full(n, setup.radar_sic),
        "tod_s": np.mod(plot_t, SECONDS_PER_DAY),
        "typ": np.where(xpdr, TYP_MODE_S_ROLL_CALL_PSR, TYP_PSR),
        "range_m": r,
        "azimuth_rad": az,
        "mode3a": np.where(xpdr, mode3a_code(target), -1),
        "mode3a_valid": xpdr,
        "pressure_altitude_m": np.where(xpdr, height_to_pressure_altitude_m(h), np.nan),
        "mode_c_valid": xpdr,
        "measured_height_m": np.where(xpdr, np.nan, h),
        "address": np.where(xpdr, setup.icao_address(target), -1),
        "callsign": np.where(xpdr, callsigns(target), ""),
        "primary_amplitude_dbm": primary_amplitude_dbm(
            scenario.det_rcs_dbsm[keep], r, setup.rcs_calibration_dbm
        ),
    }


def _datagram_groups(scan: IntArray, sector: IntArray, per_datagram: int) -> list[IntArray]:
    """Index groups (rows already sorted by scan, sector): one per datagram."""
    key = scan * 1024 + sector
    cuts = np.flatnonzero(np.diff(key)) + 1
    groups = []
    for group in np.split(np.arange(key.shape[0]), cuts):
        groups += [group[i : i + per_datagram] for i in range(0, group.shape[0], per_datagram)]
    return [g for g in groups if g.shape[0]]


def sector_boundaries(north_t: FloatArray, period: float, sectors: int) -> FloatArray:
    """(S, sectors + 1) POSIX times the antenna reaches each sector start; the last column
    is the next rotation's north crossing (exactly equal to it where there is one)."""
    k = np.arange(sectors + 1)
    bounds = north_t[:, None] + k[None, :] * period / sectors
    bounds[:-1, -1] = north_t[1:]
    return bounds


def _sector_messages(setup: SiteSetup, bounds: FloatArray, period: float) -> list[WireMessage]:
    """CAT034 north markers and sector crossings of every rotation, in time order."""
    t = bounds[:, :-1].reshape(-1)
    az = np.tile(np.arange(setup.sectors) * 2.0 * math.pi / setup.sectors, bounds.shape[0])
    radar = setup.radar_site
    services = radar_service_messages(
        setup.radar_sac,
        setup.radar_sic,
        np.mod(t, SECONDS_PER_DAY),
        az,
        rotation_period_s=period,
        radar_lat_deg=radar.lat_deg,
        radar_lon_deg=radar.lon_deg,
        radar_height_m=radar.h_m,
    )
    blocks = encode_cat034(services)
    return [WireMessage(float(ti), RADAR, b) for ti, b in zip(t, blocks, strict=True)]


def radar_messages(scenario: Scenario, setup: SiteSetup) -> RadarEmission:
    """CAT034 + CAT048 UDP payloads of the scenario's detections (see the module docstring)."""
    period = setup.rotation_period(scenario)
    north_t = setup.posix(scenario.times) - 0.5 * period
    radar = setup.radar_site
    every = np.arange(scenario.det_z.shape[0])
    r, az, _, _ = enu_to_radar_plot(
        setup.frame, radar.lat_deg, radar.lon_deg, radar.h_m, scenario.det_z
    )
    # the plot time depends on the azimuth of the moved position: one refinement is enough
    plot_t = north_t[scenario.scan_index] + az / (2.0 * math.pi) * period
    moved = _plot_positions(scenario, setup, every, plot_t)
    r, az, _, _ = enu_to_radar_plot(setup.frame, radar.lat_deg, radar.lon_deg, radar.h_m, moved)
    plot_t = north_t[scenario.scan_index] + az / (2.0 * math.pi) * period
    outside = r > setup.max_range_m
    sector = np.minimum((az / (2.0 * math.pi) * setup.sectors).astype(np.int64), setup.sectors - 1)
    keep = np.flatnonzero(~outside)
    keep = keep[np.lexsort((az[keep], sector[keep], scenario.scan_index[keep]))]
    scan = scenario.scan_index[keep]
    plot_t = plot_t[keep]
    plots = Cat048Records.from_columns(_plot_columns(scenario, setup, keep, plot_t), len(keep))
    bounds = sector_boundaries(north_t, period, setup.sectors)
    messages = _sector_messages(setup, bounds, period)
    for group in _datagram_groups(scan, sector[keep], setup.plots_per_datagram):
        i = group[0]
        sent = bounds[scan[i], sector[keep[i]] + 1]
        (block,) = encode_cat048(plots.take(group), records_per_block=group.shape[0])
        messages.append(WireMessage(float(sent), RADAR, block))
    # plots leave when the antenna leaves their sector: before the next crossing message
    order = sorted(range(len(messages)), key=lambda j: (messages[j].t, messages[j].data[0] != 48))
    return RadarEmission(
        messages=[messages[j] for j in order],
        plot_detection=keep,
        plot_t=plot_t,
        outside=outside,
        north_t=north_t,
        plot_amplitude_dbm=plots.primary_amplitude_dbm,
    )
