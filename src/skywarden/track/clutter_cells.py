"""The clutter map's cells: range x azimuth around a radar, a square ENU grid otherwise.

A radar's clutter follows its own geometry (ground clutter rings, sea sectors, a wind farm at
one bearing), and its cells should too: for a sensor listed in :class:`PolarCells` a
detection falls in the cell (range index, azimuth index) of its horizontal offset from the
radar, ``range_cell_m`` deep and ``azimuth_cell_rad`` wide (azimuth clockwise from north).
Every other sensor uses the square ENU grid of side ``cell_m``.

Keys are int64: sensor << 43 | polar << 42 | a << 21 | b, where (a, b) is (east index +
2^20, north index + 2^20) on the grid, or (range index, azimuth index) around a radar; so
one sorted key array holds every sensor's cells. Areas (m^2) turn counts into densities.
Positions in site ENU metres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from skywarden.units import FloatArray, IntArray

OFFSET = 1 << 20  # grid indices are offset to be non-negative (covers +-1e6 cells per axis)
_FIELD = (1 << 21) - 1
_POLAR = np.int64(1 << 42)
TWO_PI = 2.0 * math.pi


@dataclass(frozen=True, slots=True)
class PolarCells:
    """Radars whose clutter is kept in range x azimuth cells.

    Attributes:
        sensors: (P,) int64 sorted sensor indices of the radars.
        origin: (P, 2) east, north of each radar in the site ENU frame, m.
        range_cell_m: depth of a cell, m.
        azimuth_cell_rad: width of a cell, rad (the last cell of a turn may be narrower).
    """

    sensors: IntArray
    origin: FloatArray
    range_cell_m: float
    azimuth_cell_rad: float

    @staticmethod
    def of(
        radars: dict[int, tuple[float, float]], range_cell_m: float, azimuth_cell_rad: float
    ) -> PolarCells:
        """From {sensor index: (east, north) m}."""
        sensors = np.array(sorted(radars), dtype=np.int64)
        origin = np.array([radars[s] for s in sensors.tolist()], dtype=np.float64).reshape(-1, 2)
        return PolarCells(sensors, origin, float(range_cell_m), float(azimuth_cell_rad))


def _radar_row(polar: PolarCells | None, sensor: IntArray) -> IntArray:
    """(D,) row of each sensor in ``polar`` or -1 (grid)."""
    row = np.full(sensor.shape[0], -1, np.int64)
    if polar is None or polar.sensors.size == 0:
        return row
    pos = np.minimum(np.searchsorted(polar.sensors, sensor), polar.sensors.size - 1)
    found = polar.sensors[pos] == sensor
    row[found] = pos[found]
    return row


def cell_keys(
    z: FloatArray, sensor: np.ndarray, cell_m: float, polar: PolarCells | None = None
) -> IntArray:
    """(D,) int64 key of the cell of each ENU position z (D, 3) m for its sensor index."""
    s = sensor.astype(np.int64)
    ab = np.floor(z[:, :2] / cell_m).astype(np.int64) + OFFSET
    if polar is None or polar.sensors.size == 0:  # every sensor on the grid (flag 0)
        ab = np.minimum(np.maximum(ab, 0), _FIELD)
        return (s << 43) | (ab[:, 0] << 21) | ab[:, 1]
    row = _radar_row(polar, s)
    radar = row >= 0
    flag = np.zeros(s.shape[0], np.int64)
    if radar.any():
        d = z[radar, :2] - polar.origin[row[radar]]
        r = np.hypot(d[:, 0], d[:, 1])
        az = np.mod(np.arctan2(d[:, 0], d[:, 1]), TWO_PI)
        n_az = math.ceil(TWO_PI / polar.azimuth_cell_rad - 1e-9)
        ab[radar, 0] = np.floor(r / polar.range_cell_m).astype(np.int64)
        ab[radar, 1] = np.minimum(np.floor(az / polar.azimuth_cell_rad), n_az - 1)
        flag[radar] = _POLAR
    ab = np.minimum(np.maximum(ab, 0), _FIELD)
    return (s << 43) | flag | (ab[:, 0] << 21) | ab[:, 1]


def is_polar(keys: IntArray) -> np.ndarray:
    """(K,) True for range x azimuth cells."""
    return (keys & _POLAR) != 0


def cell_area(keys: IntArray, cell_m: float, polar: PolarCells | None = None) -> FloatArray:
    """(K,) horizontal area of each cell, m^2."""
    if polar is None:  # every cell on the grid
        return np.full(keys.shape[0], cell_m * cell_m)
    area = np.full(keys.shape[0], cell_m * cell_m)
    is_polar = (keys & _POLAR) != 0
    if is_polar.any():
        ri = ((keys[is_polar] >> 21) & _FIELD).astype(np.float64)
        ai = (keys[is_polar] & _FIELD).astype(np.float64)
        width = np.minimum(polar.azimuth_cell_rad, TWO_PI - ai * polar.azimuth_cell_rad)
        dr = polar.range_cell_m
        area[is_polar] = width * dr * dr * (ri + 0.5)  # 0.5 w ((r+1)^2 - r^2) dr^2
    return area


def cell_outlines(
    keys: IntArray, cell_m: float, polar: PolarCells | None = None, arc_points: int = 4
) -> tuple[IntArray, FloatArray]:
    """Sensor (K,) and outline (K, 2 * arc_points + 2, 2) east, north m of each cell (a
    closed ring: a square has its corners repeated to the same length; a range x azimuth
    cell follows its two arcs)."""
    k = keys.shape[0]
    n = 2 * arc_points + 2
    sensor = keys >> 43
    a = ((keys >> 21) & _FIELD).astype(np.float64)
    b = (keys & _FIELD).astype(np.float64)
    ring = np.empty((k, n, 2))
    grid = (keys & _POLAR) == 0
    if grid.any():
        e0, n0 = (a[grid] - OFFSET) * cell_m, (b[grid] - OFFSET) * cell_m
        corners = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], dtype=np.float64)
        pick = np.minimum(np.arange(n) * 5 // n, 4)
        ring[grid] = np.stack([e0, n0], axis=1)[:, None, :] + cell_m * corners[pick][None]
    if (~grid).any():
        row = _radar_row(polar, sensor[~grid])
        origin = polar.origin[np.maximum(row, 0)]
        dr, w = polar.range_cell_m, polar.azimuth_cell_rad
        frac = np.linspace(0.0, 1.0, arc_points)
        az0 = b[~grid] * w
        az1 = np.minimum(az0 + w, TWO_PI)
        inner = az0[:, None] + (az1 - az0)[:, None] * frac[None]  # (k, arc_points)
        outer = inner[:, ::-1]
        az = np.concatenate([inner, outer, inner[:, :1], inner[:, :1]], axis=1)
        r0 = a[~grid] * dr
        radius = np.concatenate(
            [np.repeat(r0[:, None], arc_points, 1), np.repeat(r0[:, None] + dr, arc_points, 1),
             r0[:, None], r0[:, None]], axis=1,
        )  # fmt: skip
        ring[~grid, :, 0] = origin[:, None, 0] + radius * np.sin(az)
        ring[~grid, :, 1] = origin[:, None, 1] + radius * np.cos(az)
    return sensor, ring
