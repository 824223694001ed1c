"""The compiled two-pass association (track/association_pass_kernels.py) gives what the
step's NumPy association (step._associate on the NumPy path, the reference) gives, for
batches without identities: the same track <-> detection indices, blocked detections and
gains, on random gate graphs with confirmed, coasting, held and tentative tracks (clusters,
stars, ties, positive costs), and hands a cluster too big for it back (None)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.detections import NO_IDENTITY, make_detections
from skywarden.track import association_pass_kernels
from skywarden.track.association_kernels import SMALL_CLUSTER_CELLS
from skywarden.track.gate import GatedPairs
from skywarden.track.params import TrackerParams
from skywarden.track.step import _associate
from skywarden.track.tracks import empty_tracks, with_fields


def _problem(rng: np.random.Generator, n: int, d: int, density: float, ties: bool):
    mask = rng.random((n, d)) < density
    ti, dj = np.nonzero(mask)  # by track, then detection: the gate's order
    pairs = GatedPairs(
        ti.astype(np.int64), dj.astype(np.int64),
        rng.uniform(0.0, 16.0, ti.size), rng.uniform(1.0, 1e6, ti.size),
    )  # fmt: skip
    if ties:
        pairs = replace(pairs, d2=np.round(pairs.d2), det_S=np.ones(ti.size))
    tracks = with_fields(
        empty_tracks(3), id=np.arange(1, n + 1, dtype=np.int64),
        status=rng.integers(0, 4, n).astype(np.int8), identity=np.full(n, NO_IDENTITY),
    )  # fmt: skip
    dets = make_detections(0.0, rng.normal(0.0, 100.0, (d, 3)), 5.0)
    lam = rng.uniform(1e-12, 1e-6, d)
    return tracks, dets, pairs, lam


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 25),
    d=st.integers(0, 25),
    density=st.sampled_from([0.02, 0.08, 0.2, 0.5]),
    ties=st.booleans(),
    pd=st.floats(0.5, 0.99),
)
def test_the_compiled_passes_equal_the_numpy_association(seed, n, d, density, ties, pd):
    rng = np.random.default_rng(seed)
    tracks, dets, pairs, lam = _problem(rng, n, d, density, ties)
    x, P = np.zeros((n, 6)), np.zeros((n, 6, 6))
    want = _associate(tracks, x, P, dets, TrackerParams(compiled_kernels=False), pairs, pd, lam)
    got = _associate(tracks, x, P, dets, TrackerParams(compiled_kernels=True), pairs, pd, lam)
    for w, g in zip(want, got, strict=True):
        np.testing.assert_array_equal(g, w)


def test_a_cluster_too_big_goes_back_to_the_reference() -> None:
    """A dense cluster over SMALL_CLUSTER_CELLS cells: the compiled passes return None (the
    step then solves it with the reference), and the step's result is still the NumPy one."""
    side = int(np.sqrt(SMALL_CLUSTER_CELLS)) + 2
    rng = np.random.default_rng(3)
    tracks, dets, pairs, lam = _problem(rng, side, side, 1.0, False)
    tracks = with_fields(tracks, status=np.ones(side, np.int8))
    pairs = replace(pairs, d2=np.zeros(len(pairs)))  # every pair well inside: one cluster
    from skywarden.track.associate import net_cost

    cost = net_cost(pairs, 0.9, lam[pairs.detection])
    assert (cost < 0).all()
    got = association_pass_kernels.associate_without_identities(
        pairs, cost, tracks.status, side, side
    )
    assert got is None
    x, P = np.zeros((side, 6)), np.zeros((side, 6, 6))
    want = _associate(tracks, x, P, dets, TrackerParams(compiled_kernels=False), pairs, 0.9, lam)
    step = _associate(tracks, x, P, dets, TrackerParams(compiled_kernels=True), pairs, 0.9, lam)
    for w, g in zip(want, step, strict=True):
        np.testing.assert_array_equal(g, w)
    assert (want[0] >= 0).sum() == side
