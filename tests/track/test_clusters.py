"""Cluster labels equal scipy's connected components; the Hungarian method is optimal."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from skywarden.track import clusters
from skywarden.track.clusters import edge_components, min_cost_matching


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_a=st.integers(1, 40),
    n_b=st.integers(1, 40),
    k=st.integers(0, 80),
)
def test_edge_components_partition_like_scipy(seed: int, n_a: int, n_b: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n_a, k), rng.integers(0, n_b, k)
    got = edge_components(a, b, n_a)
    graph = coo_matrix((np.ones(k), (a, n_a + b)), shape=(n_a + n_b,) * 2)
    want = connected_components(graph, directed=False)[1][a]
    # the same partition of the edges (labels differ)
    assert np.array_equal(got[:, None] == got[None, :], want[:, None] == want[None, :])


def test_a_long_chain_is_one_component() -> None:
    n = 500  # track i joins detections i and i+1: one chain of diameter 1000
    a = np.repeat(np.arange(n), 2)
    b = a + np.tile([0, 1], n)
    assert np.unique(edge_components(a, b, n)).size == 1


@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(1, 12),
    cols=st.integers(1, 12),
    sparse=st.booleans(),
)
def test_min_cost_matching_total_equals_scipy(
    seed: int, rows: int, cols: int, sparse: bool
) -> None:
    rng = np.random.default_rng(seed)
    C = -rng.exponential(1.0, (rows, cols))
    if sparse:  # as in a cluster: non-pairs cost 0
        C[rng.random((rows, cols)) < 0.6] = 0.0
    r, c = min_cost_matching(C)
    want_r, want_c = linear_sum_assignment(C)
    assert r.size == min(rows, cols) == np.unique(c).size
    assert np.all(np.diff(r) > 0)
    np.testing.assert_allclose(C[r, c].sum(), C[want_r, want_c].sum(), rtol=1e-12, atol=1e-12)


def test_big_clusters_go_to_scipy(monkeypatch) -> None:
    rng = np.random.default_rng(3)
    C = rng.normal(size=(30, 25))
    monkeypatch.setattr(clusters, "_hungarian", None)  # must not be called
    r, c = min_cost_matching(C)
    want_r, want_c = linear_sum_assignment(C)
    assert C[r, c].sum() == C[want_r, want_c].sum()
