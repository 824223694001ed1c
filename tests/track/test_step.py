"""Properties of the whole tracker step: SPD covariances, order independence, life cycle."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.detections import icao_identity, make_detections
from skywarden.errors import ConfigError
from skywarden.track.params import MotionModel, TrackerParams
from skywarden.track.step import new_tracks, step
from skywarden.track.tracks import Status

PARAMS = TrackerParams(clutter_density=1e-8, initial_speed_sigma=30.0)


def _scene_batches(seed: int, n_targets: int, n_scans: int, clutter: int):
    rng = np.random.default_rng(seed)
    pos = rng.uniform(-3000, 3000, (n_targets, 3))
    pos[:, 2] = rng.uniform(50, 500, n_targets)
    vel = rng.normal(0, 15, (n_targets, 3))
    vel[:, 2] = rng.normal(0, 1, n_targets)
    batches = []
    for k in range(n_scans):
        seen = rng.random(n_targets) < 0.9
        z = pos[seen] + vel[seen] * k + rng.normal(0, 5, (seen.sum(), 3))
        c = np.column_stack([rng.uniform(-3000, 3000, (clutter, 2)), rng.uniform(50, 500, clutter)])
        batches.append(make_detections(float(k), np.vstack([z, c]), 5.0))
    return pos, vel, batches


def _is_spd(P: np.ndarray) -> bool:
    if P.size == 0:
        return True
    if not np.allclose(P, np.swapaxes(P, -1, -2), rtol=0, atol=1e-9 * (1 + np.abs(P).max())):
        return False
    return bool((np.linalg.eigvalsh(P) > 0).all())


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 12), clutter=st.integers(0, 20))
def test_covariances_stay_symmetric_positive_definite(seed: int, n: int, clutter: int) -> None:
    _, _, batches = _scene_batches(seed, n, 12, clutter)
    tracks = new_tracks(PARAMS)
    for k, batch in enumerate(batches):
        tracks, _ = step(tracks, batch, float(k), PARAMS)
        assert _is_spd(tracks.P) and _is_spd(tracks.Pm.reshape(-1, 6, 6))
        np.testing.assert_allclose(tracks.mu.sum(axis=1), 1.0)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 10), clutter=st.integers(0, 15))
def test_result_does_not_depend_on_detection_order(seed: int, n: int, clutter: int) -> None:
    _, _, batches = _scene_batches(seed, n, 8, clutter)
    rng = np.random.default_rng(seed)
    a = b = new_tracks(PARAMS)
    for k, batch in enumerate(batches):
        perm = rng.permutation(len(batch))
        a, ev_a = step(a, batch, float(k), PARAMS)
        b, ev_b = step(b, batch.take(perm), float(k), PARAMS)
        np.testing.assert_array_equal(a.id, b.id)
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.P, b.P)
        np.testing.assert_array_equal(a.status, b.status)
        np.testing.assert_array_equal(ev_a.detection_track[perm], ev_b.detection_track)


def test_input_already_in_east_order_gives_the_same_step() -> None:
    """A batch sorted by east skips the sort and the copy (in_canonical_order): the same
    tracks and, in input order, the same detection -> track numbers as the unsorted batch."""
    from skywarden.track.step import in_canonical_order

    _, _, batches = _scene_batches(3, 10, 8, 12)
    a = b = new_tracks(PARAMS)
    for k, batch in enumerate(batches):
        by_east = np.argsort(batch.z[:, 0])
        assert not in_canonical_order(batch) and in_canonical_order(batch.take(by_east))
        a, ev_a = step(a, batch, float(k), PARAMS)
        b, ev_b = step(b, batch.take(by_east), float(k), PARAMS)
        np.testing.assert_array_equal(a.id, b.id)
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.P, b.P)
        np.testing.assert_array_equal(ev_a.detection_track[by_east], ev_b.detection_track)
    assert len(a) > 0


def test_tracks_confirm_follow_targets_and_keep_numbers() -> None:
    pos, vel, batches = _scene_batches(7, 20, 30, 10)
    tracks = new_tracks(PARAMS)
    ids_at_10 = None
    for k, batch in enumerate(batches):
        tracks, _ = step(tracks, batch, float(k), PARAMS)
        if k == 10:
            ids_at_10 = set(tracks.id[tracks.confirmed].tolist())
    conf = tracks.confirmed
    truth = pos + vel * 29
    err = np.linalg.norm(tracks.x[conf, None, :3] - truth[None], axis=2).min(axis=1)
    assert conf.sum() == 20
    assert np.median(err) < 6.0 and err.max() < 25.0
    # the 20 targets keep the track numbers they had at scan 10
    assert ids_at_10 is not None and set(tracks.id[conf].tolist()) == ids_at_10


def test_lifecycle_confirm_coast_delete() -> None:
    params = TrackerParams(
        models=(MotionModel(0.0, 1.0),), confirm_m=2, confirm_n=3, max_coast_s=3.0,
        confirmation="m_of_n",
    )  # fmt: skip
    tracks = new_tracks(params)
    seen = [True, True, True, False, False, False, False, False]
    statuses = []
    for k, hit in enumerate(seen):
        z = np.array([[10.0 * k, 0.0, 100.0]]) if hit else np.zeros((0, 3))
        tracks, events = step(tracks, make_detections(float(k), z, 3.0), float(k), params)
        statuses.append(int(tracks.status[0]) if len(tracks) else None)
        if k == 0:  # one detection is a candidate, not yet a track
            assert len(tracks) == 0 and len(tracks.candidates) == 1
        if k == 1:
            assert events.confirmed.tolist() == [1]
        if k == 7:
            assert events.deleted.tolist() == [] and len(tracks) == 0
    # the second detection starts the track with 2 hits: confirmed at once for M = 2
    assert statuses[:4] == [None, Status.CONFIRMED, Status.CONFIRMED, Status.COASTING]
    # updated last at t=2, coasting until t - 2 > 3 s: deleted at t = 6
    assert statuses[5] == Status.COASTING and statuses[6] is None


@pytest.mark.parametrize("compiled", [False, True])
def test_a_confirmed_track_starts_its_modes_with_the_birth_prior(compiled: bool) -> None:
    """The scan that confirms a track gives its IMM modes the birth prior's probabilities
    (quiet CV 0.7 with the default models), not equal ones, on the stage path and the
    fused kernel alike; the next update moves them by the modes' likelihoods."""
    params = TrackerParams(
        confirm_m=2, confirm_n=3, confirmation="m_of_n", compiled_kernels=compiled
    )
    tracks = new_tracks(params)
    for k in range(3):
        z = np.array([[10.0 * k, 0.0, 100.0]])
        tracks, events = step(tracks, make_detections(float(k), z, 3.0), float(k), params)
        if k == 1:
            assert events.confirmed.tolist() == [1]
            np.testing.assert_allclose(tracks.mu[0], [0.1, 0.1, 0.1, 0.7])
    assert not np.allclose(tracks.mu[0], [0.1, 0.1, 0.1, 0.7])
    np.testing.assert_allclose(tracks.mu[0].sum(), 1.0)


def test_birth_quiet_probability_must_be_a_probability() -> None:
    for bad in (0.0, 1.0, 1.5, float("nan")):
        with pytest.raises(ConfigError, match="birth_quiet_probability"):
            TrackerParams(birth_quiet_probability=bad)


def test_identity_binds_and_never_starts_a_second_track() -> None:
    params = TrackerParams(initial_speed_sigma=30.0)
    tracks = new_tracks(params)
    ident = icao_identity(0x3C660C)
    for k in range(6):
        z = np.array([[100.0 * k, 0.0, 1000.0], [100.0 * k + 5000.0, 0.0, 1000.0]])
        batch = make_detections(float(k), z, 10.0, identity=np.array([ident, -1]))
        tracks, events = step(tracks, batch, float(k), params)
    assert (tracks.identity == ident).sum() == 1
    # a far-away report of the same identity neither moves the track nor starts a new one
    far = make_detections(6.0, np.array([[50000.0, 0.0, 1000.0]]), 10.0, identity=ident)
    tracks, events = step(tracks, far, 6.0, params)
    assert (tracks.identity == ident).sum() == 1 and events.identity_conflicts == 1
    assert events.detection_track.tolist() == [-1]


def test_scattered_clutter_only_makes_candidates_that_expire() -> None:
    params = TrackerParams(clutter_density=1e-10, tentative_max_misses=2)
    rng = np.random.default_rng(5)
    tracks = new_tracks(params)
    for k in range(10):
        z = rng.uniform(-50_000, 50_000, (30, 3))
        tracks, events = step(tracks, make_detections(float(k), z, 5.0), float(k), params)
        assert len(tracks) == 0 and events.born.size == 0
        # each scan's detections live for tentative_max_misses further scans at most
        assert len(tracks.candidates) <= 30 * params.tentative_max_misses
    tracks, _ = step(tracks, make_detections(10.0, np.zeros((0, 3)), 5.0), 10.0, params)
    tracks, _ = step(tracks, make_detections(11.0, np.zeros((0, 3)), 5.0), 11.0, params)
    assert len(tracks.candidates) == 0


def test_candidate_pairs_like_a_one_point_track_with_a_missed_scan() -> None:
    params = TrackerParams(
        models=(MotionModel(0.0, 1.0),), confirm_m=3, confirm_n=4, confirmation="m_of_n"
    )
    tracks = new_tracks(params)
    plan = {0: [0.0, 0.0, 100.0], 2: [40.0, 0.0, 100.0], 3: [60.0, 0.0, 100.0]}
    for k in range(4):
        z = np.array([plan[k]]) if k in plan else np.zeros((0, 3))
        tracks, events = step(tracks, make_detections(float(k), z, 2.0), float(k), params)
    # hits at scans 0, 2, 3: three of four, so confirmed, born at the candidate's time
    assert len(tracks) == 1 and tracks.status[0] == Status.CONFIRMED
    assert tracks.t_birth[0] == 0.0 and tracks.hits[0] == 3
    np.testing.assert_allclose(tracks.x[0, 3], 20.0, atol=2.0)


def test_candidate_gate_covariance_equals_the_one_point_prediction() -> None:
    from skywarden.track.candidates import _prior_at, predicted_position
    from skywarden.track.tracks import Candidates

    rng = np.random.default_rng(2)
    params = TrackerParams()
    cands = Candidates(
        rng.uniform(0, 3, 6),
        rng.normal(0, 100, (6, 3)),
        np.eye(3) * 25.0 + np.zeros((6, 3, 3)),
        np.zeros(6, np.int32),
    )
    pos, P_pos = predicted_position(cands, 4.0, params)
    x, P = _prior_at(cands, 4.0, params)
    np.testing.assert_allclose(pos, x[:, :3])
    np.testing.assert_allclose(P_pos, P[:, :3, :3], rtol=1e-12)


def test_detections_stamped_after_the_step_time_are_taken_at_it() -> None:
    """A source may stamp detections slightly after the step time (clock skew); the batch is
    still taken at t, so candidates must not carry a future time (negative dt later)."""
    params = TrackerParams(models=(MotionModel(0.0, 1.0),))
    tracks = new_tracks(params)
    for k in range(6):
        batch = make_detections(float(k) + 0.4, np.array([[10.0 * k, 0.0, 100.0]]), 3.0)
        tracks, _ = step(tracks, batch, float(k), params)
        assert np.isfinite(tracks.x).all() and np.isfinite(tracks.P).all()
        assert (tracks.candidates.t <= k).all()
    assert tracks.confirmed.sum() == 1


def test_tracks_carry_the_rcs_of_the_plot_that_updated_them() -> None:
    """A radar plot's RCS goes to its track (new or existing); an update without amplitude
    (ADS-B, or a radar without it) leaves NaN, never the older value."""
    params = TrackerParams()
    tracks = new_tracks(params, 0.0)
    for k in range(4):
        z = np.array([[100.0 * k, 0.0, 100.0], [0.0, 5000.0 + 50.0 * k, 300.0]])
        dets = make_detections(float(k), z, 5.0, rcs_dbsm=np.array([-20.0 - k, np.nan]))
        tracks, _ = step(tracks, dets, float(k), params)
    order = np.argsort(tracks.x[:, 1])
    assert tracks.rcs_dbsm[order[0]] == -23.0 and np.isnan(tracks.rcs_dbsm[order[1]])
    dets = make_detections(4.0, np.array([[400.0, 0.0, 100.0]]), 5.0, kind=1)  # no amplitude
    tracks, _ = step(tracks, dets, 4.0, params)
    assert np.isnan(tracks.rcs_dbsm).all()


@given(
    st.lists(
        st.tuples(
            st.sampled_from([-1.0, 0.0, -0.0, 2.5, float("nan")]),
            st.integers(-2, 2),
            st.integers(-2, 2),
            st.integers(-1, 3),
        ),
        min_size=0,
        max_size=12,
    )
)
def test_canonical_order_is_the_lexsort_of_east_north_up_identity(rows) -> None:
    """The fast path (one sort on east) gives the same permutation as the full lexsort,
    with ties, signed zeros and NaN."""
    from skywarden.track.step import canonical_order, in_canonical_order

    z = np.array([[e, n, u] for e, n, u, _ in rows], dtype=float).reshape(-1, 3)
    identity = np.array([i for *_, i in rows], dtype=np.int64)
    dets = make_detections(0.0, z, np.broadcast_to(np.eye(3), (len(rows), 3, 3)))
    dets = replace(dets, identity=identity)
    expected = np.lexsort((identity, z[:, 2], z[:, 1], z[:, 0]))
    assert np.array_equal(canonical_order(dets), expected)
    distinct = z.copy()
    distinct[:, 0] = np.arange(len(rows))[::-1] * 1.5  # no ties: the one-sort path
    dets = replace(dets, z=distinct)
    assert np.array_equal(
        canonical_order(dets), np.lexsort((identity, z[:, 2], z[:, 1], distinct[:, 0]))
    )
    if in_canonical_order(replace(dets, z=z)):  # then the sort would leave it as it is
        assert np.array_equal(expected, np.arange(len(rows)))
