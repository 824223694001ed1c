"""The synthetic trajectory generators keep to their stated motion limits."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.classify.synthetic import (
    STEP_S,
    synthetic_aircraft,
    synthetic_birds,
    synthetic_multirotors,
)


def _speeds(tr):
    v = np.diff(tr.p, axis=0) / np.diff(tr.t)[:, None]
    return v, np.hypot(v[:, 0], v[:, 1])


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_multirotors_hover_climb_and_fly_legs_under_an_acceleration_limit(seed):
    trajs = synthetic_multirotors(np.random.default_rng(seed), 6, 240.0, "m-")
    assert len(trajs) == 6 and all(t.label == "drone" for t in trajs)
    assert len({t.group for t in trajs}) == 6
    for tr in trajs:
        assert np.allclose(np.diff(tr.t), 2 * STEP_S)
        assert tr.p[:, 2].min() >= 2.0 - 1e-9 and tr.p[:, 2].max() <= 150.0 + 1e-9
        v, speed = _speeds(tr)
        assert speed.max() <= 15.0 + 1e-6
        # mean velocity over 1 s changes by at most 5 m/s^2 x 2 s between consecutive seconds
        assert np.linalg.norm(np.diff(v, axis=0), axis=1).max() <= 10.0 + 1e-6
    speeds = np.concatenate([_speeds(tr)[1] for tr in trajs])
    assert np.mean(speeds < 0.2) > 0.05  # hovering happens
    assert np.mean(speeds > 3.0) > 0.2  # and so do legs


def test_birds_and_aircraft_keep_their_speed_ranges():
    rng = np.random.default_rng(1)
    flight = np.column_stack([rng.uniform(2, 8, 100), rng.uniform(0, 200, 100)])
    for tr in synthetic_birds(rng, 20, 120.0, flight):
        speed = _speeds(tr)[1]
        assert tr.label == "bird" and tr.p[:, 2].min() >= 5.0 - 1e-9
        assert 1.0 - 1e-6 <= np.median(speed) <= 30.0
    for kind in ("ga", "heli"):
        for tr in synthetic_aircraft(rng, 10, 120.0, kind):
            assert tr.label == "aircraft" and np.median(_speeds(tr)[1]) > 25.0
