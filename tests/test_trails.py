"""Trail ring buffers: bounded, keyed by track number, vectorised."""

from __future__ import annotations

import numpy as np

from skywarden.trails import TrailBuffer


def test_trails_follow_ids_and_stay_bounded() -> None:
    trails = TrailBuffer(length=3)
    out = trails.update(np.array([5, 7]), np.array([[0.0, 0, 0], [1, 1, 1]]))
    assert np.isnan(out[:, :2]).all() and out[1, 2, 0] == 1.0
    out = trails.update(np.array([7, 9]), np.array([[2.0, 2, 2], [3, 3, 3]]))
    np.testing.assert_array_equal(out[0, 1:, 0], [1.0, 2.0])  # 7 keeps its past
    assert np.isnan(out[1, :2]).all()  # 9 is new
    for k in range(5):
        out = trails.update(np.array([7]), np.array([[10.0 + k, 0, 0]]))
    np.testing.assert_array_equal(out[0, :, 0], [12.0, 13.0, 14.0])
    assert trails.points.shape == (1, 3, 3)  # 5 and 9 forgotten


def test_empty_updates() -> None:
    trails = TrailBuffer(length=4)
    out = trails.update(np.zeros(0, np.int64), np.zeros((0, 3)))
    assert out.shape == (0, 4, 3)
    out = trails.update(np.array([1]), np.array([[1.0, 2, 3]]))
    assert out.shape == (1, 4, 3)
