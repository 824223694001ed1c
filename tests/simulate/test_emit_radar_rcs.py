"""Simulated plot amplitudes: `simulate --wire`'s radar.pcap, read with the site.toml written
beside it, gives back each plot's RCS (scenario.det_rcs_dbsm).

Oracles: the scenario's own RCS per detection; the PAM rounding (0.5 dB) and the signed-byte
clipping bounds worked out here; the site configuration read back by the real loader.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from skywarden.geo import LocalFrame
from skywarden.service import make_feed
from skywarden.simulate import build_scenario
from skywarden.simulate.emit import RECORDING_NAMES, write_scenario_recordings
from skywarden.simulate.emit_radar import primary_amplitude_dbm, radar_messages
from skywarden.simulate.emit_site import (
    CHANNELS,
    RADAR,
    SITE_CONFIG_NAME,
    SiteSetup,
    site_toml,
    write_wire_site_config,
)
from skywarden.site_config import load_site_config
from skywarden.sources.recordings.pcap import iter_frames, udp_datagrams
from skywarden.units import NM
from tests.simulate.test_emit_radar import make_setup

HALF_DB = 0.5 + 1e-9  # PAM is whole dBm


def _replayed(scenario, setup, out):
    """Detections of radar.pcap through the feed the written site.toml configures."""
    paths = write_scenario_recordings(scenario, setup, out, channels=[RADAR])
    config = load_site_config(write_wire_site_config(scenario, setup, paths, out))
    (sensor,) = config.sensors
    feed = make_feed(sensor, 0, LocalFrame(config.lat, config.lon, config.height_m))
    datagrams = list(udp_datagrams(iter_frames(paths[RADAR].read_bytes())))
    det = feed.feed_many([(d.t, d.payload, 0) for d in datagrams])
    assert not feed.counters.rejects
    return sensor, det


@pytest.mark.parametrize(("name", "seed"), [("mixed", 3), ("swarm", 5)])
def test_wire_rcs_round_trip(name, seed, tmp_path) -> None:
    scenario = build_scenario(name, seed, n_scans=25)
    setup = make_setup()
    sensor, det = _replayed(scenario, setup, tmp_path)
    assert sensor.rcs_calibration_dbm == setup.rcs_calibration_dbm == -20.0
    emission = radar_messages(scenario, setup)
    assert len(det) == emission.plot_detection.shape[0] == scenario.det_t.shape[0]
    truth = scenario.det_rcs_dbsm[emission.plot_detection]
    pam = emission.plot_amplitude_dbm
    unclipped = (pam > -128) & (pam < 127)
    assert unclipped.mean() > 0.99  # the default calibration fits these scenarios
    assert np.isfinite(det.rcs_dbsm).all()
    error = det.rcs_dbsm - truth
    assert np.abs(error[unclipped]).max() <= HALF_DB
    # rounding to whole dB is unbiased: the mean error is near 0, spread ~ 1/sqrt(12) dB
    assert abs(error[unclipped].mean()) < 0.05
    assert error[unclipped].std() == pytest.approx(1 / math.sqrt(12), abs=0.05)


def test_clipped_amplitudes_bound_the_rcs(tmp_path) -> None:
    """A calibration 55 dB too low pushes weak plots below -128 dBm: their RCS comes back
    as an upper bound of the truth, the rest still within half a dB."""
    scenario = build_scenario("mixed", 3, n_scans=8)
    setup = make_setup(rcs_calibration_dbm=-75.0)
    _, det = _replayed(scenario, setup, tmp_path)
    emission = radar_messages(scenario, setup)
    truth = scenario.det_rcs_dbsm[emission.plot_detection]
    low = emission.plot_amplitude_dbm == -128
    assert 0.2 < low.mean() < 0.95
    assert np.all(det.rcs_dbsm[low] >= truth[low] - HALF_DB)
    assert np.all(det.rcs_dbsm[~low] - truth[~low] <= HALF_DB)
    assert np.all(np.abs(det.rcs_dbsm[~low] - truth[~low]) <= HALF_DB)


def test_primary_amplitude_by_hand() -> None:
    # ranges as the plot reports them (multiples of 1/256 NM), calibration -20 dBm
    r = np.array([10.0 * NM, 1000.0, 1.0, 100_000.0, 500.0])
    rcs = np.array([10.0, 0.0, 0.0, -80.0, np.nan])
    pam = primary_amplitude_dbm(rcs, r, -20.0)
    spread = 40 * math.log10(10.0 * NM / 1000.0)  # 10 NM = 18.52 km (2560 LSB): 50.71 dB
    assert pam[0] == round(10.0 - 20.0 - spread) == -61
    # 1000 m reported as round(1000 / 7.234 m) = 138 LSB = 998.3 m: -20 + 0.03 -> -20
    assert pam[1] == -20.0
    assert np.isnan(pam[2])  # 1 m reports as range 0: no amplitude
    assert pam[3] == -128.0  # -80 - 20 - 80 = -180, clipped
    assert np.isnan(pam[4])


def test_written_site_config_has_a_sensor_per_recording(tmp_path) -> None:
    scenario = build_scenario("mixed", 2, n_scans=4)
    setup = SiteSetup(rcs_calibration_dbm=-33.0)
    paths = write_scenario_recordings(scenario, setup, tmp_path)
    path = write_wire_site_config(scenario, setup, paths, tmp_path, speed=0.0)
    assert path == tmp_path / SITE_CONFIG_NAME
    text = path.read_text()
    assert str(tmp_path) not in text  # files are relative to the config's folder
    config = load_site_config(path)
    assert (config.lat, config.lon, config.height_m) == (setup.lat_deg, setup.lon_deg, setup.h_m)
    assert config.scan_period_s == scenario.sensor_params.scan_period
    by_name = {s.name: s for s in config.sensors}
    assert sorted(by_name) == sorted(CHANNELS)
    assert {s.file for s in config.sensors} == {tmp_path / RECORDING_NAMES[c] for c in CHANNELS}
    radar = by_name[RADAR]
    assert radar.kind == "asterix" and radar.rcs_calibration_dbm == -33.0
    assert (radar.lat, radar.lon, radar.height_m) == (setup.lat_deg, setup.lon_deg, setup.h_m)
    assert radar.range_m == setup.max_range_m
    assert all(s.transport == "file" and math.isinf(s.speed) for s in config.sensors)
    assert [s.rcs_calibration_dbm for s in config.sensors].count(None) == len(CHANNELS) - 1


def test_site_toml_scalars() -> None:
    text = site_toml({"a": {"s": 'x "y"', "i": np.int64(3), "f": np.float64(0.5), "b": True}})
    assert text.splitlines()[1:] == ["", "[a]", 's = "x \\"y\\""', "i = 3", "f = 0.5", "b = true"]
    with pytest.raises(ValueError):
        site_toml({"a": {"f": math.nan}})


def test_clutter_only_scans_still_go_on_the_wire() -> None:
    """The first scans of the swarm hold no target yet: clutter plots, with amplitudes."""
    scenario = build_scenario("swarm", 1, n_scans=3)
    assert scenario.truth_id.size == 0 and scenario.det_t.size > 0
    emission = radar_messages(scenario, SiteSetup())
    assert emission.plot_detection.shape[0] == scenario.det_t.size
    assert np.isfinite(emission.plot_amplitude_dbm).all()


def test_written_site_config_builds_the_service(tmp_path) -> None:
    from skywarden.service import build_service

    scenario = build_scenario("crossing", 1, n_scans=3)
    setup = SiteSetup()
    paths = write_scenario_recordings(scenario, setup, tmp_path, channels=[RADAR])
    config = load_site_config(write_wire_site_config(scenario, setup, paths, tmp_path))
    service = build_service(config, with_server=False)
    (source,) = service.sources
    assert source.feed.rcs_calibration_dbm == setup.rcs_calibration_dbm
