"""The compiled hit columns (track/hit_kernels.py) equal the NumPy reference
(track/hits.py), element for element and dtype for dtype: identities taken by tracks without
one, RCS, sticky and ground-state evidence bits, the open scan's hit flag and the score."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.detections import NO_IDENTITY, make_detections
from skywarden.evidence import AIRBORNE, MODE_S_REPLY, ON_GROUND, SIMULATED, TEST
from skywarden.track import hit_kernels, hits
from skywarden.track.tracks import empty_tracks, with_fields

BITS = np.array([0, MODE_S_REPLY, ON_GROUND, AIRBORNE, SIMULATED, TEST, ON_GROUND | MODE_S_REPLY])


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 30),
    d=st.integers(0, 30),
    with_identities=st.booleans(),
)
def test_hit_columns_equal_the_numpy_reference(seed, n, d, with_identities) -> None:
    rng = np.random.default_rng(seed)
    identity = np.where(rng.random(n) < 0.5, rng.integers(0, 50, n), NO_IDENTITY)
    tracks = with_fields(
        empty_tracks(3), id=np.arange(n, dtype=np.int64),
        identity=identity.astype(np.int64) if with_identities else np.full(n, NO_IDENTITY),
        rcs_dbsm=np.where(rng.random(n) < 0.3, np.nan, rng.normal(0, 10, n)),
        evidence=rng.choice(BITS, n).astype(np.int32), pending_hit=rng.random(n) < 0.3,
        score=rng.normal(0.0, 5.0, n),
    )  # fmt: skip
    det_identity = np.where(rng.random(d) < 0.5, rng.integers(0, 50, d), NO_IDENTITY)
    dets = make_detections(
        0.0, rng.normal(0.0, 100.0, (d, 3)), 5.0,
        identity=det_identity if with_identities else NO_IDENTITY,
        rcs_dbsm=np.where(rng.random(d) < 0.3, np.nan, rng.normal(0, 10, d)),
        evidence=rng.choice(BITS, d).astype(np.int32),
    )  # fmt: skip
    trk_det = np.full(n, -1, np.int64)  # a one-to-one assignment of some tracks
    hit = rng.permutation(n)[: min(n, d, int(rng.integers(0, n + 1)))]
    trk_det[hit] = rng.permutation(d)[: hit.size]
    gain = np.where(trk_det >= 0, rng.normal(0.0, 3.0, n), 0.0)
    want = hits.hit_columns(tracks, dets, trk_det, gain)
    got = hit_kernels.hit_columns(tracks, dets, trk_det, gain)
    assert set(got) == set(want)
    for name, w in want.items():
        assert got[name].dtype == w.dtype, name
        np.testing.assert_array_equal(got[name], w, err_msg=name)
