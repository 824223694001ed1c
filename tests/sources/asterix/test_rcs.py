"""Plot amplitude -> radar cross-section: cat048_to_detections, the feed, the site setting.

Oracle: the radar equation worked by hand (received power ~ RCS / R^4, so RCS in dBsm =
PAM - calibration + 40 log10(R / 1 km)).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.errors import ConfigError
from skywarden.geo import LocalFrame
from skywarden.service import make_feed
from skywarden.site_config import site_config_from_dict, site_config_to_dict
from skywarden.sources.asterix.detections import (
    RadarSite,
    amplitude_from_rcs,
    cat048_to_detections,
    rcs_from_amplitude,
)
from skywarden.sources.asterix.encode import encode_cat048
from skywarden.sources.asterix.records import Cat048Records
from skywarden.sources.feeds import AsterixFeed

FRAME = LocalFrame(41.3, 2.1, 0.0)
RADAR = RadarSite(41.3, 2.1, 0.0)
# (PAM dBm, slant range m, calibration dBm, RCS dBsm worked by hand)
HAND = [
    (-50.0, 10_000.0, -20.0, 10.0),  # -50 + 20 + 40 * 1
    (-10.0, 100.0, 0.0, -50.0),  # -10 - 0 + 40 * (-1)
    (3.0, 2000.0, -7.0, 10.0 + 40.0 * math.log10(2.0)),  # 22.04 dBsm
    (-128.0, 1000.0, -60.0, -68.0),  # at the reference range the spread is 0
]


def _plots(pam: list[float], range_m: list[float]) -> Cat048Records:
    n = len(pam)
    return Cat048Records.from_columns(
        {
            "sac": np.ones(n),
            "sic": np.ones(n),
            "t": np.full(n, 1.7e9),
            "range_m": range_m,
            "azimuth_rad": np.linspace(0.0, 1.0, n),
            "measured_height_m": np.full(n, 300.0),
            "primary_amplitude_dbm": pam,
        },
        n,
    )


def test_rcs_from_amplitude_and_range_by_hand() -> None:
    pam, r, cal, rcs = (np.array(c) for c in zip(*HAND, strict=True))
    for i in range(len(HAND)):
        det = cat048_to_detections(
            _plots([pam[i]], [r[i]]), FRAME, RADAR, rcs_calibration_dbm=float(cal[i])
        )
        assert det.rcs_dbsm[0] == pytest.approx(rcs[i], abs=1e-9)


def test_rcs_is_nan_without_calibration_or_amplitude() -> None:
    plots = _plots([-50.0, np.nan, -30.0], [10_000.0, 5000.0, 0.0])
    without = cat048_to_detections(plots, FRAME, RADAR)
    assert len(without) == 3 and np.isnan(without.rcs_dbsm).all()
    calibrated = cat048_to_detections(plots, FRAME, RADAR, rcs_calibration_dbm=-20.0)
    assert calibrated.rcs_dbsm[0] == pytest.approx(10.0)
    assert np.isnan(calibrated.rcs_dbsm[1])  # no PAM in the plot
    assert np.isnan(calibrated.rcs_dbsm[2])  # zero range: no radar equation


def test_rcs_follows_the_plot_when_plots_are_dropped() -> None:
    """Plots without a time are left out; the RCS stays with its own plot."""
    plots = _plots([-50.0, -40.0, -30.0], [10_000.0, 10_000.0, 10_000.0])
    t = plots.t.copy()
    t[1] = np.nan
    plots = Cat048Records.from_columns(
        {name: getattr(plots, name) for name in Cat048Records.dtypes()} | {"t": t}, 3
    )
    det = cat048_to_detections(plots, FRAME, RADAR, rcs_calibration_dbm=-20.0)
    np.testing.assert_allclose(det.rcs_dbsm, [10.0, 30.0])


@settings(deadline=None, max_examples=50)
@given(
    st.floats(-60.0, 40.0),
    st.floats(1.0, 400_000.0),
    st.floats(-150.0, 50.0),
)
def test_amplitude_and_rcs_are_inverse(rcs, range_m, calibration) -> None:
    pam = amplitude_from_rcs(np.array([rcs]), np.array([range_m]), calibration)
    back = rcs_from_amplitude(pam, np.array([range_m]), calibration)
    assert back[0] == pytest.approx(rcs, abs=1e-9)
    # 20 log10 of the range squared twice: doubling the range costs 12.04 dB of amplitude
    far = amplitude_from_rcs(np.array([rcs]), np.array([2 * range_m]), calibration)
    assert pam[0] - far[0] == pytest.approx(40.0 * math.log10(2.0), abs=1e-9)


def test_feed_with_a_calibration_gives_the_rcs() -> None:
    plots = Cat048Records.from_columns(
        {name: getattr(_plots([-41.0], [5000.0]), name) for name in Cat048Records.dtypes()}
        | {"tod_s": [43200.0]},
        1,
    )
    (block,) = encode_cat048(plots)
    calibrated = AsterixFeed(FRAME, 0, RADAR, rcs_calibration_dbm=-30.0)
    det = calibrated.feed(1.7e9, block)
    # the decoded range is 5000 m to 1/256 NM: -41 + 30 + 40 log10(5) = 16.99 dBsm
    assert det.rcs_dbsm[0] == pytest.approx(-11.0 + 40.0 * math.log10(5.0), abs=0.01)
    uncalibrated = AsterixFeed(FRAME, 0, RADAR).feed(1.7e9, block)
    assert len(uncalibrated) == 1 and np.isnan(uncalibrated.rcs_dbsm[0])


def _site(**radar) -> dict:
    sensor = {"name": "r", "kind": "asterix", "port": 8600, "lat": 41.3, "lon": 2.1} | radar
    return {"site": {"lat": 41.3, "lon": 2.1}, "sensors": [sensor]}


def test_site_setting_reaches_the_feed_and_survives_the_stored_config() -> None:
    config = site_config_from_dict(_site(rcs_calibration_dbm=-42.5), Path("."))
    assert config.sensors[0].rcs_calibration_dbm == -42.5
    feed = make_feed(config.sensors[0], 0, FRAME)
    assert isinstance(feed, AsterixFeed) and feed.rcs_calibration_dbm == -42.5
    stored = site_config_to_dict(config)
    again = site_config_from_dict(stored, Path("."))
    assert again.sensors[0].rcs_calibration_dbm == -42.5
    plain = site_config_from_dict(_site(), Path("."))
    assert plain.sensors[0].rcs_calibration_dbm is None
    assert make_feed(plain.sensors[0], 0, FRAME).rcs_calibration_dbm is None
    assert "rcs_calibration_dbm" not in site_config_to_dict(plain)["sensors"][0]


@pytest.mark.parametrize(
    ("sensor", "message"),
    [
        ({"rcs_calibration_dbm": "-20"}, "must be a number"),
        ({"rcs_calibration_dbm": True}, "must be a number"),
        ({"rcs_calibration_dbm": 1e6}, "outside"),
        ({"rcs_calibration_dbm": float("nan")}, "outside"),
        ({"kind": "sbs", "rcs_calibration_dbm": -20.0}, "only an asterix radar"),
    ],
)
def test_bad_calibration_is_a_config_error_naming_the_key(sensor, message) -> None:
    with pytest.raises(ConfigError, match="sensors\\[0\\].rcs_calibration_dbm") as info:
        site_config_from_dict(_site(**sensor), Path("."), source="site.toml")
    assert message in str(info.value)
