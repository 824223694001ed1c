"""Synthetic commuting gulls keep to their stated ranges: straight, level-on-average flight at
8-16 m/s, 20-250 m up, with the simulator's flap-glide vertical speed (0.5-1.5 m/s, reversing
every 2-5 s)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.classify.commuting_gulls import HEIGHT_M, SPEED_MPS, synthetic_gulls
from skywarden.classify.synthetic import STEP_S


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_gulls_fly_straight_at_their_speed_with_flap_glide_undulation(seed):
    trajs = synthetic_gulls(np.random.default_rng(seed), 6, 240.0, "g-")
    assert len(trajs) == 6 and all(t.label == "bird" for t in trajs)
    assert len({t.group for t in trajs}) == 6
    for tr in trajs:
        assert np.allclose(np.diff(tr.t), 2 * STEP_S)
        v = np.diff(tr.p, axis=0) / np.diff(tr.t)[:, None]
        speed = np.hypot(v[:, 0], v[:, 1])
        assert SPEED_MPS[0] - 1e-6 <= speed.min() and speed.max() <= SPEED_MPS[1] + 1e-6
        assert np.ptp(speed) < 0.2 * speed.mean()  # steady flapping flight, a heading walk
        net = np.linalg.norm(tr.p[-1, :2] - tr.p[0, :2])
        path = np.linalg.norm(np.diff(tr.p[:, :2], axis=0), axis=1).sum()
        assert net / path > 0.9  # straight commute
        vz = np.abs(v[:, 2])
        assert vz.max() <= 1.5 + 1e-6 and np.median(vz) >= 0.4
        ups = np.sign(v[:, 2])
        assert np.count_nonzero(np.diff(ups)) >= 240.0 / 5.0 / 2  # reverses every 2-5 s
        assert tr.p[:, 2].min() >= 5.0 - 1e-9
        assert tr.p[0, 2] <= HEIGHT_M[1] + 1.5


def test_gulls_are_seeded():
    a = synthetic_gulls(np.random.default_rng(7), 3, 60.0)
    b = synthetic_gulls(np.random.default_rng(7), 3, 60.0)
    assert all(np.array_equal(x.p, y.p) for x, y in zip(a, b, strict=True))
