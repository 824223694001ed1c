"""Late cooperative reports move on along their own velocity; late plots stay put."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.detections import make_detections
from skywarden.late_reports import carry_forward


def test_a_late_report_moves_along_its_velocity_and_a_late_plot_stays() -> None:
    z = np.array([[100.0, 0.0, 50.0], [200.0, 0.0, 50.0], [300.0, 0.0, 50.0]])
    v = np.array([[15.0, -5.0, 1.0], [np.nan, np.nan, np.nan], [15.0, 0.0, 0.0]])
    d = make_detections(np.array([9.8, 9.8, 10.1]), z, 5.0, v=v)
    out, carried = carry_forward(d, d.t, 10.0)
    assert carried.tolist() == [True, False, False]  # a plot has no velocity; 10.1 is not late
    np.testing.assert_allclose(out.z[0], [103.0, -1.0, 50.2])
    np.testing.assert_array_equal(out.z[1:], z[1:])
    np.testing.assert_array_equal(out.t, d.t)  # measurement times are kept


@settings(max_examples=60, deadline=None)
@given(
    late_s=st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=20),
    speed=st.floats(0.0, 80.0),
)
def test_carried_positions_are_where_constant_velocity_puts_them(late_s, speed) -> None:
    """A target at constant velocity reported late by any amount is carried exactly to its
    position at the tracks' time."""
    t_tracks = 100.0
    t = t_tracks - np.asarray(late_s)
    v = np.array([speed, -0.5 * speed, 0.1 * speed])
    truth = lambda when: np.array([10.0, 20.0, 30.0]) + np.outer(when - 90.0, v)  # noqa: E731
    d = make_detections(t, truth(t), 5.0, v=np.tile(v, (t.size, 1)))
    out, carried = carry_forward(d, t, t_tracks)
    assert carried.tolist() == (t < t_tracks).tolist()
    expected = np.where(carried[:, None], truth(np.full(t.size, t_tracks)), truth(t))
    np.testing.assert_allclose(out.z, expected, atol=1e-6)
