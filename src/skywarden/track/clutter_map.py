"""Online clutter map: false-detection density per sensor and spatial cell, learnt as it runs.

Users do not know their clutter density, so the tracker estimates it from the detections
that no confirmed track explains. Each sensor's detections fall in horizontal cells: range x
azimuth around a radar (the map's ``polar`` layout, set by whoever knows where the radars
are), an ENU grid (``clutter_cell_m`` square) for any other sensor; see
:mod:`skywarden.track.clutter_cells`. Cells are keyed sparsely: only cells that saw a
detection exist. Per cell the map keeps an exponentially forgotten count of unexplained
detections; with the forgotten number of scans W it gives the horizontal density
count / (W * cell area) per m^2 per scan. Heights are modelled per sensor by the forgotten
mean and variance of the unexplained detections' u, so the density per m^3 at a detection is

    lambda_h(cell) * N(u; mean_u, var_u + R_uu)

which is also right for 2-D input (every u = 0: the height factor becomes the detection's own
1/sqrt(2 pi R_uu), as it is in the track's likelihood). The configured ``clutter_density`` is
the prior, worth ``clutter_prior_scans`` scans: lambda = (W est + n0 prior) / (W + n0).
Forgetting factor gamma = 1 - 1 / ``clutter_memory_scans`` per scan; cells whose count falls
below 1e-3 are dropped, so memory stays bounded.

Pure and vectorised: one sort / searchsorted per batch, no Python loop over cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from skywarden.track import clutter_cells
from skywarden.track.clutter_cells import PolarCells
from skywarden.units import FloatArray, IntArray

_MIN_COUNT = 1e-3


@dataclass(frozen=True, slots=True)
class ClutterMap:
    """Learnt clutter (see the module docstring).

    Attributes:
        keys: (K,) int64 sorted cell keys (see clutter_cells.cell_keys).
        count: (K,) forgotten count of unexplained detections in each cell.
        sensors: (S,) int64 sorted sensor indices with height statistics.
        height_moments: (S, 3) forgotten sums (weight, sum u, sum u^2) of their heights, m.
        scans: forgotten number of closed scans (the denominator of every cell's rate).
        polar: the radars whose cells are range x azimuth (None: every sensor on the grid).
    """

    keys: IntArray
    count: FloatArray
    sensors: IntArray
    height_moments: FloatArray
    scans: float = 0.0
    polar: PolarCells | None = None

    def __len__(self) -> int:
        return int(self.keys.shape[0])

    @staticmethod
    def empty(polar: PolarCells | None = None) -> ClutterMap:
        return ClutterMap(
            np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64), np.zeros((0, 3)),
            polar=polar,
        )  # fmt: skip


def cell_keys(
    z: FloatArray, sensor: np.ndarray, cell_m: float, polar: PolarCells | None = None
) -> IntArray:
    """(D,) int64 key of the cell of each ENU position z (D, 3) m for its sensor index."""
    return clutter_cells.cell_keys(z, sensor, cell_m, polar)


def density(
    cmap: ClutterMap,
    z: FloatArray,
    R: FloatArray,
    sensor: np.ndarray,
    *,
    cell_m: float,
    prior: float,
    prior_scans: float,
    keys: IntArray | None = None,
) -> FloatArray:
    """Clutter density (D,) at detections z (D, 3) ENU m, R (D, 3, 3) m^2: per m^3 per scan.

    ``keys``: the detections' :func:`cell_keys`, if the caller has them already."""
    d = z.shape[0]
    if d == 0:
        return np.zeros(0)
    if cmap.scans <= 0.0:
        return np.full(d, prior)
    if keys is None:
        keys = cell_keys(z, sensor, cell_m, cmap.polar)
    if len(cmap):
        pos = np.minimum(cmap.keys.searchsorted(keys), len(cmap) - 1)
        count = np.where(cmap.keys.take(pos) == keys, cmap.count.take(pos), 0.0)
    else:
        count = np.zeros(d)
    if cmap.polar is None:  # every cell on the grid: one area (the same numbers as an array)
        area = cell_m * cell_m
    else:
        area = clutter_cells.cell_area(keys, cell_m, cmap.polar)
    horizontal = count / (cmap.scans * area)
    mean_u, var_u = _height_stats(cmap, sensor)
    var = var_u + R[:, 2, 2]
    vertical = np.exp(-0.5 * (z[:, 2] - mean_u) ** 2 / var) / np.sqrt(2.0 * math.pi * var)
    learnt = horizontal * vertical
    return (cmap.scans * learnt + prior_scans * prior) / (cmap.scans + prior_scans)


def record(
    cmap: ClutterMap,
    z: FloatArray,
    sensor: np.ndarray,
    *,
    cell_m: float,
    end_of_scan: bool,
    memory_scans: float,
    keys: IntArray | None = None,
) -> ClutterMap:
    """The map after adding unexplained detections z (D, 3) of one batch; at the end of a
    scan it counts the scan and forgets by 1 - 1/memory_scans. ``keys``: the detections'
    :func:`cell_keys`, if the caller has them already."""
    det_keys = keys
    keys, count = cmap.keys, cmap.count
    sensors, moments = cmap.sensors, cmap.height_moments
    if z.shape[0]:
        if det_keys is None:
            det_keys = cell_keys(z, sensor, cell_m, cmap.polar)
        new_keys, new_count = _distinct_counts(det_keys)
        keys, count = _merge(keys, count, new_keys, new_count)
        s_keys, sums = _height_sums(sensor, z[:, 2])
        sensors, moments = _merge(sensors, moments, s_keys, sums)
    scans = cmap.scans
    if end_of_scan:
        gamma = 1.0 - 1.0 / memory_scans
        scans = gamma * (scans + 1.0)
        count = count * gamma
        moments = moments * gamma
        keep = count >= _MIN_COUNT
        if not keep.all():
            keys, count = keys.compress(keep), count.compress(keep)
    return ClutterMap(keys, count, sensors, moments, scans, cmap.polar)


def summary(cmap: ClutterMap, cell_m: float) -> dict[str, object]:
    """Plain numbers for /health: the cell layout, cells, scans remembered, and the densest and
    mean cell rates per km^2 per scan."""
    polar = cmap.polar
    layout: dict[str, object] = {"grid_cell_m": cell_m}
    if polar is not None and polar.sensors.size:
        layout.update(
            range_azimuth_sensors=polar.sensors.tolist(),
            range_cell_m=polar.range_cell_m,
            azimuth_cell_deg=round(math.degrees(polar.azimuth_cell_rad), 6),
        )
    if len(cmap) == 0 or cmap.scans <= 0.0:
        return {"cells": 0, "scans": round(cmap.scans, 2), "max_per_km2_per_scan": 0.0,
                "layout": layout}  # fmt: skip
    rate = cmap.count / (cmap.scans * clutter_cells.cell_area(cmap.keys, cell_m, polar)) * 1e6
    polar_cells = int(np.count_nonzero(clutter_cells.is_polar(cmap.keys)))
    return {
        "cells": len(cmap),
        "range_azimuth_cells": polar_cells,
        "scans": round(cmap.scans, 2),
        "max_per_km2_per_scan": round(float(rate.max()), 4),
        "mean_per_km2_per_scan_in_cells": round(float(rate.mean()), 4),
        "layout": layout,
    }


def cells(cmap: ClutterMap, cell_m: float) -> tuple[IntArray, FloatArray, FloatArray]:
    """(sensor (K,), outline (K, 10, 2) ENU m, rate (K,) per km^2 per scan) per cell: what
    a map layer draws (see clutter_cells.cell_outlines)."""
    sensor, outline = clutter_cells.cell_outlines(cmap.keys, cell_m, cmap.polar)
    area = clutter_cells.cell_area(cmap.keys, cell_m, cmap.polar)
    rate = cmap.count / max(cmap.scans, 1e-12) / area * 1e6
    return sensor, outline, rate


def _distinct_counts(keys: IntArray) -> tuple[IntArray, FloatArray]:
    """The distinct keys (K,) sorted, and how often each occurs (float): ``np.unique(keys,
    return_counts=True)`` in a sort and four array operations (np.unique costs 15 Python
    calls, a noticeable part of a step at tens of detections)."""
    s = np.sort(keys)
    first = np.empty(s.size, bool)
    first[:1] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    at = np.flatnonzero(first)
    ends = np.empty(at.size, np.int64)
    ends[:-1] = at[1:]
    ends[-1:] = s.size
    return s.take(at), (ends - at).astype(np.float64)


def _height_sums(sensor: np.ndarray, u: FloatArray) -> tuple[IntArray, FloatArray]:
    """The sensors (S,) sorted, and per sensor the sums (S, 3) (count, sum u, sum u^2) of the
    heights u (D,) m (D >= 1): each sum in the detections' order (``np.bincount``), so one
    sensor's sums are the same numbers by either path."""
    s = sensor.astype(np.int64)
    if (s == s[0]).all():  # one sensor: the usual batch
        s_keys, inverse = s[:1], np.zeros(s.size, np.intp)
    else:
        s_keys, inverse = np.unique(s, return_inverse=True)
    k = s_keys.size
    sums = np.empty((k, 3))
    sums[:, 0] = np.bincount(inverse, minlength=k)
    sums[:, 1] = np.bincount(inverse, u, minlength=k)
    sums[:, 2] = np.bincount(inverse, u * u, minlength=k)
    return s_keys, sums


def _height_stats(cmap: ClutterMap, sensor: np.ndarray) -> tuple[FloatArray, FloatArray]:
    """Mean and variance (m, m^2) of unexplained heights for each detection's sensor."""
    d = sensor.shape[0]
    if cmap.sensors.size == 1 and (sensor == cmap.sensors[0]).all():  # one sensor: scalars
        w, s1, s2 = (float(v) for v in cmap.height_moments[0])
        if w <= 0.0:
            return np.zeros(d), np.zeros(d)
        mean_1 = s1 / w
        return np.full(d, mean_1), np.full(d, max(s2 / w - mean_1**2, 0.0))
    mean, var = np.zeros(d), np.zeros(d)
    if cmap.sensors.size == 0:
        return mean, var
    pos = np.minimum(cmap.sensors.searchsorted(sensor), cmap.sensors.size - 1)
    found = cmap.sensors[pos] == sensor
    w, s1, s2 = (cmap.height_moments[pos, k] for k in range(3))
    ok = found & (w > 0.0)
    mean[ok] = s1[ok] / w[ok]
    var[ok] = np.maximum(s2[ok] / w[ok] - mean[ok] ** 2, 0.0)
    return mean, var


def _merge(
    keys: IntArray, values: np.ndarray, new_keys: IntArray, new_values: np.ndarray
) -> tuple[IntArray, np.ndarray]:
    """Sorted union of two sorted sets of unique keys, adding values of equal keys (old + new).

    Merged with one binary search of the new keys in the old instead of sorting the
    concatenation (a 37,000-cell map: 5 -> 1 ms); where every key lands follows from it (an
    old key moves up by the number of new keys inserted at or before it, the j-th inserted
    key lands at its insertion point + j), so nothing is searched again. The sums are the
    same numbers, old value first."""
    at = keys.searchsorted(new_keys)
    known = np.zeros(new_keys.size, bool)
    inside = at < keys.size
    known[inside] = keys[at[inside]] == new_keys[inside]
    if known.all():  # no new key (a sensor's heights, most cells of a steady map)
        out = values.astype(np.result_type(values, new_values))  # a copy
        out[at] += new_values
        return keys, out
    fresh = ~known
    insert_at = at[fresh]  # non-decreasing (new_keys is sorted)
    moved_up = np.bincount(insert_at, minlength=keys.size + 1).cumsum()[: keys.size]
    old_pos = np.arange(keys.size) + moved_up
    new_pos = np.empty(new_keys.size, np.int64)
    new_pos[fresh] = insert_at + np.arange(insert_at.size)
    new_pos[known] = old_pos[at[known]]
    out_keys = np.empty(keys.size + insert_at.size, keys.dtype)
    out_keys[old_pos] = keys
    out_keys[new_pos[fresh]] = new_keys[fresh]
    out = np.zeros((out_keys.size, *values.shape[1:]), np.result_type(values, new_values))
    out[old_pos] = values
    out[new_pos] += new_values
    return out_keys, out
