"""Trails: with t_update a track's trail gains a point only when a measurement updated it."""

from __future__ import annotations

import numpy as np

from skywarden.trails import TrailBuffer


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
