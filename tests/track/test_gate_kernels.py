"""The compiled gating (track/gate_kernels.py) finds the pairs gate.gate finds, in the same
order, with the same d2 and det S (to rounding): on the strip path, and on the grid path it
falls back to (spread-out problems, detections not in east order)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.track.gate import gate
from skywarden.track.gate_kernels import gate_tracks_and_candidates
from tests.track.strategies import random_spd, random_tracks


def _check(x, P, cand_pos, cand_P, z, R, threshold) -> None:
    pos = np.concatenate([x[:, :3], cand_pos])
    P_pos = np.concatenate([P[:, :3, :3], cand_P])
    want = gate(pos, P_pos, z, R, threshold)
    tracks, cands = gate_tracks_and_candidates(x, P, cand_pos, cand_P, z, R, threshold)
    n = x.shape[0]
    got_track = np.concatenate([tracks.track, cands.track + n])
    assert np.array_equal(got_track, want.track)
    assert np.array_equal(np.concatenate([tracks.detection, cands.detection]), want.detection)
    assert (tracks.track < n).all() and (cands.track >= 0).all()
    np.testing.assert_allclose(np.concatenate([tracks.d2, cands.d2]), want.d2, rtol=1e-9)
    np.testing.assert_allclose(np.concatenate([tracks.det_S, cands.det_S]), want.det_S, rtol=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 60),
    k=st.integers(0, 30),
    d=st.integers(1, 80),
    half=st.sampled_from([50.0, 500.0, 5000.0]),
    sorted_east=st.booleans(),
)
def test_gate_kernel_equals_gate(seed, n, k, d, half, sorted_east) -> None:
    rng = np.random.default_rng(seed)
    x, P = random_tracks(rng, n)
    x[:, :3] *= half / 2000.0
    cand_pos = rng.uniform(-half, half, (k, 3))
    cand_P = random_spd(rng, k, 3, 20.0)
    z = np.concatenate([x[:, :3] + rng.normal(0, 10, (n, 3)), rng.uniform(-half, half, (d, 3))])
    if sorted_east:
        z = z[np.argsort(z[:, 0])]
    R = random_spd(rng, z.shape[0], 3, 5.0)
    _check(x, P, cand_pos, cand_P, z, R, 16.27)


def test_spread_out_problem_takes_the_grid_and_finds_the_same_pairs() -> None:
    """All points on one east line: every strip holds every point, so the grid is used."""
    rng = np.random.default_rng(7)
    n = d = 300
    x, P = random_tracks(rng, n)
    x[:, 0] = 0.0
    x[:, 1] = np.linspace(-3e4, 3e4, n)
    z = x[:, :3] + rng.normal(0, 5, (n, 3))
    z[:, 0] = 0.0
    R = random_spd(rng, d, 3, 5.0)
    _check(x, P, np.zeros((0, 3)), np.zeros((0, 3, 3)), z, R, 16.27)


def test_nan_and_infinite_covariances_reach_nothing_or_everything_as_gate_does() -> None:
    rng = np.random.default_rng(1)
    x, P = random_tracks(rng, 6)
    P[0] = np.nan
    P[1, :3, :3] = np.eye(3) * 1e30
    z = np.sort(rng.uniform(-2000, 2000, (20, 3)), axis=0)
    R = random_spd(rng, 20, 3, 5.0)
    _check(x, P, np.zeros((0, 3)), np.zeros((0, 3, 3)), z, R, 16.27)
