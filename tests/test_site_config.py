"""Site configuration: the example loads; every bad value names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from skywarden.errors import ConfigError
from skywarden.site_config import load_site_config, site_config_from_dict

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
