"""Entry probability and time against analytic straight-line cases and a Monte-Carlo oracle."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.warn import time_to_entry as tte_module
from skywarden.warn.time_to_entry import forecast_entry, make_entry_model
from skywarden.warn.zones import circle_zone, polygon_zone

SQUARE = polygon_zone("sq", [(0, 0), (1000, 0), (1000, 1000), (0, 1000)], 0.0, 200.0)


def _model(**params):
    return make_entry_model(np.random.default_rng(7), **params)


def _straight(**params):
    """No process noise: sample paths are straight lines."""
    return _model(accel_sigma_mps2=0.0, vertical_accel_sigma_mps2=0.0, **params)


def _P(pos_sigma: float, vel_sigma: float) -> np.ndarray:
    return np.diag([pos_sigma**2] * 3 + [vel_sigma**2] * 3)[None]


@pytest.mark.parametrize(("distance", "speed"), [(1000.0, 10.0), (300.0, 25.0), (1500.0, 15.0)])
def test_straight_line_time_is_distance_over_speed(distance: float, speed: float) -> None:
    x = np.array([[-distance, 500.0, 50.0, speed, 0.0, 0.0]])
    f = forecast_entry(x, _P(1.0, 0.01), [SQUARE], _straight())
    assert f.probability[0, 0] == 1.0
    assert f.time_s[0, 0] == pytest.approx(distance / speed, abs=0.2)
    assert not f.inside[0, 0]


def test_straight_line_with_process_noise_is_still_likely() -> None:
    x = np.array([[-600.0, 500.0, 100.0, 10.0, 0.0, 0.0]])
    P = np.diag([100.0, 100.0, 25.0, 0.25, 0.25, 0.01])[None]
    f = forecast_entry(x, P, [SQUARE], _model(n_samples=64))
    assert f.probability[0, 0] >= 0.9
    assert f.time_s[0, 0] == pytest.approx(60.0, abs=3.0)


def test_grazing_track_with_large_lateral_sigma_is_half() -> None:
    x = np.array([[-1000.0, 0.0, 50.0, 10.0, 0.0, 0.0]])  # along the south edge (n = 0)
    P = np.diag([1.0, 150.0**2, 1.0, 1e-6, 1e-6, 1e-6])[None]
    f = forecast_entry(x, P, [SQUARE], _straight())
    assert 0.4 <= f.probability[0, 0] <= 0.6


def test_track_moving_away_or_passing_above_never_enters() -> None:
    x = np.array(
        [
            [-500.0, 500.0, 50.0, -10.0, 0.0, 0.0],  # flying away
            [-500.0, 500.0, 500.0, 10.0, 0.0, 0.0],  # level, 300 m above the ceiling
            [-500.0, -3000.0, 50.0, 10.0, 0.0, 0.0],  # parallel, far south
        ]
    )
    f = forecast_entry(x, np.repeat(_P(5.0, 0.3), 3, axis=0), [SQUARE], _model())
    assert f.probability[:, 0].tolist() == [0.0, 0.0, 0.0]
    assert np.all(np.isinf(f.time_s[:, 0]))


def test_descent_through_the_top() -> None:
    x = np.array([[500.0, 500.0, 300.0, 0.0, 0.0, -5.0]])  # above the middle, 100 m high
    f = forecast_entry(x, _P(0.5, 0.01), [SQUARE], _straight())
    assert f.probability[0, 0] == 1.0
    assert f.time_s[0, 0] == pytest.approx(20.0, abs=0.2)


def test_inside_is_probability_one_time_zero_and_ignore_zones_only_test_inside() -> None:
    ignore = circle_zone("i", (-2000.0, 500.0), 300.0, 0.0, 100.0, role="ignore")
    x = np.array([[500.0, 500.0, 50.0, 3.0, 0.0, 0.0], [-3000.0, 500.0, 50.0, 20.0, 0.0, 0.0]])
    f = forecast_entry(x, np.repeat(_P(1.0, 0.1), 2, axis=0), [SQUARE, ignore], _model())
    assert f.probability[0].tolist() == [1.0, 0.0] and f.time_s[0, 0] == 0.0
    assert f.probability[1, 1] == 0.0 and not f.evaluated[:, 1].any()


def test_empty_and_non_finite_inputs() -> None:
    f = forecast_entry(np.zeros((0, 6)), np.zeros((0, 6, 6)), [SQUARE], _model())
    assert f.probability.shape == (0, 1)
    x = np.array([[np.nan, 0.0, 50.0, 10.0, 0.0, 0.0]])
    f = forecast_entry(x, _P(1.0, 0.1), [SQUARE], _model())
    assert f.probability[0, 0] == 0.0


def test_prefilter_is_exact_and_prunes(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    n = 300
    x = np.column_stack(
        [rng.uniform(-6000, 6000, (n, 2)), rng.uniform(0, 400, n), rng.normal(0, 15, (n, 3))]
    )
    x[:, 5] *= 0.2
    A = rng.normal(0, 1, (n, 6, 6)) * np.array([30, 30, 10, 1, 1, 0.3])[:, None]
    P = A @ np.swapaxes(A, 1, 2) + np.eye(6)
    zones = [SQUARE, circle_zone("c", (-2500.0, 2000.0), 400.0, 20.0, 150.0)]
    model = _model()
    fast = forecast_entry(x, P, zones, model)
    assert fast.evaluated.sum() < 0.6 * n * len(zones)
    everything = lambda x, P, zones, now, model: ~now  # noqa: E731
    monkeypatch.setattr(tte_module, "_prefilter", everything)
    full = forecast_entry(x, P, zones, model)
    np.testing.assert_array_equal(fast.probability, full.probability)
    np.testing.assert_array_equal(fast.time_s, full.time_s)
    assert (full.probability > 0).sum() > 10  # the case is not trivial


def test_batched_equals_one_by_one() -> None:
    rng = np.random.default_rng(5)
    x = np.column_stack([rng.uniform(-2000, 3000, (40, 2)), rng.uniform(0, 300, 40)])
    x = np.column_stack([x, rng.normal(0, 12, (40, 2)), rng.normal(0, 1, 40)])
    P = np.repeat(_P(20.0, 2.0), 40, axis=0)
    model = _model()
    batch = forecast_entry(x, P, [SQUARE], model)
    for i in range(40):
        one = forecast_entry(x[i : i + 1], P[i : i + 1], [SQUARE], model)
        assert one.probability[0, 0] == batch.probability[i, 0]
        assert one.time_s[0, 0] == batch.time_s[i, 0]


def _monte_carlo(x, P, zone, horizon, accel_sigma, rng, n=4000, dt=0.5):
    """Independent oracle: random state draws, simulated white-noise acceleration, shapely."""
    states = rng.multivariate_normal(x, P, size=n)
    p, v = states[:, :3].copy(), states[:, 3:].copy()
    entered = np.zeros(n, dtype=bool)
    for _ in range(int(horizon / dt) + 1):
        inside = shapely.contains_xy(zone.polygon, p[:, 0], p[:, 1])
        entered |= inside & (p[:, 2] >= zone.bottom_m) & (p[:, 2] <= zone.top_m)
        a = rng.normal(0.0, accel_sigma / np.sqrt(dt), (n, 3))  # white noise of density q
        p += v * dt + 0.5 * a * dt * dt
        v += a * dt
    return entered.mean()


@settings(max_examples=8, deadline=None)
@given(
    start=st.tuples(st.floats(-1500, -300), st.floats(-400, 1400)),
    heading=st.floats(-0.6, 0.6),
    speed=st.floats(5.0, 20.0),
    pos_sigma=st.floats(5.0, 150.0),
)
def test_probability_agrees_with_monte_carlo(start, heading, speed, pos_sigma) -> None:
    x = np.array([start[0], start[1], 60.0, speed * np.cos(heading), speed * np.sin(heading), 0])
    P = np.diag([pos_sigma**2, pos_sigma**2, 4.0, 1.0, 1.0, 0.04])
    model = make_entry_model(np.random.default_rng(1), n_samples=128, horizon_s=60.0)
    f = forecast_entry(x[None], P[None], [SQUARE], model)
    sigma = np.array([model.accel_sigma_mps2] * 2 + [model.vertical_accel_sigma_mps2])
    oracle = _monte_carlo(x, P, SQUARE, 60.0, sigma, np.random.default_rng(2))
    assert abs(f.probability[0, 0] - oracle) <= 0.12
