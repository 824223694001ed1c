"""Rendering truth trajectories as radar scans: radar amplitude (RCS) on a fraction of chunks."""

from __future__ import annotations

import numpy as np

from skywarden.classify.dataset import render
from skywarden.classify.trajectories import Trajectory


def _trajectories(n: int) -> list[Trajectory]:
    t = np.arange(0.0, 60.0)
    out = []
    for k in range(n):
        p = np.column_stack([5.0 * t, np.zeros_like(t), np.full_like(t, 50.0 + k)])
        out.append(Trajectory(f"t{k}", f"g{k}", ("drone", "bird", "aircraft")[k % 3], t, p))
    return out


def test_amplitude_goes_to_whole_chunks_and_changes_no_geometry():
    trajs = _trajectories(60)
    scans = {f: render(trajs, np.random.default_rng(3), amplitude_fraction=f) for f in (0, 0.5, 1)}
    for f in (0.5, 1):  # same positions, times and truth whatever the fraction
        np.testing.assert_array_equal(scans[f].det_z, scans[0].det_z)
        np.testing.assert_array_equal(scans[f].det_target, scans[0].det_target)
    assert np.isnan(scans[0].det_rcs).all() and np.isfinite(scans[1].det_rcs).all()
    half = scans[0.5]
    target = half.det_target
    with_rcs = [np.isfinite(half.det_rcs[target == k]) for k in np.unique(target[target >= 0])]
    assert all(w.all() or not w.any() for w in with_rcs)  # a chunk has amplitude or not
    share = np.mean([w.all() for w in with_rcs])
    assert 0.3 < share < 0.7
    # aircraft echo far more than drones and birds
    cls = half.target_class[np.maximum(target, 0)]
    aircraft = np.nanmedian(scans[1].det_rcs[(target >= 0) & (cls == 2)])
    small = np.nanmedian(scans[1].det_rcs[(target >= 0) & (cls < 2)])
    assert aircraft - small > 25.0
