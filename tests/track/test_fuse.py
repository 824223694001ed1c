"""Multi-sensor fusion: the real Parrot ANAFI Remote ID stream fused with a simulated radar,
the cooperative-claim consistency flag, the audit trail, and GOSPA radar-only vs fused."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.detections import (
    Detections,
    SourceKind,
    icao_identity,
    make_detections,
    remote_id_identity,
)
from skywarden.errors import ConfigError
from skywarden.evaluate.metrics import evaluate
from skywarden.evaluate.report import summary
from skywarden.geo import LocalFrame
from skywarden.simulate import Scenario, build_scenario
from skywarden.sources.remote_id.reports import assemble_reports, remote_id_to_detections
from skywarden.sources.remote_id.transports import decode_capture
from skywarden.tables import TrackTable, Truth
from skywarden.track import fuse, fuse_consistency
from skywarden.track.params import TrackerParams
from skywarden.track.step import new_tracks, step
from skywarden.track.tracks import Tracks
from tests.conftest import recording

PARROT = "cdc-remoteidreceiver/parrot_anafi4_real.pcapng"
PARROT_ID = remote_id_identity("1588E040445AC004418", 1)
RADAR_SIGMA = 7.0  # m, simulated radar plot noise per axis
RADAR, RID = 0, 1  # sensor indices


@pytest.fixture(scope="module")
def parrot(shared_data: Path) -> Detections:
    """The Parrot's Remote ID reports as detections in a frame at its take-off point
    (undeclared horizontal accuracy -> 50 m sigma; height above take-off -> ~50 m sigma)."""
    messages = decode_capture(recording(shared_data, PARROT).read_bytes(), Counter())
    reports = assemble_reports(messages)
    frame = LocalFrame(reports[0].lat_deg, reports[0].lon_deg, 480.0)
    return remote_id_to_detections(reports, frame, sensor=RID, unknown_horizontal_sigma_m=50.0)


@dataclass
class Run:
    """What a fused run saw after each Remote ID update."""

    t: list[float]
    tracks: list[Tracks]
    flags: list[tuple[np.ndarray, np.ndarray]]  # (inconsistent, non_cooperative) per track
    fusion: fuse.FusionState
    radar_seen: int


def _shifted(rid: Detections, east_m: float, from_t: float) -> Detections:
    z = rid.z.copy()
    z[rid.t >= from_t, 0] += east_m
    return make_detections(
        rid.t, z, rid.R, v=rid.v, sensor=rid.sensor, kind=rid.kind, identity=rid.identity
    )


def _fused_run(rid: Detections, seed: int, east_m: float = 0.0, from_t: float = 0.0) -> Run:
    """Step the tracker over the Remote ID reports interleaved with a simulated radar (1 Hz
    scans, true positions = the Remote ID track interpolated, noise RADAR_SIGMA, Pd 0.9);
    the Remote ID positions from ``from_t`` on are shifted ``east_m`` (the radar is not)."""
    rng = np.random.default_rng(seed)
    scan_t = np.arange(np.ceil(rid.t[0]), np.floor(rid.t[-1]) + 1.0)
    truth = np.column_stack([np.interp(scan_t, rid.t, rid.z[:, k]) for k in range(3)])
    plots = truth + rng.normal(0.0, RADAR_SIGMA, truth.shape)
    seen = rng.random(scan_t.size) < 0.9
    batches = [(float(t), 1, i) for i, t in enumerate(scan_t)]
    batches += [(float(t), 0, i) for i, t in enumerate(rid.t)]
    rid = _shifted(rid, east_m, from_t)
    params = TrackerParams()
    tracks, fusion = new_tracks(params, min(batches)[0]), fuse.new_fusion()
    run = Run([], [], [], fusion, int(seen.sum()))
    for t, is_radar, i in sorted(batches):
        if is_radar:
            z = plots[i : i + 1] if seen[i] else np.zeros((0, 3))
            dets = make_detections(t, z, RADAR_SIGMA, sensor=RADAR, kind=SourceKind.RADAR)
        else:
            dets = rid.take(np.array([i]))
        tracks, events = step(tracks, dets, t, params, end_of_scan=bool(is_radar))
        fusion = fuse.update_fusion(fusion, tracks, dets, events.detection_track, t)
        if not is_radar:
            inconsistent, non_cooperative, _ = fuse.fusion_flags(fusion, tracks.id)
            run.t.append(t)
            run.tracks.append(tracks)
            run.flags.append((inconsistent, non_cooperative))
    run.fusion = fusion
    return run


@pytest.mark.parametrize("seed", [1, 2])
def test_parrot_and_radar_give_one_track_with_the_remote_id_serial(
    parrot: Detections, seed: int
) -> None:
    run = _fused_run(parrot, seed)
    assert len(run.t) == 124
    final = run.tracks[-1]
    confirmed = final.take(final.confirmed)
    assert len(confirmed) == 1 and confirmed.identity[0] == PARROT_ID
    # once confirmed, it is the only track after every Remote ID update and never flagged
    for tracks, (inconsistent, non_cooperative) in zip(run.tracks[4:], run.flags[4:], strict=True):
        assert len(tracks) == 1 and tracks.identity[0] == PARROT_ID
        assert not inconsistent.any() and not non_cooperative.any()
    view = fuse.sources_view(run.fusion, int(confirmed.id[0]))
    assert view is not None
    assert view["counts"]["remote_id"] == 124  # every report fed the one track
    assert view["counts"]["radar"] >= run.radar_seen - 2  # all plots but initiation's
    assert view["last"]["remote_id"] == pytest.approx(parrot.t[-1])
    assert view["consistency"]["radar_shadow"] and len(view["consistency"]["nis"]) == 6
    assert view["consistency"]["exceeding"] == 0
    assert view["consistency"]["reference_track"] == int(confirmed.id[0])
    reports = view["reports"]
    assert len(reports) == 16 and {r["kind"] for r in reports} == {"radar", "remote_id"}
    assert {r["sensor"] for r in reports} == {RADAR, RID}
    times = [r["t"] for r in reports]
    assert times == sorted(times, reverse=True) and times[0] == pytest.approx(parrot.t[-1])


def _updates_until_flag(run: Run, established: int) -> int | None:
    """Remote ID updates from index ``established`` (1 = that update) until an identity
    track is flagged inconsistent; None if never."""
    for k in range(established, len(run.t)):
        tracks, (inconsistent, _) = run.tracks[k], run.flags[k]
        if inconsistent[tracks.identity == PARROT_ID].any():
            return k - established + 1
    return None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_parrot_shifted_300m_from_the_start_raises_the_flag(parrot: Detections, seed: int) -> None:
    run = _fused_run(parrot, seed, 300.0, parrot.t[0])
    # the claim and the radar stay apart: an identity track and a radar track without one
    radar_track = [(t.confirmed & (t.identity == -1)).any() for t in run.tracks]
    established = radar_track.index(True)
    assert established <= 10
    assert not any(f[0].any() for f in run.flags[:established])
    assert _updates_until_flag(run, established) <= 5  # measured: 3 (seeds 1-8)
    final = run.tracks[-1]
    inconsistent, non_cooperative = run.flags[-1]
    assert inconsistent[final.identity == PARROT_ID].all()
    radar_only = final.confirmed & (final.identity == -1)
    assert radar_only.sum() == 1 and non_cooperative[radar_only].all()
    assert not inconsistent[radar_only].any()
    view = fuse.sources_view(run.fusion, int(final.id[final.identity == PARROT_ID][0]))
    assert view is not None and view["consistency"]["reference_track"] == final.id[radar_only][0]
    assert view["consistency"]["exceeding"] >= 3


def test_parrot_shift_starting_in_flight_raises_the_flag(parrot: Detections) -> None:
    onset = parrot.t[0] + 60.0
    run = _fused_run(parrot, 1, 300.0, onset)
    start = int(np.searchsorted(run.t, onset))
    assert not any(f[0].any() for f in run.flags[:start])
    # the bound identity keeps the claim on the radar track; its own radar shadow disagrees
    assert len(run.tracks[start]) == 1 and run.tracks[start].identity[0] == PARROT_ID
    assert _updates_until_flag(run, start) <= 5  # measured: 3
    assert run.flags[-1][0].all()


# ----------------------------------------------------------------- synthetic unit checks


def _line_run(
    offsets: np.ndarray, seed: int, radar: bool = True, coop_sigma: float = 5.0
) -> list[np.ndarray]:
    """A target flying straight at 15 m/s, seen by a radar (sigma 10 m, Pd 0.9) and a
    cooperative source (sigma coop_sigma) whose k-th report is offset east by offsets[k];
    returns the inconsistent flags of every track after each cooperative report."""
    rng = np.random.default_rng(seed)
    params = TrackerParams()
    tracks, fusion = new_tracks(params, 0.0), fuse.new_fusion()
    out = []
    ident = icao_identity(0xABCDEF)
    for k, offset in enumerate(offsets):
        t = float(k)
        truth = np.array([15.0 * t, 100.0, 300.0])
        if radar:
            z = (truth + rng.normal(0, 10.0, 3))[None] if rng.random() < 0.9 else np.zeros((0, 3))
            dets = make_detections(t, z, 10.0)
            tracks, ev = step(tracks, dets, t, params)
            fusion = fuse.update_fusion(fusion, tracks, dets, ev.detection_track, t)
        z = truth + [15.0 * 0.5 + offset, 0.0, 0.0] + rng.normal(0, coop_sigma, 3)
        dets = make_detections(t + 0.5, z[None], coop_sigma, kind=SourceKind.ADSB, identity=ident)
        tracks, ev = step(tracks, dets, t + 0.5, params, end_of_scan=not radar)
        fusion = fuse.update_fusion(fusion, tracks, dets, ev.detection_track, t + 0.5)
        out.append(fuse.fusion_flags(fusion, tracks.id)[0][tracks.identity == ident])
    return out


@pytest.mark.parametrize("seed", range(4))
def test_right_claims_are_not_flagged(seed: int) -> None:
    flags = _line_run(np.zeros(300), seed)
    assert not any(f.any() for f in flags)


def test_flag_rises_with_an_offset_and_clears_after_it() -> None:
    """A 60 m offset of a 5 m claim pulls the fused track off the radar plots (10 m), which
    start a radar-only track: the claim is then tested against that track's shadow."""
    offsets = np.zeros(80)
    offsets[30:50] = 60.0
    flags = [bool(f.any()) for f in _line_run(offsets, seed=5)]
    assert not any(flags[:30])
    assert all(flags[40:50])  # measured: raised at the 8th offset report, kept to the end
    assert not any(flags[60:])  # cleared once the last clear_after reports agree


def test_refused_claim_without_radar_counts_as_evidence() -> None:
    """A cooperative-only track whose reports jump 3 km: step.py refuses them (identity
    conflict) and no radar is there; the NIS against the fused track flags the claim."""
    offsets = np.zeros(30)
    offsets[15:] = 3000.0
    flags = _line_run(offsets, seed=0, radar=False)
    assert not any(f.any() for f in flags[:15])
    # raised at the 3rd refused report; the track then coasts out (one report finds no
    # track) and a new track starts at the claimed position: it inherits the flag
    assert all(f.all() for f in flags[17:]) and sum(f.size == 0 for f in flags[17:]) <= 1
    assert flags[-1].tolist() == [True]


# ----------------------------------------------------------------- bookkeeping


def _tracks_with(ids: list[int], identity: list[int]) -> Tracks:
    tracks = new_tracks(TrackerParams())
    n = len(ids)
    return Tracks(
        t=0.0,
        id=np.array(ids, np.int64),
        x=np.zeros((n, 6)),
        P=np.repeat(np.eye(6)[None], n, 0),
        xm=np.zeros((n, 3, 6)),
        Pm=np.repeat(np.eye(6)[None, None], n, 0).repeat(3, 1),
        mu=np.full((n, 3), 1 / 3),
        status=np.ones(n, np.int8),
        history=np.ones(n, np.uint32),
        age=np.ones(n, np.int32),
        misses=np.zeros(n, np.int32),
        hits=np.ones(n, np.int32),
        t_birth=np.zeros(n),
        t_update=np.zeros(n),
        identity=np.array(identity, np.int64),
        pending_hit=np.zeros(n, bool),
        rcs_dbsm=np.full(n, np.nan),
        score=np.zeros(n),
        evidence=np.zeros(n, np.int32),
        next_id=max(ids, default=0) + 1,
        candidates=tracks.candidates,
    )


def test_audit_ring_is_bounded_and_rows_follow_the_tracks() -> None:
    state = fuse.new_fusion(fuse.FusionParams(history_length=4))
    tracks = _tracks_with([3, 7], [-1, -1])
    for k in range(10):
        dets = make_detections(float(k), np.zeros((2, 3)), 5.0, sensor=np.array([k, 100 + k]))
        state = fuse.update_fusion(state, tracks, dets, np.array([7, 3]), float(k))
    assert [r["sensor"] for r in fuse.audit(state, 7)] == [9, 8, 7, 6]
    assert [r["t"] for r in fuse.audit(state, 3)] == [9.0, 8.0, 7.0, 6.0]
    assert fuse.audit(state, 5) == [] and fuse.sources_view(state, 5) is None
    before = state.hist_t.copy()
    state2 = fuse.update_fusion(state, _tracks_with([7, 8], [-1, -1]), Detections.empty(), [], 10)
    assert np.array_equal(state.hist_t, before)  # the input state is not modified
    assert state2.id.tolist() == [7, 8]
    assert [r["sensor"] for r in fuse.audit(state2, 7)] == [9, 8, 7, 6]
    assert fuse.audit(state2, 8) == [] and fuse.audit(state2, 3) == []
    inconsistent, non_cooperative, last = fuse.fusion_flags(state2, np.array([8, 7, 42]))
    assert not inconsistent.any()
    assert non_cooperative.tolist() == [False, True, False]  # 7: radar, no identity
    assert last[1, SourceKind.RADAR] == 9.0 and np.isnan(last[[0, 2]]).all()
    assert not fuse.fusion_flags(state2, np.array([7]), drone_like=np.array([False]))[1][0]


def test_cooperative_identity_kinds() -> None:
    keys = np.array([-1, icao_identity(0x3C660C), remote_id_identity("X", 1), 3 << 60 | 5])
    assert fuse.is_cooperative_identity(keys).tolist() == [False, True, True, False]


def test_report_bound_is_the_chi_square_quantile() -> None:
    assert fuse.FusionParams().report_bound == pytest.approx(16.266, abs=1e-3)  # chi2(3) 0.999
    with pytest.raises(ConfigError):
        fuse.FusionParams(window=6, raise_count=3, clear_after=3)  # could flap


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.integers(0, 4), max_size=6), min_size=1, max_size=8))
def test_ring_slots_match_a_per_row_counter(batches: list[list[int]]) -> None:
    length = 3
    counts = np.zeros(5, np.int64)
    oracle = {r: [] for r in range(5)}
    ring = np.full((5, length), -1)
    serial = 0
    for batch in batches:
        rows = np.array(batch, np.int64)
        order, slots = fuse_consistency.ring_slots(rows, counts, length)
        values = serial + np.arange(rows.size)
        ring[rows[order], slots] = values[order]
        for r, v in zip(rows.tolist(), values.tolist(), strict=True):
            oracle[r].append(v)
        serial += rows.size
    for r in range(5):
        assert counts[r] == len(oracle[r])
        assert sorted(v for v in ring[r] if v >= 0) == sorted(oracle[r][-length:])


# ----------------------------------------------------------------- GOSPA


def _cooperative(scenario: Scenario, k: int, rng: np.random.Generator, lag: float) -> Detections:
    """Reports of the drones (Remote ID-like: sigma 3, 3, 8 m) and aircraft (ADS-B-like:
    10, 10, 15 m) present at scan k, taken ``lag`` s later, each heard with p = 0.95, with
    reported velocity (sigma 0.5 m/s) and identity keys."""
    ids, x = scenario.truth_at(k)
    cls = scenario.target_class[ids]
    keep = np.isin(cls, ["drone", "aircraft"]) & (rng.random(ids.size) < 0.95)
    ids, x, air = ids[keep], x[keep], cls[keep] == "aircraft"
    sigma = np.where(air[:, None], [10.0, 10.0, 15.0], [3.0, 3.0, 8.0])
    z = x[:, :3] + x[:, 3:] * lag + rng.normal(0.0, 1.0, (ids.size, 3)) * sigma
    R = np.zeros((ids.size, 3, 3))
    R[:, [0, 1, 2], [0, 1, 2]] = sigma**2
    identity = [
        icao_identity(0xA00000 + i) if a else remote_id_identity(f"SIM{i:04d}", 1)
        for i, a in zip(ids.tolist(), air.tolist(), strict=True)
    ]
    kind = np.where(air, SourceKind.ADSB, SourceKind.REMOTE_ID).astype(np.int8)
    v = x[:, 3:] + rng.normal(0.0, 0.5, (ids.size, 3))
    return make_detections(
        scenario.times[k] + lag, z, R, v=v, sensor=RID, kind=kind, identity=np.array(identity)
    )


def _gospa_run(scenario: Scenario, fused: bool) -> tuple[dict, int, int]:
    """Mean GOSPA summary at the radar scans, and (flagged inconsistent, non-cooperative
    tracks that carry an identity) counted over the run."""
    sensor = scenario.sensor_params
    params = TrackerParams(pd=sensor.pd, clutter_density=sensor.clutter_density)
    rng = np.random.default_rng(scenario.seed + 100)
    tracks, fusion = new_tracks(params, float(scenario.times[0])), fuse.new_fusion()
    rows: list[tuple[float, np.ndarray, np.ndarray]] = []
    flagged, silent = 0, 0
    for k, t in enumerate(scenario.times.tolist()):
        batches = [(t, scenario.detections_at(k), True)]
        if fused and k + 1 < scenario.n_scans:
            batches.append((t + 0.5, _cooperative(scenario, k, rng, 0.5), False))
        for tb, dets, end in batches:
            tracks, events = step(tracks, dets, tb, params, end_of_scan=end)
            fusion = fuse.update_fusion(fusion, tracks, dets, events.detection_track, tb)
            if end:  # the truth is at the radar scan times
                shown = tracks.take(tracks.confirmed)
                rows.append((t, shown.id, shown.x))
        inconsistent, non_cooperative, _ = fuse.fusion_flags(fusion, tracks.id)
        flagged += int(inconsistent.sum())
        silent += int((non_cooperative & tracks.confirmed & (tracks.identity != -1)).sum())
    s = scenario.truth_state
    truth = Truth(t=scenario.truth_t, id=scenario.truth_id, pos=s[:, :3], vel=s[:, 3:])
    t_rows = np.concatenate([np.full(ids.size, t) for t, ids, _ in rows])
    x = np.concatenate([x for _, _, x in rows])
    table = TrackTable(
        t=t_rows, id=np.concatenate([i for _, i, _ in rows]), pos=x[:, :3], vel=x[:, 3:]
    )
    return summary(evaluate(truth, table)), flagged, silent


# scenario, seed, scans; measured mean GOSPA (c=50, p=2) radar alone -> fused:
# crossing 0: 24.5 -> 14.4 m; mixed 1: 61.7 -> 57.0 m (the birds have no cooperative reports)
@pytest.mark.parametrize(("name", "seed", "scans"), [("crossing", 0, 120), ("mixed", 1, 120)])
def test_cooperative_reports_lower_gospa(name: str, seed: int, scans: int) -> None:
    scenario = build_scenario(name, seed, n_scans=scans, confusers=0)  # as measured: no layer
    radar, _, _ = _gospa_run(scenario, fused=False)
    fused, flagged, silent = _gospa_run(scenario, fused=True)
    assert fused["gospa"]["mean_distance_m"] < radar["gospa"]["mean_distance_m"] - 3.0
    assert fused["gospa"]["mean_localisation"] < 0.8 * radar["gospa"]["mean_localisation"]
    assert fused["false_tracks"] <= radar["false_tracks"]
    assert flagged == 0  # honest claims: no inconsistency flag on any track at any scan
    assert silent == 0  # tracks with an identity keep hearing their transmitter
