"""The synthetic trajectory generators keep to their stated motion limits."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.classify.synthetic import (
    HIGH_MISSIONS,
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


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_high_missions_fly_level_and_steady_at_height(seed):
    """HIGH_MISSIONS (issue 11, round 7): 2-300 m, at most 16 m/s, no vertical segments (the
    legs' commanded climb is a 0.3 m/s wobble), long legs and orbits: most seconds at 8-16 m/s."""
    trajs = synthetic_multirotors(np.random.default_rng(seed), 8, 240.0, "h-", HIGH_MISSIONS)
    assert len(trajs) == 8 and all(t.label == "drone" for t in trajs)
    speeds, climbs = [], []
    for tr in trajs:
        assert tr.p[:, 2].min() >= 2.0 - 1e-9 and tr.p[:, 2].max() <= 300.0 + 1e-9
        v, speed = _speeds(tr)
        assert speed.max() <= 16.0 + 1e-6
        speeds.append(speed)
        climbs.append(np.abs(v[:, 2]))
    speeds, climbs = np.concatenate(speeds), np.concatenate(climbs)
    assert np.mean(speeds >= 7.0) > 0.6 and np.median(climbs) < 0.5
    assert np.median([np.median(t.p[:, 2]) for t in trajs]) > 100.0


def test_some_multirotor_missions_orbit_at_constant_radius_and_height():
    """Orbits: 10 s stretches whose positions lie on a circle of 15-250 m (fit residual well
    under a metre), level, at constant speed."""
    trajs = synthetic_multirotors(np.random.default_rng(4), 40, 240.0, "m-")
    found = 0
    for tr in trajs:
        for a in range(0, len(tr.t) - 10, 5):
            p = tr.p[a : a + 10]
            speed = _speeds(tr)[1][a : a + 9]
            if speed.min() < 1.0 or np.ptp(p[:, 2]) > 0.1 or np.ptp(speed) > 0.3:
                continue
            # algebraic circle fit: x^2 + y^2 + D x + E y + F = 0
            A = np.column_stack([p[:, 0], p[:, 1], np.ones(10)])
            D, E, F = np.linalg.lstsq(A, -(p[:, 0] ** 2 + p[:, 1] ** 2), rcond=None)[0]
            centre = np.array([-D / 2, -E / 2])
            radius = np.sqrt(centre @ centre - F)
            residual = np.abs(np.hypot(*(p[:, :2] - centre).T) - radius).max()
            if 14.0 <= radius <= 260.0 and residual < 0.5:
                found += 1
                break
    assert found >= 4  # about a fifth of the segments are orbits


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
