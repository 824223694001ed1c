"""Warning metrics: hand-checked numbers on a tiny scenario, and the issue's targets on the
named scenarios (swarm: every drone entering the protected zone alerted before entry, median
lead >= 80% of the time from first detection to entry; mixed: no alert for airliners or birds).
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from skywarden.evaluate.demo_site import (
    PROTECTED_ZONE_ID,
    WARNING_ZONE_ID,
    default_demo_site,
    scenario_classifier,
)
from skywarden.evaluate.warning import (
    NO_TRUTH,
    WarningRun,
    associate,
    evaluate_scenario_warnings,
    print_warning_report,
    run_scenario_pipeline,
    warning_metrics,
)
from skywarden.geo import LocalFrame
from skywarden.simulate import CylinderVolume, Motion, PlanBuilder, SensorParams, simulate
from skywarden.warn import parse_zones

N_SCANS = 120
DRONE, BIRD, AIRLINER = 0, 1, 2


def tiny_scenario(pd: float = 1.0):
    """A drone flying straight at the site (2 km out, 20 m/s, 100 m up: inside the 300 m
    protected circle from t = 86 s), a bird flying away, an airliner at 5 km overhead."""
    b = PlanBuilder()
    cv = {"mode": Motion.CV, "target_kind": "cv"}
    b.add([2000.0, 0.0, 100.0, -20.0, 0.0, 0.0], target_class="drone", **cv)
    b.add([-1500.0, 1500.0, 80.0, -12.0, 5.0, 0.0], target_class="bird", **cv)
    b.add([-12000.0, 3000.0, 5000.0, 200.0, 0.0, 0.0], target_class="aircraft", **cv)
    sensor = SensorParams(
        pd=pd, sigma=5.0, clutter_rate=0.0, volume=CylinderVolume(15000.0, 0.0, 12000.0)
    )
    rng = np.random.default_rng(7)
    return simulate(
        b.build(), sensor, np.arange(float(N_SCANS)), motion_rng=rng, sensor_rng=rng, name="tiny"
    )


def demo_zones():
    site = default_demo_site()
    return tuple(parse_zones(site.zones_geojson, LocalFrame(site.lat, site.lon, site.height_m)))


def hand_run(cover: list[tuple[int, int, int, float, str]]) -> WarningRun:
    """A WarningRun with the given (scan, alert id, truth id, raised s, zone) cover rows."""
    c = np.array([r[:3] for r in cover], dtype=np.int64).reshape(-1, 3)
    empty = np.zeros(0, np.int64)
    return WarningRun(
        start_posix=0.0,
        times=np.arange(float(N_SCANS)),
        alerts=(),
        pair_scan=empty,
        pair_track=empty,
        pair_truth=empty,
        cover_scan=c[:, 0],
        cover_alert=c[:, 1],
        cover_truth=c[:, 2],
        cover_raised=np.array([r[3] for r in cover], dtype=float),
        cover_zone=np.array([r[4] for r in cover], dtype=object),
        zones=demo_zones(),
    )


def rows(scans, alert: int, truth: int, raised: float, zone: str = PROTECTED_ZONE_ID):
    return [(s, alert, truth, raised, zone) for s in scans]


def test_metrics_on_hand_built_alerts() -> None:
    sc = tiny_scenario()
    cover = (
        rows(range(10, 21), 1, DRONE, 10.0)  # raised on the way in, cleared at 20 ...
        + rows(range(70, 100), 1, DRONE, 70.0)  # ... re-opened at 70: the alert at entry (86)
        + rows(range(30, 36), 2, BIRD, 30.0, WARNING_ZONE_ID)  # a bird: false alert
        + rows(range(40, 42), 3, NO_TRUTH, 40.0)  # clutter: false alert
    )
    report = warning_metrics(sc, hand_run(cover))
    tw = report.targets
    assert tw.entry_s[DRONE] == 86.0 and tw.zone_id[DRONE] == PROTECTED_ZONE_ID
    assert np.isnan(tw.entry_s[[BIRD, AIRLINER]]).all()
    assert tw.first_detection_s[DRONE] == 0.0
    assert tw.alerted_s[DRONE] == 10.0 and tw.lead_s[DRONE] == 76.0
    assert tw.available_s[DRONE] == 86.0 and tw.ratio[DRONE] == pytest.approx(76.0 / 86.0)
    assert tw.lead_in_force_s[DRONE] == 16.0
    assert (report.drones_entering, report.drones_alerted) == (1, 1)
    assert report.missed_drones.size == 0
    assert report.median_lead_s == 76.0
    assert report.alerts == 4  # alert 1 twice (raised, re-opened), 2 and 3
    assert report.alerts_by_class == {"bird": 1, "drone": 2, "none": 1}
    assert report.alerts_by_zone == {PROTECTED_ZONE_ID: 3, WARNING_ZONE_ID: 1}
    assert report.false_alerts == 2 and report.false_alerts_by_class == {"bird": 1, "none": 1}
    assert report.duration_s == N_SCANS and report.false_alerts_per_hour == 60.0
    out = json.loads(json.dumps(report.to_dict()))
    assert out["entering_targets"][0]["ratio"] == pytest.approx(76.0 / 86.0, abs=1e-3)


def test_drone_alerted_only_at_entry_is_missed() -> None:
    sc = tiny_scenario()
    report = warning_metrics(sc, hand_run(rows(range(86, 95), 1, DRONE, 86.0)))
    assert report.missed_drones.tolist() == [DRONE] and report.drones_alerted == 0
    assert report.targets.lead_s[DRONE] == 0.0 and report.median_lead_ratio == 0.0
    assert report.false_alerts == 0


def test_alert_of_another_zone_does_not_count_for_entry() -> None:
    sc = tiny_scenario()
    report = warning_metrics(sc, hand_run(rows(range(5, 95), 1, DRONE, 5.0, WARNING_ZONE_ID)))
    assert report.missed_drones.tolist() == [DRONE]
    assert np.isnan(report.targets.alerted_s[DRONE])
    assert np.isnan(report.targets.lead_in_force_s[DRONE])


def test_pipeline_on_tiny_scenario_warns_the_drone_only() -> None:
    sc = tiny_scenario(pd=0.95)
    run = run_scenario_pipeline(sc, default_demo_site(sc))
    report = warning_metrics(sc, run)
    tw = report.targets
    # placeholder classifier: the drone is 'unknown' (p >= 0.5 within 120 s at the site):
    # alerted once its track is confirmed and its velocity settled, 85 s before it enters
    assert report.drones_alerted == 1 and report.missed_drones.size == 0
    assert tw.alerted_s[DRONE] <= 12.0 and tw.ratio[DRONE] > 0.85  # measured 8 s, 0.91
    assert tw.lead_in_force_s[DRONE] == tw.lead_s[DRONE]
    (alert,) = run.alerts  # the alert book's own lead time agrees
    assert alert.lead_time_s == pytest.approx(tw.lead_s[DRONE])
    assert report.alerts_by_class == {"drone": 1} and report.false_alerts == 0
    assert set(run.pair_truth.tolist()) == {DRONE, BIRD, AIRLINER}  # all three tracked
    assert all(a.zone_id == PROTECTED_ZONE_ID for a in run.alerts)
    console = Console(record=True, width=120)
    print_warning_report(report.to_dict(), console)
    text = console.export_text()
    assert "missed drones" in text and f"{tw.ratio[DRONE]:.2f}" in text


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=0, max_size=4),
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=0, max_size=4),
)
def test_associate_is_the_best_one_to_one_matching_within_the_gate(tracks, truths) -> None:
    a = np.array([[x * 20.0, y * 20.0, 0.0] for x, y in tracks]).reshape(-1, 3)
    b = np.array([[x * 20.0, y * 20.0, 0.0] for x, y in truths]).reshape(-1, 3)
    r, c = associate(a, b, gate_m=50.0)
    d = np.linalg.norm(a[:, None] - b[None], axis=2)
    assert len(set(r.tolist())) == r.size and len(set(c.tolist())) == c.size
    assert np.all(d[r, c] <= 50.0)
    best = (0, 0.0)  # oracle: most pairs, then least summed distance
    k = min(len(a), len(b))
    for n in range(k + 1):
        for rows_ in itertools.combinations(range(len(a)), n):
            for cols in itertools.permutations(range(len(b)), n):
                dist = d[list(rows_), list(cols)]
                if np.all(dist <= 50.0) and (n, -dist.sum()) > (best[0], -best[1]):
                    best = (n, float(dist.sum()))
    assert r.size == best[0] and d[r, c].sum() == pytest.approx(best[1])


# --- the targets on the named scenarios (trained classifier) -------------------------


def test_swarm_every_entering_drone_alerted_with_80_percent_lead() -> None:
    result = evaluate_scenario_warnings("swarm", 2, classifier="trained")
    assert result["classifier"] == "trained"
    assert result["drones_entering"] >= 10  # measured 22 (the divers)
    assert result["missed_drones"] == []
    assert result["drones_alerted_before_entry"] == result["drones_entering"]
    assert result["median_lead_ratio"] >= 0.8  # measured 0.838
    assert result["false_alerts"] <= 1  # measured 0


# seeds 10 and 15: a bird-flock track (the tracker jumping between birds looks like fast
# flight) was labelled drone at 5-10 s of age and alerted in the warning ring.
# Since plots carry a radar cross-section, seed 15 has one bird alert of another kind: its
# flock holds a goose-sized bird (mean RCS -12 dBsm, 2.2 sigma above the bird median), whose
# track gets p_drone ~0.96; the flock rule keeps it 'unknown' (never 'drone'), and the ring
# warns of unknown objects by design. Mixed seeds 0-19: that is the only bird or airliner alert.
# With the model trained with munitions and ground traffic (issue 11) and mixed's munition /
# ground-traffic layer, seed 15 has no bird alert either, and no seed here alerts on the
# gliders, ultralights or ground traffic.
@pytest.mark.parametrize(("seed", "bird_alerts"), [(0, 0), (1, 0), (10, 0), (15, 0)])
def test_mixed_no_alert_for_airliners_or_birds(seed: int, bird_alerts: int) -> None:
    result = evaluate_scenario_warnings("mixed", seed, classifier="trained")
    assert result["alerts_by_class"].get("drone", 0) > 0  # the drones near the site are
    assert "aircraft" not in result["alerts_by_class"]
    assert "vehicle" not in result["alerts_by_class"]
    assert result["alerts_by_class"].get("bird", 0) == bird_alerts
    assert result["missed_drones"] == []


def test_unknown_classifier_name_is_an_error() -> None:
    from skywarden.errors import SkywardenError

    with pytest.raises(SkywardenError, match="unknown classifier"):
        scenario_classifier("oracle")
