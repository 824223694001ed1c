"""Site configuration: the example loads; every bad value names the file and the key."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from pathlib import Path

import pytest

from skywarden.errors import ConfigError
from skywarden.site_config import load_site_config, site_config_from_dict, site_config_to_dict
from skywarden.track.params import MotionModel, TrackerParams, default_models

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "site.toml"


def test_example_site_loads() -> None:
    cfg = load_site_config(EXAMPLE)
    assert cfg.name == "Example plant" and len(cfg.sensors) == 2
    assert cfg.sensors[0].kind == "asterix" and cfg.sensors[0].group == "239.0.0.1"
    assert {f["id"] for f in cfg.zones_geojson["features"]} == {"plant", "ring"}
    assert cfg.allow[0].valid_until_s - cfg.allow[0].valid_from_s == 12 * 3600
    assert cfg.bind_port == 8080 and cfg.storage_path == EXAMPLE.parent / "history.duckdb"


BASE = {"site": {"lat": 47.0, "lon": 8.0}}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"site": {"lat": 95.0, "lon": 8.0}}, "site.lat: 95.0 is outside"),
        ({"site": {"lon": 8.0}}, "site.lat: missing"),
        ({"colour": 1}, "top level: unknown key(s) colour"),
        ({"service": {"bind": "localhost"}}, "service.bind: must be HOST:PORT"),
        ({"sensors": [{"kind": "lidar"}]}, "sensors[0].kind: must be one of"),
        ({"sensors": [{"kind": "sbs", "transport": "tcp"}]}, "sensors[0].port: needs a port"),
        ({"sensors": [{"kind": "asterix", "port": 8600}]}, "needs its position"),
        ({"alert_rules": [{"classes": ["ufo"]}]}, "alert_rules[0].classes: unknown class"),
        ({"alert_rules": [{"min_probability": 2.0}]}, "alert_rules[0]: alert rule"),
        ({"alert_rules": [{"active_hours": "7-19"}]}, "must look like '07:00-19:30'"),
        (
            {"alert_rules": [{"include_ground_and_test": "yes"}]},
            "alert_rules[0].include_ground_and_test: must be true or false",
        ),
        ({"allow": [{"identity": "icao:XYZ"}]}, "allow[0].identity: 'icao:' needs a hex"),
        ({"allow": [{"identity": "rid:A", "valid_from": "yesterday"}]}, "must be ISO 8601"),
        ({"tracker": {"pd": 1.5}}, "pd (detection probability)"),
        ({"zones": {"file": "missing.geojson"}}, "zones.file: no such file"),
    ],
)
def test_bad_values_name_the_key(patch: dict, message: str, tmp_path: Path) -> None:
    doc = {**BASE, **patch}
    with pytest.raises(ConfigError) as err:
        site_config_from_dict(doc, tmp_path, source="site.toml")
    assert message in str(err.value) and "site.toml" in str(err.value)


def test_rules_leave_out_ground_and_test_tracks_unless_asked(tmp_path: Path) -> None:
    rules = [{"name": "default"}, {"name": "all", "include_ground_and_test": True}]
    cfg = site_config_from_dict({**BASE, "alert_rules": rules}, tmp_path, source="site.toml")
    assert [r.exempt_ground_and_test for r in cfg.rules] == [True, False]


def test_rules_drone_probability_floor_for_unknown_tracks_round_trips(tmp_path: Path) -> None:
    from skywarden.site_rules import rules_from_list, rules_to_list
    from skywarden.warn.rules import UNKNOWN_MIN_DRONE_PROBABILITY

    rules = [{"name": "default"}, {"name": "every unknown", "unknown_min_drone_probability": 0}]
    cfg = site_config_from_dict({**BASE, "alert_rules": rules}, tmp_path, source="site.toml")
    floors = [r.unknown_min_drone_probability for r in cfg.rules]
    assert floors == [UNKNOWN_MIN_DRONE_PROBABILITY, 0.0]
    assert rules_from_list(rules_to_list(cfg.rules)) == cfg.rules
    bad = [{"unknown_min_drone_probability": -0.1}]
    with pytest.raises(ConfigError, match="unknown_min_drone_probability"):
        site_config_from_dict({**BASE, "alert_rules": bad}, tmp_path, source="site.toml")


def _every_tracker_field_changed() -> TrackerParams:
    """TrackerParams with every field away from its default (so a key left out shows)."""
    changed = {
        "mode_switch_rate": 0.07, "mode_topology": "uniform", "birth_quiet_probability": 0.5,
        "pd": 0.8,
        "clutter_density": 3e-10,
        "gate_probability": 0.999, "initial_speed_sigma": 30.0,
        "initial_vertical_speed_sigma": 7.0, "confirm_m": 2, "confirm_n": 5,
        "tentative_max_misses": 3, "max_coast_s": 9.0, "max_position_sigma": 1500.0,
        "default_sigma": 12.0, "confirmation": "m_of_n", "false_track_probability": 1e-3,
        "target_lifetime_s": 600.0, "clutter_cell_m": 500.0, "clutter_azimuth_cell_deg": 3.0,
        "clutter_memory_scans": 30.0, "clutter_prior_scans": 4.0, "learn": False,
        "compiled_kernels": False,
    }  # fmt: skip
    default = TrackerParams()
    assert set(changed) == {f.name for f in fields(TrackerParams)} - {"models"}
    assert all(changed[k] != getattr(default, k) for k in changed)
    return TrackerParams(**changed)


@pytest.mark.parametrize(
    "models",
    [
        default_models(),
        (MotionModel(0.0, 2.5),),  # the "cv" set, scaled by accel_sigma
        tuple(MotionModel(m.turn_rate, 0.5 * m.accel_sigma) for m in default_models()),
        (MotionModel(0.0, 0.3), MotionModel(0.2, 1.7)),  # no named set: written as a list
    ],
)
def test_site_config_round_trip_keeps_every_tracker_key(models, tmp_path: Path) -> None:
    tracker = replace(_every_tracker_field_changed(), models=models)
    cfg = replace(site_config_from_dict(BASE, tmp_path), tracker=tracker)
    doc = json.loads(json.dumps(site_config_to_dict(cfg)))  # as the history stores it
    again = site_config_from_dict(doc, tmp_path)
    assert again.tracker == tracker


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ("kalman", "models must be one of"),
        ([{"turn_rate": 0.1}], "models[0] must be a table with turn_rate and accel_sigma"),
        ([{"turn_rate": "x", "accel_sigma": 1.0}], "turn_rate must be a number"),
        ([], "at least one motion model"),
    ],
)
def test_bad_motion_models_name_the_problem(models, message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        site_config_from_dict({**BASE, "tracker": {"models": models}}, tmp_path, "site.toml")
    assert message in str(err.value) and "site.toml" in str(err.value)
