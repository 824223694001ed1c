"""Tests of the seeded scenarios: determinism, sensor statistics, motion ranges and geometry."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.detections import Detections, SourceKind
from skywarden.errors import ConfigError
from skywarden.simulate import (
    SCENARIO_NAMES,
    BoxVolume,
    CylinderVolume,
    Motion,
    PlanBuilder,
    Scenario,
    SensorParams,
    build_scenario,
    simulate,
)
from skywarden.simulate.motion import ct_step, cv_step, loiter_state, white_acceleration_noise
from skywarden.simulate.rcs import (
    RCS_BY_CLASS,
    SWERLING_I_DB_STD,
    plot_rcs_dbsm,
    target_rcs_dbsm,
)

SMALL = ("crossing", "swarm", "mixed", "bench", "scale-200")
ARRAYS = (
    "times truth_t truth_scan truth_id truth_state target_class target_kind target_accel_sigma "
    "target_accel_max det_t det_z det_sigma det_truth_id scan_index det_rcs_dbsm target_rcs_dbsm"
).split()


# kinds of the confuser layers overlaid on mixed (skywarden.simulate.layers); they come
# after the base targets and have their own tests (test_loitering.py, test_ground_traffic.py)
LAYER_KINDS = ("munition", "glider", "ultralight", "thermal", "gull", "car", "truck")


@cache
def scenario(name: str, seed: int = 7, **overrides: float) -> Scenario:
    return build_scenario(name, seed, **overrides)


def matched_residuals(s: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """(detection - truth) (N, 3) for every target detection, and the reported sigma (N,)."""
    target = s.det_truth_id >= 0
    key_truth = s.truth_scan * s.n_targets + s.truth_id
    key_det = s.scan_index[target] * s.n_targets + s.det_truth_id[target]
    order = np.argsort(key_truth)
    row = order[np.searchsorted(key_truth, key_det, sorter=order)]
    assert np.array_equal(key_truth[row], key_det)  # every detection has its truth row
    return s.det_z[target] - s.truth_state[row, :3], s.det_sigma[target]


def speed(x: np.ndarray) -> np.ndarray:
    return np.linalg.norm(x[:, 3:], axis=1)


# ---------------------------------------------------------------- determinism and API


@pytest.mark.parametrize("name", SMALL)
def test_same_seed_gives_identical_output(name: str) -> None:
    a, b = build_scenario(name, 11), build_scenario(name, 11)
    for field in ARRAYS:
        x, y = getattr(a, field), getattr(b, field)
        assert x.dtype == y.dtype and x.shape == y.shape, field
        assert x.tobytes() == y.tobytes(), field
    assert a.sensor_params == b.sensor_params


@pytest.mark.parametrize("name", SMALL)
def test_different_seeds_differ(name: str) -> None:
    a, b = build_scenario(name, 1), build_scenario(name, 2)
    assert a.truth_state.shape != b.truth_state.shape or not np.array_equal(
        a.truth_state, b.truth_state
    )
    assert a.det_z.shape != b.det_z.shape or not np.array_equal(a.det_z, b.det_z)


def test_sensor_overrides_leave_the_truth_unchanged() -> None:
    a = build_scenario("mixed", 3)
    b = build_scenario("mixed", 3, pd=0.5, sigma=30.0, clutter_rate=3.0)
    assert np.array_equal(a.truth_state, b.truth_state)
    assert b.sensor_params.pd == 0.5 and b.sensor_params.sigma == 30.0
    assert not np.array_equal(a.det_truth_id, b.det_truth_id)


def test_overrides_set_scans_period_and_start_time() -> None:
    s = build_scenario("bench", 1, n_scans=30, scan_period=2.0, t0=1_700_000_000.0)
    assert s.n_scans == 30
    np.testing.assert_array_equal(s.times, 1_700_000_000.0 + 2.0 * np.arange(30))
    assert set(np.unique(s.det_t)) <= set(s.times)


def test_arrays_are_consistent_and_read_only() -> None:
    s = scenario("mixed")
    m, d = len(s.truth_t), len(s.det_t)
    assert s.truth_state.shape == (m, 6) and s.truth_id.shape == (m,)
    assert s.det_z.shape == (d, 3) and s.det_sigma.shape == s.scan_index.shape == (d,)
    assert np.all(np.diff(s.scan_index) >= 0) and np.all(np.diff(s.truth_scan) >= 0)
    np.testing.assert_array_equal(s.truth_t, s.times[s.truth_scan])
    np.testing.assert_array_equal(s.det_t, s.times[s.scan_index])
    assert s.target_class.shape == s.target_kind.shape == (s.n_targets,)
    assert set(s.det_truth_id) <= set(range(-1, s.n_targets))
    with pytest.raises(ValueError):
        s.truth_state[0, 0] = 1.0


def test_detections_at_returns_the_scan_as_a_batch() -> None:
    s = scenario("bench")
    total = 0
    for scan in (0, 17, s.n_scans - 1):
        batch = s.detections_at(scan)
        rows = s.scan_index == scan
        assert isinstance(batch, Detections) and len(batch) == rows.sum()
        np.testing.assert_array_equal(batch.z, s.det_z[rows])
        np.testing.assert_array_equal(batch.t, np.full(rows.sum(), s.times[scan]))
        np.testing.assert_allclose(batch.R[:, 0, 0], s.det_sigma[rows] ** 2)
        np.testing.assert_array_equal(batch.R[:, 0, 1], 0.0)
        assert np.all(batch.kind == SourceKind.RADAR) and np.all(batch.identity == -1)
        np.testing.assert_array_equal(batch.rcs_dbsm, s.det_rcs_dbsm[rows])
        total += len(batch)
    assert total > 0
    assert len(s.detections_at(s.n_scans + 5)) == 0


def test_unknown_names_and_bad_options_raise_config_error() -> None:
    with pytest.raises(ConfigError) as err:
        build_scenario("nope", 1)
    for name in SCENARIO_NAMES:
        assert name in str(err.value)
    for bad in ("scale-", "scale-x", "scale-0", "scale-1.5"):
        with pytest.raises(ConfigError):
            build_scenario(bad, 1)
    for options in ({"pd": 0.0}, {"pd": 1.5}, {"sigma": -1.0}, {"clutter_rate": -2.0}):
        with pytest.raises(ConfigError):
            build_scenario("bench", 1, **options)
    with pytest.raises(ConfigError):
        build_scenario("bench", 1, n_scans=1)
    with pytest.raises(ConfigError):
        build_scenario("bench", 1, colour="red")


# ---------------------------------------------------------------- sensor statistics


@pytest.mark.parametrize("pd", [0.9, 0.6])
def test_detection_rate_matches_pd(pd: float) -> None:
    s = scenario("bench", 5, pd=pd)
    detected = np.bincount(s.det_truth_id[s.det_truth_id >= 0], minlength=s.n_targets)
    present = np.bincount(s.truth_id, minlength=s.n_targets)
    n = present.sum()
    assert abs(detected.sum() / n - pd) < 4.0 * math.sqrt(pd * (1 - pd) / n)
    long = present >= 50  # per target: binomial 5-sigma band
    band = 5.0 * np.sqrt(pd * (1 - pd) * present[long])
    assert np.all(np.abs(detected[long] - pd * present[long]) <= band)


def test_position_noise_has_the_requested_sigma() -> None:
    s = scenario("bench", 5)
    r, sigma = matched_residuals(s)
    assert np.all(sigma == 5.0)
    n = r.shape[0]
    assert n > 8000
    np.testing.assert_allclose(r.std(axis=0), 5.0, rtol=4.0 / math.sqrt(2 * n))
    assert np.all(np.abs(r.mean(axis=0)) < 4.0 * 5.0 / math.sqrt(n))


def test_range_dependent_sigma_is_reported_and_applied() -> None:
    s = scenario("mixed", 2, sigma=5.0, sigma_per_km=3.0)
    r, sigma = matched_residuals(s)
    target = s.det_truth_id >= 0
    range_km = np.linalg.norm(s.det_z[target] - r, axis=1) / 1000.0
    np.testing.assert_allclose(sigma, np.sqrt(25.0 + (3.0 * range_km) ** 2))
    normalised = r / sigma[:, None]
    assert abs(normalised.std() - 1.0) < 4.0 / math.sqrt(2 * normalised.size)
    assert sigma.max() > 20.0  # the airliners are far away


def test_clutter_count_is_poisson_with_the_requested_mean() -> None:
    s = scenario("bench", 5)
    counts = np.bincount(s.scan_index[s.det_truth_id < 0], minlength=s.n_scans)
    assert abs(counts.mean() - 100.0) < 4.0 * math.sqrt(100.0 / s.n_scans)
    assert 0.6 < counts.var(ddof=1) / counts.mean() < 1.5
    clutter = s.det_z[s.det_truth_id < 0]
    assert np.all(s.sensor_params.volume.contains(clutter))
    lo, hi = np.asarray(s.sensor_params.volume.lo), np.asarray(s.sensor_params.volume.hi)
    np.testing.assert_allclose(clutter.mean(axis=0), (lo + hi) / 2, atol=0.02 * (hi - lo).max())


def test_cylinder_clutter_fills_the_cylinder_uniformly() -> None:
    s = scenario("mixed", 4, clutter_rate=200.0)
    clutter = s.det_z[s.det_truth_id < 0]
    vol = s.sensor_params.volume
    assert isinstance(vol, CylinderVolume) and np.all(vol.contains(clutter))
    inner = np.hypot(clutter[:, 0], clutter[:, 1]) < vol.radius / math.sqrt(2.0)
    assert abs(inner.mean() - 0.5) < 4.0 * 0.5 / math.sqrt(len(clutter))  # half the area
    assert s.sensor_params.clutter_density == pytest.approx(200.0 / vol.volume_m3)


def test_truth_is_only_kept_inside_the_volume() -> None:
    s = scenario("mixed", 1)
    assert np.all(s.sensor_params.volume.contains(s.truth_state[:, :3]))


# ---------------------------------------------------------------- classes and motion


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_speeds_and_heights_stay_in_the_documented_ranges(seed: int) -> None:
    for name in ("mixed", "swarm"):
        s = scenario(name, seed)
        cls, kind = s.target_class[s.truth_id], s.target_kind[s.truth_id]
        x, v = s.truth_state, speed(s.truth_state)
        base = ~np.isin(kind, LAYER_KINDS)  # the overlaid confusers have their own tests
        bird, plane, drone = (base & (cls == c) for c in ("bird", "aircraft", "drone"))
        assert np.all((v[bird] >= 8.0 - 1e-9) & (v[bird] <= 20.0 + 1e-9))
        assert np.all((x[bird, 2] >= 10.0) & (x[bird, 2] <= 400.0))
        assert np.all((v[plane] >= 120.0) & (v[plane] <= 250.0))
        assert np.all((x[plane, 2] >= 1000.0) & (x[plane, 2] <= 10000.0))
        assert np.all(v[drone] <= 40.0)
        cruising = drone & (kind != "loiter-dive")  # divers descend to the ground
        assert np.all((x[cruising, 2] >= 20.0) & (x[cruising, 2] <= 300.0))
        assert np.all(x[drone, 2] >= 0.0)
    mixed = scenario("mixed", seed)
    assert {"drone", "bird", "aircraft", "vehicle"} == set(mixed.target_class)
    assert (mixed.target_kind == "transit").sum() == 2


def test_transiting_drones_fly_at_5_to_40_metres_per_second() -> None:
    s = scenario("mixed", 3)
    kind = s.target_kind[s.truth_id]
    v = speed(s.truth_state)[np.isin(kind, ["cv", "climb", "patrol", "loiter"])]
    assert v.size > 100 and np.all((v >= 5.0) & (v <= 40.0))


def test_hover_targets_hover() -> None:
    s = scenario("mixed", 6)
    hovering = np.flatnonzero(s.target_kind == "hover")
    assert hovering.size == 2
    for k in hovering:
        _, x = s.truth_of(k)
        assert len(x) == s.n_scans
        spread = np.linalg.norm(x[:, :3] - np.median(x[:, :3], axis=0), axis=1)
        assert spread.max() < 8.0 and speed(x).max() < 3.0


def circle_fit(p: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares circle through points p (n, 2): x^2 + y^2 = 2 a x + 2 b y + c."""
    A = np.column_stack([2 * p, np.ones(len(p))])
    (a, b, c), *_ = np.linalg.lstsq(A, (p**2).sum(axis=1), rcond=None)
    return np.array([a, b]), math.sqrt(c + a * a + b * b)


def test_loiter_targets_orbit_at_constant_radius_and_speed() -> None:
    s = scenario("mixed", 8)
    for k in np.flatnonzero(s.target_kind == "loiter"):
        _, x = s.truth_of(k)
        centre, radius = circle_fit(x[:, :2])
        dist = np.linalg.norm(x[:, :2] - centre, axis=1)
        assert 80.0 <= radius <= 200.0
        np.testing.assert_allclose(dist, radius, rtol=1e-6)
        np.testing.assert_allclose(speed(x), speed(x)[0], rtol=1e-9)
        assert 8.0 <= speed(x)[0] <= 15.0 and np.ptp(x[:, 2]) == 0.0
        assert np.allclose(np.einsum("ij,ij->i", x[:, :2] - centre, x[:, 3:5]), 0.0, atol=1e-6)


def test_bird_flock_stays_together_with_erratic_velocity() -> None:
    s = scenario("mixed", 9)
    birds = np.flatnonzero(s.target_kind == "flock")
    assert 8 <= birds.size <= 15
    for scan in (0, 150, 299):
        ids, x = s.truth_at(scan)
        flock = x[np.isin(ids, birds), :3]
        assert len(flock) == birds.size
        assert np.linalg.norm(flock - flock.mean(axis=0), axis=1).max() < 200.0
    _, x = s.truth_of(int(birds[0]))
    dv = np.linalg.norm(np.diff(x[:, 3:], axis=0), axis=1)
    assert np.median(dv) > 0.5  # erratic, not constant velocity


def test_patrol_drone_alternates_legs_and_turns() -> None:
    s = scenario("mixed", 10)
    (k,) = np.flatnonzero(s.target_kind == "patrol")
    _, x = s.truth_of(k)
    heading = np.unwrap(np.arctan2(x[:, 4], x[:, 3]))
    rate = np.abs(np.diff(heading))
    assert (rate < 0.01).mean() > 0.3 and (rate > 6 * math.pi / 180 * 0.9).mean() > 0.2
    assert np.ptp(heading) > math.pi * 0.9


# ---------------------------------------------------------------- named scenario geometry


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_swarm_has_30_drones_converging_from_several_directions(seed: int) -> None:
    s = scenario("swarm", seed)
    assert 30 <= (s.target_class == "drone").sum() <= 45
    converging, azimuths, dive_ends = 0, [], []
    for k in range(s.n_targets):
        t, x = s.truth_of(k)
        r = np.hypot(x[:, 0], x[:, 1])
        converging += r[30] < r[0] - 300.0
        azimuths.append(math.atan2(x[0, 1], x[0, 0]))
        if s.target_kind[k] == "loiter-dive" and t[-1] < s.times[-1]:
            assert x[-1, 2] < 20.0  # its truth ends because it hit the ground
            dive_ends.append(r[-1])
    assert converging >= 30
    gaps = np.diff(np.sort(azimuths), append=min(azimuths) + 2 * math.pi)
    assert gaps.max() < math.pi  # not all from one side
    assert len(dive_ends) >= 3 and max(dive_ends) < 150.0  # dived onto the site (aim +-50 m)
    assert set(s.target_kind) == {"loiter", "loiter-dive", "hover"}
    assert 180.0 <= s.times[-1] - s.times[0] <= 300.0


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_crossing_has_close_passes_and_a_turn(seed: int) -> None:
    s = scenario("crossing", seed)
    sigma = s.sensor_params.sigma
    assert 4 <= s.n_targets <= 6
    closest = np.inf
    for scan in range(s.n_scans):
        _, x = s.truth_at(scan)
        d = np.linalg.norm(x[:, None, :3] - x[None, :, :3], axis=2)
        closest = min(closest, d[np.triu_indices(len(x), 1)].min(initial=np.inf))
    assert closest <= 2.0 * sigma
    (k,) = np.flatnonzero(s.target_kind == "turn")
    _, x = s.truth_of(k)
    heading = np.unwrap(np.arctan2(x[:, 4], x[:, 3]))
    assert np.ptp(heading) > 55.0 * math.pi / 180.0
    np.testing.assert_allclose(speed(x), speed(x)[0], rtol=1e-9)


def test_bench_keeps_100_alive_with_births_and_deaths() -> None:
    s = scenario("bench", 3)
    alive = np.bincount(s.truth_scan, minlength=s.n_scans)
    assert np.all(alive == 100)
    first = np.array([s.truth_scan[s.truth_id == k].min() for k in range(s.n_targets)])
    last = np.array([s.truth_scan[s.truth_id == k].max() for k in range(s.n_targets)])
    assert (first > 0).sum() == 40 and (last < s.n_scans - 1).sum() == 40
    assert np.ptp(first[first > 0]) > 70  # spread over the run
    p = s.sensor_params
    assert (p.pd, p.sigma, p.clutter_rate, s.n_scans) == (0.9, 5.0, 100.0, 100)
    ids, x = s.truth_at(50)
    d = np.linalg.norm(x[:, None, :3] - x[None, :, :3], axis=2)
    assert d[np.triu_indices(len(x), 1)].min() > 6 * 5.0  # separable at sigma 5 m


def test_targets_enter_and_leave_the_volume() -> None:
    s = scenario("mixed", 5)
    for k in np.flatnonzero(s.target_kind == "transit"):
        scans = s.truth_scan[s.truth_id == k]
        assert np.all(np.diff(scans) == 1)  # one continuous pass
        assert scans[-1] < s.n_scans - 1  # flew out before the end


def test_scale_scenario_keeps_density_and_shapes() -> None:
    small, large = scenario("scale-100", 1), scenario("scale-10000", 1, n_scans=3)
    assert np.bincount(large.truth_scan).tolist() == [10000] * 3
    density = [x.n_targets / (x.sensor_params.volume.volume_m3 / 3000.0) for x in (small, large)]
    assert density[0] == pytest.approx(density[1])
    assert large.sensor_params.clutter_rate == 10000.0


# ---------------------------------------------------------------- motion-model properties

finite = st.floats(-1e4, 1e4, allow_nan=False)
states = st.lists(finite, min_size=6, max_size=6).map(lambda v: np.array([v]))


@settings(max_examples=60, deadline=None)
@given(x0=states, dt=st.floats(0.05, 5.0), n=st.integers(1, 50))
def test_cv_without_noise_is_exactly_linear(x0: np.ndarray, dt: float, n: int) -> None:
    x = x0
    for _ in range(n):
        x = cv_step(x, dt)
    np.testing.assert_array_equal(x[:, 3:], x0[:, 3:])
    expected = x0[:, :3] + x0[:, 3:] * n * dt
    np.testing.assert_allclose(x[:, :3], expected, rtol=1e-12, atol=1e-9 * (1 + n * dt * 1e4))


@settings(max_examples=60, deadline=None)
@given(x0=states, w=st.floats(-0.5, 0.5), dt=st.floats(0.05, 5.0), n=st.integers(1, 40))
def test_coordinated_turn_keeps_speed_and_vertical_motion(
    x0: np.ndarray, w: float, dt: float, n: int
) -> None:
    x = x0
    for _ in range(n):
        x = ct_step(x, np.array([w]), dt)
    h0, h = np.hypot(x0[0, 3], x0[0, 4]), np.hypot(x[0, 3], x[0, 4])
    assert h == pytest.approx(h0, rel=1e-12, abs=1e-9)
    assert x[0, 5] == x0[0, 5]
    assert x[0, 2] == pytest.approx(x0[0, 2] + x0[0, 5] * n * dt, rel=1e-12, abs=1e-6)
    heading_change = math.atan2(
        x0[0, 3] * x[0, 4] - x0[0, 4] * x[0, 3], x0[0, 3] * x[0, 3] + x0[0, 4] * x[0, 4]
    )
    if h0 > 1e-3:
        expected = math.remainder(w * n * dt, 2 * math.pi)
        assert math.remainder(heading_change - expected, 2 * math.pi) == pytest.approx(
            0.0, abs=1e-7
        )


@settings(max_examples=40, deadline=None)
@given(x0=states, w=st.floats(0.01, 0.5).flatmap(lambda a: st.sampled_from([a, -a])))
def test_a_full_turn_comes_back_to_the_start(x0: np.ndarray, w: float) -> None:
    n = 16
    x = x0
    for _ in range(n):
        x = ct_step(x, np.array([w]), 2 * math.pi / abs(w) / n)
    scale = 1.0 + np.abs(x0).max() / abs(w)
    np.testing.assert_allclose(x[0, :2], x0[0, :2], atol=1e-9 * scale)
    np.testing.assert_allclose(x[0, 3:5], x0[0, 3:5], atol=1e-9 * scale)


@settings(max_examples=40, deadline=None)
@given(x0=states, dt=st.floats(0.05, 5.0))
def test_a_zero_or_tiny_turn_rate_is_constant_velocity(x0: np.ndarray, dt: float) -> None:
    np.testing.assert_array_equal(ct_step(x0, np.array([0.0]), dt), cv_step(x0, dt))
    np.testing.assert_allclose(
        ct_step(x0, np.array([1e-12]), dt), cv_step(x0, dt), rtol=1e-12, atol=1e-6
    )


@settings(max_examples=40, deadline=None)
@given(
    r=st.floats(1.0, 1e3),
    v=st.floats(-50.0, 50.0),
    phase=st.floats(-10.0, 10.0),
)
def test_loiter_state_is_on_the_circle_and_tangent(r: float, v: float, phase: float) -> None:
    c = np.array([[100.0, -50.0, 120.0]])
    x = loiter_state(c, np.array([r]), np.array([phase]), np.array([v]))
    assert np.hypot(*(x[0, :2] - c[0, :2])) == pytest.approx(r)
    assert np.hypot(x[0, 3], x[0, 4]) == pytest.approx(abs(v))
    assert np.dot(x[0, :2] - c[0, :2], x[0, 3:5]) == pytest.approx(0.0, abs=1e-9 * r * (1 + abs(v)))


def test_white_acceleration_noise_matches_the_tracker_process_noise() -> None:
    rng = np.random.default_rng(0)
    q, dt, n = 0.7, 2.0, 40000
    dp, dv = white_acceleration_noise(rng, np.full(n, q), dt)
    cov = np.cov(np.stack([dp[:, 0], dv[:, 0]]))
    expected = q**2 * np.array([[dt**3 / 3, dt**2 / 2], [dt**2 / 2, dt]])
    np.testing.assert_allclose(cov, expected, rtol=0.05)


def test_custom_plan_runs_through_simulate() -> None:
    b = PlanBuilder()
    b.add(
        np.array([[0.0, 0.0, 100.0, 10.0, 0.0, 0.0]]),
        mode=Motion.CV,
        target_class="drone",
        target_kind="cv",
    )
    hover = b.add_hover(np.array([[50.0, 50.0, 60.0]]), target_class="drone", target_kind="hover")
    b.manoeuvre(5, hover, mode=Motion.GOTO, aim=[500.0, 50.0, 60.0], speed=20.0)
    sensor = SensorParams(
        pd=1.0, sigma=1.0, clutter_rate=0.0, volume=BoxVolume((-1e3, -1e3, 0), (1e3, 1e3, 500))
    )
    s = simulate(
        b.build(),
        sensor,
        np.arange(60.0),
        motion_rng=np.random.default_rng(1),
        sensor_rng=np.random.default_rng(2),
    )
    assert len(s.det_t) == len(s.truth_t) == 120
    _, cv = s.truth_of(0)
    np.testing.assert_allclose(cv[:, 0], 10.0 * np.arange(60.0))
    _, x = s.truth_of(1)
    assert np.all(np.linalg.norm(x[:5, :3] - [50, 50, 60], axis=1) < 8.0)
    # accelerates at <= 6 m/s^2, cruises, brakes: at rest on the point well before scan 59
    np.testing.assert_allclose(x[-1, :3], [500.0, 50.0, 60.0], atol=1e-6)
    assert speed(x[-1:])[0] < 1e-6 and speed(x).max() <= 20.0 + 1e-9


# ---------------------------------------------------------------- radar cross-section

# mixed, seed 0, before radar cross-sections were added (commit ee6cbe4)
MIXED_SEED0_DETECTIONS = 10790
MIXED_SEED0_FIRST_PLOTS = [
    [10443.0684675908, -430.5240011264, 9980.6122196685],
    [-2939.2333175354, 1537.5464954141, 163.8782549036],
]


def test_rcs_model_has_the_documented_class_medians_spreads_and_swerling_fluctuation() -> None:
    rng = np.random.default_rng(5)
    for cls, (median, sigma) in RCS_BY_CLASS.items():
        mean = target_rcs_dbsm(rng, np.full(40_000, cls))
        assert abs(np.median(mean) - median) < 0.15 and abs(np.std(mean) - sigma) < 0.1
    plots = plot_rcs_dbsm(rng, np.full(200_000, -20.0))
    power = 10.0 ** ((plots + 20.0) / 10.0)  # Swerling I: exponential with mean 1
    assert abs(power.mean() - 1.0) < 0.01 and abs(np.median(power) - math.log(2.0)) < 0.01
    assert abs(np.std(plots) - SWERLING_I_DB_STD) < 0.05


def test_scenario_plots_fluctuate_about_their_targets_mean_rcs() -> None:
    s = scenario("mixed")
    assert np.isfinite(s.det_rcs_dbsm).all() and s.target_rcs_dbsm.shape == (s.n_targets,)
    for cls in ("drone", "bird", "aircraft"):
        for k in np.flatnonzero(s.target_class == cls)[:3]:
            rows = s.det_truth_id == k
            if rows.sum() < 100:
                continue
            mean_power = np.mean(10.0 ** (s.det_rcs_dbsm[rows] / 10.0))
            assert abs(10.0 * np.log10(mean_power) - s.target_rcs_dbsm[k]) < 1.5
    birds = s.target_rcs_dbsm[s.target_class == "bird"]
    aircraft = s.target_rcs_dbsm[s.target_class == "aircraft"]
    assert aircraft.min() > birds.max()  # 40 dB apart at the medians


def test_amplitudes_do_not_change_the_scenario_geometry() -> None:
    """RCS is drawn after every position, so the geometry of a seed is what it was before
    amplitudes existed (checked against values recorded then)."""
    s = scenario("mixed", seed=0)
    base = s.det_truth_id < np.sum(~np.isin(s.target_kind, LAYER_KINDS))  # the overlay's after
    assert int(base.sum()) == MIXED_SEED0_DETECTIONS
    np.testing.assert_allclose(s.det_z[:2], MIXED_SEED0_FIRST_PLOTS, rtol=0, atol=1e-6)
