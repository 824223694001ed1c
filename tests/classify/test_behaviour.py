"""Behaviour labels on analytic tracks."""

from __future__ import annotations

import numpy as np

from skywarden.classify.behaviour import classify_behaviour
from tests.classify.windows import circle, line, window_from

T = np.arange(32.0)


def labels(states, **kw):
    return classify_behaviour(window_from(T, np.asarray(states)), **kw)


def test_hover_loiter_transit_and_approach():
    far = (3000.0, 0.0, 100.0)
    states = [
        line(T, (0.0, 0.0, 0.0), p0=far),  # hovering
        circle(T, 12.0, 100.0, centre=(0.0, 4000.0, 100.0)),  # orbit
        line(T, (-15.0, 0.0, 0.0), p0=far),  # straight at the site (zone at origin)
        line(T, (0.0, 15.0, 0.0), p0=far),  # crossing, not approaching
    ]
    b = labels(states, is_drone=np.zeros(4, bool))
    assert b.label.tolist() == ["hover", "loiter", "approach", "transit"]
    assert np.isclose(b.closing_speed[2], 15.0)


def test_approach_uses_the_nearest_zone_and_not_from_inside():
    states = [line(T, (10.0, 0.0, 0.0), p0=(0.0, 0.0, 50.0))]
    zones = np.array([[1000.0, 0.0, 200.0]])
    assert labels(states, zones=zones).label[0] == "approach"
    inside = np.array([[0.0, 0.0, 2000.0]])
    assert labels(states, zones=inside).label[0] == "transit"


def test_group_needs_three_drones_moving_together():
    v = (10.0, 2.0, 0.0)
    trio = [line(T, v, p0=(1000.0 + 40 * k, 5000.0, 100.0)) for k in range(3)]
    b = labels(trio, is_drone=np.ones(3, bool))
    assert b.group.all() and len(set(b.group_id.tolist())) == 1
    assert (b.label == "group").all()
    # same geometry but one flies the other way: no group of three
    mixed = [*trio[:2], line(T, (-10.0, 2.0, 0.0), p0=(1080.0, 5000.0, 100.0))]
    assert not labels(mixed, is_drone=np.ones(3, bool)).group.any()
    # birds are never a drone group
    assert not labels(trio, is_drone=np.zeros(3, bool)).group.any()
