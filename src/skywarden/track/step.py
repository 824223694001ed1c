"""One tracker step: predict, gate, associate, update, manage. Arrays in, arrays out.

    tracks, events = step(tracks, detections, t, params)

reads like the textbook loop:
    predict all tracks to t (IMM: CV + coordinated turns)
    bind detections that carry a track's cooperative identity (ICAO / Remote ID)
    gate confirmed tracks (KD-tree, chi-square), solve clusters (GNN), then tentative tracks
    update assigned tracks (Joseph form), coast the rest
    confirm (M of N), delete stale tracks, initiate from unused detections
The result does not depend on the order of the detections in the batch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.spatial import cKDTree

from skywarden.detections import NO_IDENTITY, Detections
from skywarden.errors import SkywardenError
from skywarden.track import imm, kalman
from skywarden.track.associate import assign, net_cost
from skywarden.track.gate import gate
from skywarden.track.lifecycle import first_of_each_identity, initiate, record_scan, survivors
from skywarden.track.params import TrackerParams
from skywarden.track.tracks import Status, Tracks, concat_tracks, empty_tracks
from skywarden.units import BoolArray, FloatArray, IntArray


@dataclass(frozen=True, slots=True)
class StepEvents:
    """What happened in one step (track numbers, not array indices).

    Attributes:
        born: ids of tracks started from this batch.
        confirmed: ids of tracks confirmed in this step.
        deleted: ids of tracks deleted in this step.
        detection_track: (D,) for each input detection, in input order, the id of the track
            it updated or started; -1 if it was not used (clutter, or inside a confirmed
            track's gate without being assigned).
        identity_conflicts: number of detections whose identity belongs to a track they are
            far from (not used, so the identity stays with one track).
    """

    born: IntArray
    confirmed: IntArray
    deleted: IntArray
    detection_track: IntArray
    identity_conflicts: int


def new_tracks(params: TrackerParams, t: float = 0.0) -> Tracks:
    """An empty tracker state for these parameters."""
    return empty_tracks(len(params.models), t)


def step(
    tracks: Tracks, detections: Detections, t: float, params: TrackerParams
) -> tuple[Tracks, StepEvents]:
    """Advance the tracks to time t (POSIX s) with one batch of detections (all taken at t)."""
    if len(tracks) and t < tracks.t - 1e-9:
        raise SkywardenError(f"step time {t} is before the tracks' time {tracks.t}")
    order = np.lexsort(
        (detections.identity, detections.z[:, 2], detections.z[:, 1], detections.z[:, 0])
    )
    dets = detections.take(order)
    xm, Pm, c, x, P = _predict(tracks, t, params)
    trk_det, det_trk, blocked, conflicts = _associate(tracks, x, P, dets, params)

    upd = trk_det >= 0
    xm_u, Pm_u, loglik = kalman.update(
        xm[upd], Pm[upd], dets.z[trk_det[upd]][:, None, :], dets.R[trk_det[upd]][:, None, :, :]
    )
    xm[upd], Pm[upd] = xm_u, Pm_u
    mu = c.copy()
    mu[upd] = imm.update_probabilities(c[upd], loglik)
    x, P = imm.combine(xm, Pm, mu)
    identity = tracks.identity.copy()
    det_id = np.full(len(tracks), NO_IDENTITY, np.int64)
    det_id[upd] = dets.identity[trk_det[upd]]
    identity = np.where((identity == NO_IDENTITY) & (det_id != NO_IDENTITY), det_id, identity)

    moved = replace(tracks, t=t, x=x, P=P, xm=xm, Pm=Pm, mu=mu, identity=identity)
    was_tentative = moved.status == Status.TENTATIVE
    moved = record_scan(moved, upd, t, params)
    confirmed = moved.id[was_tentative & (moved.status != Status.TENTATIVE)]
    keep = survivors(moved, params)

    start = (det_trk < 0) & ~blocked
    start &= first_of_each_identity(np.where(start, dets.identity, NO_IDENTITY))
    born = initiate(dets.take(start), t, params, tracks.next_id)
    result = concat_tracks(moved.take(keep), born)

    det_track_sorted = np.full(len(dets), -1, np.int64)
    used = det_trk >= 0
    det_track_sorted[used] = tracks.id[det_trk[used]]
    det_track_sorted[start] = born.id
    detection_track = np.empty_like(det_track_sorted)
    detection_track[order] = det_track_sorted
    events = StepEvents(
        born=born.id,
        confirmed=confirmed,
        deleted=moved.id[~keep],
        detection_track=detection_track,
        identity_conflicts=conflicts,
    )
    return result, events


def _predict(
    tracks: Tracks, t: float, params: TrackerParams
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """IMM predict of every track to t: per-model xm, Pm, predicted mode probabilities c,
    and the combined x, P used for gating."""
    dt = t - tracks.t if len(tracks) else 0.0
    Pi = imm.transition_matrix(len(params.models), params.mode_switch_rate, dt)
    x0, P0, c = imm.mix(tracks.xm, tracks.Pm, tracks.mu, Pi)
    xm, Pm = imm.predict_models(x0, P0, dt, params.models)
    x, P = imm.combine(xm, Pm, c)
    return xm, Pm, c, x, P


def _associate(
    tracks: Tracks, x: FloatArray, P: FloatArray, dets: Detections, params: TrackerParams
) -> tuple[IntArray, IntArray, BoolArray, int]:
    """Assign detections to predicted tracks: identities first, then GNN on confirmed tracks,
    then GNN on tentative tracks with what is left.

    Returns track -> detection index (-1), detection -> track index (-1), a mask of detections
    that must not start a track (inside a confirmed gate, or their identity is taken), and the
    number of identity conflicts.
    """
    n, d = len(tracks), len(dets)
    trk_det = np.full(n, -1, np.int64)
    det_trk = np.full(d, -1, np.int64)
    blocked = np.zeros(d, bool)
    if d == 0:
        return trk_det, det_trk, blocked, 0
    threshold = params.gate_threshold
    conflicts = _bind_identities(tracks, x, P, dets, threshold, trk_det, det_trk, blocked)
    tree = cKDTree(dets.z)
    for confirmed_pass in (True, False):
        group = (tracks.status != Status.TENTATIVE) == confirmed_pass
        t_idx = np.flatnonzero(group & (trk_det < 0))
        if t_idx.size == 0:
            continue
        pairs = gate(x[t_idx], P[t_idx], dets.z, dets.R, threshold, tree)
        free = (det_trk[pairs.detection] < 0) & ~blocked[pairs.detection]
        track_identity = tracks.identity[t_idx[pairs.track]]
        det_identity = dets.identity[pairs.detection]
        compatible = (track_identity == NO_IDENTITY) | (det_identity == NO_IDENTITY)
        compatible |= track_identity == det_identity
        pairs = pairs.take(free & compatible)
        cost = net_cost(pairs, params.pd, params.clutter_density)
        a_t, a_d = assign(pairs, cost, t_idx.size, d)
        trk_det[t_idx[a_t]] = a_d
        det_trk[a_d] = t_idx[a_t]
        if confirmed_pass:  # detections near a confirmed track do not start new tracks
            blocked[pairs.detection] = True
    blocked &= det_trk < 0
    return trk_det, det_trk, blocked, conflicts


def _bind_identities(
    tracks: Tracks,
    x: FloatArray,
    P: FloatArray,
    dets: Detections,
    threshold: float,
    trk_det: IntArray,
    det_trk: IntArray,
    blocked: BoolArray,
) -> int:
    """Assign detections carrying the identity of an existing track to that track (first
    detection per identity), if within a loose gate (25x the chi-square threshold).

    Detections whose identity is taken by a track but fail that gate, or are second reports of
    the same identity in the batch, are blocked from starting tracks. Modifies the index
    arrays in place; returns the number of identity conflicts.
    """
    has_id = tracks.identity != NO_IDENTITY
    if not has_id.any():
        return 0
    t_with = np.flatnonzero(has_id)
    ids = tracks.identity[t_with]
    sort = np.argsort(ids, kind="stable")
    ids, t_with = ids[sort], t_with[sort]
    pos = np.clip(np.searchsorted(ids, dets.identity), 0, ids.size - 1)
    owned = (dets.identity != NO_IDENTITY) & (ids[pos] == dets.identity)
    blocked |= owned
    first = owned & first_of_each_identity(np.where(owned, dets.identity, NO_IDENTITY))
    dj = np.flatnonzero(first)
    ti = t_with[pos[dj]]
    y = dets.z[dj] - x[ti, :3]
    S_inv, _ = kalman.inverse_3x3(P[ti, :3, :3] + dets.R[dj])
    near = kalman.quadratic_form(y, S_inv) < 25.0 * threshold
    trk_det[ti[near]] = dj[near]
    det_trk[dj[near]] = ti[near]
    return int((~near).sum())
