"""Ground traffic keeps its documented ranges (skywarden.simulate.ground_traffic) and the
confuser layers leave the scenarios they are laid on unchanged (skywarden.simulate.layers)."""

from __future__ import annotations

import numpy as np
import pytest

from skywarden.simulate import build_scenario
from skywarden.simulate.emit_site import SiteSetup, carriers
from skywarden.simulate.ground_traffic import (
    CAR_MPS,
    ROAD_HALF_LENGTH_M,
    ROAD_MISS_M,
    TRUCK_MPS,
    VEHICLE_HEIGHT_M,
    VEHICLE_MAX_ACCELERATION,
)
from skywarden.simulate.layers import MIXED_SALVO, overlay
from skywarden.simulate.rcs import RCS_BY_CLASS

SEEDS = range(4)


@pytest.fixture(scope="module", params=["mixed", "loitering"])
def scenarios(request):
    return [build_scenario(request.param, s) for s in SEEDS]


def _vehicles(sc):
    return [k for k in range(sc.n_targets) if sc.target_class[k] == "vehicle"]


def test_vehicles_drive_on_roads_at_ground_level_at_0_to_35_mps(scenarios):
    stopped = 0
    for sc in scenarios:
        ids = _vehicles(sc)
        assert len(ids) >= 3, "1-3 roads with 2-5 vehicles each at the first scan"
        for k in ids:
            t, x = sc.truth_of(k)
            if t.size == 0:
                continue
            speed = np.linalg.norm(x[:, 3:6], axis=1)
            lo, hi = TRUCK_MPS if sc.target_kind[k] == "truck" else CAR_MPS
            assert speed.max() <= hi + 1e-6 and speed.max() >= lo - 1e-6
            assert np.all(x[:, 5] == 0.0), "no vertical motion"
            assert np.all((x[:, 2] >= 1.0) & (x[:, 2] <= VEHICLE_HEIGHT_M[1])), "ground level"
            # on one straight road: the positions lie on a line
            d = x[:, :2] - x[0, :2]
            if np.ptp(d) > 100.0:
                u = d[-1] / np.linalg.norm(d[-1])
                assert np.max(np.abs(d[:, 0] * u[1] - d[:, 1] * u[0])) < 1.0
                # the road's closest approach to the site is within the documented range
                miss = abs(x[0, 0] * u[1] - x[0, 1] * u[0])
                assert ROAD_MISS_M[0] - 1.0 <= miss <= ROAD_MISS_M[1] + 1.0
                along = x[:, 0] * u[0] + x[:, 1] * u[1]
                assert np.abs(along).max() <= ROAD_HALF_LENGTH_M + hi * 2 + 1.0
            a = np.linalg.norm(np.diff(x[:, 3:6], axis=0), axis=1) / np.diff(t)
            assert a.max() <= VEHICLE_MAX_ACCELERATION + 1e-6
            stopped += int(speed.min() < 0.5)
    assert stopped >= 1, "some vehicles stop at a junction (0 m/s)"


def test_vehicles_are_radar_visible_and_emit_nothing(scenarios):
    setup = SiteSetup()
    for sc in scenarios:
        ids = np.array(_vehicles(sc))
        assert np.isin(ids, sc.det_truth_id).all() or np.isin(ids, sc.det_truth_id).sum() >= 3
        assert not carriers(sc, setup.transponder_classes)[ids].any()
        assert not carriers(sc, setup.remote_id_classes)[ids].any()
        mean = np.median(sc.target_rcs_dbsm[ids])
        assert abs(mean - RCS_BY_CLASS["vehicle"][0]) < 3 * RCS_BY_CLASS["vehicle"][1]


def test_mixed_gains_a_munition_salvo_and_its_confusers():
    for seed in SEEDS:
        sc = build_scenario("mixed", seed)
        kinds = list(sc.target_kind)
        assert MIXED_SALVO[0] <= kinds.count("munition") <= MIXED_SALVO[1]
        assert kinds.count("glider") >= 1 and kinds.count("ultralight") >= 1
        assert kinds.count("thermal") >= 2 and kinds.count("gull") >= 2
        assert {"hover", "loiter", "patrol", "climb", "cv", "flock", "transit"} <= set(kinds)


@pytest.mark.parametrize("name", ["mixed", "loitering"])
def test_layer_leaves_the_base_scenario_bit_for_bit(name, monkeypatch):
    """The layered scenario, restricted to the base targets, equals the scenario built
    without the layer (so seeds measured before the layer keep their base)."""
    layered = build_scenario(name, 7)
    monkeypatch.setattr("skywarden.simulate.layers.LAYERS", {})
    base = build_scenario(name, 7)
    k = base.n_targets
    assert layered.n_targets > k
    keep = layered.truth_id < k
    assert np.array_equal(layered.truth_id[keep], base.truth_id)
    assert np.array_equal(layered.truth_state[keep], base.truth_state)
    d = layered.det_truth_id < k
    for field in ("det_z", "det_truth_id", "det_rcs_dbsm", "det_t", "scan_index"):
        assert np.array_equal(getattr(layered, field)[d], getattr(base, field)), field
    assert np.all(np.diff(layered.scan_index) >= 0)
    assert np.all(np.diff(layered.truth_scan) >= 0)
    assert list(layered.target_class[:k]) == list(base.target_class)


def test_overlay_rejects_different_scan_times():
    a = build_scenario("crossing", 0, n_scans=5)
    b = build_scenario("crossing", 0, n_scans=6)
    with pytest.raises(ValueError, match="same scan times"):
        overlay(a, b)


def test_confusers_0_builds_the_scenario_without_its_layer():
    from skywarden.errors import ConfigError

    base = build_scenario("loitering", 3, n_scans=20, confusers=0)
    full = build_scenario("loitering", 3, n_scans=20)
    assert "vehicle" not in set(base.target_class) and "vehicle" in set(full.target_class)
    assert np.array_equal(full.target_class[: base.n_targets], base.target_class)
    with pytest.raises(ConfigError, match="confusers must be 0 or 1"):
        build_scenario("mixed", 0, confusers=2)
