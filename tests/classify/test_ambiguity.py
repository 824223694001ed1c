"""Tracks inside each other's gates (skywarden.classify.ambiguity): hand-checked pairs, and
properties: the count does not depend on track order, is symmetric, and grows with the noise."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.classify.ambiguity import GATE_CHI2, ambiguous_neighbours


def test_hand_checked_pairs():
    """P = 25 I m^2 each, sigma 10 m: S = 250 I, gate radius sqrt(11.345 * 250) = 53.3 m."""
    pos = np.array([[0.0, 0, 0], [50.0, 0, 0], [1000.0, 0, 0], [1056.0, 0, 0], [5000.0, 0, 0]])
    P = np.tile(25.0 * np.eye(3), (5, 1, 1))
    assert ambiguous_neighbours(pos, P, sigma_m=10.0).tolist() == [1, 1, 0, 0, 0]
    # without measurement noise the gate is sqrt(11.345 * 50) = 23.8 m: nobody is inside
    assert ambiguous_neighbours(pos, P, sigma_m=0.0).tolist() == [0, 0, 0, 0, 0]
    # a large covariance along the pair's axis (a coasting track) makes the pair ambiguous
    P[3] = np.diag([400.0, 25.0, 25.0])
    assert ambiguous_neighbours(pos, P, sigma_m=10.0).tolist() == [1, 1, 1, 1, 0]
    assert np.isclose(GATE_CHI2, 11.345)


def test_three_tracks_together_and_bad_rows():
    pos = np.array([[0.0, 0, 0], [10.0, 0, 0], [0.0, 10, 0], [np.nan, 0, 0]])
    P = np.tile(np.eye(3), (4, 1, 1))
    assert ambiguous_neighbours(pos, P, sigma_m=5.0).tolist() == [2, 2, 2, 0]
    assert ambiguous_neighbours(np.zeros((0, 3)), np.zeros((0, 3, 3))).tolist() == []
    assert ambiguous_neighbours(pos[:1], P[:1]).tolist() == [0]


def test_pairs_beyond_the_search_range_are_not_counted():
    pos = np.array([[0.0, 0, 0], [400.0, 0, 0]])
    P = np.tile(1e6 * np.eye(3), (2, 1, 1))
    assert ambiguous_neighbours(pos, P, max_range_m=300.0).tolist() == [0, 0]
    assert ambiguous_neighbours(pos, P, max_range_m=500.0).tolist() == [1, 1]


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 30))
def test_order_invariant_and_monotone_in_noise(seed, n):
    rng = np.random.default_rng(seed)
    pos = rng.uniform(-150, 150, (n, 3))
    A = rng.normal(0, 4, (n, 3, 3))
    P = A @ A.transpose(0, 2, 1) + np.eye(3)
    c = ambiguous_neighbours(pos, P, sigma_m=5.0)
    perm = rng.permutation(n)
    assert ambiguous_neighbours(pos[perm], P[perm], sigma_m=5.0).tolist() == c[perm].tolist()
    assert c.sum() % 2 == 0  # every pair is counted on both of its tracks
    assert (ambiguous_neighbours(pos, P, sigma_m=10.0) >= c).all()
    # brute force: every pair tested
    d = pos[:, None] - pos[None]
    S = P[:, None] + P[None] + 2 * 25.0 * np.eye(3)
    m2 = np.einsum("ijk,ijk->ij", d, np.linalg.solve(S, d[..., None])[..., 0])
    near = np.linalg.norm(d, axis=2) <= 300.0
    inside = (m2 <= GATE_CHI2) & near & ~np.eye(n, dtype=bool)
    assert inside.sum(axis=1).tolist() == c.tolist()
