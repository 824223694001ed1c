"""Warning effectiveness over many seeds (skywarden.evaluate.warning_seeds)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skywarden.classify.decision import DEFAULT_DECISION_CONFIDENCE
from skywarden.errors import ConfigError
from skywarden.evaluate.warning_seeds import (
    evaluate_seeds_command,
    markdown,
    parse_confidences,
    parse_seeds,
    run_seeds,
    summarise,
    tradeoff_png,
    wilson_interval,
)


def test_parse_seeds():
    assert parse_seeds("0-99") == range(0, 100)
    assert parse_seeds("7") == range(7, 8)
    for bad in ("9-3", "a-b", "-3", "1-", "1.5"):
        with pytest.raises(ConfigError, match="seeds"):
            parse_seeds(bad)


def test_parse_confidences():
    assert parse_confidences("0.5,0.7") == [0.5, 0.7]
    assert parse_confidences(None) == [DEFAULT_DECISION_CONFIDENCE]  # the site default
    for bad in ("x", "0.1", "1.5", ","):
        with pytest.raises(ConfigError, match="decision-confidence"):
            parse_confidences(bad)


def test_wilson_known_values():
    """Hand-checked: 0 of 10 -> (0, 0.2775); 10 of 10 -> (0.7225, 1); 5 of 10 -> 0.237-0.763."""
    assert np.allclose(wilson_interval(0, 10), (0.0, 0.27753), atol=1e-4)
    assert np.allclose(wilson_interval(10, 10), (0.72247, 1.0), atol=1e-4)
    assert np.allclose(wilson_interval(5, 10), (0.23659, 0.76341), atol=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_contains_the_estimate(k, n):
    k = min(k, n)
    lo, hi = wilson_interval(k, n)
    assert 0.0 <= lo <= k / n + 1e-12 and k / n - 1e-12 <= hi <= 1.0


def _fake(seed: int) -> dict:
    return {
        "seed": seed,
        "duration_s": 1800.0,
        "entering": [("munition", 30.0), ("munition", None), ("hover", 120.0)],
        "false_alerts": ["bird", "clutter"],
        "targets": [
            ("drone", "munition", {"drone": 90, "unknown": 10}),
            ("drone", "hover", {"drone": 50, "bird": 50}),
            ("bird", "gull", {"bird": 99, "drone": 1}),
            ("bird", "thermal", {"bird": 5, "unknown": 5}),
        ],
    }


def test_summarise_counts_and_rates():
    r = summarise([_fake(0), _fake(1)], "x", 0.5)
    assert r["hours"] == 1.0
    m = r["threats"]["munition"]
    assert (m["entering"], m["alerted_before_entry"], m["fraction"]) == (4, 2, 0.5)
    assert m["lead_s_percentiles"]["50"] == 15.0
    assert r["threats"]["all drones"]["entering"] == 6
    assert r["false_alerts_per_hour"] == {"bird": 2.0, "aircraft": 0.0, "ground traffic": 0.0,
                                          "clutter": 2.0}  # fmt: skip
    assert r["false_alerts_per_hour_bird_aircraft_ground"] == 2.0
    assert r["confusion_after_10s"]["drone/hover"] == {"drone": 100, "bird": 100}
    t = r["scan_targets"]
    assert t["non_drone_scans_labelled_drone"] == 2
    assert (t["drones"], t["drones_drone_or_unknown_on_95pct_of_scans"]) == (4, 2)
    assert math.isclose(t["drone_scan_fraction_drone"], 280 / 400)
    # a bird is 'bird' on most of its scans only above half (the thermal's 5 of 10 is not)
    assert (t["birds"], t["birds_bird_on_most_scans"], t["birds_drone_on_any_scan"]) == (4, 2, 2)
    text = markdown(r)
    assert "| munition | 4 | 2 (0.500) |" in text and "| drone/hover | 100 | 0 | 100 | 0 |" in text
    birds = "birds labelled bird on most of their scans: 2 of 4; labelled drone on any scan: 2"
    assert birds in text


def test_tradeoff_png(tmp_path):
    reports = [summarise([_fake(0)], "x", c) for c in (0.5, 0.7)]
    path = tradeoff_png(reports, tmp_path / "t.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_one_real_seed_end_to_end(tmp_path, capsys):
    """The full pipeline on loitering seed 0 (its munitions dive into the protected zone),
    in this process and in two worker processes for two confidences."""
    results = run_seeds("loitering", [0], jobs=1)
    assert results[0]["entering"] and results[0]["targets"]
    assert evaluate_seeds_command("loitering", "0", 2, "0.5,0.9", tmp_path, True) == 0
    reports = json.loads((tmp_path / "report.json").read_text())
    assert [r["decision_confidence"] for r in reports] == [0.5, 0.9]
    assert (tmp_path / "tradeoff.png").exists() and (tmp_path / "report.md").exists()
    # the same seed in a worker process gives the same outcome as in this one (at the default)
    (default,) = [r for r in reports if r["decision_confidence"] == DEFAULT_DECISION_CONFIDENCE]
    assert default["scan_targets"] == summarise(results)["scan_targets"]
    with pytest.raises(ConfigError, match="unknown scenario"):
        run_seeds("nope", [0])
