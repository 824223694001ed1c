"""The latency scenario of benchmarks/bus.py: scale-N with drones that turn into a zone.

The issue's "detection-in to alert-out at 1,000 tracks" needs alerts that a detection sets
off. In scale-1000 alone (generic CV targets at 300-2,700 m) the few alerts are raised when the
classifier's label changes, not by a plot. This scenario keeps scale-N's N targets and its
clutter and adds ``drones`` drones (class 'drone', 100-250 m high, 12-18 m/s, radar only) that
fly for ``cruise_s`` on a tangent course past one protected zone (a circle of ``zone_radius_m``
at the site origin, passing ``miss_m`` outside its edge), long enough for the classifier to
call them 'drone' (its ``min_age_s`` and two steady scans), then turn left at 0.12 rad/s
(1.8 m/s^2 at 15 m/s) through 90 degrees onto a course straight at the zone's centre. Their
entry probability rises with the plots of the turn: at a plot of the turn it passes the rule's
``min_probability`` (the time to entry, ~100 s, is within the rule's horizon all along, and a
probability changes only when a plot updates the track; only the time to entry counts down
between plots). So each such alert is raised by a plot that can be traced to its datagram.

The drones start turning at scans spread evenly over the run's middle (after ``cruise_s``,
before the last ``tail_scans``); their bearings are spread evenly around the zone.
"""

from __future__ import annotations

import math

import numpy as np

from skywarden.simulate import Motion, PlanBuilder, Scenario, SensorParams, simulate
from skywarden.simulate.scenarios import _cv_targets
from skywarden.simulate.sensor import BoxVolume

TURN_RATE = 0.12  # rad/s, left (counterclockwise)
ZONE_RADIUS_M = 1500.0
MISS_M = 1500.0  # the tangent course passes this far outside the zone's edge


def zone_feature(lon_deg: float, lat_deg: float, radius_m: float = ZONE_RADIUS_M) -> dict:
    """The protected zone (GeoJSON feature): a circle at the site origin, 0-3,000 m AGL."""
    return {
        "type": "Feature",
        "id": "zone-0",
        "properties": {"role": "protected", "floor_m": 0, "ceiling_m": 3000,
                       "altitude_ref": "agl", "radius_m": radius_m},
        "geometry": {"type": "Point", "coordinates": [lon_deg, lat_deg]},
    }  # fmt: skip


def turning_drones_scenario(
    n_targets: int,
    drones: int,
    n_scans: int,
    seed: int = 0,
    *,
    cruise_s: float = 15.0,
    tail_scans: int = 12,
) -> Scenario:
    """scale-``n_targets`` (same layout rule, clutter N per scan, Pd 0.9, sigma 5 m, 1 s scans)
    plus ``drones`` drones turning into the zone (module docstring). Seeded, deterministic."""
    if n_scans < cruise_s + tail_scans + 2:
        raise ValueError(f"n_scans must be at least {cruise_s + tail_scans + 2:.0f}")
    layout_rng, motion_rng, sensor_rng, drone_rng = np.random.default_rng(seed).spawn(4)
    half = 1000.0 * math.sqrt(n_targets)
    b = PlanBuilder()
    b.add(_cv_targets(layout_rng, n_targets, 0.65 * half), mode=Motion.CV,
          target_class="generic", target_kind="cv", accel_sigma=0.1)  # fmt: skip
    if drones:
        turn_scan = np.round(np.linspace(cruise_s, n_scans - tail_scans, drones)).astype(int)
        bearing = 2 * math.pi * np.arange(drones) / drones + drone_rng.uniform(0, 0.05, drones)
        drone_rng.shuffle(turn_scan)
        speed = drone_rng.uniform(12.0, 18.0, drones)
        height = drone_rng.uniform(100.0, 250.0, drones)
        radial = np.column_stack([np.cos(bearing), np.sin(bearing)])
        tangent = np.column_stack([-radial[:, 1], radial[:, 0]])  # counterclockwise
        distance = ZONE_RADIUS_M + MISS_M + drone_rng.uniform(0.0, 300.0, drones)
        at_turn = distance[:, None] * radial
        p0 = at_turn - (speed * turn_scan)[:, None] * tangent
        x0 = np.column_stack([p0, height, speed[:, None] * tangent, np.zeros(drones)])
        ids = b.add(x0, mode=Motion.CV, target_class="drone", target_kind="turn-in",
                    accel_sigma=0.01)  # fmt: skip
        turn_s = int(round(0.5 * math.pi / TURN_RATE))
        b.manoeuvre(turn_scan, ids, mode=Motion.CT, turn_rate=TURN_RATE)
        b.manoeuvre(turn_scan + turn_s, ids, mode=Motion.CV, turn_rate=0.0)
    volume = BoxVolume((-half, -half, 0.0), (half, half, 3000.0))
    sensor = SensorParams(pd=0.9, sigma=5.0, clutter_rate=float(n_targets), volume=volume,
                          scan_period=1.0)  # fmt: skip
    times = np.arange(n_scans, dtype=np.float64)
    return simulate(b.build(), sensor, times, motion_rng=motion_rng, sensor_rng=sensor_rng,
                    name=f"scale-{n_targets}+{drones}-turning-drones", seed=seed)  # fmt: skip
