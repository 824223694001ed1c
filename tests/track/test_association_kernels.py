"""The compiled GNN (track/association_kernels.py) chooses the pairs associate.assigned_pairs
chooses, in the same order, on random gate graphs: lone pairs, stars, general clusters
(Hungarian, both orientations), ties, positive costs, and a cluster too big for it."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.track import associate, association_kernels
from skywarden.track.gate import GatedPairs


def _pairs(rng: np.random.Generator, n: int, d: int, density: float, ties: bool):
    mask = rng.random((n, d)) < density
    ti, dj = np.nonzero(mask)
    ti, dj = ti.astype(np.int64), dj.astype(np.int64)
    perm = rng.permutation(ti.size)  # any pair order (the step's is by track, then detection)
    ti, dj = ti[perm], dj[perm]
    cost = rng.normal(-1.0, 2.0, ti.size)
    if ties:
        cost = np.round(cost)
    pairs = GatedPairs(ti, dj, np.zeros(ti.size), np.ones(ti.size))
    return pairs, cost


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 25),
    d=st.integers(0, 25),
    density=st.sampled_from([0.02, 0.08, 0.2, 0.5]),
    ties=st.booleans(),
)
def test_assigned_pairs_equal_the_numpy_gnn(seed, n, d, density, ties) -> None:
    rng = np.random.default_rng(seed)
    pairs, cost = _pairs(rng, n, d, density, ties)
    want = associate.assigned_pairs(pairs, cost, n, d)
    got = association_kernels.assigned_pairs(pairs, cost, n, d)
    assert got.dtype == np.int64
    assert np.array_equal(got, want)


def test_a_cluster_too_big_for_the_small_hungarian_takes_the_reference() -> None:
    rng = np.random.default_rng(5)
    pairs, cost = _pairs(rng, 30, 30, 0.6, False)  # one cluster of 30 x 30 > 400 cells
    want = associate.assigned_pairs(pairs, cost, 30, 30)
    assert np.array_equal(association_kernels.assigned_pairs(pairs, cost, 30, 30), want)
