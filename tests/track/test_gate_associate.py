"""KD-tree + chi-square gating and cluster-wise GNN equal brute force on random cases."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.track.associate import assign, assigned_pairs, net_cost
from skywarden.track.gate import gate
from tests import oracle
from tests.track.strategies import random_spd

THRESHOLD = 16.27  # chi2(3) at 0.999


def _scene(seed: int, n: int, d: int, spread: float):
    rng = np.random.default_rng(seed)
    x = np.hstack([rng.uniform(0, spread, (n, 3)), rng.normal(0, 5, (n, 3))])
    P = random_spd(rng, n, 6, 6.0)
    near = x[rng.integers(0, n, d), :3] + rng.normal(0, 15, (d, 3)) if n else np.zeros((d, 3))
    z = np.where(rng.random((d, 1)) < 0.7, near, rng.uniform(0, spread, (d, 3)))
    R = random_spd(rng, d, 3, 5.0)
    return x, P, z, R


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 25),
    d=st.integers(0, 30),
    spread=st.sampled_from([60.0, 200.0, 2000.0]),
)
def test_gate_equals_brute_force(seed: int, n: int, d: int, spread: float) -> None:
    x, P, z, R = _scene(seed, n, d, spread)
    pairs = gate(x[:, :3], P[:, :3, :3], z, R, THRESHOLD)
    got = {
        (int(i), int(j)): (d2, s)
        for i, j, d2, s in zip(pairs.track, pairs.detection, pairs.d2, pairs.det_S, strict=True)
    }
    want = oracle.gate_all(x, P, z, R, THRESHOLD)
    assert got.keys() == want.keys()
    for key, (d2, det_s) in want.items():
        np.testing.assert_allclose(got[key], (d2, det_s), rtol=1e-8)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 25),
    d=st.integers(1, 30),
    spread=st.sampled_from([60.0, 200.0, 2000.0]),
)
def test_cluster_gnn_equals_dense_gnn(seed: int, n: int, d: int, spread: float) -> None:
    x, P, z, R = _scene(seed, n, d, spread)
    pairs = gate(x[:, :3], P[:, :3, :3], z, R, THRESHOLD)
    cost = net_cost(pairs, pd=0.9, clutter_density=1e-7)
    ti, dj = assign(pairs, cost, n, d)
    assert len(set(ti.tolist())) == ti.size and len(set(dj.tolist())) == dj.size
    lookup = {
        (int(i), int(j)): c for i, j, c in zip(pairs.track, pairs.detection, cost, strict=True)
    }
    total = sum(lookup[(int(i), int(j))] for i, j in zip(ti, dj, strict=True))
    want, want_total = oracle.gnn_dense(oracle.gate_all(x, P, z, R, THRESHOLD), n, d, 0.9, 1e-7)
    # the optimum is unique up to exact ties; the total cost must match in every case
    np.testing.assert_allclose(total, want_total, rtol=1e-9, atol=1e-9)
    # random continuous costs have no ties, so the matching itself is unique
    assert {(int(i), int(j)) for i, j in zip(ti, dj, strict=True)} == want
    chosen = assigned_pairs(pairs, cost, n, d)  # the same pairs, as indices into pairs
    np.testing.assert_array_equal(pairs.track[chosen], ti)
    np.testing.assert_array_equal(pairs.detection[chosen], dj)
    np.testing.assert_allclose(cost[chosen].sum() if chosen.size else 0.0, total, rtol=1e-12)


def test_known_crossing_assignment() -> None:
    """Two tracks, two detections, greedy would pick wrong: the joint optimum wins."""
    x = np.zeros((2, 6))
    x[1, 0] = 10.0
    P = np.broadcast_to(np.eye(6) * 25.0, (2, 6, 6)).copy()
    z = np.array([[4.0, 0, 0], [-6.0, 0, 0]])
    R = np.broadcast_to(np.eye(3), (2, 3, 3)).copy()
    pairs = gate(x[:, :3], P[:, :3, :3], z, R, THRESHOLD)
    ti, dj = assign(pairs, net_cost(pairs, 0.9, 1e-9), 2, 2)
    # greedy takes (0, 0) (d2 0.6) and leaves track 1 with detection 1 (d2 9.8);
    # GNN takes the crossing pairs (1, 0) and (0, 1) at d2 1.4 each
    assert dict(zip(ti.tolist(), dj.tolist(), strict=True)) == {0: 1, 1: 0}
