"""The compiled candidate bookkeeping (track/candidate_kernels.py) gives the candidates
candidates.next_candidates gives (with the step's new candidates from the left-over
detections), element for element: kept, aged and dropped old candidates, then the new ones,
at the end of a scan and within one."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.detections import make_detections
from skywarden.track import candidate_kernels
from skywarden.track.candidates import next_candidates
from skywarden.track.params import TrackerParams
from skywarden.track.tracks import Candidates
from tests.track.strategies import random_spd


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(0, 30),
    d=st.integers(0, 30),
    end_of_scan=st.booleans(),
    max_misses=st.integers(1, 4),
)
def test_next_candidates_equal_the_numpy_bookkeeping(seed, k, d, end_of_scan, max_misses):
    rng = np.random.default_rng(seed)
    cands = Candidates(
        rng.uniform(0.0, 10.0, k), rng.normal(0.0, 1e3, (k, 3)), random_spd(rng, k, 3, 25.0),
        rng.integers(-1, max_misses, k).astype(np.int32),
    )  # fmt: skip
    dets = make_detections(12.0, rng.normal(0.0, 1e3, (d, 3)), random_spd(rng, d, 3, 25.0))
    paired, left = rng.random(k) < 0.3, rng.random(d) < 0.6
    params = TrackerParams(tentative_max_misses=max_misses)
    rest = np.flatnonzero(left)
    new = Candidates(
        np.full(rest.size, 12.0), dets.z[rest], dets.R[rest], np.full(rest.size, -1, np.int32)
    )
    want = next_candidates(cands, paired, new, params, end_of_scan)
    got = candidate_kernels.next_candidates(cands, paired, dets, left, 12.0, params, end_of_scan)
    for name in ("t", "z", "R", "misses"):
        w, g = getattr(want, name), getattr(got, name)
        assert g.dtype == w.dtype, name
        np.testing.assert_array_equal(g, w, err_msg=name)
    assert len(got) <= k + d
