"""Compiled scan close: the hits, ages, misses, scores and statuses of every track after a
scan, and which tracks survive it, in one call (numba, float64, no fastmath).

:func:`skywarden.track.lifecycle.record_scan_odds` followed by
:func:`skywarden.track.lifecycle.survivors` cost about 60 NumPy calls per step; here they
are one loop over the tracks with the same rules and the same arithmetic (tested equal,
element for element, against those functions, which stay the reference; the coast odds'
logarithm is libm's, which differs from NumPy's by an ulp in ~0.1 % of values: it is only
compared with thresholds):

- history <<= 1 | hit, age += 1, misses = 0 on a hit else + 1, t_update = t on a hit,
  score += ln(1 - Pd) on a miss, hits += hit;
- a tentative track is confirmed by its score and hit count (score confirmation) or by M of
  its last N scans (``m_of_n``); a confirmed track that misses coasts while its target is
  more likely missed than gone (``score.coast_log_odds`` >= 0), else is held;
- deletion as :func:`survivors` describes (tentative misses / age / drop threshold, target
  gone, stale, position sigma too large).
"""

from __future__ import annotations

import math

import numpy as np

from skywarden.track import score as track_score
from skywarden.track.compiled_kernel import kernel
from skywarden.track.lifecycle import MIN_COAST_SCANS
from skywarden.track.params import TrackerParams
from skywarden.track.tracks import COASTING, CONFIRMED, HELD, TENTATIVE, Tracks
from skywarden.units import BoolArray


@kernel()
def _popcount(v: np.uint32) -> int:  # pragma: no cover - compiled
    count = 0
    while v:
        v &= v - np.uint32(1)
        count += 1
    return count


@kernel()
def _close(
    pending_hit,
    history,
    age,
    misses,
    hits,
    status,
    t_update,
    score,
    P,
    t,
    log_miss,
    by_score,
    confirm_score,
    confirm_m,
    window,
    lifetime_s,
    max_age,
    tentative_max_misses,
    drop_score,
    log_delete,
    max_coast_s,
    min_coast_scans,
    max_pos_var,
    h_out,
    age_out,
    miss_out,
    hits_out,
    status_out,
    tu_out,
    score_out,
    newly,
    keep,
) -> None:  # pragma: no cover - compiled
    """The closed scan's columns, the newly confirmed mask and the survivors mask, written
    into the last nine arrays (N,) (given by the caller: a built-ahead-of-time kernel
    returns each new array ~0.7 us slower than numba's JIT, and this one made nine)."""
    n = pending_hit.shape[0]
    for i in range(n):
        newly[i] = False
        hit = pending_hit[i]
        h = (history[i] << np.uint32(1)) | np.uint32(1 if hit else 0)
        h_out[i] = h
        age_out[i] = age[i] + 1
        m = 0 if hit else misses[i] + 1
        miss_out[i] = m
        hits_out[i] = hits[i] + (1 if hit else 0)
        tu = t if hit else t_update[i]
        tu_out[i] = tu
        sc = score[i] if hit else score[i] + log_miss
        score_out[i] = sc
        odds = math.inf
        if m > 0:
            odds = m * log_miss - math.log(max(t - tu, 1e-3) / lifetime_s)
        st = status[i]  # int8, as every status below (pycc's typing does not unify them)
        tentative = st == TENTATIVE
        if tentative:
            if by_score:
                confirm = sc >= confirm_score and _popcount(h) >= confirm_m
            else:
                confirm = _popcount(h & window) >= confirm_m
            if confirm:
                st = np.int8(CONFIRMED)
                newly[i] = True
        elif hit:
            st = np.int8(CONFIRMED)
        else:
            st = np.int8(COASTING if (not by_score or odds >= 0.0) else HELD)
        status_out[i] = st
        # survivors (on the closed columns)
        tentative = st == TENTATIVE
        dead = tentative and (m >= tentative_max_misses or age_out[i] >= max_age)
        if by_score:
            dead = dead or (tentative and sc <= drop_score)
            dead = dead or (not tentative and odds < log_delete)
        stale = (t - tu) > max_coast_s
        if by_score and not tentative and m <= min_coast_scans:
            stale = False
        pos_var = max(max(P[i, 0, 0], P[i, 1, 1]), P[i, 2, 2])
        lost = pos_var > max_pos_var
        keep[i] = not (dead or stale or lost)


def close_scan(
    tracks: Tracks, t: float, params: TrackerParams, pd: float
) -> tuple[Tracks, BoolArray, BoolArray]:
    """The tracks after closing a scan at t (all at t, as the step's joined tracks are), the
    mask of tracks newly confirmed (their IMM modes start now: the caller starts them) and
    the survivors mask: ``lifecycle.record_scan_odds`` then ``lifecycle.survivors``."""
    by_score = params.confirmation == "score"
    h, age, misses, hits, status, t_update, score, newly, keep = (
        np.empty_like(a) for a in (
            tracks.history, tracks.age, tracks.misses, tracks.hits, tracks.status,
            tracks.t_update, tracks.score, tracks.pending_hit, tracks.pending_hit,
        )
    )  # fmt: skip
    _close(
        tracks.pending_hit, tracks.history, tracks.age, tracks.misses, tracks.hits,
        tracks.status, tracks.t_update, tracks.score, tracks.P, float(t),
        float(np.log1p(-pd)),  # NumPy's log1p, as the reference's (math.log1p differs by ulps)
        by_score, track_score.confirm_threshold(params), int(params.confirm_m),
        np.uint32((1 << params.confirm_n) - 1), float(params.target_lifetime_s),
        int(params.confirm_n + 1 + (2 if by_score else 0)), int(params.tentative_max_misses),
        track_score.drop_threshold(params), math.log(track_score.DELETE_ODDS),
        float(params.max_coast_s), MIN_COAST_SCANS, float(params.max_position_sigma) ** 2,
        h, age, misses, hits, status, t_update, score, newly, keep,
    )  # fmt: skip
    closed = Tracks(
        tracks.t, tracks.id, tracks.x, tracks.P, tracks.xm, tracks.Pm, tracks.mu, status, h,
        age, misses, hits, tracks.t_birth, t_update, tracks.identity,
        np.zeros_like(tracks.pending_hit), tracks.rcs_dbsm, score, tracks.evidence,
        tracks.next_id, tracks.candidates, tracks.clutter, tracks.detection_rate,
    )  # fmt: skip
    return closed, newly, keep


def warm() -> None:
    """Compile or load the scan close with the tracker's argument types."""
    from skywarden.track.tracks import empty_tracks

    close_scan(empty_tracks(3, 0.0), 1.0, TrackerParams(), 0.9)
