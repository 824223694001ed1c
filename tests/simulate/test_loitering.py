"""The 'loitering' scenario keeps its documented ranges (skywarden.simulate.loitering)."""

from __future__ import annotations

import numpy as np
import pytest

from skywarden.simulate import build_scenario
from skywarden.simulate.emit_site import SiteSetup, carriers
from skywarden.simulate.loitering import (
    CRUISE_HEIGHT_M,
    CRUISE_MPS,
    GULL_MPS,
    THERMAL_CLIMB_MPS,
    THERMAL_MPS,
)

SEEDS = range(4)


@pytest.fixture(scope="module")
def scenarios():
    return [build_scenario("loitering", s) for s in SEEDS]


def _by_kind(sc, kind):
    return [k for k in range(sc.n_targets) if sc.target_kind[k] == kind]


def test_salvo_cruises_loiters_and_dives(scenarios):
    for sc in scenarios:
        ids = _by_kind(sc, "munition")
        assert 3 <= len(ids) <= 6
        assert all(sc.target_class[k] == "drone" for k in ids)
        for k in ids:
            _, x = sc.truth_of(k)
            first = x[0]
            assert CRUISE_MPS[0] - 1e-9 <= np.linalg.norm(first[3:6]) <= CRUISE_MPS[1] + 1e-9
            assert CRUISE_HEIGHT_M[0] <= first[2] <= CRUISE_HEIGHT_M[1]
            speed = np.linalg.norm(x[:, 3:6], axis=1)
            assert speed.max() <= 92.0  # the terminal dive, 50-90 m/s
            assert np.hypot(*x[-1, :2]) < 250.0 and x[-1, 2] < 60.0, "dives at the site"

        # at least one in every salvo orbits (loiter, at least half a circle) before its dive
        assert any(_turned(sc, k) > np.pi for k in ids)


def _turned(sc, k: int) -> float:
    """Total heading change of target k over its life, radians."""
    _, x = sc.truth_of(k)
    return float(np.ptp(np.unwrap(np.arctan2(x[:, 4], x[:, 3]))))


def test_confusers_keep_their_ranges(scenarios):
    for sc in scenarios:
        for kind, lo, hi in (("glider", 20, 35), ("ultralight", 30, 60)):
            for k in _by_kind(sc, kind):
                _, x = sc.truth_of(k)
                assert sc.target_class[k] == "aircraft"
                v = np.linalg.norm(x[:, 3:6], axis=1)
                assert lo - 1 <= v.min() and v.max() <= hi + 1
        for k in _by_kind(sc, "thermal"):
            _, x = sc.truth_of(k)
            h = np.hypot(x[:, 3], x[:, 4])
            assert THERMAL_MPS[0] - 0.5 <= h.min() and h.max() <= THERMAL_MPS[1] + 0.5
            assert np.all(
                (x[:, 5] >= THERMAL_CLIMB_MPS[0] - 0.3) & (x[:, 5] <= THERMAL_CLIMB_MPS[1] + 0.3)
            )
            assert np.ptp(x[:, 0]) < 300.0, "circles in its thermal"
        for k in _by_kind(sc, "gull"):
            _, x = sc.truth_of(k)
            h = np.hypot(x[:, 3], x[:, 4])
            assert GULL_MPS[0] - 0.5 <= h.min() and h.max() <= GULL_MPS[1] + 0.5
            assert (x[:, 5] > 0).any() and (x[:, 5] < 0).any(), "flap-glide undulation"


def test_no_cooperative_emissions(scenarios):
    setup = SiteSetup()
    for sc in scenarios:
        assert not carriers(sc, setup.remote_id_classes).any()
        assert not carriers(sc, frozenset({"drone", "aircraft"})).any()


def test_same_seed_same_scenario():
    a, b = build_scenario("loitering", 7), build_scenario("loitering", 7)
    assert np.array_equal(a.truth_state, b.truth_state) and np.array_equal(a.det_z, b.det_z)
