"""Range x azimuth clutter cells around a radar: keys, areas, outlines, learnt densities."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.track import clutter_cells, clutter_map
from skywarden.track.clutter_cells import PolarCells, cell_area, cell_keys, cell_outlines
from skywarden.track.clutter_map import ClutterMap

CELL = 1000.0
RADAR = (1500.0, -2500.0)


def _polar(az_deg: float = 7.0) -> PolarCells:  # 360 / 7 is not whole: a narrow last cell
    return PolarCells.of({3: RADAR}, CELL, math.radians(az_deg))


def test_the_cells_of_one_range_ring_add_up_to_the_annulus() -> None:
    polar = _polar()
    n_az = math.ceil(360.0 / 7.0)
    for ri in (0, 1, 7):
        keys = (np.int64(3) << 43) | (np.int64(1) << 42) | (np.int64(ri) << 21) | np.arange(n_az)
        total = cell_area(keys, CELL, polar).sum()
        assert math.isclose(total, math.pi * ((ri + 1) ** 2 - ri**2) * CELL**2, rel_tol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    az_deg=st.sampled_from([1.0, 2.0, 7.0, 90.0]),
)
def test_a_point_lies_inside_the_outline_of_its_cell(seed: int, az_deg: float) -> None:
    rng = np.random.default_rng(seed)
    polar = _polar(az_deg)
    z = np.column_stack([rng.uniform(-30e3, 30e3, (50, 2)), rng.uniform(0, 500, 50)])
    sensor = rng.choice([0, 3], 50)  # sensor 0 is not a radar: the ENU grid
    keys = cell_keys(z, sensor, CELL, polar)
    assert np.array_equal(clutter_cells.is_polar(keys), sensor == 3)
    owner, ring = cell_outlines(keys, CELL, polar)
    assert np.array_equal(owner, sensor)
    assert np.allclose(ring[:, 0], ring[:, -1])  # closed
    for k in range(50):
        if sensor[k] == 3:
            d = ring[k] - RADAR
            r, p = np.hypot(d[:, 0], d[:, 1]), z[k, :2] - RADAR
            az = np.mod(np.arctan2(d[:, 0], d[:, 1]), 2 * math.pi)
            az_p = math.atan2(p[0], p[1]) % (2 * math.pi)
            assert r.min() - 1e-6 <= math.hypot(*p) <= r.max() + 1e-6
            lo, hi = az[0], az[0] + math.radians(az_deg)  # the inner arc starts at az0
            assert lo - 1e-9 <= az_p <= hi + 1e-9
        else:
            lo, hi = ring[k].min(axis=0), ring[k].max(axis=0)
            assert np.all(lo <= z[k, :2]) and np.all(z[k, :2] <= hi)
            assert np.allclose(hi - lo, CELL)


def _learn(cmap: ClutterMap, rng: np.random.Generator, draw, n_scans: int) -> ClutterMap:
    for _ in range(n_scans):
        z = draw(rng)
        sensor = np.full(z.shape[0], 3, np.int32)
        cmap = clutter_map.record(cmap, z, sensor, cell_m=CELL, end_of_scan=True, memory_scans=50.0)
    return cmap


def _horizontal_density(cmap: ClutterMap, z: np.ndarray) -> np.ndarray:
    R = np.repeat(np.eye(3)[None], z.shape[0], axis=0)
    lam = clutter_map.density(
        cmap, z, R, np.full(z.shape[0], 3), cell_m=CELL, prior=1e-30, prior_scans=1e-9
    )
    return lam * math.sqrt(2 * math.pi)  # undo the height factor (all u = 0, R_uu = 1)


def test_uniform_clutter_is_learnt_in_range_azimuth_cells() -> None:
    rng = np.random.default_rng(1)
    per_m2 = 2e-6  # per scan, over a 40 km square around the radar

    def draw(rng):
        n = rng.poisson(per_m2 * 40e3**2)
        return np.column_stack([rng.uniform(-20e3, 20e3, (n, 2)) + RADAR, np.zeros(n)])

    cmap = _learn(ClutterMap.empty(_polar(2.0)), rng, draw, 300)
    assert clutter_cells.is_polar(cmap.keys).all()
    probe = np.column_stack(
        [RADAR[0] + 8e3 * np.sin(np.arange(0, 6.28, 0.1)),
         RADAR[1] + 8e3 * np.cos(np.arange(0, 6.28, 0.1)), np.zeros(63)]
    )  # fmt: skip
    learnt = float(np.mean(_horizontal_density(cmap, probe)))
    assert 0.9 * per_m2 <= learnt <= 1.1 * per_m2


def test_a_clutter_ring_stays_in_its_range_cells() -> None:
    """Ground clutter on a ring 5.5 km from the radar: dense there, nothing 2 km beyond, at
    every azimuth (what range x azimuth cells are for)."""
    rng = np.random.default_rng(2)

    def draw(rng):
        az = rng.uniform(0, 2 * math.pi, 200)
        r = 5500.0 + rng.normal(0, 50, 200)
        return np.column_stack([RADAR[0] + r * np.sin(az), RADAR[1] + r * np.cos(az), 0 * r])

    cmap = _learn(ClutterMap.empty(_polar(2.0)), rng, draw, 100)
    az = np.arange(0.0, 2 * math.pi, 0.05)
    on = np.column_stack([RADAR[0] + 5500 * np.sin(az), RADAR[1] + 5500 * np.cos(az), 0 * az])
    off = np.column_stack([RADAR[0] + 7500 * np.sin(az), RADAR[1] + 7500 * np.cos(az), 0 * az])
    ring_cell_area = math.pi * (6000.0**2 - 5000.0**2)  # all azimuths of range cell 5
    want = 200.0 / ring_cell_area
    got = _horizontal_density(cmap, on)
    assert np.all(np.abs(got / want - 1.0) < 0.35) and abs(np.mean(got) / want - 1.0) < 0.05
    assert np.all(_horizontal_density(cmap, off) < 1e-3 * want)


def test_summary_names_the_layout() -> None:
    cmap = _learn(
        ClutterMap.empty(_polar(2.0)),
        np.random.default_rng(3),
        lambda rng: np.column_stack([rng.uniform(-5e3, 5e3, (20, 2)), np.zeros(20)]),
        5,
    )
    s = clutter_map.summary(cmap, CELL)
    assert s["layout"] == {
        "grid_cell_m": CELL, "range_azimuth_sensors": [3], "range_cell_m": CELL,
        "azimuth_cell_deg": 2.0,
    }  # fmt: skip
    assert s["range_azimuth_cells"] == s["cells"] > 0
    sensor, outline, rate = clutter_map.cells(cmap, CELL)
    assert outline.shape == (len(cmap), 10, 2) and np.all(sensor == 3) and np.all(rate > 0)
