"""Truth trajectories for training and evaluating the classifier: real recordings + synthetic.

Every reader returns :class:`Trajectory` objects: times (POSIX s) and positions in a local
metric ENU frame (metres, u = height above the ground or the site), one per flight or aircraft,
labelled drone / bird / aircraft, with a ``group`` that names the unit a train/test split must
keep whole (a flight file, an aircraft address).

Real sources (../shared/data; see its README):

* ArduPilot quadrotor tlogs (phoenix-uav-tlog): GLOBAL_POSITION_INT read by a small MAVLink
  1/2 frame reader here (checksummed), so no MAVLink library is needed at run time.
* UZH-FPV racing-quad ground truth (10 Hz indoor poses; heights are offset by the renderer).
* The Parrot ANAFI Remote ID capture (decoded with :mod:`skywarden.sources.remote_id`).
* Aircraft from the Barcelona CAT048 recording (Mode S addressed plots, smoothed) and from the
  beastblackbox SBS text (dump1090 positions).
* The marsh harrier GPS file has 5-minute fixes: it gives only the speed and height
  distribution that :mod:`skywarden.classify.synthetic` draws single birds from.
"""

from __future__ import annotations

import csv
import math
import struct
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skywarden.geo import LocalFrame
from skywarden.units import FT, FloatArray

MIN_AIRBORNE_HEIGHT = 1.5  # m: drone samples lower than this are on the ground
AIRCRAFT_MIN_HEIGHT = 150.0  # m: aircraft plots lower than this (runway, taxiway) are dropped
MAX_GAP_S = 30.0  # a gap longer than this splits a trajectory


@dataclass(frozen=True, slots=True)
class Trajectory:
    """One truth trajectory: t (n,) POSIX s, p (n, 3) local ENU metres, a class label.

    ``group`` is the split unit (never put one group in both train and test).
    """

    name: str
    group: str
    label: str
    t: FloatArray
    p: FloatArray

    @property
    def duration(self) -> float:
        return float(self.t[-1] - self.t[0]) if self.t.size else 0.0


def split_on_gaps(
    name: str, group: str, label: str, t: FloatArray, p: FloatArray, max_gap: float = MAX_GAP_S
) -> list[Trajectory]:
    """Trajectories cut wherever consecutive samples are more than max_gap s apart."""
    if t.size < 5:
        return []
    order = np.argsort(t, kind="stable")
    t, p = t[order], p[order]
    keep = np.concatenate([[True], np.diff(t) > 1e-6])
    t, p = t[keep], p[keep]
    cuts = np.flatnonzero(np.diff(t) > max_gap) + 1
    out = []
    for k, (a, b) in enumerate(zip(np.r_[0, cuts], np.r_[cuts, t.size], strict=True)):
        if b - a >= 5:
            out.append(Trajectory(f"{name}#{k}", group, label, t[a:b].copy(), p[a:b].copy()))
    return out


# --- MAVLink tlog ---------------------------------------------------------------------------

_GLOBAL_POSITION_INT = 33
_CRC_EXTRA_GPI = 104
_GPI_FORMAT = "<IiiiihhhH"  # time_boot_ms, lat, lon, alt, relative_alt, vx, vy, vz, hdg
_GPI_LEN = struct.calcsize(_GPI_FORMAT)


def x25_crc(data: bytes, crc: int = 0xFFFF) -> int:
    """MAVLink's CRC-16/MCRF4XX (X.25) of data."""
    for byte in data:
        tmp = byte ^ (crc & 0xFF)
        tmp = (tmp ^ (tmp << 4)) & 0xFF
        crc = ((crc >> 8) ^ (tmp << 8) ^ (tmp << 3) ^ (tmp >> 4)) & 0xFFFF
    return crc


def _mavlink_frame(buf: bytes, i: int) -> tuple[int, bytes, int, bool] | None:
    """(msgid, payload, frame length, crc ok) of the MAVLink frame at buf[i], or None."""
    magic = buf[i]
    if magic == 0xFE and i + 8 <= len(buf):
        n = buf[i + 1]
        end = i + 8 + n
        msgid, header, payload = buf[i + 5], buf[i + 1 : i + 6], buf[i + 6 : i + 6 + n]
    elif magic == 0xFD and i + 12 <= len(buf):
        n = buf[i + 1]
        signed = buf[i + 2] & 0x01
        end = i + 12 + n + (13 if signed else 0)
        msgid = int.from_bytes(buf[i + 7 : i + 10], "little")
        header, payload = buf[i + 1 : i + 10], buf[i + 10 : i + 10 + n]
    else:
        return None
    if end > len(buf):
        return None
    if msgid != _GLOBAL_POSITION_INT:
        return msgid, payload, end - i, True
    crc_at = i + len(header) + 1 + len(payload)
    crc = x25_crc(header + payload + bytes([_CRC_EXTRA_GPI]))
    ok = crc == int.from_bytes(buf[crc_at : crc_at + 2], "little")
    return msgid, payload, end - i, ok


def read_tlog_positions(data: bytes, rejects: Counter[str] | None = None) -> FloatArray:
    """GLOBAL_POSITION_INT of a tlog -> (n, 5) [t_boot s, lat deg, lon deg, alt m, rel_alt m].

    A tlog is a sequence of (8-byte big-endian microsecond timestamp, MAVLink frame). Bytes that
    do not start a frame are skipped one at a time (counted as 'resync'); frames with a bad
    checksum are counted as 'bad_crc' and not used.
    """
    rejects = Counter() if rejects is None else rejects
    rows: list[tuple[float, float, float, float, float]] = []
    i = 0
    while i + 9 <= len(data):
        frame = _mavlink_frame(data, i + 8)
        if frame is None:
            rejects["resync"] += 1
            i += 1
            continue
        msgid, payload, length, ok = frame
        if msgid == _GLOBAL_POSITION_INT:
            if ok:
                f = struct.unpack(_GPI_FORMAT, payload.ljust(_GPI_LEN, b"\0")[:_GPI_LEN])
                rows.append((f[0] / 1e3, f[1] / 1e7, f[2] / 1e7, f[3] / 1e3, f[4] / 1e3))
            else:
                rejects["bad_crc"] += 1
        i += 8 + length
    return np.array(rows, dtype=np.float64).reshape(-1, 5)


def _airborne_drone(name: str, t: FloatArray, lat: FloatArray, lon: FloatArray, h: FloatArray):
    frame = LocalFrame(float(np.median(lat)), float(np.median(lon)), 0.0)
    p = frame.geodetic_to_enu(lat, lon, np.zeros_like(lat))
    p[:, 2] = h
    up = h >= MIN_AIRBORNE_HEIGHT
    return split_on_gaps(name, name, "drone", t[up], p[up], max_gap=5.0)


def tlog_trajectories(path: Path) -> list[Trajectory]:
    """Airborne pieces of a real ArduPilot flight (height = height above home)."""
    rows = read_tlog_positions(path.read_bytes())
    ok = (rows[:, 1] != 0) | (rows[:, 2] != 0)
    rows = rows[ok]
    return _airborne_drone(path.stem, rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 4])


def uzh_trajectory(path: Path) -> list[Trajectory]:
    """A UZH-FPV racing flight (indoor, 10 Hz): local metres, height offset to start at 0."""
    values = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1, 2, 3))
    p = values[:, 1:4].copy()
    p[:, 2] -= p[:, 2].min()
    name = path.name.removesuffix("_snapdragon_with_gt.txt")
    return split_on_gaps(name, name, "drone", values[:, 0], p, max_gap=5.0)


def parrot_trajectory(path: Path) -> list[Trajectory]:
    """The real Parrot ANAFI Remote ID flight (take-off and hover; height above take-off)."""
    from skywarden.sources.remote_id.reports import assemble_reports
    from skywarden.sources.remote_id.transports import decode_capture

    reports = assemble_reports(decode_capture(path.read_bytes(), Counter()))
    r = [x for x in reports if math.isfinite(x.lat_deg) and math.isfinite(x.height_m)]
    t = np.array([x.t for x in r])
    lat = np.array([x.lat_deg for x in r])
    lon = np.array([x.lon_deg for x in r])
    h = np.array([x.height_m for x in r])
    return _airborne_drone("parrot_anafi", t, lat, lon, h)


# --- aircraft -------------------------------------------------------------------------------


def sbs_trajectories(path: Path) -> list[Trajectory]:
    """Airborne aircraft positions from SBS text, one trajectory per ICAO address."""
    from skywarden.sources.modes.sbs import decode_sbs

    records, _ = decode_sbs(path.read_bytes())
    pos = np.isin(records.transmission, (2, 3)) & np.isfinite(records.lat_deg)
    pos &= (records.icao >= 0) & np.isfinite(records.altitude_ft)
    lat, lon = records.lat_deg[pos], records.lon_deg[pos]
    frame = LocalFrame(float(np.median(lat)), float(np.median(lon)), 0.0)
    p = frame.geodetic_to_enu(lat, lon, np.zeros_like(lat))
    p[:, 2] = records.altitude_ft[pos] * FT
    icao, t = records.icao[pos], records.t[pos]
    out: list[Trajectory] = []
    for a in np.unique(icao):
        k = (icao == a) & (p[:, 2] >= AIRCRAFT_MIN_HEIGHT)
        name = f"sbs_{int(a):06X}"
        out += split_on_gaps(name, name, "aircraft", t[k], p[k])
    return out


def cat048_trajectories(
    path: Path,
    reference_t: float = 1683014400.0,
    keep: Callable[[str], bool] | None = None,
) -> list[Trajectory]:
    """Mode S addressed aircraft in a CAT048 .ast file, smoothed to remove the radar noise.

    Plots (slant range, azimuth, Mode C pressure altitude) go to radar-centred metres on a
    flat earth (the exact radar site is irrelevant for kinematics). A cubic smoothing spline
    per axis (scipy, generalised cross-validation) takes out the 4-s radar noise so that the
    trajectory can be re-sampled at another scan rate with new noise. ``keep(group)`` selects
    aircraft (groups are ``cat048_<address hex>``) before the smoothing.
    """
    from scipy.interpolate import make_smoothing_spline

    from skywarden.sources.asterix.decoder import decode_ast

    records, _ = decode_ast(path.read_bytes(), reference_t=reference_t)
    c = records.cat048
    ok = (c.address >= 0) & c.mode_c_valid & np.isfinite(c.pressure_altitude_m)
    ok &= np.isfinite(c.range_m) & np.isfinite(c.azimuth_rad) & np.isfinite(c.t)
    h = c.pressure_altitude_m[ok]
    ground = np.sqrt(np.maximum(c.range_m[ok] ** 2 - h**2, 0.0))
    az = c.azimuth_rad[ok]
    p = np.column_stack([ground * np.sin(az), ground * np.cos(az), h])
    address, t = c.address[ok], c.t[ok]
    out: list[Trajectory] = []
    for a in np.unique(address):
        k = (address == a) & (h >= AIRCRAFT_MIN_HEIGHT)
        name = f"cat048_{int(a):06X}"
        if keep is not None and not keep(name):
            continue
        for tr in split_on_gaps(name, name, "aircraft", t[k], p[k]):
            if tr.t.size < 12:
                continue
            smooth = np.column_stack(
                [
                    make_smoothing_spline(tr.t - tr.t[0], tr.p[:, j])(tr.t - tr.t[0])
                    for j in range(3)
                ]
            )
            out.append(Trajectory(tr.name, tr.group, tr.label, tr.t, smooth))
    return out


# --- bird statistics ------------------------------------------------------------------------


def harrier_flight_samples(path: Path, min_speed: float = 2.0) -> FloatArray:
    """(n, 2) [ground speed m/s, height m] of the marsh harrier's fixes taken in flight."""
    speeds, heights = [], []
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            if row.get("algorithm-marked-outlier", "").upper() == "TRUE":
                continue
            try:
                s = float(row["ground-speed"])
                h = float(row["height-above-mean-sea-level"])
            except (KeyError, ValueError):
                continue
            if s >= min_speed:
                speeds.append(s)
                heights.append(h)
    return np.column_stack([speeds, heights]).reshape(-1, 2)
