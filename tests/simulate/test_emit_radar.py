"""Radar wire output (CAT034 + CAT048 in a pcap) decoded back with the project's decoders.

Oracles: the scenario's own detections; the I048 quantisation propagated through textbook
radar geometry (bounds computed here, not in geo.py); slant ranges from ECEF positions built
with pyproj and the textbook ENU rotation; the CAT034 messages read back from the wire.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.simulate import build_scenario
from skywarden.simulate.emit import RECORDING_NAMES, write_scenario_recordings
from skywarden.simulate.emit_radar import (
    height_to_pressure_altitude_m,
    radar_messages,
    truth_velocity_of_detections,
)
from skywarden.simulate.emit_site import NON_COOPERATIVE_KINDS, RADAR, SiteSetup
from skywarden.sources.asterix.decoder import AsterixDecoder, decode_capture
from skywarden.sources.asterix.detections import (
    RadarSite,
    cat048_to_detections,
    pressure_altitude_to_height_m,
)
from skywarden.sources.recordings.pcap import iter_frames, udp_datagrams
from skywarden.units import DEG, FT, NM

HALF_RANGE_LSB_M = NM / 512.0
HALF_AZIMUTH_LSB_RAD = 360.0 / 65536.0 / 2.0 * DEG
HALF_HEIGHT_LSB_M = 12.5 * FT  # I048/110 and I048/090 are both 25 ft
SITE = (50.8503, 4.3517, 100.0)
RADAR_OFFSET_ENU = (2500.0, -1800.0, 25.0)  # the radar is not at the site origin
SCENARIOS = {"mixed": dict(seed=3, n_scans=40), "swarm": dict(seed=5, n_scans=30)}


def ecef(lat_deg, lon_deg, h_m) -> np.ndarray:
    x, y, z = pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True).transform(
        lon_deg, lat_deg, h_m
    )
    return np.stack([np.asarray(x), np.asarray(y), np.asarray(z)], axis=-1).reshape(-1, 3)


def enu_to_ecef(enu: np.ndarray) -> np.ndarray:
    """Textbook ENU -> ECEF at SITE (independent of geo.py)."""
    lat, lon = SITE[0] * DEG, SITE[1] * DEG
    east = [-math.sin(lon), math.cos(lon), 0.0]
    north = [-math.sin(lat) * math.cos(lon), -math.sin(lat) * math.sin(lon), math.cos(lat)]
    up = [math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)]
    return enu @ np.array([east, north, up]) + ecef(*SITE)[0]


def make_setup(**kw) -> SiteSetup:
    base = SiteSetup(lat_deg=SITE[0], lon_deg=SITE[1], h_m=SITE[2])
    lat, lon, h = base.frame.enu_to_geodetic(np.array([RADAR_OFFSET_ENU]))
    return SiteSetup(
        lat_deg=SITE[0],
        lon_deg=SITE[1],
        h_m=SITE[2],
        radar=RadarSite(float(lat[0]), float(lon[0]), float(h[0])),
        **kw,
    )


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def recorded(request, tmp_path_factory):
    """(scenario, setup, emission, decoded records, decoder) for one scenario."""
    name = request.param
    scenario = build_scenario(name, **SCENARIOS[name])
    setup = make_setup()
    out = tmp_path_factory.mktemp(name)
    paths = write_scenario_recordings(scenario, setup, out, channels=[RADAR])
    assert paths == {RADAR: out / RECORDING_NAMES[RADAR]}
    records, decoder = decode_capture(paths[RADAR].read_bytes())
    return scenario, setup, radar_messages(scenario, setup), records, decoder


def slant_range(setup: SiteSetup, enu: np.ndarray) -> np.ndarray:
    radar = setup.radar_site
    return np.linalg.norm(enu_to_ecef(enu) - ecef(radar.lat_deg, radar.lon_deg, radar.h_m), axis=1)


def quantisation_bound(setup: SiteSetup, enu: np.ndarray) -> np.ndarray:
    """Largest position error (m) that half-LSB range/azimuth/height errors can cause.

    Slant r, height difference dz, ground distance d = sqrt(r^2 - dz^2): a range error dr
    and height error dh move the plot along the ground by (r dr + |dz| dh) / d; azimuth
    moves it by d * daz; height by dh. 10 % margin for the earth's curvature, plus 1 cm.
    """
    r = slant_range(setup, enu)
    dz = enu[:, 2] - RADAR_OFFSET_ENU[2]
    d = np.sqrt(np.maximum(r**2 - dz**2, 1.0))
    radial = (r * HALF_RANGE_LSB_M + np.abs(dz) * HALF_HEIGHT_LSB_M) / d
    return 1.1 * np.sqrt(radial**2 + (d * HALF_AZIMUTH_LSB_RAD) ** 2 + HALF_HEIGHT_LSB_M**2) + 0.01


def test_every_detection_in_coverage_becomes_one_plot(recorded):
    scenario, setup, emission, records, decoder = recorded
    # 100 km instrumented range: both scenarios' volumes (15 km / 6 km cylinders, 12 km /
    # 1 km high) lie inside, even seen from the radar 3 km off the site origin: none is lost.
    outside = slant_range(setup, scenario.det_z) > setup.max_range_m
    assert outside.sum() == emission.outside.sum() == 0
    assert len(records.cat048) == len(scenario.det_t) - outside.sum()
    assert sorted(emission.plot_detection) == list(range(len(scenario.det_t)))
    assert not decoder.rejects
    assert set(records.cat048.sac) == {setup.radar_sac}
    assert set(records.cat048.sic) == {setup.radar_sic}


def test_decoded_positions_equal_detections_within_quantisation(recorded):
    scenario, setup, emission, records, _ = recorded
    det = cat048_to_detections(records.cat048, setup.frame, setup.radar_site)
    # each plot is the detection moved along its target's true velocity to the plot time
    det_index = emission.plot_detection
    scan_t = setup.posix(scenario.times)[scenario.scan_index[det_index]]
    v = truth_velocity_of_detections(scenario, det_index)
    expected = scenario.det_z[det_index] + v * (emission.plot_t - scan_t)[:, None]
    error = np.linalg.norm(det.z - expected, axis=1)
    bound = quantisation_bound(setup, expected)
    assert np.all(error <= bound), (error - bound).max()
    # below 10 deg elevation: at most hypot(3.6 * 1.02 + 3.8 * 0.18, 3.8, ~1) = 5.9 m
    low = np.abs(expected[:, 2] - RADAR_OFFSET_ENU[2]) < math.sin(10 * DEG) * slant_range(
        setup, expected
    )
    assert low.sum() > 0.3 * low.size
    assert error[low].max() < 6.0
    assert error[low].mean() < 3.5


def test_plot_times_follow_the_antenna(recorded):
    scenario, setup, emission, records, _ = recorded
    plots, services = records.cat048, records.cat034
    north = services.message_type == 1
    north_t = services.t[north]
    period = scenario.sensor_params.scan_period
    assert north_t.shape[0] == scenario.n_scans
    np.testing.assert_allclose(
        north_t, setup.posix(scenario.times) - period / 2, rtol=0, atol=1 / 256
    )
    # each plot: time = its rotation's north crossing + azimuth / 360 deg of a rotation
    into_rotation = plots.azimuth_rad / (2 * math.pi) * period
    rotation = np.rint((plots.t - into_rotation - north_t[0]) / period).astype(int)
    np.testing.assert_allclose(plots.t, north_t[rotation] + into_rotation, rtol=0, atol=2 / 128)
    np.testing.assert_allclose(plots.t, emission.plot_t, rtol=0, atol=1 / 256)
    assert rotation.tolist() == scenario.scan_index[emission.plot_detection].tolist()


def test_sector_messages_in_order_around_the_rotation(recorded):
    scenario, setup, _, records, _ = recorded
    services = records.cat034
    sectors = setup.sectors
    assert len(services) == scenario.n_scans * sectors
    kind = services.message_type.reshape(scenario.n_scans, sectors)
    assert np.all(kind[:, 0] == 1) and np.all(kind[:, 1:] == 2)
    step = 360.0 / sectors
    az = np.nan_to_num(services.sector_azimuth_rad / DEG).reshape(scenario.n_scans, sectors)
    np.testing.assert_allclose(
        az, np.tile(np.arange(sectors) * step, (scenario.n_scans, 1)), rtol=0, atol=1e-9
    )
    assert np.all(np.diff(services.t) > 0)
    period = scenario.sensor_params.scan_period
    np.testing.assert_allclose(np.diff(services.t), period / sectors, rtol=0, atol=1 / 128)
    north = services.message_type == 1
    np.testing.assert_allclose(services.rotation_period_s[north], period, rtol=0, atol=1 / 256)
    radar = setup.radar_site
    np.testing.assert_allclose(
        services.radar_lat_deg[north], radar.lat_deg, rtol=0, atol=180 / 2**24
    )
    np.testing.assert_allclose(
        services.radar_lon_deg[north], radar.lon_deg, rtol=0, atol=180 / 2**24
    )
    np.testing.assert_allclose(services.radar_height_m[north], radar.h_m, rtol=0, atol=0.5)
    # the plots of a sector come after its crossing message and before the next one
    last_service = np.searchsorted(services.block, records.cat048.block) - 1
    start = np.nan_to_num(services.sector_azimuth_rad[last_service])
    offset = records.cat048.azimuth_rad - start
    assert np.all(offset >= -HALF_AZIMUTH_LSB_RAD)
    assert np.all(offset < step * DEG + HALF_AZIMUTH_LSB_RAD)


def test_mode_s_addresses_map_to_the_right_aircraft(recorded):
    scenario, setup, emission, records, _ = recorded
    plots = records.cat048
    target = scenario.det_truth_id[emission.plot_detection]
    k = np.maximum(target, 0)
    silent = np.isin(scenario.target_kind[k], NON_COOPERATIVE_KINDS)  # gliders, ultralights
    aircraft = (target >= 0) & (scenario.target_class[k] == "aircraft") & ~silent
    assert np.array_equal(plots.address >= 0, aircraft)
    assert np.array_equal(setup.target_of_icao(plots.address[aircraft]), target[aircraft])
    assert np.all(plots.mode_c_valid[aircraft]) and np.all(plots.mode3a_valid[aircraft])
    assert np.all(plots.typ[aircraft] == 7) and np.all(plots.typ[~aircraft] == 1)
    assert [f"SWD{k:04d}" for k in target[aircraft]] == plots.callsign[aircraft].tolist()
    assert np.all(np.isnan(plots.measured_height_m[aircraft]))
    assert np.all(np.isfinite(plots.measured_height_m[~aircraft]))
    assert aircraft.any() == (scenario.name == "mixed")
    det = cat048_to_detections(plots, setup.frame, setup.radar_site)
    assert np.array_equal(det.identity >= 0, aircraft)


def test_datagrams_look_like_a_radar(recorded, tmp_path):
    scenario, setup, _, _, _ = recorded
    data = write_scenario_recordings(scenario, setup, tmp_path, [RADAR])[RADAR].read_bytes()
    rejects: Counter[str] = Counter()
    datagrams = list(udp_datagrams(iter_frames(data, rejects), rejects))
    assert not rejects
    assert {(d.dst, d.dport) for d in datagrams} == {(setup.radar_group, setup.radar_port)}
    assert max(len(d.payload) for d in datagrams) < 1472  # one Ethernet MTU, no fragments
    times = [d.t for d in datagrams]
    assert times == sorted(times)
    assert {d.payload[0] for d in datagrams} == {34, 48}


def test_plots_beyond_the_instrumented_range_are_counted_not_sent():
    scenario = build_scenario("mixed", 3, n_scans=8)
    setup = make_setup(max_range_m=9000.0)
    outside = slant_range(setup, scenario.det_z) > setup.max_range_m
    emission = radar_messages(scenario, setup)
    # clutter fills the 15 km cylinder and the airliners cross it: some plots lie beyond 9 km
    assert 0 < outside.sum() < len(outside)
    assert np.array_equal(emission.outside, outside)
    assert sorted(emission.plot_detection) == np.flatnonzero(~outside).tolist()
    payloads = [m.data for m in emission.messages]
    records = AsterixDecoder().decode_datagrams(payloads, [m.t for m in emission.messages])
    assert len(records.cat048) == (~outside).sum()


@settings(max_examples=50, deadline=None)
@given(st.floats(-400.0, 15000.0))
def test_mode_c_is_the_exact_inverse_of_the_decoder_conversion(height_m):
    back = pressure_altitude_to_height_m(height_to_pressure_altitude_m(np.array([height_m])))
    assert abs(back[0] - height_m) < 1e-6


def test_plot_positions_follow_the_target_to_the_plot_time() -> None:
    """A fast target's plot lies where the target is at the plot's own time, not at the scan
    time: an airliner at ~200 m/s seen half a rotation off the scan time moves ~100 m."""
    scenario = build_scenario("mixed", 1, n_scans=5)
    setup = SiteSetup()
    emission = radar_messages(scenario, setup)
    det_index = emission.plot_detection
    scan_t = setup.posix(scenario.times)[scenario.scan_index[det_index]]
    v = truth_velocity_of_detections(scenario, det_index)
    dt = emission.plot_t - scan_t
    assert np.abs(dt).max() <= 0.5 * setup.rotation_period(scenario) + 1e-9
    clutter = scenario.det_truth_id[det_index] < 0
    assert np.all(v[clutter] == 0.0)
    fast = np.linalg.norm(v, axis=1) > 100.0
    assert fast.any() and np.abs(dt[fast]).max() > 0.05
