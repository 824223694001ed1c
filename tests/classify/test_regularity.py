"""Flight-regularity features (skywarden.classify.regularity) on analytic tracks."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.classify.features import FEATURE_NAMES, features_from_window
from skywarden.classify.regularity import SMOOTH, wiggle
from tests.classify.windows import circle, line, window_from

T = np.arange(32.0)
WIGGLES = ("speed_wiggle", "height_wiggle", "heading_wiggle", "path_wiggle")


def col(f: np.ndarray, name: str) -> np.ndarray:
    return f[:, FEATURE_NAMES.index(name)]


def undulating(t: np.ndarray, speed: float, amp_m: float, period_s: float) -> np.ndarray:
    """(W, 6) a straight east-bound flight whose height undulates as a flap-gliding bird's."""
    w = 2 * np.pi / period_s
    s = line(t, (speed, 0.0, 0.0))
    s[:, 2] += amp_m * np.sin(w * t)
    s[:, 5] = amp_m * w * np.cos(w * t)
    return s


@settings(max_examples=30, deadline=None)
@given(st.floats(-30.0, 30.0), st.floats(-30.0, 30.0), st.floats(-3.0, 3.0), st.floats(-1e4, 1e4))
def test_steady_flight_has_no_wiggle_and_full_persistence(ve, vn, vu, offset):
    """A constant-velocity leg (any course, climb and place) has nothing about its running mean."""
    f = features_from_window(window_from(T, [line(T, (ve, vn, vu), (offset, -offset, 100.0))]))
    moving = np.hypot(ve, vn) >= 2.0
    for name in WIGGLES:
        if name == "heading_wiggle" and not moving:  # no heading below 2 m/s
            assert np.isnan(col(f, name)[0])
        else:
            assert abs(col(f, name)[0]) < 1e-3, name  # (the earth curvature in height)
    if moving:
        assert np.isclose(col(f, "heading_persistence")[0], 1.0)


@settings(max_examples=20, deadline=None)
@given(st.floats(5.0, 30.0), st.floats(80.0, 1500.0))
def test_constant_turn_leaves_no_heading_wiggle(speed, radius):
    """A coordinated turn is a straight line in heading: no heading or speed wiggle, and a
    path wiggle of the chord sag only (v^2/r times a few scans^2, well under a metre here)."""
    f = features_from_window(window_from(T, [circle(T, speed, radius)]))
    assert col(f, "heading_wiggle")[0] < 1e-6
    assert col(f, "speed_wiggle")[0] < 1e-6
    assert col(f, "path_wiggle")[0] < 2.0 * speed**2 / radius + 1e-9
    if speed * T[-1] > 2 * np.pi * radius:  # at least one full circle: no net heading
        assert col(f, "heading_persistence")[0] < 0.35


def test_flap_glide_undulation_shows_in_height_wiggle():
    """A 4 s, 3 m height undulation: the 5-scan running mean of sin at quarter-period steps is
    -sin / 5, so the wiggle is 1.2 x its RMS (2.55 m); a steady climb gives none."""
    f = features_from_window(
        window_from(T, [undulating(T, 12.0, 3.0, 4.0), line(T, (12.0, 0.0, 1.5))])
    )
    assert np.isclose(col(f, "height_wiggle")[0], 1.2 * 3.0 / np.sqrt(2), rtol=0.02)
    assert col(f, "height_wiggle")[1] < 1e-3


def test_short_or_gappy_tracks_give_nan():
    """Fewer than MIN_POINTS slots with a full running-mean neighbourhood: NaN, not 0."""
    w = window_from(T, [line(T, (10.0, 0.0, 0.0))])
    t = w.t.copy()
    t[0, : 32 - (SMOOTH + 2)] = np.nan  # 7 states: 3 full neighbourhoods
    x = w.x.copy()
    x[0, : 32 - (SMOOTH + 2)] = np.nan
    f = features_from_window(type(w)(w.id, t, x, w.measured, w.sigma, w.t_birth, w.rcs))
    for name in WIGGLES:
        assert np.isnan(col(f, name)[0]), name


def test_wiggle_is_the_rms_about_the_running_mean():
    """Against a slow, obvious reference on random data with a gap."""
    rng = np.random.default_rng(3)
    a = rng.normal(0, 2, (3, 20))
    ok = np.ones((3, 20), bool)
    ok[1, :6] = False
    ok[2, 10] = False
    got = wiggle(a, ok)
    h = SMOOTH // 2
    for i in range(3):
        d = [
            a[i, j] - a[i, j - h : j + h + 1].mean()
            for j in range(h, 20 - h)
            if ok[i, j - h : j + h + 1].all()
        ]
        assert np.isclose(got[i], np.sqrt(np.mean(np.square(d))))
