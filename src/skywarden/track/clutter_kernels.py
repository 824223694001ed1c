"""Compiled clutter-map work of one step: the clutter density at each detection, and the map
after recording the batch's unexplained detections (numba, float64, no fastmath).

The NumPy path (:func:`skywarden.track.clutter_map.density` and
:func:`skywarden.track.clutter_map.record`) costs about 60 NumPy calls per step (look-ups,
a sort, a sorted merge, height sums, forgetting), which at tens of detections cost more than
the work. Here each is one call with the same arithmetic in the same order (the recorded
map is the same bits; the density equal to rounding of exp), tested against that path:

    densities    count / (scans * area) * N(u; mean_u, var_u + R_uu), mixed with the prior
    record       add the unexplained detections' cells and heights, forget at a scan's end

    cell_keys    the detections' cells on the ENU grid (the polar cells around radars, and
                 the cells' areas, stay with clutter_cells, in NumPy)
"""

from __future__ import annotations

import math

import numpy as np

from skywarden.track import clutter_cells
from skywarden.track.clutter_cells import OFFSET, PolarCells
from skywarden.track.clutter_map import _MIN_COUNT, ClutterMap
from skywarden.track.compiled_kernel import kernel
from skywarden.units import FloatArray, IntArray

FIELD = (1 << 21) - 1  # clutter_cells' 21-bit index field


@kernel()
def _height_stats(
    sensors: IntArray, moments: FloatArray, s: int
) -> tuple[float, float]:  # pragma: no cover - compiled
    """Mean and variance of sensor s's unexplained heights (0, 0 where none)."""
    k = np.searchsorted(sensors, s)
    if k >= sensors.shape[0] or sensors[k] != s:
        return 0.0, 0.0
    w, s1, s2 = moments[k, 0], moments[k, 1], moments[k, 2]
    if not w > 0.0:
        return 0.0, 0.0
    mean = s1 / w
    return mean, max(s2 / w - mean**2, 0.0)


@kernel()
def densities(
    map_keys: IntArray,
    map_count: FloatArray,
    scans: float,
    sensors: IntArray,
    moments: FloatArray,
    keys: IntArray,
    area: FloatArray,
    z: FloatArray,
    R: FloatArray,
    sensor: IntArray,
    prior: float,
    prior_scans: float,
) -> FloatArray:  # pragma: no cover - compiled
    """Clutter density (D,) per m^3 per scan at detections z (D, 3), R (D, 3, 3) in cells
    ``keys`` (D,) of areas ``area`` (D,) m^2 (or one area for all: shape (1,)), floored at
    1e-300: ``clutter_map.density`` for a map that has seen scans > 0."""
    d = z.shape[0]
    out = np.empty(d)
    n_cells = map_keys.shape[0]
    for i in range(d):
        count = 0.0
        if n_cells:
            k = min(np.searchsorted(map_keys, keys[i]), n_cells - 1)
            if map_keys[k] == keys[i]:
                count = map_count[k]
        a = area[0] if area.shape[0] == 1 else area[i]
        horizontal = count / (scans * a)
        mean_u, var_u = _height_stats(sensors, moments, sensor[i])
        var = var_u + R[i, 2, 2]
        dz = z[i, 2] - mean_u
        vertical = math.exp(-0.5 * dz**2 / var) / math.sqrt(2.0 * math.pi * var)
        lam = (scans * (horizontal * vertical) + prior_scans * prior) / (scans + prior_scans)
        out[i] = max(lam, 1e-300)
    return out


@kernel()
def _record(
    map_keys: IntArray,
    map_count: FloatArray,
    sensors: IntArray,
    moments: FloatArray,
    keys: IntArray,
    u: FloatArray,
    sensor: IntArray,
    use: np.ndarray,
) -> tuple[IntArray, FloatArray, IntArray, FloatArray]:  # pragma: no cover - compiled
    """The map's cells and height sums after adding the detections where ``use``: each new
    cell's count is its number of detections, added to the old count (old + new); each
    sensor's (count, sum u, sum u^2) summed in the detections' order, added likewise."""
    new = np.sort(keys[use])
    # distinct new keys and their counts
    n_new = 0
    for i in range(new.shape[0]):
        if i == 0 or new[i] != new[i - 1]:
            n_new += 1
    dk, dc = np.empty(n_new, np.int64), np.zeros(n_new)
    k = -1
    for i in range(new.shape[0]):
        if i == 0 or new[i] != new[i - 1]:
            k += 1
            dk[k] = new[i]
        dc[k] += 1.0
    out_keys, out_count = _merge_sorted(map_keys, map_count, dk, dc)
    # heights: the batch's sensors (sorted), sums in detection order
    used_sensors = np.unique(sensor[use])
    sums = np.zeros((used_sensors.shape[0], 3))
    for i in range(u.shape[0]):
        if use[i]:
            s = np.searchsorted(used_sensors, sensor[i])
            sums[s, 0] += 1.0
            sums[s, 1] += u[i]
            sums[s, 2] += u[i] * u[i]
    out_sensors, out_moments = _merge_sorted_rows(sensors, moments, used_sensors, sums)
    return out_keys, out_count, out_sensors, out_moments


@kernel()
def _merge_sorted(
    keys: IntArray, values: FloatArray, new_keys: IntArray, new_values: FloatArray
) -> tuple[IntArray, FloatArray]:  # pragma: no cover - compiled
    """Sorted union of two sorted unique key sets, values of equal keys added (old + new)."""
    out_k = np.empty(keys.shape[0] + new_keys.shape[0], np.int64)
    out_v = np.empty(out_k.shape[0])
    i = j = k = 0
    while i < keys.shape[0] or j < new_keys.shape[0]:
        if j == new_keys.shape[0] or (i < keys.shape[0] and keys[i] < new_keys[j]):
            out_k[k], out_v[k] = keys[i], values[i]
            i += 1
        elif i == keys.shape[0] or new_keys[j] < keys[i]:
            out_k[k], out_v[k] = new_keys[j], 0.0 + new_values[j]
            j += 1
        else:
            out_k[k], out_v[k] = keys[i], values[i] + new_values[j]
            i += 1
            j += 1
        k += 1
    return out_k[:k].copy(), out_v[:k].copy()


@kernel()
def _merge_sorted_rows(
    keys: IntArray, values: FloatArray, new_keys: IntArray, new_values: FloatArray
) -> tuple[IntArray, FloatArray]:  # pragma: no cover - compiled
    """:func:`_merge_sorted` for rows of 3 values (the sensors' height sums)."""
    out_k = np.empty(keys.shape[0] + new_keys.shape[0], np.int64)
    out_v = np.empty((out_k.shape[0], 3))
    i = j = k = 0
    while i < keys.shape[0] or j < new_keys.shape[0]:
        if j == new_keys.shape[0] or (i < keys.shape[0] and keys[i] < new_keys[j]):
            out_k[k], out_v[k] = keys[i], values[i]
            i += 1
        elif i == keys.shape[0] or new_keys[j] < keys[i]:
            out_k[k], out_v[k] = new_keys[j], new_values[j]
            j += 1
        else:
            out_k[k] = keys[i]
            for c in range(3):
                out_v[k, c] = values[i, c] + new_values[j, c]
            i += 1
            j += 1
        k += 1
    return out_k[:k].copy(), out_v[:k].copy()


@kernel()
def _forget(
    keys: IntArray, count: FloatArray, moments: FloatArray, gamma: float
) -> tuple[IntArray, FloatArray, FloatArray]:  # pragma: no cover - compiled
    """Counts and moments times gamma; cells whose count falls below _MIN_COUNT dropped."""
    out_k, out_c = np.empty_like(keys), np.empty_like(count)
    k = 0
    for i in range(keys.shape[0]):
        c = count[i] * gamma
        if c >= _MIN_COUNT:
            out_k[k], out_c[k] = keys[i], c
            k += 1
    return out_k[:k].copy(), out_c[:k].copy(), moments * gamma


def record(
    cmap: ClutterMap,
    keys: IntArray,
    u: FloatArray,
    sensor: IntArray,
    use: np.ndarray,
    *,
    end_of_scan: bool,
    memory_scans: float,
) -> ClutterMap:
    """The map after adding the detections where ``use`` (D,) bool, with cell keys (D,),
    heights u (D,) m and sensor indices (D,) int64; at the end of a scan it counts the scan
    and forgets by 1 - 1/memory_scans: :func:`skywarden.track.clutter_map.record`."""
    keys_, count, sensors, moments = cmap.keys, cmap.count, cmap.sensors, cmap.height_moments
    add = bool(use.any())
    scans, gamma = cmap.scans, 1.0
    if end_of_scan:
        gamma = 1.0 - 1.0 / memory_scans
        scans = gamma * (scans + 1.0)
    if add or end_of_scan:
        keys_, count, sensors, moments = _record_and_forget(
            keys_, count, sensors, moments, keys, np.ascontiguousarray(u), sensor, use, add,
            end_of_scan, gamma,
        )  # fmt: skip
    return ClutterMap(keys_, count, sensors, moments, scans, cmap.polar)


@kernel()
def _record_and_forget(
    map_keys: IntArray,
    map_count: FloatArray,
    sensors: IntArray,
    moments: FloatArray,
    keys: IntArray,
    u: FloatArray,
    sensor: IntArray,
    use: np.ndarray,
    add: bool,
    forget: bool,
    gamma: float,
) -> tuple[IntArray, FloatArray, IntArray, FloatArray]:  # pragma: no cover - compiled
    """:func:`_record` (when ``add``) then :func:`_forget` (when ``forget``) in one call: one
    call and four returned arrays instead of two calls and seven."""
    if add:
        map_keys, map_count, sensors, moments = _record(
            map_keys, map_count, sensors, moments, keys, u, sensor, use
        )
    if forget:
        map_keys, map_count, moments = _forget(map_keys, map_count, moments, gamma)
    return map_keys, map_count, sensors, moments


@kernel()
def _grid_keys(z: FloatArray, sensor: IntArray, cell_m: float) -> IntArray:  # pragma: no cover
    """clutter_cells.cell_keys on the ENU grid (flag 0): sensor << 43 | a << 21 | b with
    a, b the east, north cell indices + OFFSET clipped to the 21-bit field; a position
    whose index is not a finite int64 (NaN, inf, beyond 2^63 cells) lands at index 0, as
    NumPy's float -> int64 conversion (INT64_MIN) then the clip give it."""
    out = np.empty(z.shape[0], np.int64)
    for i in range(z.shape[0]):
        key = sensor[i] << 43
        for axis in range(2):
            f = math.floor(z[i, axis] / cell_m)
            if not abs(f) < 9.2e18:  # NaN, inf, out of int64: INT64_MIN, clipped to 0
                v = 0
            else:
                v = min(max(np.int64(f) + OFFSET, 0), FIELD)
            key |= v << (21 if axis == 0 else 0)
        out[i] = key
    return out


def cell_keys(
    z: FloatArray, sensor: np.ndarray, cell_m: float, polar: PolarCells | None = None
) -> IntArray:
    """(D,) int64 cell key of each ENU position z (D, 3) m for its sensor index:
    :func:`skywarden.track.clutter_cells.cell_keys`, compiled for the grid (no radars)."""
    if polar is not None and polar.sensors.size:
        return clutter_cells.cell_keys(z, sensor, cell_m, polar)
    return _grid_keys(np.ascontiguousarray(z), sensor.astype(np.int64), float(cell_m))


def warm() -> None:
    """Compile or load the clutter kernels with the tracker's argument types."""
    keys, sensor = np.zeros(2, np.int64), np.zeros(2, np.int64)
    z, R = np.zeros((2, 3)), np.tile(np.eye(3), (2, 1, 1))
    cell_keys(z, sensor, 100.0)
    cmap = record(
        ClutterMap.empty(), keys, z[:, 2], sensor, np.ones(2, bool),
        end_of_scan=True, memory_scans=10.0,
    )  # fmt: skip
    densities(
        cmap.keys, cmap.count, 1.0, cmap.sensors, cmap.height_moments, keys, np.ones(1),
        z, R, sensor, 1e-9, 2.0,
    )  # fmt: skip
