"""Cooperative targets on the wire: ADS-B (CAT021, Beast DF17, SBS) and Remote ID beacons.

Targets of ``SiteSetup.transponder_classes`` report ADS-B, those of ``remote_id_classes``
broadcast Remote ID, every ``adsb_period_s`` / ``remote_id_period_s`` (whole scans, on the
scans divisible by that many scans). Positions are the noise-free truth (GNSS-grade);
each report's own time field is the truth time, and it is sent ``latency`` later: 20-220 ms,
a fixed fraction per target, so that reports of many targets do not all leave at once.

* CAT021 (edition 2.7): I021/071 time, /131 position (180/2^30 deg), /140 geometric height
  (6.25 ft), /145 flight level, /160 ground vector, /155 barometric vertical rate, /080
  address, /170 callsign, /090 NACp; one record per UDP payload.
* Beast: per report, every 10th an identification, then a DF17 airborne velocity with the
  GNSS-minus-baro difference (so a decoder recovers the geometric height to 25 ft) and an
  airborne position (even and odd CPR alternate); the 12 MHz counter is zero at
  ``start_posix`` (decode times with ``BeastFrames.times(start_posix, 0)``).
* SBS: MSG,4 (velocity) and MSG,3 (position, 1e-5 deg, pressure altitude in ft) lines.
* Remote ID: one Wi-Fi beacon per report with a message pack of Basic ID (serial), Location
  (1e-7 deg, geodetic altitude 0.5 m, height above take-off at the site height) and System
  (operator at the ground point under the drone's first position, EU Open category C1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from skywarden.geo import enu_velocity_to_ground
from skywarden.simulate.emit_radar import SECONDS_PER_DAY, height_to_pressure_altitude_m
from skywarden.simulate.emit_site import (
    ADSB_ASTERIX,
    BEAST,
    REMOTE_ID,
    SBS,
    SiteSetup,
    WireMessage,
    callsigns,
    carriers,
    remote_id_mac,
    remote_id_serial,
)
from skywarden.simulate.simulator import Scenario
from skywarden.sources.asterix.encode import encode_cat021
from skywarden.sources.asterix.records import Cat021Records
from skywarden.sources.modes import encode as modes_encode
from skywarden.sources.modes.beast import MLAT_HZ, encode_beast
from skywarden.sources.modes.sbs import encode_sbs_positions, encode_sbs_velocities
from skywarden.sources.remote_id.encode import encode_message_pack, encode_wifi_beacon
from skywarden.sources.remote_id.messages import BasicId, IdType, Location, Status, System, UaType
from skywarden.units import DEG, FPM, FT, KT, FloatArray, IntArray

EMITTER_CATEGORY_HEAVY = 5  # I021/020: heavy aircraft
IDENTIFICATION_EVERY = 10  # Beast: an identification message every this many reports
GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def latency_s(target: IntArray) -> FloatArray:
    """Delay between a report's time and its sending, 20-220 ms, fixed per target."""
    return 0.02 + 0.2 * np.mod(GOLDEN * (np.asarray(target, dtype=np.float64) + 1.0), 1.0)


@dataclass(frozen=True)
class CooperativeReports:
    """Truth rows reported by cooperative targets, in send order; all arrays (N,).

    t: report time (POSIX s); sent: send time; target: target id; index: 0, 1, ... per
    target; lat/lon (deg), height (m HAE), pressure altitude (m); ground speed (m/s),
    track (rad from true north), vertical rate (m/s).
    """

    t: FloatArray
    sent: FloatArray
    target: IntArray
    index: IntArray
    lat_deg: FloatArray
    lon_deg: FloatArray
    height_m: FloatArray
    pressure_altitude_m: FloatArray
    ground_speed_mps: FloatArray
    track_rad: FloatArray
    vertical_rate_mps: FloatArray

    def __len__(self) -> int:
        return int(self.t.shape[0])


def cooperative_reports(
    scenario: Scenario,
    setup: SiteSetup,
    classes: frozenset[str],
    period_s: float,
    kinds: frozenset[str] | None = None,
) -> CooperativeReports:
    """The truth rows of the targets of ``classes`` (and of ``kinds``, if given) on every n-th
    scan, sorted by send time."""
    every = setup.every_n_scans(scenario, period_s)
    carrying = carriers(scenario, classes)
    if kinds is not None:
        carrying &= np.isin(np.asarray(scenario.target_kind, dtype=str), sorted(kinds))
    mask = carrying[scenario.truth_id] & (scenario.truth_scan % every == 0)
    rows = np.flatnonzero(mask)
    target = scenario.truth_id[rows]
    t = setup.posix(scenario.truth_t[rows])
    sent = t + latency_s(target)
    order = np.lexsort((target, sent))
    rows, target, t, sent = rows[order], target[order], t[order], sent[order]
    index = _index_within(target)
    pos = scenario.truth_state[rows, :3]
    lat, lon, h = setup.frame.enu_to_geodetic(pos)
    gs, track, vr = enu_velocity_to_ground(setup.frame, pos, scenario.truth_state[rows, 3:])
    return CooperativeReports(
        t, sent, target, index, lat, lon, h, height_to_pressure_altitude_m(h), gs, track, vr
    )


def _index_within(target: IntArray) -> IntArray:
    """0, 1, 2 ... counting the rows of each target in order."""
    order = np.argsort(target, kind="stable")
    sorted_target = target[order]
    starts = np.flatnonzero(np.r_[True, sorted_target[1:] != sorted_target[:-1]])
    run = np.arange(target.shape[0]) - np.repeat(starts, np.diff(np.r_[starts, target.shape[0]]))
    index = np.empty_like(run)
    index[order] = run
    return index


def _adsb(scenario: Scenario, setup: SiteSetup) -> CooperativeReports:
    return cooperative_reports(scenario, setup, setup.transponder_classes, setup.adsb_period_s)


def cat021_messages(scenario: Scenario, setup: SiteSetup) -> list[WireMessage]:
    """CAT021 ADS-B reports, one record per UDP payload (channel ``adsb-cat021``)."""
    rep = _adsb(scenario, setup)
    n = len(rep)
    if n == 0:
        return []
    records = Cat021Records.from_columns(
        {
            "sac": np.full(n, setup.adsb_sac),
            "sic": np.full(n, setup.adsb_sic),
            "tod_s": np.mod(rep.t, SECONDS_PER_DAY),
            "lat_deg": rep.lat_deg,
            "lon_deg": rep.lon_deg,
            "geometric_height_m": rep.height_m,
            "pressure_altitude_m": rep.pressure_altitude_m,
            "ground_speed_mps": rep.ground_speed_mps,
            "track_angle_rad": rep.track_rad,
            "vertical_rate_mps": rep.vertical_rate_mps,
            "address": setup.icao_address(rep.target),
            "callsign": callsigns(rep.target),
            "emitter_category": np.full(n, EMITTER_CATEGORY_HEAVY),
            "nacp": np.full(n, setup.nacp),
            "nic": np.full(n, 8),
        },
        n,
    )
    blocks = encode_cat021(records, records_per_block=1)
    return [WireMessage(float(s), ADSB_ASTERIX, b) for s, b in zip(rep.sent, blocks, strict=True)]


def beast_messages(scenario: Scenario, setup: SiteSetup) -> list[WireMessage]:
    """Beast-framed DF17 messages, one chunk per report (channel ``beast``)."""
    rep = _adsb(scenario, setup)
    if len(rep) == 0:
        return []
    icao = setup.icao_address(rep.target)
    baro_ft = rep.pressure_altitude_m / FT
    position = modes_encode.airborne_position(
        icao, rep.lat_deg, rep.lon_deg, baro_ft, rep.index % 2 == 1
    )
    velocity = modes_encode.airborne_velocity(
        icao,
        rep.ground_speed_mps * np.sin(rep.track_rad) / KT,
        rep.ground_speed_mps * np.cos(rep.track_rad) / KT,
        rep.vertical_rate_mps / FPM,
        (rep.height_m - rep.pressure_altitude_m) / FT,
    )
    ident = modes_encode.identification(icao, list(callsigns(rep.target)))
    ticks = np.round((rep.t - setup.start_posix) * MLAT_HZ).astype(np.int64)
    out = []
    for i in range(len(rep)):
        frames = [velocity[i], position[i]]  # the height difference first
        if rep.index[i] % IDENTIFICATION_EVERY == 0:
            frames.insert(0, ident[i])
        chunk = encode_beast([f.tobytes() for f in frames], np.full(len(frames), ticks[i]))
        out.append(WireMessage(float(rep.sent[i]), BEAST, chunk))
    return out


def sbs_messages(scenario: Scenario, setup: SiteSetup) -> list[WireMessage]:
    """SBS MSG,4 (velocity) + MSG,3 (position) lines, one chunk per report (``sbs``)."""
    rep = _adsb(scenario, setup)
    if len(rep) == 0:
        return []
    icao = setup.icao_address(rep.target)
    positions = encode_sbs_positions(
        rep.t, icao, rep.lat_deg, rep.lon_deg, rep.pressure_altitude_m / FT
    ).splitlines(keepends=True)
    velocities = encode_sbs_velocities(
        rep.t,
        icao,
        rep.ground_speed_mps / KT,
        rep.track_rad / DEG,
        rep.vertical_rate_mps / FPM,
    ).splitlines(keepends=True)
    return [
        WireMessage(float(sent), SBS, v + p)
        for sent, v, p in zip(rep.sent, velocities, positions, strict=True)
    ]


def _operator_positions(scenario: Scenario, setup: SiteSetup) -> tuple[FloatArray, FloatArray]:
    """(lat, lon) (K,) of each target's operator: the ground point under its first position."""
    first = np.unique(scenario.truth_id, return_index=True)
    ground = np.zeros((scenario.n_targets, 3))
    ground[first[0], :2] = scenario.truth_state[first[1], :2]
    lat, lon, _ = setup.frame.enu_to_geodetic(ground)
    return lat, lon


def _location(rep: CooperativeReports, i: int, site_h_m: float) -> Location:
    return Location(
        version=2,
        status=int(Status.AIRBORNE),
        height_type=0,  # above take-off, which is at the site height
        direction_rad=float(rep.track_rad[i]),
        speed_m_s=float(rep.ground_speed_mps[i]),
        vertical_speed_m_s=float(rep.vertical_rate_mps[i]),
        lat_deg=float(rep.lat_deg[i]),
        lon_deg=float(rep.lon_deg[i]),
        pressure_altitude_m=float(rep.pressure_altitude_m[i]),
        geodetic_altitude_m=float(rep.height_m[i]),
        height_m=float(rep.height_m[i] - site_h_m),
        horizontal_accuracy=11,  # < 3 m
        vertical_accuracy=4,  # < 10 m
        baro_accuracy=4,
        speed_accuracy=3,  # < 1 m/s
        timestamp_s=float(np.mod(rep.t[i], 3600.0)),
        timestamp_accuracy_s=0.1,
    )


def remote_id_messages(scenario: Scenario, setup: SiteSetup) -> list[WireMessage]:
    """Radiotap + 802.11 beacons with Basic ID + Location + System packs (``remote-id``)."""
    rep = cooperative_reports(
        scenario, setup, setup.remote_id_classes, setup.remote_id_period_s, setup.remote_id_kinds
    )
    op_lat, op_lon = _operator_positions(scenario, setup)
    out = []
    for i in range(len(rep)):
        k = int(rep.target[i])
        basic = BasicId(
            2, int(IdType.SERIAL_NUMBER), int(UaType.HELICOPTER_OR_MULTIROTOR), remote_id_serial(k)
        )
        system = System(
            version=2,
            operator_location_type=0,  # take-off position
            classification_type=1,  # EU
            operator_lat_deg=float(op_lat[k]),
            operator_lon_deg=float(op_lon[k]),
            area_count=1,
            area_radius_m=0.0,
            area_ceiling_m=math.nan,
            area_floor_m=math.nan,
            eu_category=1,  # Open
            eu_class=2,  # C1
            operator_altitude_m=setup.h_m,
            timestamp=float(rep.t[i]),
        )
        pack = encode_message_pack([basic, _location(rep, i, setup.h_m), system])
        counter = int(rep.index[i]) & 0xFF
        tsf_us = int(round((rep.sent[i] - setup.start_posix) * 1e6))
        frame = encode_wifi_beacon(pack, remote_id_mac(k), counter, tsf_us=tsf_us, sequence=counter)
        out.append(WireMessage(float(rep.sent[i]), REMOTE_ID, frame))
    return out
