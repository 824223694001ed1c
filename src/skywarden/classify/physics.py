"""Sensor physics as class evidence: what a radar could not have seen, and what no drone does.

Each function returns (N, 4) likelihood multipliers over [drone, bird, aircraft, unknown],
fused with the model's probabilities like the identity evidence (``p ∝ p x L``). Every value
below is a stated assumption with its reason, not a fit; each one has a test.

**Detection range** (:func:`detection_range_likelihood`). The radar equation gives the
received power as ``P ∝ σ / R^4``: a radar that detects a target of reference RCS
``σ_ref`` out to ``R_ref`` (the site config's per-radar ``detection_range_m`` and
``reference_rcs_dbsm``) can detect a plot at slant range ``R`` only if the target's RCS is
at least

    σ_min(R) = σ_ref + 40 log10(R / R_ref)   (dBsm).

The drone likelihood is the chance that a drone's RCS reaches σ_min: the survival function of
the most generous drone class in :data:`DRONE_RCS_DBSM` (log-normal: Gaussian in dB). Birds
and aircraft get 1: flocks and large birds reflect far more than one bird, and the rule is
only meant as evidence *against* a drone. The multiplier never goes below
:data:`MIN_LIKELIHOOD`: a configured range is approximate, so range alone never rules a
drone out. Tracks with a cooperative identity get 1 (their positions may come from ADS-B or
Remote ID, not from the radar).

**Flight envelope** (:func:`envelope_likelihood`). A speed above every drone class's top
speed (:data:`DRONE_MAX_SPEED_MPS`: a loitering munition's terminal dive, 90 m/s, plus a
margin for the track's velocity noise) or a height above every drone class's ceiling
(:data:`DRONE_MAX_HEIGHT_M`: 2,000 m for one-way attack drones, plus a margin) is evidence
against a drone. The drone multiplier falls as ``exp(-excess / scale)`` beyond the limit,
floored at :data:`MIN_LIKELIHOOD`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from skywarden.classify.features import height_above_site
from skywarden.detections import icao_identity, remote_id_identity
from skywarden.units import BoolArray, FloatArray, IntArray

# Drone classes' mean RCS across airframes, dBsm (median, sigma of the log-normal):
#  multirotor: Patel, Fioranelli & Anderson, IET Radar Sonar Navig. 12(9), 2018 (-25..-15,
#    larger multirotors up to -5); fixed-wing loitering munitions / one-way attack drones:
#    2-3 m wingspan airframes of composite and metal, about -10 dBsm (0.1 m^2) aspect-averaged.
DRONE_RCS_DBSM: dict[str, tuple[float, float]] = {
    "multirotor": (-20.0, 4.0),
    "fixed_wing": (-10.0, 5.0),
}
DEFAULT_REFERENCE_RCS_DBSM = -20.0  # a small multirotor (0.01 m^2)
DRONE_MAX_SPEED_MPS = 100.0  # fastest drone class: loitering-munition dive 50-90 m/s, + margin
DRONE_SPEED_SCALE_MPS = 10.0
DRONE_MAX_HEIGHT_M = 2500.0  # highest drone class: one-way attack drones up to 2,000 m, + margin
DRONE_HEIGHT_SCALE_M = 300.0
MIN_LIKELIHOOD = 0.01  # no single physical cue is taken as more than 100:1 against a drone


@dataclass(frozen=True, slots=True)
class RadarCoverage:
    """Where a site's radars are and how far they see a reference target.

    position: (R, 3) radar positions, site ENU metres; detection_range_m: (R,) slant range at
    which each radar detects a target of reference_rcs_dbsm (R,) dBsm.
    """

    position: FloatArray
    detection_range_m: FloatArray
    reference_rcs_dbsm: FloatArray

    def __len__(self) -> int:
        return int(self.position.shape[0])


def min_detectable_rcs_dbsm(pos: FloatArray, coverage: RadarCoverage) -> FloatArray:
    """(N,) the smallest RCS (dBsm) any of the radars could have seen at positions (N, 3)
    site ENU m (radar equation, module docstring); -inf with no radar configured."""
    pos = np.asarray(pos, dtype=np.float64).reshape(-1, 3)
    if len(coverage) == 0:
        return np.full(pos.shape[0], -np.inf)
    r = np.linalg.norm(pos[:, None, :] - coverage.position[None, :, :], axis=2)
    ratio = np.maximum(r, 1.0) / coverage.detection_range_m[None, :]
    sigma_min = coverage.reference_rcs_dbsm[None, :] + 40.0 * np.log10(ratio)
    return sigma_min.min(axis=1)


def drone_rcs_survival(sigma_min_dbsm: FloatArray) -> FloatArray:
    """(N,) P(a drone's RCS >= sigma_min_dbsm), maximised over the drone classes."""
    s = np.asarray(sigma_min_dbsm, dtype=np.float64)
    out = np.zeros(s.shape)
    for mu, sd in DRONE_RCS_DBSM.values():
        out = np.maximum(out, ndtr((mu - s) / sd))
    return out


def detection_range_likelihood(
    pos: FloatArray, identity: IntArray, coverage: RadarCoverage
) -> FloatArray:
    """(N, 4) multipliers from the radar equation for tracks at pos (N, 3) site ENU m;
    identity (N,) keys: tracks with an ICAO or Remote ID key get no range evidence."""
    n = np.asarray(pos).reshape(-1, 3).shape[0]
    out = np.ones((n, 4))
    if len(coverage) == 0 or n == 0:
        return out
    p = drone_rcs_survival(min_detectable_rcs_dbsm(pos, coverage))
    anonymous = ~is_cooperative(identity)
    out[:, 0] = np.where(anonymous, np.maximum(p, MIN_LIKELIHOOD), 1.0)
    return out


def envelope_likelihood(x: FloatArray) -> FloatArray:
    """(N, 4) multipliers from the flight envelope for states x (N, 6) site ENU m, m/s: the
    speed and the height above the site sphere (classify.features.height_above_site)."""
    x = np.asarray(x, dtype=np.float64).reshape(-1, 6)
    speed = np.linalg.norm(x[:, 3:6], axis=1)
    height, _ = height_above_site(x[:, :3], x[:, 3:])  # a height, never ENU up (issue 18)
    excess = np.maximum(speed - DRONE_MAX_SPEED_MPS, 0.0) / DRONE_SPEED_SCALE_MPS
    excess += np.maximum(height - DRONE_MAX_HEIGHT_M, 0.0) / DRONE_HEIGHT_SCALE_M
    out = np.ones((x.shape[0], 4))
    out[:, 0] = np.maximum(np.exp(-np.nan_to_num(excess)), MIN_LIKELIHOOD)
    return out


def physics_likelihood(
    x: FloatArray, identity: IntArray, coverage: RadarCoverage | None = None
) -> FloatArray:
    """(N, 4) product of the envelope and (with coverage) the detection-range multipliers."""
    out = envelope_likelihood(x)
    if coverage is not None:
        out *= detection_range_likelihood(np.asarray(x)[:, :3], identity, coverage)
    return out


def is_cooperative(identity: IntArray) -> BoolArray:
    """(N,) the identity key is an ICAO address or a Remote ID (a cooperative emitter)."""
    ident = np.asarray(identity, dtype=np.int64)
    tag = np.where(ident >= 0, ident >> 60, -1)
    return (tag == icao_identity(0) >> 60) | (tag == remote_id_identity("x") >> 60)


def no_coverage() -> RadarCoverage:
    """Coverage of a site with no radar detection range configured (no range evidence)."""
    return RadarCoverage(np.zeros((0, 3)), np.zeros(0), np.zeros(0))
