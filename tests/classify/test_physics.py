"""Sensor physics as class evidence (skywarden.classify.physics): each stated likelihood."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from skywarden.classify.physics import (
    DRONE_MAX_HEIGHT_M,
    DRONE_MAX_SPEED_MPS,
    MIN_LIKELIHOOD,
    RadarCoverage,
    detection_range_likelihood,
    drone_rcs_survival,
    envelope_likelihood,
    min_detectable_rcs_dbsm,
    physics_likelihood,
)
from skywarden.detections import icao_identity, remote_id_identity

RADAR = RadarCoverage(np.zeros((1, 3)), np.array([5000.0]), np.array([-20.0]))


def _at(r: float) -> np.ndarray:
    return np.array([[r, 0.0, 0.0]])


def test_radar_equation_sigma_min_grows_40_db_per_decade():
    """At the reference range the smallest visible RCS is the reference; 10x farther,
    40 dB more (P ∝ σ / R^4); 2x farther, 12.04 dB more."""
    s = min_detectable_rcs_dbsm(np.vstack([_at(5000), _at(50_000), _at(10_000)]), RADAR)
    assert np.allclose(s, [-20.0, 20.0, -20.0 + 40 * np.log10(2)])


def test_nearest_radar_decides():
    two = RadarCoverage(
        np.array([[0.0, 0, 0], [20_000.0, 0, 0]]),
        np.array([5000.0, 5000.0]),
        np.array([-20.0, -20.0]),
    )
    assert np.isclose(min_detectable_rcs_dbsm(_at(19_000), two)[0], -20 + 40 * np.log10(0.2))


def test_no_radar_gives_no_range_evidence():
    empty = RadarCoverage(np.zeros((0, 3)), np.zeros(0), np.zeros(0))
    assert np.all(detection_range_likelihood(_at(1e6), np.array([-1]), empty) == 1.0)


def test_plot_beyond_small_drone_range_is_evidence_against_drone_only():
    """A plot at 4x the small-drone range needs +24 dB over the reference (-20 -> +4 dBsm):
    no drone class reaches that often, so L_drone is small; bird, aircraft and unknown stay 1."""
    L = detection_range_likelihood(_at(20_000), np.array([-1]), RADAR)[0]
    assert L[0] < 0.01 + 1e-12 and L[0] >= MIN_LIKELIHOOD
    assert np.all(L[1:] == 1.0)


def test_plot_well_inside_range_is_no_evidence():
    L = detection_range_likelihood(_at(1000), np.array([-1]), RADAR)[0]
    assert L[0] > 0.999


def test_cooperative_tracks_get_no_range_evidence():
    ids = np.array([icao_identity(0x3C660C), remote_id_identity("SERIAL1")])
    L = detection_range_likelihood(np.vstack([_at(50_000), _at(50_000)]), ids, RADAR)
    assert np.all(L == 1.0)


@given(st.floats(-60, 60), st.floats(-60, 60))
def test_drone_rcs_survival_is_a_falling_probability(a, b):
    lo, hi = sorted((a, b))
    p = drone_rcs_survival(np.array([lo, hi]))
    assert 0.0 <= p[1] <= p[0] <= 1.0


@given(st.floats(1.0, 1e6), st.floats(1.0, 1e6))
def test_farther_is_never_more_drone_like(r1, r2):
    lo, hi = sorted((r1, r2))
    L = detection_range_likelihood(np.vstack([_at(lo), _at(hi)]), np.array([-1, -1]), RADAR)
    assert L[1, 0] <= L[0, 0] + 1e-12


def test_envelope_inside_is_no_evidence():
    """A loitering munition's dive at 90 m/s, 2,000 m up, is still inside the drone envelope."""
    x = np.array([[0, 0, 2000.0, 90.0, 0, 0], [0, 0, 50.0, 10.0, 0, 0]])
    assert np.all(envelope_likelihood(x) == 1.0)


def test_faster_than_any_drone_is_evidence_against_drone():
    x = np.array([[0, 0, 500.0, DRONE_MAX_SPEED_MPS + 50.0, 0, 0]])
    L = envelope_likelihood(x)[0]
    assert np.isclose(L[0], max(np.exp(-5.0), MIN_LIKELIHOOD)) and np.all(L[1:] == 1.0)


def test_higher_than_any_drone_is_evidence_against_drone():
    x = np.array([[0, 0, DRONE_MAX_HEIGHT_M + 3000.0, 50.0, 0, 0]])
    assert envelope_likelihood(x)[0, 0] == MIN_LIKELIHOOD


def test_envelope_is_finite_for_nan_states():
    x = np.full((1, 6), np.nan)
    assert np.isfinite(envelope_likelihood(x)).all()


def test_physics_likelihood_multiplies_both():
    x = np.array([[20_000.0, 0, 0, DRONE_MAX_SPEED_MPS + 10.0, 0, 0]])
    both = physics_likelihood(x, np.array([-1]), RADAR)
    alone = envelope_likelihood(x) * detection_range_likelihood(x[:, :3], np.array([-1]), RADAR)
    assert np.allclose(both, alone)
