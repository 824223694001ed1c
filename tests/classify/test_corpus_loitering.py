"""The 'loitering' training runs: which scenarios and seeds each split draws."""

from __future__ import annotations

import pytest

from skywarden.classify import corpus
from skywarden.classify.dataset import Samples
from skywarden.track.params import TrackerParams


@pytest.mark.parametrize("split", corpus.SPLITS)
def test_loitering_is_in_by_default_and_never_uses_evaluation_seeds(split, monkeypatch):
    calls: list[tuple[str, int]] = []

    def fake_build(name, seed, **kw):
        calls.append((name, seed))
        return None

    monkeypatch.setattr("skywarden.simulate.build_scenario", fake_build)
    monkeypatch.setattr(corpus, "scans_from_scenario", lambda scenario, names, amplitude: None)
    monkeypatch.setattr(corpus, "track_samples", lambda scans, params, source: Samples.empty())
    corpus.simulated_samples(split, TrackerParams(), loitering=False)
    assert "loitering" not in {n for n, _ in calls}
    calls.clear()
    corpus.simulated_samples(split, TrackerParams())
    seeds = [s for n, s in calls if n == "loitering"]
    assert len(seeds) == dict(corpus.LOITERING_RUNS[split])["loitering"]
    # the split's own seed block: 1000+, 2000+ or 3000+, never an evaluation seed 0-999
    assert all(corpus.SPLIT_SEED[split] <= s < corpus.SPLIT_SEED[split] + 1000 for s in seeds)
