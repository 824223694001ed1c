"""The bird-flock training tracks (classify.flock_corpus): only flock birds, labelled bird, on
seeds of their own that are never evaluation seeds nor another simulator run's."""

from __future__ import annotations

import numpy as np
import pytest

from skywarden.classify import corpus, flock_corpus
from skywarden.classify.dataset import CLASSES, Samples, track_samples
from skywarden.simulate import build_scenario
from skywarden.track.params import TrackerParams


def test_flock_scans_keep_only_the_flock_birds_plots():
    sc = build_scenario("mixed", 1500, n_scans=20)
    scans = flock_corpus.flock_scans(sc)
    kind = np.asarray(sc.target_kind)
    assert scans.det_target.size > 0
    assert (scans.det_target >= 0).all()
    assert set(kind[scans.det_target]) == {"flock"}
    flock_plots = np.isin(sc.det_truth_id, np.flatnonzero(kind == "flock"))
    assert scans.det_target.size == int(flock_plots.sum())  # none of the flock's plots lost
    np.testing.assert_array_equal(scans.det_z, np.asarray(sc.det_z)[flock_plots])
    assert np.array_equal(scans.times, sc.times)
    assert (scans.target_class[scans.det_target] == CLASSES.index("bird")).all()
    no_rcs = flock_corpus.flock_scans(sc, amplitude=False)
    assert np.isnan(no_rcs.det_rcs).all() and np.isfinite(scans.det_rcs).any()


@pytest.mark.parametrize("split", corpus.SPLITS)
def test_flock_seeds_are_the_splits_own_and_never_evaluation_seeds(split, monkeypatch):
    calls: list[tuple[str, int, float]] = []

    def fake_build(name, seed, **kw):
        calls.append((name, seed, kw["sigma"]))
        return None

    monkeypatch.setattr("skywarden.simulate.build_scenario", fake_build)
    monkeypatch.setattr(flock_corpus, "flock_scans", lambda scenario, amplitude: None)
    monkeypatch.setattr(
        flock_corpus, "track_samples", lambda scans, params, source: Samples.empty()
    )
    flock_corpus.flock_samples(split)
    seeds = [s for _, s, _ in calls]
    assert len(seeds) == flock_corpus.FLOCK_RUNS[split] == len(set(seeds))
    assert {n for n, _, _ in calls} == {"mixed"}
    assert {sigma for _, _, sigma in calls} == set(corpus.NOISE_SIGMAS)  # every noise level
    base = corpus.SPLIT_SEED[split]
    # the split's own block (1000+, 2000+, 3000+), never 0-999, and not the seeds of the
    # split's other simulator runs (base + 0 .. base + count - 1)
    others = max(c for runs in (corpus.SIM_RUNS, corpus.LOITERING_RUNS) for _, c in runs[split])
    assert all(base + others <= s < base + 1000 for s in seeds)


def test_flock_samples_are_bird_tracks_from_the_real_tracker():
    sc = build_scenario("mixed", 1500, n_scans=40)
    got = track_samples(flock_corpus.flock_scans(sc), TrackerParams(), flock_corpus.SOURCE)
    assert len(got) > 0
    assert (got.y == CLASSES.index("bird")).all()
    assert set(got.source) == {"sim-flock"}
