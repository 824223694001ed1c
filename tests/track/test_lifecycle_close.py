"""Closing a scan: the coast odds handed from record_scan_odds to survivors give what the
plain calls give."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from skywarden.track import lifecycle
from skywarden.track.params import TrackerParams
from skywarden.track.tracks import CONFIRMED, TENTATIVE


def _tracks(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    params = TrackerParams()
    x = rng.normal(size=(n, 6)) * 100.0
    P = np.broadcast_to(np.eye(6) * 25.0, (n, 6, 6)).copy()
    born = lifecycle.start_tracks(
        x, P, t=10.0, t_birth=np.full(n, 2.0), history=rng.integers(0, 64, n),
        age=rng.integers(1, 8, n), identity=np.full(n, -1), params=params, first_id=1,
        score=rng.normal(5.0, 4.0, n),
    )  # fmt: skip
    status = np.where(rng.random(n) < 0.7, CONFIRMED, TENTATIVE).astype(np.int8)
    misses = rng.integers(0, 5, n).astype(np.int32)
    t_update = 10.0 - misses * rng.uniform(0.5, 4.0, n)
    tracks = replace(
        born, status=status, misses=misses, t_update=t_update, pending_hit=rng.random(n) < 0.5
    )
    return tracks, params


def test_survivors_with_the_recorded_odds_equal_survivors_without() -> None:
    for seed in range(5):
        tracks, params = _tracks(200, seed)
        closed, odds = lifecycle.record_scan_odds(tracks, 10.0, params, 0.85)
        assert odds is not None and odds.shape == (200,)
        plain = lifecycle.record_scan(tracks, 10.0, params, 0.85)
        assert np.array_equal(plain.status, closed.status)
        want = lifecycle.survivors(closed, params, 0.85)
        assert np.array_equal(lifecycle.survivors(closed, params, 0.85, odds), want)
        assert 0 < np.count_nonzero(want) < 200  # both kinds happen


def test_m_of_n_gives_no_odds() -> None:
    tracks, _ = _tracks(20)
    params = TrackerParams(confirmation="m_of_n")
    closed, odds = lifecycle.record_scan_odds(tracks, 10.0, params, 0.85)
    assert odds is None
    assert lifecycle.survivors(closed, params, 0.85, odds).shape == (20,)
