"""The compiled scan close (track/lifecycle_kernels.py) equals lifecycle.record_scan_odds
followed by lifecycle.survivors, element for element, with score and M-of-N confirmation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.track import lifecycle, lifecycle_kernels
from skywarden.track.params import TrackerParams
from skywarden.track.tracks import COASTING, CONFIRMED, HELD, TENTATIVE


def _tracks(n: int, seed: int, params: TrackerParams):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)) * 100.0
    P = np.broadcast_to(np.eye(6) * 25.0, (n, 6, 6)).copy()
    P[rng.random(n) < 0.1, 1, 1] = 1e9  # some lost in position
    born = lifecycle.start_tracks(
        x, P, t=10.0, t_birth=np.full(n, 2.0), history=rng.integers(0, 64, n),
        age=rng.integers(1, 8, n), identity=np.full(n, -1), params=params, first_id=1,
        score=rng.normal(5.0, 6.0, n),
    )  # fmt: skip
    status = rng.choice([TENTATIVE, CONFIRMED, COASTING, HELD], n).astype(np.int8)
    misses = rng.integers(0, 6, n).astype(np.int32)
    t_update = 10.0 - misses * rng.uniform(0.5, 4.0, n)
    return replace(
        born, status=status, misses=misses, t_update=t_update, pending_hit=rng.random(n) < 0.5
    )


@pytest.mark.parametrize("confirmation", ["score", "m_of_n"])
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300), pd=st.floats(0.3, 0.995))
def test_close_scan_equals_record_scan_odds_then_survivors(confirmation, seed, n, pd) -> None:
    params = TrackerParams(confirmation=confirmation)
    tracks = _tracks(n, seed, params)
    want, odds = lifecycle.record_scan_odds(tracks, 10.0, params, pd)
    want_keep = lifecycle.survivors(want, params, pd, odds)
    got, newly, keep = lifecycle_kernels.close_scan(tracks, 10.0, params, pd)
    for name in ("history", "age", "misses", "hits", "status", "t_update", "score", "pending_hit"):
        a, b = getattr(got, name), getattr(want, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert np.array_equal(keep, want_keep)
    assert np.array_equal(newly, (tracks.status == TENTATIVE) & (want.status != TENTATIVE))
