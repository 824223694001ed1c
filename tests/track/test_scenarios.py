"""Scenario tests: the tracker on the named simulated scenarios, fixed seeds, bounded metrics.

Bounds are set a little above what the tracker measures today (in the comments), so a
regression in association, initiation or the IMM shows up here.
"""

from __future__ import annotations

import pytest

from skywarden.evaluate.metrics import evaluate
from skywarden.evaluate.report import summary
from skywarden.simulate import build_scenario
from skywarden.tables import TrackTable, Truth
from skywarden.track.params import TrackerParams
from skywarden.track.run import run_tracker


def _track_and_score(name: str, seed: int) -> dict:
    scenario = build_scenario(name, seed)
    sensor = scenario.sensor_params
    params = TrackerParams(pd=sensor.pd, clutter_density=sensor.clutter_density)
    scans = ((float(t), scenario.detections_at(k)) for k, t in enumerate(scenario.times))
    history, _ = run_tracker(scans, params)
    s = scenario.truth_state
    truth = Truth(t=scenario.truth_t, id=scenario.truth_id, pos=s[:, :3], vel=s[:, 3:])
    tracks = TrackTable(t=history.t, id=history.id, pos=history.x[:, :3], vel=history.x[:, 3:])
    return summary(evaluate(truth, tracks, score_track_only_times=True))


# name, seed, max mean GOSPA (m, c=50, p=2), max ID switches, max breaks, max false tracks
CASES = [
    ("crossing", 0, 28.0, 0, 1, 0),  # measured 24.5 m, 0, 0, 0
    ("crossing", 1, 30.0, 0, 1, 0),  # 26.2 m, 0, 0, 0
    ("swarm", 2, 58.0, 24, 15, 2),  # 52.9 m, 18, 10, 0
    ("swarm", 3, 55.0, 8, 8, 2),  # 48.9 m, 4, 4, 0
    ("mixed", 1, 66.0, 22, 30, 1),  # 61.0 m, 16, 24, 0 (switches are within the bird flock)
]


@pytest.mark.parametrize(("name", "seed", "gospa", "switches", "breaks", "false"), CASES)
def test_scenario_metrics_within_bounds(
    name: str, seed: int, gospa: float, switches: int, breaks: int, false: int
) -> None:
    s = _track_and_score(name, seed)
    assert s["truths_never_tracked"] == 0
    assert s["gospa"]["mean_distance_m"] <= gospa
    assert s["id_switches"] <= switches
    assert s["breaks"] <= breaks
    assert s["false_tracks"] <= false
