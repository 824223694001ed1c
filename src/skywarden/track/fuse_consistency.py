"""The consistency test of cooperative claims against radar evidence (see track/fuse.py).

Functions here work in place on the arrays of a fresh :class:`~skywarden.track.fuse.FusionState`
(fuse.update_fusion makes one per step, so its input is never modified).

**Radar shadow**: per track a constant-velocity Kalman filter fed only by the RADAR
detections the tracker assigned to it, so cooperative reports are tested against evidence
that does not contain them (the fused track does: a claim pulls it).

**Reference** of a cooperative report (the track owning its identity is its subject): the
subject's own shadow when established (>= ``shadow_min_updates`` radar updates, the last
within ``shadow_max_age_s``) and not starved (age below ``starve_factor`` x its usual radar
interval). Otherwise the nearest established shadow of a track *without* a cooperative
identity within the loose ``claim_gate``: a claim the tracker could not join to the radar
track that sees the object (a 300 m GPS offset with a 50 m stated sigma: NIS ~ 36, two
tracks), or a claim precise enough to pull its track off the radar plots, which then start
a track of their own. Else the own shadow even if starved; else, for a report its own track
refused (identity conflict: step.py's 25x gate), the fused track. Else no evidence.

**Test**: NIS = y^T (P_ref + R) ^-1 y (3-D, the report's own R), ~ chi2(3) for a right claim.
A report *exceeds* when NIS > ``chi2.ppf(1 - report_false_alarm, 3)`` (1e-3: 16.27). The
flag is raised when ``raise_count`` (3) of the last ``window`` (6) reports exceed (a right
claim: ~C(6,3) 1e-9 = 2e-8 per report; one wrong association cannot raise it) and cleared
when the last ``clear_after`` (4) all pass. Measured on simulated honest runs (radar sigma
10 m, claims 3-15 m, ~7,000 tests in crossing/mixed/swarm): no flag, NIS mean 2.4-2.7; the
real Parrot's Remote ID shifted 300 m (50 m stated sigma): flagged at the 3rd report after
the radar track confirms. A flagged identity whose track is deleted stays flagged for
``retired_memory_s``: a new track with it starts flagged (a restarted spoof stays flagged).

Units: seconds (POSIX), metres, ENU; NIS is dimensionless.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from skywarden.detections import (
    NO_IDENTITY,
    Detections,
    SourceKind,
    icao_identity,
    remote_id_identity,
)
from skywarden.track import constant_velocity, kalman
from skywarden.track.fusion_state import FusionState
from skywarden.track.tracks import Tracks
from skywarden.units import BoolArray, FloatArray, IntArray

COOPERATIVE_KINDS = (int(SourceKind.ADSB), int(SourceKind.REMOTE_ID))
_TAG_SHIFT = 60
_COOPERATIVE_TAGS = (icao_identity(0) >> _TAG_SHIFT, remote_id_identity("") >> _TAG_SHIFT)
SHADOW_DT_WEIGHT = 0.2  # weight of the newest interval in shadow_dt


def is_cooperative_identity(identity: IntArray) -> BoolArray:
    """(N,) True for ICAO and Remote ID keys (not upstream track numbers, not -1)."""
    identity = np.asarray(identity, dtype=np.int64)
    tag = identity >> _TAG_SHIFT
    return (identity != NO_IDENTITY) & np.isin(tag, _COOPERATIVE_TAGS)


def ring_slots(rows: IntArray, counts: IntArray, length: int) -> tuple[IntArray, IntArray]:
    """Slots in per-row rings of ``length`` for new entries of ``rows`` (in order); advances
    ``counts`` in place. Returns (order of the entries, slot of each, in that order)."""
    order = np.argsort(rows, kind="stable")
    r = rows[order]
    rank = np.arange(r.size) - np.searchsorted(r, r, side="left")
    slots = (counts[r] + rank) % length
    np.add.at(counts, r, 1)
    return order, slots


def predict_shadow(state: FusionState, rows: IntArray, t: float) -> tuple[FloatArray, FloatArray]:
    """Shadow state (n, 6) and covariance (n, 6, 6) of the rows predicted to t."""
    dt = np.maximum(t - state.shadow_t[rows], 0.0)
    F = constant_velocity.transition(dt)
    Q = constant_velocity.process_noise(dt, state.params.shadow_accel_sigma)
    return kalman.predict(state.shadow_x[rows], state.shadow_P[rows], F, Q)


def update_shadows(state: FusionState, rows: IntArray, dets: Detections, t: float) -> None:
    """Feed the radar detections into their tracks' shadows (in place): a new shadow starts
    at the detection with zero velocity (``shadow_speed_sigma``), others predict and update."""
    rows, first = np.unique(rows, return_index=True)
    if rows.size == 0:
        return
    z, R = dets.z[first], dets.R[first]
    new = np.isnan(state.shadow_t[rows])
    x, P = predict_shadow(state, rows, t)
    x[new] = np.concatenate([z[new], np.zeros((int(new.sum()), 3))], axis=1)
    P[new] = np.eye(6) * state.params.shadow_speed_sigma**2
    P[new, :3, :3] = R[new]
    old = ~new
    x[old], P[old], _ = kalman.update(x[old], P[old], z[old], R[old])
    dt = t - state.shadow_t[rows]
    prev = state.shadow_dt[rows]
    w = SHADOW_DT_WEIGHT
    state.shadow_dt[rows] = np.where(np.isnan(prev), dt, (1.0 - w) * prev + w * dt)
    state.shadow_x[rows], state.shadow_P[rows] = x, P
    state.shadow_t[rows] = t
    state.shadow_n[rows] += 1


def established(state: FusionState, t: float) -> tuple[BoolArray, BoolArray]:
    """(T,) rows whose shadow can serve as a reference at t, and (T,) those of them that are
    starved (not updated for ``starve_factor`` usual intervals)."""
    p = state.params
    age = t - state.shadow_t
    ready = (state.shadow_n >= p.shadow_min_updates) & (age <= p.shadow_max_age_s)
    return ready, ready & (age > p.starve_factor * state.shadow_dt)


def _nis(x: FloatArray, P: FloatArray, z: FloatArray, R: FloatArray) -> FloatArray:
    y, S = kalman.innovation(x, P, z, R)
    S_inv, _ = kalman.inverse_3x3(S)
    return kalman.quadratic_form(y, S_inv)


def _claims(
    state: FusionState, dets: Detections, detection_track: IntArray
) -> tuple[IntArray, IntArray, BoolArray]:
    """Cooperative detections and their subject rows: (detection index (C,), subject row
    (C,), refused (C,): the subject track did not take the report)."""
    coop = np.isin(dets.kind, COOPERATIVE_KINDS) & is_cooperative_identity(dets.identity)
    has = state.identity != NO_IDENTITY
    if not coop.any() or not has.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool)
    owned_rows = np.flatnonzero(has)
    keys = state.identity[owned_rows]
    sort = np.argsort(keys, kind="stable")
    keys, owned_rows = keys[sort], owned_rows[sort]
    d = np.flatnonzero(coop)
    pos = np.clip(np.searchsorted(keys, dets.identity[d]), 0, keys.size - 1)
    owned = keys[pos] == dets.identity[d]
    d, subject = d[owned], owned_rows[pos[owned]]
    return d, subject, detection_track[d] != state.id[subject]


def check_claims(
    state: FusionState,
    tracks: Tracks,
    dets: Detections,
    detection_track: IntArray,
    t: float,
) -> None:
    """NIS of each cooperative report against its reference (see the module doc), then
    the flag test."""
    d, subject, refused = _claims(state, dets, detection_track)
    if d.size == 0:
        return
    z, R = dets.z[d], dets.R[d]
    ready, starved = established(state, t)
    nis, ref_row = np.full(d.size, np.nan), np.full(d.size, -1, np.int64)
    other = np.flatnonzero(~ready[subject] | starved[subject])
    nis[other], ref_row[other] = _nearest_radar_only(state, ready, z[other], R[other], t)
    own = ready[subject] & (~starved[subject] | np.isnan(nis))
    if own.any():
        x, P = predict_shadow(state, subject[own], t)
        nis[own], ref_row[own] = _nis(x, P, z[own], R[own]), subject[own]
    reference = np.where(ref_row >= 0, state.id[ref_row], -1)
    fallback = np.flatnonzero(np.isnan(nis) & refused)
    if fallback.size:  # refused by its own track, no radar around: test against the track
        k = _rows_of_tracks(tracks, state.id[subject[fallback]])
        nis[fallback] = _nis(tracks.x[k], tracks.P[k], z[fallback], R[fallback])
    _flag_test(state, subject, nis, reference)


def _rows_of_tracks(tracks: Tracks, track_ids: IntArray) -> IntArray:
    """Index of each id (all present) in tracks.id."""
    order = np.argsort(tracks.id, kind="stable")
    return order[np.searchsorted(tracks.id[order], track_ids)]


def _nearest_radar_only(
    state: FusionState, ready: BoolArray, z: FloatArray, R: FloatArray, t: float
) -> tuple[FloatArray, IntArray]:
    """For claims z (C, 3), R (C, 3, 3): the smallest NIS against an established shadow of a
    track without a cooperative identity, if below ``claim_gate`` (else NaN), and its row."""
    best = np.full(z.shape[0], np.nan)
    best_row = np.full(z.shape[0], -1, np.int64)
    cand = np.flatnonzero(ready & ~is_cooperative_identity(state.identity))
    if cand.size == 0 or z.shape[0] == 0:
        return best, best_row
    x, P = predict_shadow(state, cand, t)
    gate = state.params.claim_gate
    # |y|^2 <= gate * lambda_max(S) <= gate * (trace R + trace P): a safe search radius
    radius = np.sqrt(
        gate * (np.trace(R, axis1=1, axis2=2) + np.trace(P[:, :3, :3], axis1=1, axis2=2).max())
    )
    hits = cKDTree(x[:, :3]).query_ball_point(z, radius)
    lengths = np.fromiter((len(h) for h in hits), np.int64, count=len(hits))
    if lengths.sum() == 0:
        return best, best_row
    ci = np.repeat(np.arange(z.shape[0]), lengths)
    ki = np.concatenate([np.asarray(h, np.int64) for h in hits if h])
    value = _nis(x[ki], P[ki], z[ci], R[ci])
    keep = value < gate
    ci, ki, value = ci[keep], ki[keep], value[keep]
    order = np.lexsort((value, ci))  # per claim, smallest NIS first
    ci, ki, value = ci[order], ki[order], value[order]
    first = np.concatenate([[True], ci[1:] != ci[:-1]]) if ci.size else np.zeros(0, bool)
    best[ci[first]], best_row[ci[first]] = value[first], cand[ki[first]]
    return best, best_row


def _flag_test(state: FusionState, subject: IntArray, nis: FloatArray, reference: IntArray) -> None:
    """Push the finite NIS values into their rows' windows, then raise the flag where
    ``raise_count`` of the window exceed the report bound and clear it where the last
    ``clear_after`` all pass (in place)."""
    ok = np.isfinite(nis)
    subject, nis, reference = subject[ok], nis[ok], reference[ok]
    if subject.size == 0:
        return
    p = state.params
    order, slots = ring_slots(subject, state.nis_count, p.window)
    state.nis[subject[order], slots] = nis[order]
    state.reference[subject[order]] = reference[order]
    rows = np.unique(subject)
    bound = p.report_bound
    exceeding = (state.nis[rows] > bound).sum(axis=1)
    newest = (state.nis_count[rows, None] - 1 - np.arange(p.clear_after)) % p.window
    recent = np.take_along_axis(state.nis[rows], newest, axis=1)
    passing = (recent <= bound).all(axis=1)  # NaN (too few reports) does not pass
    flag = state.inconsistent[rows]
    state.inconsistent[rows] = np.where(flag, ~passing, exceeding >= p.raise_count)
