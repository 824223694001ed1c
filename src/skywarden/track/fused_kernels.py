"""The tracker step of radar-only input in two compiled calls, composed of the other kernel
modules' kernels (the same functions, called in the same order with the same arguments, so
the tracks are the same to the last bit as :func:`skywarden.track.step.step`'s compiled path):

    predict_and_gate   clutter cells of the detections (grid) and their learnt densities,
                       IMM predict of the confirmed tracks and single-model predict of the
                       tentative ones, the candidates' prior covariances, the strip gate
                       (the grid's where the strips would read too many points)
    associate_and_manage
                       the two GNN passes, the IMM / Kalman updates, the hit columns,
                       candidate pairing (GNN), next candidates, tracks started by pairs,
                       the scan's close (M of N or score, survivors, IMM modes of the newly
                       confirmed), the clutter map's record and forget, the Pd record's counts

Between the two calls the caller computes the pairs' net costs with NumPy (``np.log`` is
not libm's ``log`` to the last bit: the compiled path's costs are NumPy's, so these are).
:mod:`skywarden.track.fused_step` decides when this path applies (no cooperative identity,
no reported velocity, whole scans, learnt clutter) and falls back to the step's stages when
a kernel reports that it cannot finish (a cluster too big for the small Hungarian method):
the inputs are never written, so the fallback starts from them.

Shapes as in :mod:`skywarden.track.imm_kernels`: tracks' x (N, 6), P (N, 6, 6), xm
(N, M, 6), Pm (N, M, 6, 6), mu / c (N, M); detections z (D, 3), R (D, 3, 3) in east order;
candidates t (K,), z (K, 3), R (K, 3, 3). Units: metres, seconds, site ENU.
"""

from __future__ import annotations

import numpy as np

from skywarden.track.association_kernels import SMALL_CLUSTER_CELLS, _assigned
from skywarden.track.association_pass_kernels import _two_passes
from skywarden.track.candidate_kernels import _next
from skywarden.track.clutter_kernels import _grid_keys, _record_and_forget, densities
from skywarden.track.compiled_kernel import kernel
from skywarden.track.gate_kernels import _gate
from skywarden.track.hit_kernels import _hits
from skywarden.track.imm_kernels import (
    imm_predict,
    imm_update,
    pair_update,
    prior_position_covariances,
    single_predict,
    single_update,
)
from skywarden.track.lifecycle_kernels import _close
from skywarden.track.neighbours import STRIP_READS_PER_ROW

__all__ = [  # the fused step's (skywarden.track.fused_step) names, imported with the kernels
    "SMALL_CLUSTER_CELLS",
    "STRIP_READS_PER_ROW",
    "associate_and_manage",
    "predict_and_gate",
    "radar_only",
]

_TENTATIVE = 0  # skywarden.track.tracks.TENTATIVE
_CONFIRMED = 1  # skywarden.track.tracks.CONFIRMED
_NO_IDENTITY = -1  # skywarden.detections.NO_IDENTITY


@kernel()
def predict_and_gate(
    xm,
    Pm,
    mu,
    x,
    P,
    status,
    Pi,
    F,
    Q,
    F1,
    Q1,
    cand_t,
    cand_z,
    cand_R,
    t,
    q,
    speed_var,
    z,
    R,
    threshold,
    reads_per_row,
    grid,
    keys,
    sensor,
    cell_m,
    map_keys,
    map_count,
    scans,
    map_sensors,
    map_moments,
    area,
    prior,
    prior_scans,
):  # pragma: no cover - compiled
    """Predict every track to t, gate tracks and candidates against the detections.

    Returns (keys (D,): the detections' grid cells when ``grid``, else ``keys`` as given;
    lam (D,): their clutter densities when the map has seen scans > 0, else empty (the
    caller's NumPy density); xm, Pm, c, x, P predicted (new arrays); cand_P (K, 3, 3); the
    gated (centre, detection, d2, det S) pairs, centres >= N being candidates N + k, found
    by the east strips or, where those decline (spread out), the grid: the same pairs)."""
    n = x.shape[0]
    if grid:
        keys = _grid_keys(z, sensor, cell_m)
    lam = np.empty(0)
    if scans > 0.0:
        lam = densities(
            map_keys, map_count, scans, map_sensors, map_moments, keys, area, z, R, sensor,
            prior, prior_scans,
        )  # fmt: skip
    n_tentative = 0
    for i in range(n):
        if status[i] == _TENTATIVE:
            n_tentative += 1
    imm_rows = np.empty(n - n_tentative, np.int64)
    tentative_rows = np.empty(n_tentative, np.int64)
    a = b = 0
    for i in range(n):
        if status[i] == _TENTATIVE:
            tentative_rows[b] = i
            b += 1
        else:
            imm_rows[a] = i
            a += 1
    xm_out, Pm_out = np.empty_like(xm), np.empty_like(Pm)
    for r in range(n_tentative):  # their per-mode arrays are kept (copies of one estimate)
        xm_out[tentative_rows[r]] = xm[tentative_rows[r]]
        Pm_out[tentative_rows[r]] = Pm[tentative_rows[r]]
    c = mu.copy()
    x_out, P_out = np.empty_like(x), np.empty_like(P)
    imm_predict(xm, Pm, mu, imm_rows, Pi, F, Q, xm_out, Pm_out, c, x_out, P_out)
    if n_tentative:
        single_predict(x, P, tentative_rows, F1, Q1, x_out, P_out)
    k = cand_t.shape[0]
    if k:
        cand_P = prior_position_covariances(cand_R, cand_t, t, q, speed_var)
    else:
        cand_P = np.zeros((0, 3, 3))
    total, d = n + k, z.shape[0]
    if d == 0 or total == 0:
        ti, d2 = np.zeros(0, np.int64), np.zeros(0)
        return (
            keys,
            lam,
            xm_out,
            Pm_out,
            c,
            x_out,
            P_out,
            cand_P,
            ti,
            ti.copy(),
            d2,
            d2.copy(),
        )
    ti, dj, d2, det_S = _gate(
        x_out, P_out, cand_z, cand_P, z, R, threshold, reads_per_row * (total + d)
    )
    return keys, lam, xm_out, Pm_out, c, x_out, P_out, cand_P, ti, dj, d2, det_S


@kernel()
def associate_and_manage(
    tp_track,
    tp_det,
    tp_cost,
    cp_cand,
    cp_det,
    cp_cost,
    track_id,
    status,
    history,
    age,
    misses,
    hits,
    t_birth,
    t_update,
    identity,
    pending_hit,
    rcs,
    score,
    evidence,
    xm,
    Pm,
    c,
    x,
    P,
    z,
    R,
    det_identity,
    det_rcs,
    det_evidence,
    keys,
    sensor,
    cand_t,
    cand_z,
    cand_R,
    cand_misses,
    map_keys,
    map_count,
    map_sensors,
    map_moments,
    gamma,
    t,
    end_of_scan,
    next_id,
    max_cells,
    q,
    speed_var,
    birth_mu,
    tentative_max_misses,
    log_miss,
    by_score,
    confirm_score,
    confirm_m,
    window,
    lifetime_s,
    max_age,
    drop_score,
    log_delete,
    max_coast_s,
    min_coast_scans,
    max_pos_var,
):  # pragma: no cover - compiled
    """Associate, update, start tracks, close the scan and learn, for one whole scan.

    xm, Pm, c, x, P: the predicted tracks (predict_and_gate's), updated in place.
    birth_mu (M,): the mode probabilities of the tracks confirmed in this scan
    (imm.birth_mode_probabilities).
    ``end_of_scan`` must be True (a whole scan; an argument, not the constant, so that the
    kernels called here get the argument types Python gives them: one compiled signature
    each, which the ahead-of-time build exports). The
    gated track pairs (tp_*) and candidate pairs (cp_*, candidate indices) come with their
    net costs. Returns ``(ok, tracks, candidates, clutter map, events, Pd counts)``:

    - ok: False when a cluster needs scipy (nothing returned; the caller's fallback);
    - the surviving tracks' columns (id, x, P, xm, Pm, mu, status, history, age, misses,
      hits, t_birth, t_update, identity, rcs, score, evidence; pending_hit is all False);
    - the next candidates (t, z, R, misses) and the clutter map (keys, count, sensors,
      moments) after recording the unexplained detections and forgetting by ``gamma``;
    - the number of tracks started, each detection's track id (-1 none), the ids newly
      confirmed and those deleted;
    - the confirmed tracks hit the scan before that feed the Pd estimate, and how many of
      them were hit (``DetectionRate.record``'s trials and hits).
    """
    n, d, m = x.shape[0], z.shape[0], c.shape[1]
    trk_det = np.full(n, -1, np.int64)
    det_trk = np.full(d, -1, np.int64)
    blocked = np.zeros(d, np.bool_)
    gain = np.zeros(n)
    ok = True
    if tp_track.shape[0]:
        ok = _two_passes(
            tp_track, tp_det, tp_cost, status, n, d, max_cells, trk_det, det_trk, blocked, gain
        )
    # candidate pairs of free detections (in no confirmed gate, not assigned) and of
    # candidates from earlier scans (misses >= 0), solved before any state is written
    n_pool = 0
    free = np.empty(d, np.bool_)
    for j in range(d):
        free[j] = det_trk[j] < 0 and not blocked[j]
        if free[j]:
            n_pool += 1
    c_idx = d_idx = np.zeros(0, np.int64)
    pair_gain = np.zeros(0)
    if ok and cp_cand.shape[0] and n_pool:
        sel = np.zeros(cp_cand.shape[0], np.bool_)
        for p in range(cp_cand.shape[0]):
            sel[p] = free[cp_det[p]] and cand_misses[cp_cand[p]] >= 0
        s_cand, s_det, s_cost = cp_cand[sel], cp_det[sel], cp_cost[sel]
        chosen, ok = _assigned(s_cand, s_det, s_cost, cand_t.shape[0], d, max_cells)
        c_idx, d_idx = s_cand[chosen], s_det[chosen]
        pair_gain = -s_cost[chosen]
    if not ok:
        return _not_solved(
            track_id, x, P, xm, Pm, c, status, history, age, misses, hits, evidence, cand_t,
            cand_z, cand_R, cand_misses, map_keys, map_count, map_sensors, map_moments,
        )  # fmt: skip

    # updates: every IMM row (hit or not: its modes combine), the hit single-model rows
    n_imm = 0
    n_single = 0
    for i in range(n):
        if status[i] != _TENTATIVE:
            n_imm += 1
        elif trk_det[i] >= 0:
            n_single += 1
    imm_rows = np.empty(n_imm, np.int64)
    single_rows = np.empty(n_single, np.int64)
    a = b = 0
    for i in range(n):
        if status[i] != _TENTATIVE:
            imm_rows[a] = i
            a += 1
        elif trk_det[i] >= 0:
            single_rows[b] = i
            b += 1
    mu = c.copy()
    imm_update(imm_rows, trk_det, z, R, xm, Pm, c, mu, x, P)
    if n_single:
        single_update(single_rows, trk_det, z, R, x, P)
    identity_h, rcs_h = np.empty_like(identity), np.empty_like(rcs)
    evidence_h, pending_h, score_h = (
        np.empty_like(evidence), np.empty_like(pending_hit), np.empty_like(score)
    )  # fmt: skip
    _hits(
        trk_det, det_identity, det_rcs, det_evidence, identity, rcs, evidence, pending_hit,
        score, gain, identity_h, rcs_h, evidence_h, pending_h, score_h,
    )  # fmt: skip

    # the rest of the free detections become candidates; the pairs start tracks
    paired = np.zeros(cand_t.shape[0], np.bool_)
    for p in range(c_idx.shape[0]):
        paired[c_idx[p]] = True
    left = free.copy()
    for p in range(d_idx.shape[0]):
        left[d_idx[p]] = False
    next_t, next_z, next_R, next_misses = _next(
        cand_t, cand_z, cand_R, cand_misses, paired, z, R, left, t, end_of_scan,
        tentative_max_misses,
    )  # fmt: skip
    nb = d_idx.shape[0]
    x_b, P_b = np.empty((nb, 6)), np.empty((nb, 6, 6))
    if nb:
        pair_update(
            cand_t[c_idx], cand_z[c_idx], cand_R[c_idx], z[d_idx], R[d_idx], t, q, speed_var,
            x_b, P_b,
        )  # fmt: skip

    # the clutter map: detections that no confirmed track took and carry no identity
    unexplained = np.empty(d, np.bool_)
    n_unexplained = 0
    for j in range(d):
        i = det_trk[j]
        taken = i >= 0 and status[i] != _TENTATIVE
        unexplained[j] = not taken and det_identity[j] == _NO_IDENTITY
        n_unexplained += unexplained[j]
    add = n_unexplained > 0  # (a flag set in the loop would type as the literal False)
    u = np.ascontiguousarray(z[:, 2])
    map_keys, map_count, map_sensors, map_moments = _record_and_forget(
        map_keys, map_count, map_sensors, map_moments, keys, u, sensor, unexplained, add,
        end_of_scan, gamma,
    )  # fmt: skip
    trials = 0
    rate_hits = 0
    for i in range(n):  # confirmed, no identity: hit or not the scan before (Pd estimate)
        if status[i] == _CONFIRMED and identity_h[i] == _NO_IDENTITY:
            trials += 1
            if pending_h[i]:
                rate_hits += 1

    # the tracks' columns joined with the new ones (the same arrays when none started),
    # then the scan's close over both; the state arrays (x, P, xm, Pm, mu: ~95 % of the
    # bytes) stay apart, old rows and new, and are joined once, with the survivors only
    # (_kept_rows), instead of copied to join and again to drop the deleted
    nj = n + nb
    j_id = _with_rows(track_id, nb)
    j_status, j_history = _with_rows(status, nb), _with_rows(history, nb)
    j_age, j_misses, j_hits = _with_rows(age, nb), _with_rows(misses, nb), _with_rows(hits, nb)
    j_t_birth, j_t_update = _with_rows(t_birth, nb), _with_rows(t_update, nb)
    j_identity, j_pending = _with_rows(identity_h, nb), _with_rows(pending_h, nb)
    j_rcs, j_score = _with_rows(rcs_h, nb), _with_rows(score_h, nb)
    j_evidence = _with_rows(evidence_h, nb)
    uniform = 1.0 / m
    xm_b, Pm_b, mu_b = np.empty((nb, m, 6)), np.empty((nb, m, 6, 6)), np.empty((nb, m))
    for p in range(nb):  # lifecycle.start_tracks of the pairs (candidate + detection)
        r = n + p
        j_id[r] = next_id + p
        for mode in range(m):
            xm_b[p, mode] = x_b[p]
            Pm_b[p, mode] = P_b[p]
            mu_b[p, mode] = uniform
        cand = c_idx[p]
        cand_miss = np.uint32(cand_misses[cand])
        # NumPy's 1 << misses: 0 when the bit is shifted out (LLVM's shift is undefined there)
        h = np.uint32(1) << cand_miss if cand_miss < 32 else np.uint32(0)
        j_status[r] = _TENTATIVE
        j_history[r] = h
        j_age[r] = cand_miss + np.uint32(1)
        j_misses[r] = 0
        j_hits[r] = 1 if cand_miss < 32 else 0  # lifecycle.popcount of that bit
        j_t_birth[r], j_t_update[r] = cand_t[cand], t
        j_identity[r] = _NO_IDENTITY
        j_pending[r] = True
        j_rcs[r], j_score[r] = det_rcs[d_idx[p]], pair_gain[p]
        j_evidence[r] = det_evidence[d_idx[p]]
    h_c, age_c, miss_c, hits_c = (
        np.empty_like(j_history), np.empty_like(j_age), np.empty_like(j_misses),
        np.empty_like(j_hits),
    )  # fmt: skip
    status_c, tu_c, score_c = np.empty_like(j_status), np.empty_like(j_t_update), np.empty(nj)
    newly, keep = np.empty(nj, np.bool_), np.empty(nj, np.bool_)
    _close(
        j_pending, j_history, j_age, j_misses, j_hits, j_status, j_t_update, j_score,
        _position_variances(P, P_b), t,
        log_miss, by_score, confirm_score, confirm_m, window, lifetime_s, max_age,
        tentative_max_misses, drop_score, log_delete, max_coast_s, min_coast_scans, max_pos_var,
        h_c, age_c, miss_c, hits_c, status_c, tu_c, score_c, newly, keep,
    )  # fmt: skip
    n_newly = 0
    n_keep = 0
    for r in range(nj):
        if newly[r]:  # filtering.start_modes: every mode from the single estimate, with
            n_newly += 1  # the birth prior's mode probabilities (birth_mu, (M,))
            for mode in range(m):
                if r < n:
                    xm[r, mode], Pm[r, mode], mu[r, mode] = x[r], P[r], birth_mu[mode]
                else:
                    p = r - n
                    xm_b[p, mode], Pm_b[p, mode], mu_b[p, mode] = x_b[p], P_b[p], birth_mu[mode]
        if keep[r]:
            n_keep += 1
    confirmed = np.empty(n_newly, np.int64)
    deleted = np.empty(nj - n_keep, np.int64)
    a = b = 0
    for r in range(nj):
        if newly[r]:
            confirmed[a] = j_id[r]
            a += 1
        if not keep[r]:
            deleted[b] = j_id[r]
            b += 1
    det_track = np.full(d, -1, np.int64)
    for j in range(d):
        if det_trk[j] >= 0:
            det_track[j] = track_id[det_trk[j]]
    for p in range(nb):
        det_track[d_idx[p]] = next_id + p
    if n_keep < nj:
        j_id = j_id[keep]
        status_c, h_c, age_c, miss_c, hits_c = (
            status_c[keep], h_c[keep], age_c[keep], miss_c[keep], hits_c[keep]
        )  # fmt: skip
        j_t_birth, tu_c, j_identity = j_t_birth[keep], tu_c[keep], j_identity[keep]
        j_rcs, score_c, j_evidence = j_rcs[keep], score_c[keep], j_evidence[keep]
    if nb == 0 and n_keep == nj:  # the usual scan: nothing to join or drop
        j_x, j_P, j_xm, j_Pm, j_mu = x, P, xm, Pm, mu
    else:
        j_x, j_P = _kept_rows(x, x_b, keep, n_keep), _kept_rows(P, P_b, keep, n_keep)
        j_xm, j_Pm = _kept_rows(xm, xm_b, keep, n_keep), _kept_rows(Pm, Pm_b, keep, n_keep)
        j_mu = _kept_rows(mu, mu_b, keep, n_keep)
    return (
        True, j_id, j_x, j_P, j_xm, j_Pm, j_mu, status_c, h_c, age_c, miss_c, hits_c,
        j_t_birth, tu_c, j_identity, j_rcs, score_c, j_evidence,
        next_t, next_z, next_R, next_misses,
        map_keys, map_count, map_sensors, map_moments,
        nb, det_track, confirmed, deleted, trials, rate_hits,
    )  # fmt: skip


@kernel()
def _with_rows(a, extra):  # pragma: no cover - compiled
    """``a`` itself when ``extra`` is 0, else a new array of ``a``'s rows then ``extra``
    rows (not set) of the same shape and type."""
    if extra == 0:
        return a
    out = np.empty((a.shape[0] + extra,) + a.shape[1:], a.dtype)
    out[: a.shape[0]] = a
    return out


@kernel()
def _kept_rows(old, new, keep, n_keep):  # pragma: no cover - compiled
    """A new array of the rows of ``old`` (N, ...) then ``new`` (B, ...) (C-contiguous, the
    same row shape) where ``keep`` (N + B,) is True (``n_keep`` of them): one copy of each
    kept row, element by element (no view per row)."""
    n, b = old.shape[0], new.shape[0]
    row = 1
    for size in old.shape[1:]:
        row *= size
    out = np.empty((n_keep,) + old.shape[1:], old.dtype)
    flat, o, w = out.reshape((n_keep, row)), old.reshape((n, row)), new.reshape((b, row))
    k = 0
    for r in range(n):
        if keep[r]:
            for e in range(row):
                flat[k, e] = o[r, e]
            k += 1
    for r in range(b):
        if keep[n + r]:
            for e in range(row):
                flat[k, e] = w[r, e]
            k += 1
    return out


@kernel()
def _position_variances(P, P_b):  # pragma: no cover - compiled
    """(N + B, 3, 3) holding the position variances (the diagonal) of the tracks' P (N, 6, 6)
    then the new tracks' P_b (B, 6, 6), the only elements the scan's close reads of P
    (lifecycle_kernels._close: the position-sigma limit), with the off-diagonal elements
    copied too; the type of P (float64, 3-D, C), so _close keeps its one signature."""
    n, b = P.shape[0], P_b.shape[0]
    out = np.empty((n + b, 3, 3))
    for i in range(n):
        for a in range(3):
            for c in range(3):
                out[i, a, c] = P[i, a, c]
    for i in range(b):
        for a in range(3):
            for c in range(3):
                out[n + i, a, c] = P_b[i, a, c]
    return out


@kernel()
def _not_solved(
    track_id,
    x,
    P,
    xm,
    Pm,
    c,
    status,
    history,
    age,
    misses,
    hits,
    evidence,
    cand_t,
    cand_z,
    cand_R,
    cand_misses,
    map_keys,
    map_count,
    map_sensors,
    map_moments,
):  # pragma: no cover - compiled
    """associate_and_manage's answer when a cluster needs scipy: ok False, empty columns of
    the same types (the caller falls back to the step's stages)."""
    no_i, no_f = np.zeros(0, np.int64), np.zeros(0)
    return (
        False, track_id[:0].copy(), x[:0].copy(), P[:0].copy(), xm[:0].copy(), Pm[:0].copy(),
        c[:0].copy(), status[:0].copy(), history[:0].copy(), age[:0].copy(),
        misses[:0].copy(), hits[:0].copy(), no_f, no_f.copy(), track_id[:0].copy(),
        no_f.copy(), no_f.copy(), evidence[:0].copy(),
        cand_t[:0].copy(), cand_z[:0].copy(), cand_R[:0].copy(), cand_misses[:0].copy(),
        map_keys[:0].copy(), map_count[:0].copy(), map_sensors[:0].copy(),
        map_moments[:0].copy(), 0, no_i, no_i.copy(), no_i.copy(), 0, 0,
    )  # fmt: skip


def warm() -> None:
    """Compile or load both kernels with the tracker's argument types: one fused step of a
    small batch on no tracks (every kernel they call is compiled into them whatever the
    values; the types are those of every later call)."""
    from skywarden.detections import make_detections
    from skywarden.track import fused_step
    from skywarden.track.params import TrackerParams
    from skywarden.track.tracks import empty_tracks

    params = TrackerParams()
    dets = make_detections(1.0, np.array([[0.0, 0.0, 0.0], [50.0, 0.0, 0.0]]), 5.0)
    tracks = empty_tracks(len(params.models), 0.0)
    fused_step.applies(tracks, dets, params, True)
    fused_step.step_radar_only(tracks, dets, 1.0, params)


@kernel()
def radar_only(track_identity, det_identity, v):  # pragma: no cover - compiled
    """True when no track (N,) and no detection (D,) carries an identity (all NO_IDENTITY)
    and no detection has a whole reported velocity (v (D, 3) finite in every axis): the
    batch starts no track at once and binds nothing (fused_step.applies)."""
    for i in range(track_identity.shape[0]):
        if track_identity[i] != _NO_IDENTITY:
            return False
    for j in range(det_identity.shape[0]):
        if det_identity[j] != _NO_IDENTITY:
            return False
        if np.isfinite(v[j, 0]) and np.isfinite(v[j, 1]) and np.isfinite(v[j, 2]):
            return False
    return True
