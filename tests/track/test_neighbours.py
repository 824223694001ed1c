"""The grid neighbour search finds exactly the pairs brute force finds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.track import neighbours
from skywarden.track.neighbours import pairs_within


def _brute(centres: np.ndarray, radii: np.ndarray, points: np.ndarray) -> set[tuple[int, int]]:
    d = np.linalg.norm(points[None, :, :] - centres[:, None, :], axis=2)
    rows, cols = np.nonzero(d <= radii[:, None])
    return set(zip(rows.tolist(), cols.tolist(), strict=True))


SEARCH_PATHS = {  # limits (DENSE_MAX_PAIRS, STRIP_MAX_ROWS) that force each way of searching
    "grid": (0, 0),
    "strips": (0, 10**9),
    "all-pairs": (10**9, 0),
}
BOTH_PATHS = pytest.mark.parametrize("path", list(SEARCH_PATHS))


def _force(patch: pytest.MonkeyPatch, path: str) -> None:
    dense, strip = SEARCH_PATHS[path]
    patch.setattr(neighbours, "DENSE_MAX_PAIRS", dense)
    patch.setattr(neighbours, "STRIP_MAX_ROWS", strip)
    patch.setattr(neighbours, "STRIP_READS_PER_ROW", 1e18 if strip else 0.0)


@BOTH_PATHS
@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 40),
    d=st.integers(0, 60),
    spread=st.sampled_from([1.0, 100.0, 5000.0, 1e6]),
    radius_scale=st.sampled_from([0.0, 0.01, 1.0, 50.0, 1e4]),
)
def test_pairs_equal_brute_force(
    path: str, seed: int, n: int, d: int, spread: float, radius_scale: float
) -> None:
    rng = np.random.default_rng(seed)
    points = rng.uniform(-spread, spread, (d, 3))
    near = points[rng.integers(0, d, n)] if d else np.zeros((n, 3))
    centres = np.where(rng.random((n, 1)) < 0.6, near + rng.normal(0, 3, (n, 3)), 0.0)
    centres += np.where(rng.random((n, 1)) < 0.1, 10 * spread, 0.0)  # some far outside
    radii = radius_scale * rng.lognormal(0.0, 1.5, n)
    with pytest.MonkeyPatch.context() as patch:
        _force(patch, path)
        rows, cols = pairs_within(centres, radii, points)
    got = set(zip(rows.tolist(), cols.tolist(), strict=True))
    assert len(got) == rows.size  # no pair twice
    assert got == _brute(centres, radii, points)
    assert np.all(np.diff(rows * max(d, 1) + cols) > 0)  # sorted by centre, then point


def test_the_grid_is_horizontal_only_height_is_checked_exactly(search_path: str) -> None:
    points = np.array([[0.0, 0.0, 100.0], [0.0, 0.0, 1.0]])
    rows, cols = pairs_within(np.zeros((1, 3)), np.array([2.0]), points)
    assert cols.tolist() == [1]


def _radii_within_a_factor_two(seed: int, n: int, d: int, spread: float, radius: float):
    rng = np.random.default_rng(seed)
    points = rng.uniform(-spread, spread, (d, 3))
    centres = points[rng.integers(0, d, n)] + rng.normal(0, radius, (n, 3))
    return centres, radius * rng.uniform(0.5, 1.0, n), points


@BOTH_PATHS
@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    d=st.integers(1, 60),
    spread=st.sampled_from([100.0, 5000.0]),
    radius=st.sampled_from([1.0, 50.0, 400.0]),
)
def test_radii_within_a_factor_two_find_the_brute_force_pairs(
    path: str, seed: int, n: int, d: int, spread: float, radius: float
) -> None:
    """As in tracker gating: on the grid mostly the uniform-window path (below)."""
    centres, radii, points = _radii_within_a_factor_two(seed, n, d, spread, radius)
    with pytest.MonkeyPatch.context() as patch:
        _force(patch, path)
        rows, cols = pairs_within(centres, radii, points)
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == _brute(centres, radii, points)
    assert np.all(np.diff(rows * d + cols) > 0)


def test_sparse_points_and_similar_radii_take_the_uniform_window_path() -> None:
    """Few points per gate: the grid side is the largest radius and every centre reads
    3 x 3 cells, through _uniform_window_runs, with the brute-force pairs."""
    centres, radii, points = _radii_within_a_factor_two(7, 300, 400, 5000.0, 50.0)
    calls = []
    real = neighbours._uniform_window_runs
    with pytest.MonkeyPatch.context() as patch:
        _force(patch, "grid")
        patch.setattr(neighbours, "_uniform_window_runs", lambda *a: calls.append(1) or real(*a))
        rows, cols = pairs_within(centres, radii, points)
    assert calls
    assert rows.size > 10
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == _brute(centres, radii, points)


@pytest.fixture(params=list(SEARCH_PATHS))
def search_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every way pairs_within searches (the grid, east strips, every distance), forced by
    its limits."""
    _force(monkeypatch, request.param)
    return request.param


@pytest.mark.parametrize("seed", range(12))
def test_both_search_paths_find_the_brute_force_pairs_in_order(search_path: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(1, 120)), int(rng.integers(1, 150))
    points = rng.uniform(-3000.0, 3000.0, (d, 3))
    centres = points[rng.integers(0, d, n)] + rng.normal(0, 40.0, (n, 3))
    radii = 60.0 * rng.lognormal(0.0, 1.0, n)
    radii[rng.random(n) < 0.1] = np.nan
    rows, cols = pairs_within(centres, radii, points)
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == _brute(centres, radii, points)
    assert np.all(np.diff(rows * d + cols) > 0)
    assert rows.dtype == cols.dtype == np.int64


def test_edge_cases_on_both_search_paths(search_path: str) -> None:
    points = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 7.0], [1e7, 0.0, 0.0]])
    rows, cols = pairs_within(np.zeros((3, 3)), np.array([5.0, np.nan, np.inf]), points)
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == [(0, 0), (2, 0), (2, 1), (2, 2)]
    rows, cols = pairs_within(np.zeros((1, 3)), np.array([-1.0]), points)
    assert rows.size == cols.size == 0


def test_the_tracker_sizes_take_the_strip_path_without_sorting_sorted_points() -> None:
    """A few hundred gates narrow against the points' extent, points in east order (as the
    tracker's detections come): east strips, the brute-force pairs, and no argsort."""
    rng = np.random.default_rng(11)
    points = rng.uniform(-10000.0, 10000.0, (200, 3))
    points = points[np.argsort(points[:, 0])]
    centres = points[rng.integers(0, 200, 300)] + rng.normal(0, 100.0, (300, 3))
    radii = rng.uniform(100.0, 300.0, 300)
    calls = []
    real = neighbours._strip_pairs_within
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(neighbours, "_strip_pairs_within", lambda *a: calls.append(1) or real(*a))
        patch.setattr(np, "argsort", lambda *a, **k: pytest.fail("sorted points were sorted"))
        rows, cols = pairs_within(centres, radii, points)
    assert calls
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == _brute(centres, radii, points)
    assert np.all(np.diff(rows * 200 + cols) > 0)
