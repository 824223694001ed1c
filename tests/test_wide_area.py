"""A national feed in the site frame: far tracks keep their true heights.

skywarden tracks far reports (an ATC picture 1,600 km wide) in the site ENU frame, which is
an exact Cartesian frame (rotated ECEF through pyproj): positions, velocities and
covariances are rotated at each report's own place, so nothing is lost at range. What must
not be done is to read ENU u as a height: 500 km out it is 20 km below the true height.
Every height shown (CSV and API ``alt_m``, the store) is converted back to geodetic; the
classifier and the rules use the height above the site sphere.
"""

from __future__ import annotations

import numpy as np

from skywarden.classify import ScanClassifier, features_from_window
from skywarden.classify.features import FEATURE_NAMES
from skywarden.geo import LocalFrame
from skywarden.sources.asterix.detections import (
    cat062_to_detections,
    pressure_altitude_to_height_m,
)
from skywarden.sources.asterix.records import Cat062Records
from skywarden.track.params import TrackerParams
from skywarden.track.run import run_tracker
from skywarden.units import FL

SITE = LocalFrame(-34.82, -58.53, 20.0)  # near Buenos Aires
FL350 = 350 * FL


def _system_track(distance_m: float, n: int = 60, period_s: float = 4.0) -> Cat062Records:
    """An airliner at FL350 flying north at 230 m/s, distance_m east of the site."""
    t = 1_777_000_000.0 + period_s * np.arange(n)
    lat0, lon0, _ = SITE.enu_to_geodetic(np.array([[distance_m, 0.0, 0.0]]))
    lat = lat0[0] + (230.0 * (t - t[0])) / 111_000.0
    return Cat062Records.from_columns(
        {
            "sac": np.full(n, 226), "sic": np.full(n, 2), "t": t, "tod_s": t % 86400.0,
            "track_number": np.full(n, 4242), "lat_deg": lat, "lon_deg": np.full(n, lon0[0]),
            "vx_mps": np.zeros(n), "vy_mps": np.full(n, 230.0), "mode3a": np.full(n, 0o2345),
            "mode3a_valid": np.ones(n, bool), "pressure_altitude_m": np.full(n, FL350),
        },
        n,
    )  # fmt: skip


def test_an_aircraft_500_km_away_keeps_its_true_flight_level():
    records = _system_track(500_000.0)
    dets = cat062_to_detections(records, SITE)
    assert dets.z[:, 2].max() < -8_000.0  # ENU u: the curvature, 19.6 km down at 500 km
    classifier = ScanClassifier()
    history, tracks = run_tracker(
        ((float(t), dets.take(dets.t == t)) for t in np.unique(dets.t)), TrackerParams(),
        classifier,
    )  # fmt: skip
    assert np.unique(history.id).size == 1  # one ATC track, one skywarden track
    _, _, alt = SITE.enu_to_geodetic(history.x[:, :3])
    expected = float(pressure_altitude_to_height_m(FL350))
    assert np.abs(alt - expected).max() < 100.0
    assert abs(expected - FL350) < 30.0  # the ISA's geometric correction at FL350
    window = classifier.state.window
    f = features_from_window(window)
    height = f[:, FEATURE_NAMES.index("height_mean")]
    vz = f[:, FEATURE_NAMES.index("vz_mean")]
    assert np.abs(height - expected).max() < 100.0  # the site sphere vs the ellipsoid
    assert np.abs(vz).max() < 2.0  # level flight, though ENU vu is -18 m/s out there
    cols = classifier.columns()
    assert set(cols["class"][-10:]) == {"aircraft"} and set(cols["evidence"]) == {"mode_3a"}


def test_heights_near_the_site_are_the_same_either_way():
    records = _system_track(20_000.0, n=20)
    dets = cat062_to_detections(records, SITE)
    _, _, alt = SITE.enu_to_geodetic(dets.z)
    expected = float(pressure_altitude_to_height_m(FL350))
    np.testing.assert_allclose(alt, expected, atol=0.01)
    d2 = dets.z[:, 0] ** 2 + dets.z[:, 1] ** 2
    drop = d2 / (2 * 6_371_000.0)  # 31-57 m of curvature here
    assert np.abs(dets.z[:, 2] + SITE.h0_m + drop - expected).max() < 5.0
