"""Trail ring buffers: bounded, keyed by track number, vectorised; with t_update a track's trail
gains a point only when a measurement updated it."""

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


def test_a_trail_gains_a_point_per_measurement_not_per_tick() -> None:
    buffer = TrailBuffer(length=3)
    ids = np.array([7, 9])
    for tick, (t7, t9) in enumerate([(1.0, 1.0), (1.0, 2.0), (1.0, 3.0), (4.0, 4.0), (4.0, 5.0)]):
        points = np.full((2, 3), float(tick))
        trails = buffer.update(ids, points, np.array([t7, t9]))
    # track 7 was updated at ticks 0 and 3; track 9 at every tick (the last 3 kept)
    np.testing.assert_array_equal(trails[0, :, 0], [np.nan, 0.0, 3.0])
    np.testing.assert_array_equal(trails[1, :, 0], [2.0, 3.0, 4.0])


def test_without_t_update_every_tick_adds_a_point_and_lost_tracks_are_forgotten() -> None:
    buffer = TrailBuffer(length=2)
    buffer.update(np.array([1, 2]), np.zeros((2, 3)))
    trails = buffer.update(np.array([2, 3]), np.ones((2, 3)))
    np.testing.assert_array_equal(trails[:, :, 0], [[0.0, 1.0], [np.nan, 1.0]])
    trails = buffer.update(np.array([2]), np.full((1, 3), 2.0), np.array([5.0]))
    np.testing.assert_array_equal(trails[0, :, 0], [1.0, 2.0])
    trails = buffer.update(np.array([2]), np.full((1, 3), 3.0), np.array([5.0]))
    np.testing.assert_array_equal(trails[0, :, 0], [1.0, 2.0])  # not updated: kept
