"""Tests of skywarden.geo against independent oracles (PROJ topocentric, pyproj.Geod, closed
forms, scipy chi-square quantiles) and seeded Monte-Carlo samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer
from scipy import stats

from skywarden.errors import InputError
from skywarden.geo import (
    UNKNOWN_HORIZONTAL_SIGMA_M,
    UNKNOWN_VERTICAL_SIGMA_M,
    LocalFrame,
    enu_to_radar_plot,
    enu_velocity_to_ground,
    geodetic_to_ecef,
    geodetic_to_enu_with_cov,
    ground_velocity_to_enu,
    nacp_to_sigma_m,
    radar_plot_to_enu,
    remote_id_horizontal_accuracy_to_sigma_m,
    remote_id_vertical_accuracy_to_sigma_m,
    speed_accuracy_to_sigma_mps,
)
from skywarden.units import DEG, NM

GEOD = Geod(ellps="WGS84")
lat0s = st.floats(-80.0, 80.0)
lon0s = st.floats(-180.0, 180.0)
bearings = st.floats(0.0, 360.0)
distances = st.floats(0.0, 400_000.0)
heights = st.floats(-500.0, 20_000.0)


def _ecef_closed_form(lat_deg: float, lon_deg: float, h: float) -> np.ndarray:
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    n = a / math.sqrt(1 - e2 * math.sin(lat) ** 2)
    return np.array(
        [
            (n + h) * math.cos(lat) * math.cos(lon),
            (n + h) * math.cos(lat) * math.sin(lon),
            (n * (1 - e2) + h) * math.sin(lat),
        ]
    )


def _topocentric_oracle(frame: LocalFrame, lat, lon, h) -> np.ndarray:
    """PROJ's own cart + topocentric pipeline: an independent ENU implementation."""
    pipe = Transformer.from_pipeline(
        "+proj=pipeline +step +proj=axisswap +order=2,1 +step +proj=unitconvert "
        "+xy_in=deg +xy_out=rad +step +proj=cart +ellps=WGS84 +step +proj=topocentric "
        f"+ellps=WGS84 +lat_0={frame.lat0_deg} +lon_0={frame.lon0_deg} +h_0={frame.h0_m}"
    )
    e, n, u = pipe.transform(np.asarray(lat), np.asarray(lon), np.asarray(h))
    return np.stack([e, n, u], axis=-1)


@settings(deadline=None, max_examples=60)
@given(lat0s, lon0s, st.floats(-500.0, 3000.0), bearings, distances, heights)
def test_geodetic_enu_round_trip_within_a_millimetre(lat0, lon0, h0, bearing, dist, h):
    frame = LocalFrame(lat0, lon0, h0)
    lon, lat, _ = GEOD.fwd(lon0, lat0, bearing, dist)
    enu = frame.geodetic_to_enu(lat, lon, h)
    lat2, lon2, h2 = frame.enu_to_geodetic(enu)
    _, _, err = GEOD.inv(lon, lat, lon2[0], lat2[0])
    assert err < 1e-3
    assert abs(h2[0] - h) < 1e-3
    np.testing.assert_allclose(enu, _topocentric_oracle(frame, [lat], [lon], [h]), atol=1e-3)


@settings(deadline=None, max_examples=30)
@given(lat0s, lon0s, heights)
def test_ecef_matches_closed_form(lat, lon, h):
    np.testing.assert_allclose(
        geodetic_to_ecef(lat, lon, h)[0], _ecef_closed_form(lat, lon, h), atol=1e-6
    )


def test_point_due_north_at_same_height():
    frame = LocalFrame(47.0, 8.0, 0.0)
    lon, lat, _ = GEOD.fwd(8.0, 47.0, 0.0, 1000.0)  # 1000 m along the ellipsoid
    e, n, u = frame.geodetic_to_enu(lat, lon, 0.0)[0]
    assert abs(e) < 1e-6
    assert 999.9 < n < 1000.0
    # the surface falls away from the tangent plane by about d^2 / (2 R_meridian)
    assert u == pytest.approx(-(1000.0**2) / (2 * 6.366e6), rel=0.01)


def test_known_points_on_equator():
    frame = LocalFrame(0.0, 0.0, 0.0)
    np.testing.assert_allclose(frame.origin_ecef(), [6378137.0, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(frame.geodetic_to_enu(0.0, 0.0, 123.0), [[0, 0, 123.0]], atol=1e-6)
    # 90 deg east on the equator: ECEF (0, a, 0) -> ENU (a, 0, -a)
    a = 6378137.0
    np.testing.assert_allclose(frame.geodetic_to_enu(0.0, 90.0, 0.0), [[a, 0.0, -a]], atol=1e-6)
    np.testing.assert_allclose(
        frame.ecef_to_enu_rotation(), [[0, 1, 0], [0, 0, 1], [1, 0, 0]], atol=1e-15
    )


@settings(deadline=None, max_examples=30)
@given(lat0s, lon0s, st.lists(st.tuples(lat0s, lon0s), min_size=1, max_size=5))
def test_rotation_at_is_a_proper_rotation(lat0, lon0, points):
    frame = LocalFrame(lat0, lon0)
    lat, lon = np.array(points).T
    m = frame.rotation_at(lat, lon)
    assert m.shape == (len(points), 3, 3)
    np.testing.assert_allclose(
        m @ np.swapaxes(m, 1, 2), np.broadcast_to(np.eye(3), m.shape), atol=1e-12
    )
    np.testing.assert_allclose(np.linalg.det(m), 1.0, atol=1e-12)
    np.testing.assert_allclose(frame.rotation_at(lat0, lon0)[0], np.eye(3), atol=1e-12)


def test_rotation_at_maps_local_up_to_the_site_direction_of_the_normal():
    frame = LocalFrame(60.0, 10.0, 0.0)
    lon, lat, _ = GEOD.fwd(10.0, 60.0, 90.0, 200_000.0)
    up_site = frame.rotation_at(lat, lon)[0] @ np.array([0.0, 0.0, 1.0])
    p0 = frame.geodetic_to_enu(lat, lon, 0.0)[0]
    p1 = frame.geodetic_to_enu(lat, lon, 1000.0)[0]
    np.testing.assert_allclose(up_site, (p1 - p0) / 1000.0, atol=1e-9)


def test_bad_frame_origin_is_an_input_error():
    with pytest.raises(InputError):
        LocalFrame(91.0, 0.0)
    with pytest.raises(InputError):
        LocalFrame(float("nan"), 0.0)


RADAR = (52.1, 4.2, 30.0)
FRAME = LocalFrame(52.0, 4.0, 10.0)


@settings(deadline=None, max_examples=40)
@given(bearings, st.floats(500.0, 300_000.0), st.floats(0.0, 15_000.0))
def test_radar_plot_round_trips_with_height_and_with_elevation(bearing, dist, h):
    lon, lat, _ = GEOD.fwd(RADAR[1], RADAR[0], bearing, dist)
    truth = FRAME.geodetic_to_enu(lat, lon, h)
    r, az, el, h_t = enu_to_radar_plot(FRAME, *RADAR, truth)
    assert h_t[0] == pytest.approx(h, abs=1e-4)
    assert abs(math.remainder(az[0] - math.radians(bearing), 2 * math.pi)) < 1e-4
    z_h, R_h = radar_plot_to_enu(FRAME, *RADAR, r, az, height_m=h_t)
    z_el, R_el = radar_plot_to_enu(FRAME, *RADAR, r, az, elevation_rad=el)
    np.testing.assert_allclose(z_h, truth, atol=1e-3)
    np.testing.assert_allclose(z_el, truth, atol=1e-3)
    for R in (R_h, R_el):
        np.testing.assert_allclose(R, np.swapaxes(R, 1, 2))
        assert np.all(np.linalg.eigvalsh(R) > 0)


def test_apparent_elevation_uses_the_four_thirds_earth():
    # 100 km away at the radar's height: on the 4/3 earth the drop is r^2 / (2 k Re)
    lon, lat, _ = GEOD.fwd(RADAR[1], RADAR[0], 0.0, 100_000.0)
    truth = FRAME.geodetic_to_enu(lat, lon, RADAR[2])
    _, _, el, _ = enu_to_radar_plot(FRAME, *RADAR, truth)
    assert el[0] == pytest.approx(-100_000.0 / (2 * (4 / 3) * 6.38e6), rel=0.01)
    _, _, el_geometric, _ = enu_to_radar_plot(FRAME, *RADAR, truth, refraction_k=1.0)
    assert el_geometric[0] < el[0]


def _monte_carlo_check(z, R, samples):
    cov = np.cov(samples.T)
    standard_error = np.sqrt(np.diag(R[0]) / samples.shape[0])
    assert np.all(np.abs(samples.mean(axis=0) - z[0]) < 4 * standard_error)
    w = np.linalg.inv(np.linalg.cholesky(R[0]))
    np.testing.assert_allclose(w @ cov @ w.T, np.eye(3), atol=0.08)


@pytest.mark.parametrize(
    ("mode", "r0", "h0"),
    [
        ("height", 40_000.0, 2000.0),
        ("height", 5000.0, 3000.0),
        ("elevation", 40_000.0, 0.0),
        ("default", 40_000.0, 0.0),
    ],
)
def test_covariance_matches_monte_carlo(mode, r0, h0):
    rng = np.random.default_rng(20240611)
    n = 4000
    az0, el0 = 1.0, 0.04
    s_r, s_az, s_h, s_el = 100.0, 0.2 * DEG, 40.0, 0.3 * DEG
    r = r0 + s_r * rng.standard_normal(n)
    az = az0 + s_az * rng.standard_normal(n)
    common = dict(
        sigma_range_m=s_r, sigma_azimuth_rad=s_az, sigma_height_m=s_h, sigma_elevation_rad=s_el
    )
    if mode == "height":
        z, R = radar_plot_to_enu(FRAME, *RADAR, r0, az0, height_m=h0, **common)
        h = h0 + s_h * rng.standard_normal(n)
        samples, _ = radar_plot_to_enu(FRAME, *RADAR, r, az, height_m=h)
    elif mode == "elevation":
        z, R = radar_plot_to_enu(FRAME, *RADAR, r0, az0, elevation_rad=el0, **common)
        el = el0 + s_el * rng.standard_normal(n)
        samples, _ = radar_plot_to_enu(FRAME, *RADAR, r, az, elevation_rad=el)
    else:
        z, R = radar_plot_to_enu(FRAME, *RADAR, r0, az0, default_sigma_height_m=500.0, **common)
        h = RADAR[2] + 300.0 + 500.0 * rng.standard_normal(n)
        samples, _ = radar_plot_to_enu(FRAME, *RADAR, r, az, height_m=h)
    _monte_carlo_check(z, R, samples)


def test_plots_mix_height_elevation_and_neither():
    lon, lat, _ = GEOD.fwd(RADAR[1], RADAR[0], 30.0, 20_000.0)
    truth = FRAME.geodetic_to_enu(lat, lon, 1500.0)
    r, az, el, h = enu_to_radar_plot(FRAME, *RADAR, np.repeat(truth, 3, axis=0))
    z, R = radar_plot_to_enu(
        FRAME,
        *RADAR,
        r,
        az,
        height_m=np.array([h[0], np.nan, np.nan]),
        elevation_rad=np.array([np.nan, el[1], np.nan]),
    )
    np.testing.assert_allclose(z[:2], np.repeat(truth, 2, axis=0), atol=1e-3)
    _, _, _, h_default = enu_to_radar_plot(FRAME, *RADAR, z[2:])
    assert h_default[0] == pytest.approx(RADAR[2] + 300.0, abs=1e-3)
    assert R[2, 2, 2] > 100 * R[0, 2, 2]  # the unknown height is visible in the covariance


def test_short_range_default_height_stays_reachable():
    z, R = radar_plot_to_enu(FRAME, *RADAR, [50.0, 0.0], [0.5, 0.5])
    assert np.all(np.isfinite(z)) and np.all(np.isfinite(R))
    _, _, _, h = enu_to_radar_plot(FRAME, *RADAR, z[:1])
    assert h[0] == pytest.approx(RADAR[2] + 25.0, abs=1e-3)


@settings(deadline=None, max_examples=60)
@given(
    st.floats(0.0, 400_000.0),
    st.floats(-10.0, 10.0),
    st.one_of(st.none(), heights),
    st.floats(0.1, 500.0),
    st.floats(1e-5, 0.1),
    st.floats(0.1, 2000.0),
)
def test_radar_covariance_is_symmetric_positive_definite(r, az, h, s_r, s_az, s_h):
    z, R = radar_plot_to_enu(
        FRAME,
        *RADAR,
        r,
        az,
        height_m=h,
        sigma_range_m=s_r,
        sigma_azimuth_rad=s_az,
        sigma_height_m=s_h,
    )
    assert z.shape == (1, 3) and R.shape == (1, 3, 3)
    assert np.all(np.isfinite(z)) and np.all(np.isfinite(R))
    np.testing.assert_array_equal(R, np.swapaxes(R, 1, 2))
    np.linalg.cholesky(R)  # raises unless positive definite


@settings(deadline=None, max_examples=30)
@given(bearings, distances, heights, st.floats(0.5, 5000.0), st.floats(0.5, 500.0))
def test_cooperative_covariance_rotates_local_axes(bearing, dist, h, s_h, s_v):
    lon, lat, _ = GEOD.fwd(FRAME.lon0_deg, FRAME.lat0_deg, bearing, dist)
    z, R = geodetic_to_enu_with_cov(FRAME, lat, lon, h, s_h, s_v)
    np.testing.assert_allclose(z, FRAME.geodetic_to_enu(lat, lon, h))
    np.linalg.cholesky(R)
    up = FRAME.rotation_at(lat, lon)[0][:, 2]
    floor = 1e-5 + 1e-11 * (2 * s_h**2 + s_v**2)  # geo adds 1e-6 m^2 + 1e-12 of the trace
    assert up @ R[0] @ up == pytest.approx(s_v**2, rel=1e-9, abs=floor)
    assert np.trace(R[0]) == pytest.approx(2 * s_h**2 + s_v**2, rel=1e-9, abs=3 * floor)


def test_cooperative_covariance_at_the_origin_is_diagonal():
    _, R = geodetic_to_enu_with_cov(
        FRAME, [52.0, 52.0], [4.0, 4.0], [10.0, 10.0], np.array([3.0, 4.0]), 10.0
    )
    np.testing.assert_allclose(R[1], np.diag([16.0, 16.0, 100.0]), atol=1e-5)


def test_accuracy_tables():
    radial95 = math.sqrt(stats.chi2.ppf(0.95, 2))  # independent: 95 % radius of a 2-D Gaussian
    z95 = stats.norm.ppf(0.975)
    assert nacp_to_sigma_m(11)[0] == pytest.approx(3.0 / radial95)
    assert nacp_to_sigma_m(9)[0] == pytest.approx(30.0 / radial95)
    assert nacp_to_sigma_m(8)[0] == pytest.approx(0.05 * NM / radial95)
    assert nacp_to_sigma_m(1)[0] == pytest.approx(10 * NM / radial95)
    np.testing.assert_array_equal(nacp_to_sigma_m([0, 12, 15, -1]), UNKNOWN_HORIZONTAL_SIGMA_M)
    assert np.all(np.diff(nacp_to_sigma_m(np.arange(12))) < 0)
    h = remote_id_horizontal_accuracy_to_sigma_m(np.arange(16))
    np.testing.assert_allclose(h[1:12], nacp_to_sigma_m(np.arange(1, 12)))
    assert h[12] == pytest.approx(1.0 / radial95)
    np.testing.assert_array_equal(h[[0, 13, 14, 15]], UNKNOWN_HORIZONTAL_SIGMA_M)
    v = remote_id_vertical_accuracy_to_sigma_m(np.arange(16))
    np.testing.assert_allclose(v[1:7], np.array([150, 45, 25, 10, 3, 1]) / z95)
    np.testing.assert_array_equal(v[[0, 7, 15]], UNKNOWN_VERTICAL_SIGMA_M)
    assert speed_accuracy_to_sigma_mps(4)[0] == pytest.approx(0.3 / z95)


@settings(deadline=None, max_examples=30)
@given(bearings, distances, heights, st.floats(0.0, 300.0), bearings, st.floats(-30.0, 30.0))
def test_ground_velocity_matches_finite_difference(bearing, dist, h, gs, track_deg, vrate):
    # oracle: move 1 s along the geodesic with the given track, difference the ENU positions
    lon, lat, _ = GEOD.fwd(FRAME.lon0_deg, FRAME.lat0_deg, bearing, dist)
    v = ground_velocity_to_enu(FRAME, lat, lon, gs, math.radians(track_deg), vrate)
    dt = 1e-2
    lon2, lat2, _ = GEOD.fwd(lon, lat, track_deg, gs * dt * 6.37e6 / (6.37e6 + h))
    p0 = FRAME.geodetic_to_enu(lat, lon, h)
    p1 = FRAME.geodetic_to_enu(lat2, lon2, h + vrate * dt)
    np.testing.assert_allclose(v, (p1 - p0) / dt, atol=0.01 + 0.01 * gs)
    back = enu_velocity_to_ground(FRAME, p0, v)
    assert back[0][0] == pytest.approx(gs, abs=1e-9)
    assert back[2][0] == pytest.approx(vrate, abs=1e-9)
    if gs > 1e-3:
        # the track angle is atan2 of the velocity: its rounding error is ~1e-12 m/s / gs
        tol = 1e-9 * max(1.0, 1.0 / gs)
        assert abs(math.remainder(back[1][0] - math.radians(track_deg), 2 * math.pi)) < tol


def test_unknown_vertical_rate_leaves_the_horizontal_velocity():
    v = ground_velocity_to_enu(FRAME, [52.0, 52.0], [4.0, 4.0], 10.0, 0.0, [np.nan, 0.0])
    np.testing.assert_allclose(v[0, :2], v[1, :2])
    assert np.isnan(v[0, 2]) and v[1, 2] == pytest.approx(0.0, abs=1e-12)


def test_empty_inputs_give_empty_outputs():
    e = np.zeros(0)
    assert FRAME.geodetic_to_enu(e, e, e).shape == (0, 3)
    z, R = radar_plot_to_enu(FRAME, *RADAR, e, e)
    assert z.shape == (0, 3) and R.shape == (0, 3, 3)
    z, R = geodetic_to_enu_with_cov(FRAME, e, e, e, 1.0, 1.0)
    assert z.shape == (0, 3) and R.shape == (0, 3, 3)


def test_non_finite_input_comes_out_non_finite_without_a_warning() -> None:
    """Corrupted input (the soak's fuzzed feeds) reaches the geodesy before it is counted
    invalid: the row must come out non-finite, quietly, and the other rows stay exact."""
    import warnings

    frame = LocalFrame(52.0, 5.0, 10.0)
    good = frame.geodetic_to_enu(52.01, 5.01, 100.0)
    ecef = np.array([[np.inf, -np.inf, 0.0], [np.nan, 1.0, 2.0]])
    ecef = np.vstack([ecef, frame.enu_to_ecef(good)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        enu = frame.ecef_to_enu(ecef)
    assert not np.isfinite(enu[:2]).all(axis=1).any()
    np.testing.assert_allclose(enu[2], good[0], atol=1e-6)
