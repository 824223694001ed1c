"""The compiled gating (track/gate_kernels.py) finds the pairs gate.gate finds, in the same
order, with the same d2 and det S (to rounding): on the strip path, and on the grid path it
falls back to (spread-out problems, detections not in east order)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.track import gate_kernels
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


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 80),
    k=st.integers(0, 30),
    d=st.integers(1, 150),
    half=st.sampled_from([20.0, 500.0, 5000.0, 1e5]),
    size_spread=st.sampled_from([1.0, 30.0, 1e4]),
)
def test_the_grid_finds_the_pairs_gate_finds(seed, n, k, d, half, size_spread) -> None:
    """The strips forced to decline (no reads allowed): the grid, with gates of sizes
    spread by up to ``size_spread`` x (several cells per gate), centres far outside the
    detections, and detections in no particular order, finds gate.gate's pairs."""
    rng = np.random.default_rng(seed)
    x, P = random_tracks(rng, n)
    x[:, :3] *= half / 2000.0
    x[:, :3] += np.where(rng.random((n, 1)) < 0.1, 10 * half, 0.0)  # some far outside
    P[:, :3, :3] *= rng.uniform(1.0, size_spread, (n, 1, 1))
    cand_pos = rng.uniform(-half, half, (k, 3))
    cand_P = random_spd(rng, k, 3, 20.0) * rng.uniform(1.0, size_spread, (k, 1, 1))
    z = np.concatenate([x[:, :3] + rng.normal(0, 10, (n, 3)), rng.uniform(-half, half, (d, 3))])
    R = random_spd(rng, z.shape[0], 3, 5.0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gate_kernels, "STRIP_READS_PER_ROW", 0.0)
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


@pytest.mark.parametrize("strip_reads", [gate_kernels.STRIP_READS_PER_ROW, 0.0])
def test_nan_and_infinite_covariances_reach_nothing_or_everything_as_gate_does(
    strip_reads: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the strips, and on the grid (the strips forced to decline)."""
    monkeypatch.setattr(gate_kernels, "STRIP_READS_PER_ROW", strip_reads)
    rng = np.random.default_rng(1)
    x, P = random_tracks(rng, 6)
    P[0] = np.nan
    P[1, :3, :3] = np.eye(3) * 1e30
    z = np.sort(rng.uniform(-2000, 2000, (20, 3)), axis=0)
    R = random_spd(rng, 20, 3, 5.0)
    _check(x, P, np.zeros((0, 3)), np.zeros((0, 3, 3)), z, R, 16.27)
