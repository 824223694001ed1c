"""The online clutter map: it learns a known Poisson clutter density, forgets, and stays bounded."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.track import clutter_map
from skywarden.track.clutter_map import ClutterMap

CELL = 1000.0


def _learn(rng: np.random.Generator, n_scans: int, per_scan: float, half: float, height: float):
    cmap = ClutterMap.empty()
    for _ in range(n_scans):
        n = rng.poisson(per_scan)
        z = np.column_stack(
            [
                rng.uniform(-half, half, (n, 2)),
                rng.uniform(0.0, height, n) if height else np.zeros(n),
            ]
        )
        cmap = clutter_map.record(
            cmap, z, np.zeros(n, np.int32), cell_m=CELL, end_of_scan=True, memory_scans=50.0
        )
    return cmap


def _density_at(cmap: ClutterMap, z: np.ndarray, sigma: float, prior: float = 1e-12):
    R = np.repeat(np.eye(3)[None] * sigma**2, z.shape[0], axis=0)
    return clutter_map.density(
        cmap, z, R, np.zeros(z.shape[0], np.int32), cell_m=CELL, prior=prior, prior_scans=2.0
    )


def test_planar_clutter_density_is_learnt() -> None:
    """2-D input (u = 0): the density is the horizontal rate times 1/sqrt(2 pi R_uu)."""
    rng = np.random.default_rng(1)
    half, per_scan, sigma = 5000.0, 200.0, 5.0
    cmap = _learn(rng, 300, per_scan, half, 0.0)
    z = np.column_stack([rng.uniform(-half, half, (400, 2)), np.zeros(400)])
    lam = _density_at(cmap, z, sigma)
    truth = per_scan / (2 * half) ** 2 / math.sqrt(2 * math.pi * sigma**2)
    assert np.median(lam) == pytest.approx(truth, rel=0.1)
    assert np.quantile(lam, 0.9) < 1.6 * truth


def test_volume_clutter_density_is_learnt_within_a_gaussian_height_model() -> None:
    rng = np.random.default_rng(2)
    half, per_scan, height = 5000.0, 300.0, 3000.0
    cmap = _learn(rng, 300, per_scan, half, height)
    z = np.column_stack([rng.uniform(-half, half, (400, 2)), np.full(400, height / 2)])
    lam = _density_at(cmap, z, 10.0)
    truth = per_scan / ((2 * half) ** 2 * height)
    # a uniform 3 km layer seen as a Gaussian of the same variance: 1.38x at its middle
    assert np.median(lam) == pytest.approx(truth * 3000 / math.sqrt(2 * math.pi * 750_000), rel=0.1)


def test_empty_map_gives_the_prior_and_clean_cells_fall_towards_it() -> None:
    cmap = ClutterMap.empty()
    z = np.array([[0.0, 0.0, 0.0]])
    assert _density_at(cmap, z, 5.0, prior=3e-9)[0] == 3e-9
    rng = np.random.default_rng(3)
    busy = _learn(rng, 100, 100.0, 5000.0, 0.0)
    # then 700 scans without clutter: the counts are forgotten and the cells dropped
    quiet = busy
    for _ in range(700):
        quiet = clutter_map.record(
            quiet, np.zeros((0, 3)), np.zeros(0, np.int32), cell_m=CELL, end_of_scan=True,
            memory_scans=50.0,
        )  # fmt: skip
    assert len(busy) > 50 and len(quiet) == 0
    assert _density_at(quiet, z, 5.0, prior=3e-9)[0] == pytest.approx(3e-9 * 2 / (quiet.scans + 2))


def test_sensors_have_their_own_cells() -> None:
    z = np.zeros((20, 3))
    cmap = ClutterMap.empty()
    for _ in range(10):
        cmap = clutter_map.record(
            cmap, z, np.zeros(20, np.int32), cell_m=CELL, end_of_scan=True, memory_scans=50.0
        )
    R = np.repeat(np.eye(3)[None], 2, axis=0)
    lam = clutter_map.density(
        cmap, np.zeros((2, 3)), R, np.array([0, 1], np.int32), cell_m=CELL, prior=1e-12,
        prior_scans=2.0,
    )  # fmt: skip
    assert lam[0] > 1e6 * lam[1]


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(0, 40), split=st.integers(0, 40))
def test_a_scan_in_several_batches_counts_like_one(seed: int, n: int, split: int) -> None:
    rng = np.random.default_rng(seed)
    z = rng.uniform(-3000, 3000, (n, 3))
    sensor = rng.integers(0, 3, n).astype(np.int32)
    k = min(split, n)
    kw = {"cell_m": CELL, "memory_scans": 20.0}
    one = clutter_map.record(ClutterMap.empty(), z, sensor, end_of_scan=True, **kw)
    first = clutter_map.record(ClutterMap.empty(), z[:k], sensor[:k], end_of_scan=False, **kw)
    two = clutter_map.record(first, z[k:], sensor[k:], end_of_scan=True, **kw)
    np.testing.assert_array_equal(one.keys, two.keys)
    np.testing.assert_allclose(one.count, two.count)
    np.testing.assert_allclose(one.height_moments, two.height_moments, rtol=1e-12, atol=1e-6)
    assert one.scans == two.scans


@settings(max_examples=200, deadline=None)
@given(
    old=st.sets(st.integers(0, 60), max_size=30),
    new=st.sets(st.integers(0, 60), max_size=30),
    columns=st.sampled_from([0, 3]),
)
def test_merge_is_the_sorted_union_with_values_added(
    old: set[int], new: set[int], columns: int
) -> None:
    """_merge places keys without searching again: it must equal the plain definition."""
    keys, new_keys = np.array(sorted(old), np.int64), np.array(sorted(new), np.int64)
    shape = () if columns == 0 else (columns,)
    values = np.arange(keys.size * max(columns, 1), dtype=float).reshape(keys.size, *shape) + 0.5
    new_values = -np.arange(new_keys.size * max(columns, 1), dtype=float).reshape(
        new_keys.size, *shape
    )
    got_keys, got = clutter_map._merge(keys, values, new_keys, new_values)
    want_keys = np.array(sorted(old | new), np.int64)
    want = np.zeros((want_keys.size, *shape))
    want[np.searchsorted(want_keys, keys)] += values
    want[np.searchsorted(want_keys, new_keys)] += new_values
    assert np.array_equal(got_keys, want_keys)
    assert np.array_equal(got, want)


def test_cell_keys_given_by_the_caller_give_the_same_map_and_density() -> None:
    """The tracker finds each detection's cell once and hands the keys to both calls."""
    rng = np.random.default_rng(5)
    cmap = _learn(rng, 20, 50.0, 4000.0, 300.0)
    z = np.column_stack([rng.uniform(-4000, 4000, (60, 2)), rng.uniform(0, 300, 60)])
    sensor = rng.integers(0, 3, 60).astype(np.int32)
    keys = clutter_map.cell_keys(z, sensor, CELL)
    kw = {"cell_m": CELL, "end_of_scan": True, "memory_scans": 50.0}
    with_keys = clutter_map.record(cmap, z, sensor, keys=keys, **kw)
    without = clutter_map.record(cmap, z, sensor, **kw)
    np.testing.assert_array_equal(with_keys.keys, without.keys)
    np.testing.assert_array_equal(with_keys.count, without.count)
    np.testing.assert_array_equal(with_keys.height_moments, without.height_moments)
    R = np.repeat(np.eye(3)[None] * 25.0, 60, axis=0)
    kw = {"cell_m": CELL, "prior": 1e-12, "prior_scans": 2.0}
    np.testing.assert_array_equal(
        clutter_map.density(with_keys, z, R, sensor, keys=keys, **kw),
        clutter_map.density(with_keys, z, R, sensor, **kw),
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=60))
def test_distinct_counts_equal_np_unique(values) -> None:
    keys = np.array(values, np.int64)
    want_keys, want_counts = np.unique(keys, return_counts=True)
    got_keys, got_counts = clutter_map._distinct_counts(keys)
    assert np.array_equal(got_keys, want_keys)
    assert got_counts.dtype == np.float64 and np.array_equal(got_counts, want_counts)


def test_height_statistics_of_one_sensor_equal_the_general_path() -> None:
    rng = np.random.default_rng(3)
    z = np.zeros((40, 3))
    z[:, 2] = rng.normal(100.0, 30.0, 40)
    one = clutter_map.record(ClutterMap.empty(), z, np.full(40, 2), cell_m=500.0,
                             end_of_scan=True, memory_scans=20.0)  # fmt: skip
    s_keys, sums = clutter_map._height_sums(np.full(40, 2), z[:, 2])
    assert np.array_equal(s_keys, [2])
    assert sums[0, 0] == 40 and sums[0, 1] == np.bincount(np.zeros(40, int), z[:, 2])[0]
    # the scalar path (one sensor in the map, every detection from it) against the general
    # one (a second sensor in the query makes it take the per-detection lookup)
    fast_mean, fast_var = clutter_map._height_stats(one, np.full(5, 2))
    slow_mean, slow_var = clutter_map._height_stats(one, np.array([2, 2, 2, 2, 2, 7]))
    assert np.array_equal(fast_mean, slow_mean[:5]) and np.array_equal(fast_var, slow_var[:5])
    assert slow_mean[5] == 0.0 and slow_var[5] == 0.0
    assert fast_mean[0] == pytest.approx(z[:, 2].mean()) and fast_var[0] > 0.0
    mixed_keys, mixed = clutter_map._height_sums(np.array([5, 2, 5]), np.array([1.0, 2.0, 3.0]))
    assert np.array_equal(mixed_keys, [2, 5]) and np.array_equal(mixed[:, :2], [[1, 2], [2, 4]])
