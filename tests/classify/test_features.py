"""Features on analytic tracks, and the state window's bookkeeping."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.classify.features import FEATURE_NAMES, N_FEATURES, features_from_window
from skywarden.classify.history import empty_window, match_ids, update_window
from skywarden.track.params import TrackerParams
from skywarden.track.tracks import empty_tracks
from tests.classify.windows import circle, line, window_from

T = np.arange(32.0)


def col(f: np.ndarray, name: str) -> np.ndarray:
    return f[:, FEATURE_NAMES.index(name)]


def test_hovering_target_has_no_speed_and_full_hover_fraction():
    f = features_from_window(window_from(T, [line(T, (0.0, 0.0, 0.0))]))
    assert col(f, "speed_mean")[0] == 0.0
    assert col(f, "net_speed")[0] == 0.0
    assert col(f, "hover_fraction")[0] == 1.0
    assert col(f, "accel_h_mean")[0] == 0.0


def test_straight_line_is_straight_with_no_turn():
    f = features_from_window(window_from(T, [line(T, (12.0, -5.0, 1.0))]))
    assert np.isclose(col(f, "straightness")[0], 1.0)
    assert np.isclose(col(f, "speed_mean")[0], 13.0)
    assert np.isclose(col(f, "net_speed")[0], 13.0)
    # the height above the site sphere also rises 4e-4 m/s from the horizontal motion
    assert np.isclose(col(f, "vz_mean")[0], 1.0, rtol=1e-3)
    assert np.isclose(col(f, "turn_rate_abs_mean")[0], 0.0)
    assert np.isclose(col(f, "spread_minor_m")[0], 0.0, atol=1e-6)
    assert np.isclose(col(f, "span_s")[0], 31.0)


@settings(max_examples=30, deadline=None)
@given(st.floats(3.0, 40.0), st.floats(50.0, 2000.0))
def test_circle_turn_rate_is_v_over_r(speed, radius):
    f = features_from_window(window_from(T, [circle(T, speed, radius)]))
    assert np.isclose(col(f, "turn_rate_abs_mean")[0], speed / radius, rtol=1e-6)
    assert np.isclose(col(f, "turn_rate_net")[0], speed / radius, rtol=1e-6)
    assert np.isclose(col(f, "speed_std")[0], 0.0, atol=1e-9)
    # centripetal acceleration v^2 / r from finite differences of the velocity
    expected = 2 * speed * np.sin(speed / radius / 2)
    assert np.isclose(col(f, "accel_h_mean")[0], expected, rtol=1e-6)


def test_rows_are_independent_and_short_tracks_give_nan():
    states = np.stack([line(T, (10.0, 0.0, 0.0)), circle(T, 10.0, 100.0)])
    w = window_from(T, states)
    t = w.t.copy()
    t[1, :30] = np.nan  # second track only has 2 states
    x = w.x.copy()
    x[1, :30] = np.nan
    w2 = type(w)(w.id, t, x, w.measured, w.sigma, w.t_birth, w.rcs)
    f = features_from_window(w2)
    assert f.shape == (2, N_FEATURES)
    assert np.allclose(f[0], features_from_window(window_from(T, states[:1]))[0], equal_nan=True)
    assert np.isclose(col(f, "speed_mean")[1], 10.0)
    assert np.isclose(col(f, "span_s")[1], 1.0)


def _tracks(ids, t, x):
    """Tracks with the given ids and states (other arrays zero, position sigma 2 m)."""
    base = empty_tracks(len(TrackerParams().models), t)
    n = len(ids)
    arrays = {
        f.name: np.zeros((n, *getattr(base, f.name).shape[1:]), getattr(base, f.name).dtype)
        for f in fields(base)
        if isinstance(getattr(base, f.name), np.ndarray)
    }
    arrays.update(
        id=np.asarray(ids, np.int64),
        x=np.asarray(x, float).reshape(n, 6),
        P=np.tile(np.eye(6) * 4.0, (n, 1, 1)),
        t_update=np.full(n, t),
    )
    return replace(base, **arrays)


def test_window_follows_track_births_and_deaths():
    w = empty_window(4)
    w = update_window(w, _tracks([1, 2], 0.0, [[0, 0, 0, 1, 0, 0], [5, 5, 5, 0, 1, 0]]))
    w = update_window(w, _tracks([2, 3], 1.0, [[5, 6, 5, 0, 1, 0], [9, 9, 9, 0, 0, 0]]))
    assert w.id.tolist() == [2, 3]
    assert w.t[0].tolist()[-2:] == [0.0, 1.0] and np.isnan(w.t[0, :2]).all()
    assert np.isnan(w.t[1, :3]).all() and w.t[1, 3] == 1.0
    assert np.allclose(w.x[0, 2:, 1], [5.0, 6.0])
    assert np.allclose(w.sigma[0, -1], 2.0)
    for k in range(2, 8):  # the ring stays bounded
        w = update_window(w, _tracks([2], float(k), [[5, 5 + k, 5, 0, 1, 0]]))
    assert w.t.shape == (1, 4) and w.t[0].tolist() == [4.0, 5.0, 6.0, 7.0]
    same = update_window(w, _tracks([2], 7.0, [[0, 0, 0, 0, 0, 0]]))
    assert same.t[0].tolist() == [4.0, 5.0, 6.0, 7.0] and same.x[0, -1, 1] == 0.0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 50), unique=True), st.lists(st.integers(0, 50), unique=True))
def test_match_ids(old, new):
    old_a, new_a = np.array(old, np.int64), np.array(new, np.int64)
    got = match_ids(old_a, new_a)
    expected = [old.index(i) if i in old else -1 for i in new]
    assert got.tolist() == expected


def test_window_take_keeps_the_rows_asked_for_in_that_order():
    states = np.stack([line(T, (10.0, 0.0, 0.0)), circle(T, 10.0, 100.0), line(T, (0, 0, 1.0))])
    w = window_from(T, states)
    one = w.take([2, 0])
    assert one.id.tolist() == [w.id[2], w.id[0]]
    assert np.array_equal(
        features_from_window(one), features_from_window(w)[[2, 0]], equal_nan=True
    )
    assert len(w.take(np.array([False, True, False]))) == 1


def test_rcs_features_are_mean_and_spread_of_the_plots_with_amplitude():
    states = np.stack([line(T, (10.0, 0.0, 0.0))] * 3)
    rcs = np.full((3, T.size), np.nan)
    rcs[0] = -20.0 + np.where(np.arange(T.size) % 2 == 0, 3.0, -3.0)  # every plot, +-3 dB
    rcs[1, -2:] = [-10.0, -12.0]  # too few plots with amplitude
    f = features_from_window(window_from(T, states, rcs=rcs))
    assert np.isclose(col(f, "rcs_mean_dbsm")[0], -20.0)
    assert np.isclose(col(f, "rcs_std_db")[0], 3.0)
    assert np.isnan(col(f, "rcs_mean_dbsm")[1:]).all() and np.isnan(col(f, "rcs_std_db")[1:]).all()
    # the kinematic features do not depend on the amplitude
    kin = [FEATURE_NAMES.index(n) for n in FEATURE_NAMES if not n.startswith("rcs")]
    assert np.array_equal(f[0, kin], f[2, kin], equal_nan=True)


def test_window_keeps_the_rcs_only_of_scans_with_an_update():
    w = empty_window(4)
    tracks = _tracks([1], 0.0, [[0, 0, 0, 1, 0, 0]])
    w = update_window(w, replace(tracks, rcs_dbsm=np.array([-18.0])))
    # next scan: not updated (t_update stays 0): the stale RCS must not be stored again
    coasting = replace(_tracks([1], 1.0, [[1, 0, 0, 1, 0, 0]]), t_update=np.array([0.0]))
    w = update_window(w, replace(coasting, rcs_dbsm=np.array([-18.0])))
    assert w.rcs[0, -2] == -18.0 and np.isnan(w.rcs[0, -1])
    assert w.take([0]).rcs.shape == (1, 4)
