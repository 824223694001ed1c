"""The fused step (track/fused_step.py: two compiled calls per scan) gives the same tracks as
the step's compiled stages, to the last bit: every column of the tracks, the candidates, the
clutter map, the Pd estimate and the step's events, after every scan, on planar and
simulated scenarios, with both confirmation rules, on polar clutter cells, and on runs that
leave the fused path (an identity appears) or whose gating it hands back (spread out)."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest

from skywarden.cli.track import detection_scans
from skywarden.detections import NO_IDENTITY, Detections, make_detections
from skywarden.simulate import build_scenario
from skywarden.simulate.planar import HELD_OUT_LIKE, planar_scenario
from skywarden.track import fused_step
from skywarden.track.params import TrackerParams
from skywarden.track.step import new_tracks, step


def _assert_same(a: object, b: object, where: str) -> None:
    """Every field equal: arrays of the same dtype and shape, bit for bit (NaN = NaN)."""
    if hasattr(a, "__dataclass_fields__"):
        for f in fields(a):
            _assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), where
        assert (a.dtype, a.shape) == (b.dtype, b.shape), where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
    else:
        assert a == b, (where, a, b)


def _stepped_both_ways(scans, params: TrackerParams, monkeypatch, radars=None) -> int:
    """Step the scans with the fused path and with the stages only; compare after every scan.
    Returns the number of scans the fused path took."""
    applies = fused_step.applies
    fused = stages = None
    taken = 0
    for t, dets in scans:
        if fused is None:
            fused = stages = new_tracks(params, t, radars)
        monkeypatch.setattr(fused_step, "applies", lambda *args: False)
        stages, stage_events = step(stages, dets, t, params)
        monkeypatch.setattr(fused_step, "applies", applies)
        taken += applies(fused, dets, params, True)
        fused, fused_events = step(fused, dets, t, params)
        _assert_same(fused, stages, f"tracks at {t}")
        _assert_same(fused_events, stage_events, f"events at {t}")
    return taken


def _planar(name: str, n_scans: int, seed: int) -> list[tuple[float, Detections]]:
    table = planar_scenario(replace(HELD_OUT_LIKE[name], n_scans=n_scans), seed).detections
    return list(detection_scans(table, TrackerParams().default_sigma))


@pytest.mark.parametrize(
    ("name", "n_scans", "seed"),
    [("dense", 30, 0), ("heavy", 25, 1), ("manoeuvring", 60, 2), ("manoeuvring", 5, 3)],
)
def test_fused_step_equals_the_stages_on_planar_scenarios(name, n_scans, seed, monkeypatch):
    scans = _planar(name, n_scans, seed)
    assert _stepped_both_ways(scans, TrackerParams(), monkeypatch) == len(scans)


def test_fused_step_equals_the_stages_with_m_of_n_and_polar_cells(monkeypatch) -> None:
    """The other confirmation rule, and clutter learnt in range x azimuth cells of a radar
    (the cells found by NumPy before the fused calls), with scans fed in shuffled order."""
    scans = _planar("dense", 20, 4)
    rng = np.random.default_rng(0)
    shuffled = [(t, d.take(rng.permutation(len(d)))) for t, d in scans]
    params = TrackerParams(confirmation="m_of_n")
    assert _stepped_both_ways(shuffled, params, monkeypatch) == len(scans)
    radars = {0: (100.0, -200.0)}
    assert _stepped_both_ways(scans, TrackerParams(), monkeypatch, radars) == len(scans)


@pytest.mark.parametrize(("name", "seed"), [("crossing", 0), ("swarm", 1), ("mixed", 1)])
def test_fused_step_equals_the_stages_on_simulated_scenarios(name, seed, monkeypatch) -> None:
    """Simulated sites: radar plots, and in mixed cooperative reports (identities), whose
    scans the stages take."""
    scenario = build_scenario(name, seed, confusers=0)
    sensor = scenario.sensor_params
    params = TrackerParams(pd=sensor.pd, clutter_density=sensor.clutter_density)
    scans = [(float(t), scenario.detections_at(k)) for k, t in enumerate(scenario.times)]
    taken = _stepped_both_ways(scans[:60], params, monkeypatch)
    assert taken > 0


def test_a_run_leaves_the_fused_path_when_an_identity_appears(monkeypatch) -> None:
    """The fused path until a detection carries an identity; then the stages (the track
    bound to it keeps the identity), equal to the stages all along."""
    scans = _planar("manoeuvring", 30, 5)
    t, dets = scans[15]
    identity = np.full(len(dets), NO_IDENTITY, np.int64)
    identity[3] = 0xABC123
    scans[15] = (t, replace(dets, identity=identity))
    taken = _stepped_both_ways(scans, TrackerParams(), monkeypatch)
    assert 15 <= taken < len(scans)


def test_spread_out_gating_is_handed_back_to_the_grid(monkeypatch) -> None:
    """Detections on one north-south line (every east strip reads them all): the strip gate
    declines and the fused step gates on the grid, as the stages do."""
    params = TrackerParams()
    north = np.arange(400) * 40.0
    scans = []
    for k in range(8):
        z = np.column_stack([1e-3 * np.arange(400) + 3.0 * k, north + 20.0 * k, np.zeros(400)])
        scans.append((float(k), make_detections(float(k), z, 5.0)))
    assert _stepped_both_ways(scans, params, monkeypatch) == len(scans)


def test_a_scan_the_fused_kernel_cannot_solve_goes_to_the_stages(monkeypatch) -> None:
    """With the small Hungarian method's limit at one cell, every cluster of two or more
    pairs is 'too big' for the fused kernel: it hands those scans back (None) and the step
    takes the stages from the same inputs, with the real limit: the same tracks."""
    from skywarden.track import fused_kernels

    handed_back = []
    step_radar_only = fused_step.step_radar_only

    def counted(*args):
        done = step_radar_only(*args)
        handed_back.append(done is None)
        return done

    monkeypatch.setattr(fused_kernels, "SMALL_CLUSTER_CELLS", 1)
    monkeypatch.setattr(fused_step, "step_radar_only", counted)
    scans = _planar("heavy", 12, 6)
    _stepped_both_ways(scans, TrackerParams(), monkeypatch)
    assert any(handed_back) and not all(handed_back)
