"""The compiled clutter-map kernels (track/clutter_kernels.py) equal the NumPy clutter map
(clutter_map.record: the same bits; clutter_map.density: to rounding of exp), over
sequences of random batches on the grid and around a radar."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.track import clutter_cells, clutter_kernels, clutter_map
from skywarden.track.clutter_cells import PolarCells
from skywarden.track.clutter_map import ClutterMap
from tests.track.strategies import random_spd

CELL_M = 500.0


def _same_map(a: ClutterMap, b: ClutterMap) -> None:
    assert np.array_equal(a.keys, b.keys)
    assert np.array_equal(a.count, b.count)
    assert np.array_equal(a.sensors, b.sensors)
    assert np.array_equal(a.height_moments, b.height_moments)
    assert a.scans == b.scans


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    batches=st.integers(1, 8),
    sensors=st.integers(1, 3),
    polar=st.booleans(),
)
def test_record_and_density_equal_the_numpy_map(seed, batches, sensors, polar) -> None:
    rng = np.random.default_rng(seed)
    cells = PolarCells.of({0: (100.0, -50.0)}, 400.0, math.radians(5.0)) if polar else None
    want = got = ClutterMap.empty(cells)
    for b in range(batches):
        d = int(rng.integers(0, 40))
        z = np.column_stack([rng.uniform(-3000, 3000, (d, 2)), rng.normal(100, 30, d)])
        z[: d // 3, :2] = np.round(z[: d // 3, :2] / 200.0) * 200.0  # shared cells and edges
        sensor = rng.integers(0, sensors, d).astype(np.int64)
        R = random_spd(rng, d, 3, 5.0)
        keys = clutter_map.cell_keys(z, sensor, CELL_M, cells)
        if want.scans > 0.0 and d:
            lam_want = np.maximum(
                clutter_map.density(
                    want, z, R, sensor, cell_m=CELL_M, prior=1e-9, prior_scans=3.0, keys=keys
                ),
                1e-300,
            )
            area = (
                np.array([CELL_M * CELL_M])
                if cells is None
                else clutter_cells.cell_area(keys, CELL_M, cells)
            )
            lam_got = clutter_kernels.densities(
                got.keys, got.count, got.scans, got.sensors, got.height_moments, keys, area,
                z, R, sensor, 1e-9, 3.0,
            )  # fmt: skip
            np.testing.assert_allclose(lam_got, lam_want, rtol=1e-12)
        use = rng.random(d) < 0.7
        end = bool(b % 2 == 0 or b == batches - 1)
        want = clutter_map.record(
            want, z[use], sensor[use], cell_m=CELL_M, end_of_scan=end, memory_scans=4.0,
            keys=keys[use],
        )  # fmt: skip
        got = clutter_kernels.record(
            got, keys, z[:, 2], sensor, use, end_of_scan=end, memory_scans=4.0
        )
        _same_map(got, want)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([1.0, 1e3, 1e6, 1e9, 1e20]),
    cell_m=st.sampled_from([0.5, 100.0, 500.0]),
)
def test_grid_cell_keys_equal_clutter_cells(seed, scale, cell_m) -> None:
    """The compiled grid keys equal clutter_cells.cell_keys, far positions (clipped to the
    field) included; NaN / inf (where NumPy's float -> int cast is platform-defined) give a
    valid key of the detection's sensor, without a crash."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, scale, (50, 3))
    z[:3, 0] = [np.nan, np.inf, -np.inf]
    z[3:5, 1] = [np.nan, -np.inf]
    sensor = rng.integers(0, 5, 50).astype(np.int32)
    got = clutter_kernels.cell_keys(z, sensor, cell_m)
    finite = np.isfinite(z[:, :2]).all(axis=1) & (np.abs(z[:, :2]) / cell_m < 9e18).all(axis=1)
    want = clutter_cells.cell_keys(z[finite], sensor[finite], cell_m)
    assert np.array_equal(got[finite], want)
    assert np.array_equal(got[~finite] >> 43, sensor[~finite].astype(np.int64))
