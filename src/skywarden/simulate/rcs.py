"""Radar cross-section (RCS) of simulated radar plots, dBsm (dB relative to 1 m^2).

A target's mean RCS is drawn once, log-normal across the targets of its class (different
models, species and aspects); each plot then fluctuates about it as a Swerling I target
(exponentially distributed echo power from scan to scan: about 5.6 dB standard deviation
of the dB value). Class medians and spreads are aspect-averaged X-band figures from the
literature, chosen to overlap as much as the measurements do:

* drone: median -20 dBsm, sigma 4 dB. Small multirotors (DJI Phantom / Mavic class) measure
  about -25 to -15 dBsm, larger multirotors and small fixed wings up to about -5 dBsm (Patel,
  Fioranelli and Anderson, "Review of radar classification and RCS characterisation
  techniques for small UAVs or drones", IET Radar Sonar Navig. 12(9), 2018).
* bird: median -25 dBsm, sigma 6 dB: sparrow about -35, starling -28, pigeon -22, gull or
  duck -18, goose -10 dBsm (Vaughn, "Birds and insects as radar targets: a review", Proc.
  IEEE 73(2), 1985).
* aircraft: median +15 dBsm, sigma 5 dB (airliners; light aircraft about 0 dBsm).
* vehicle (ground traffic): median +10 dBsm, sigma 5 dB. Skolnik ("Introduction to Radar
  Systems", 3rd ed., 2001) lists an automobile at 100 m^2 and a pickup truck at 200 m^2 at
  microwave frequencies (peak aspects); at grazing incidence, partly masked by the terrain
  and averaged over aspect, the figure taken here is ten times lower.
* generic targets: median 0 dBsm, sigma 8 dB.
* clutter (false alarms): median -20 dBsm, sigma 10 dB.

The class medians of drones and birds differ by less than their spreads: amplitude alone
cannot separate them, it is one more piece of evidence next to the kinematics.
"""

from __future__ import annotations

import math

import numpy as np

from skywarden.units import FloatArray

RCS_BY_CLASS: dict[str, tuple[float, float]] = {
    "drone": (-20.0, 4.0),
    "bird": (-25.0, 6.0),
    "aircraft": (15.0, 5.0),
    "vehicle": (10.0, 5.0),
}
GENERIC_RCS = (0.0, 8.0)  # any other target class
CLUTTER_RCS = (-20.0, 10.0)


def target_rcs_dbsm(rng: np.random.Generator, target_class: np.ndarray) -> FloatArray:
    """(K,) mean RCS in dBsm of targets of the given classes (str labels), drawn once each."""
    labels = np.asarray(target_class).astype(str)
    median = np.array([RCS_BY_CLASS.get(c, GENERIC_RCS)[0] for c in labels], dtype=np.float64)
    sigma = np.array([RCS_BY_CLASS.get(c, GENERIC_RCS)[1] for c in labels], dtype=np.float64)
    return median + sigma * rng.standard_normal(labels.shape[0])


def plot_rcs_dbsm(rng: np.random.Generator, mean_dbsm: FloatArray) -> FloatArray:
    """(D,) RCS in dBsm of plots of targets with mean RCS mean_dbsm (D,): Swerling I.

    The echo power is exponential with mean 10^(mean/10) m^2 (so the dB values average
    about 2.5 dB below the mean).
    """
    power = rng.exponential(1.0, np.shape(mean_dbsm))
    return np.asarray(mean_dbsm, dtype=np.float64) + 10.0 * np.log10(np.maximum(power, 1e-12))


def clutter_rcs_dbsm(rng: np.random.Generator, n: int) -> FloatArray:
    """(n,) RCS in dBsm of false-alarm plots."""
    return CLUTTER_RCS[0] + CLUTTER_RCS[1] * rng.standard_normal(n)


SWERLING_I_DB_STD = 10.0 / math.log(10.0) * math.pi / math.sqrt(6.0)  # 5.57 dB
