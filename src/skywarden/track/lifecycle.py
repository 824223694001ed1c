"""Track life cycle: initiation, M-of-N confirmation, coasting and deletion (vectorised)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from skywarden.detections import NO_IDENTITY
from skywarden.track import score as track_score
from skywarden.track.params import TrackerParams
from skywarden.track.tracks import COASTING, CONFIRMED, HELD, TENTATIVE, Tracks
from skywarden.units import BoolArray, FloatArray, IntArray

MIN_COAST_SCANS = 3  # missed scans a confirmed track survives whatever the scan period


def popcount(bits: np.ndarray) -> np.ndarray:
    """Number of set bits of each uint32."""
    return np.bitwise_count(bits.astype(np.uint32)).astype(np.int32)


def record_scan(tracks: Tracks, t: float, params: TrackerParams, pd: float) -> Tracks:
    """:func:`record_scan_odds` without the odds."""
    return record_scan_odds(tracks, t, params, pd)[0]


def record_scan_odds(
    tracks: Tracks, t: float, params: TrackerParams, pd: float
) -> tuple[Tracks, FloatArray | None]:
    """Close one scan: tracks with ``pending_hit`` were hit. Advance hit history, age, miss
    counters and scores (a miss adds ln(1 - pd)), clear ``pending_hit``, and set statuses.

    A tentative track is confirmed when its score reaches the SPRT threshold (score
    confirmation, the default; track/score.py) or when it has ``confirm_m`` hits within its
    first ``confirm_n`` scans (``m_of_n``). A confirmed track that misses becomes coasting
    (still reported) or, once its target has more likely gone than been missed, held (not
    reported; score confirmation only); a hit makes it confirmed again.

    Also returns the tracks' :func:`score.coast_log_odds` after the scan (score confirmation;
    None with M of N), which :func:`survivors` reads again.
    """
    hit = tracks.pending_hit
    history = (tracks.history << np.uint32(1)) | hit.astype(np.uint32)
    age = tracks.age + 1
    misses = np.where(hit, 0, tracks.misses + 1).astype(np.int32)
    t_update = np.where(hit, t, tracks.t_update)
    score = np.where(hit, tracks.score, tracks.score + np.log1p(-pd))
    status = tracks.status.copy()
    tentative = status == TENTATIVE
    confirm = tentative & _confirms(history, score, params)
    odds = None
    if params.confirmation == "score":
        odds = track_score.coast_log_odds(misses, t - t_update, pd, params.target_lifetime_s)
        shown = odds >= 0.0  # score.reportable
        coasting = np.where(shown, COASTING, HELD).astype(status.dtype)
    else:
        coasting = np.full(status.shape, COASTING, status.dtype)
    status[confirm | (~tentative & hit)] = CONFIRMED
    lost = ~tentative & ~hit
    status[lost] = coasting[lost]
    closed = replace(
        tracks,
        history=history,
        age=age,
        misses=misses,
        hits=tracks.hits + hit.astype(np.int32),
        status=status,
        t_update=t_update,
        pending_hit=np.zeros_like(hit),
        score=score,
    )
    return closed, odds


def confirmed_at_hit(tracks: Tracks, params: TrackerParams) -> BoolArray:
    """(N,) tentative tracks already hit in the open scan whose hit alone confirms them at
    the scan's close (:func:`record_scan`'s rule with this scan counted as a hit), so that a
    batch inside a scan can confirm them at once: the live loop closes a scan only every
    ``scan_period_s``, and a new track's alert would otherwise wait up to a scan for it."""
    hit = tracks.pending_hit & (tracks.status == TENTATIVE)
    history = (tracks.history << np.uint32(1)) | np.uint32(1)
    return hit & _confirms(history, tracks.score, params)


def _confirms(history: np.ndarray, score: FloatArray, params: TrackerParams) -> BoolArray:
    """The confirmation rule on a scan's hit history (newest scan in bit 0) and score."""
    if params.confirmation == "score":
        sure = score >= track_score.confirm_threshold(params)
        return sure & (popcount(history) >= params.confirm_m)
    window = np.uint32((1 << params.confirm_n) - 1)
    return popcount(history & window) >= params.confirm_m


def survivors(
    tracks: Tracks, params: TrackerParams, pd: float, coast_odds: FloatArray | None = None
) -> BoolArray:
    """(N,) True for tracks to keep after this scan.

    Deleted: tentative tracks with ``tentative_max_misses`` consecutive misses or still
    unconfirmed after ``confirm_n`` scans (score confirmation: or whose score fell to the
    SPRT's lower threshold; they may live two scans longer); confirmed tracks whose target
    has most likely gone (score confirmation); any track not updated for ``max_coast_s``
    seconds or whose position 1-sigma (largest axis) exceeds ``max_position_sigma`` metres.

    With score confirmation, a confirmed track outlives ``max_coast_s`` for up to
    ``MIN_COAST_SCANS`` (3) missed scans, reported or held (its target more likely gone than
    missed: not shown, kept for reacquisition): with a 4 s scan the 6 s default would
    otherwise delete a track at its second miss (Pd 0.9: 1 % of tracks every scan), and
    re-initiating it costs three scans or more where a held track is shown again at its next
    hit. With 1-2 s scans ``max_coast_s`` spans at least three misses, so nothing changes
    there. Why three: a held track is not shown, so keeping it costs no false track, and
    after three misses at 4 s scans and Pd 0.9 the score still gives "there and missed" odds
    of e^-2.5 against "gone", far above the deletion odds (``score.DELETE_ODDS``, e^-6.9);
    three misses running happen to a live target once in a thousand scans at Pd 0.9 (twice
    in the short 4 s-scan test case's 1,600 target-scans, seed 0). Measured for issue 12,
    that case's GOSPA on seeds 0-4, two -> three (with the birth prior on the quiet IMM mode,
    ``TrackerParams.birth_quiet_probability``): 43.80 / 44.09 / 43.11 / 44.86 / 44.13 ->
    43.17 / 43.79 / 43.11 / 44.86 / 44.13 m, Stone Soup 43.52 / 44.07 / 43.64 / 45.49 /
    45.55. Four changed only seed 3 (-0.4 m); the score alone (no time limit for confirmed
    tracks) as four. (Held after two misses too, since issue 12: whether a track is shown
    after two misses depends on the Pd estimate, and at 4 s scans and Pd ~0.9 it is a coin
    flip; the short 4 s-scan test case lost 2-4 target-scans per such deletion.)

    ``coast_odds``: :func:`score.coast_log_odds` of these tracks at their time, if the caller
    has it (:func:`record_scan_odds` gives it with the scan's close).
    """
    tentative = tracks.status == TENTATIVE
    by_score = params.confirmation == "score"
    max_age = params.confirm_n + 1 + (2 if by_score else 0)
    dead = tentative & ((tracks.misses >= params.tentative_max_misses) | (tracks.age >= max_age))
    if by_score:
        dead |= tentative & (tracks.score <= track_score.drop_threshold(params))
        if coast_odds is None:
            coast_odds = track_score.coast_log_odds(
                tracks.misses, tracks.t - tracks.t_update, pd, params.target_lifetime_s
            )
        gone = coast_odds < math.log(track_score.DELETE_ODDS)
        dead |= ~tentative & gone
    stale = (tracks.t - tracks.t_update) > params.max_coast_s
    if by_score:
        stale &= ~(~tentative & (tracks.misses <= MIN_COAST_SCANS))
    P = tracks.P  # the largest of the three position variances (not .max(axis=1): 50x slower)
    pos_var = np.maximum(np.maximum(P[:, 0, 0], P[:, 1, 1]), P[:, 2, 2])
    lost = pos_var > params.max_position_sigma**2
    return ~(dead | stale | lost)


def start_tracks(
    x: FloatArray,
    P: FloatArray,
    *,
    t: float,
    t_birth: FloatArray,
    history: np.ndarray,
    age: np.ndarray,
    identity: IntArray,
    params: TrackerParams,
    first_id: int,
    rcs_dbsm: FloatArray | None = None,
    score: FloatArray | None = None,
    evidence: IntArray | None = None,
) -> Tracks:
    """New tentative tracks (n,) from states x (n, 6) and covariances P (n, 6, 6) valid at t.

    ``history`` and ``age`` describe the scans before this one (hits in earlier scans, bit 0 =
    the previous scan); the new tracks are hit in this scan (``pending_hit``), which the end of
    the scan records (:func:`record_scan`), confirming them if they meet the M-of-N rule.
    Every IMM mode starts from the given estimate with equal probability. ``rcs_dbsm`` (n,):
    the RCS of each track's latest detection (NaN, the default: none); ``evidence`` (n,): its
    :mod:`skywarden.evidence` bits (0, the default: none). ``score`` (n,): the initial track
    scores (track/score.py; default 0).
    """
    n = x.shape[0]
    m = len(params.models)
    history = history.astype(np.uint32)
    return Tracks(
        t=t,
        id=np.arange(first_id, first_id + n, dtype=np.int64),
        x=x,
        P=P,
        xm=np.repeat(x[:, None, :], m, axis=1),
        Pm=np.repeat(P[:, None, :, :], m, axis=1),
        mu=np.full((n, m), 1.0 / m),
        status=np.full(n, TENTATIVE, np.int8),
        history=history,
        age=age.astype(np.int32),
        misses=np.zeros(n, np.int32),
        hits=popcount(history),
        t_birth=np.asarray(t_birth, dtype=np.float64),
        t_update=np.full(n, t),
        identity=identity.astype(np.int64, copy=True),
        pending_hit=np.ones(n, bool),
        rcs_dbsm=np.full(n, np.nan) if rcs_dbsm is None else np.asarray(rcs_dbsm, np.float64),
        score=np.zeros(n) if score is None else np.asarray(score, np.float64),
        evidence=np.zeros(n, np.int32) if evidence is None else np.asarray(evidence, np.int32),
        next_id=first_id + n,
    )


def first_of_each_identity(identity: np.ndarray) -> BoolArray:
    """(D,) True for detections with no identity or the first with their identity."""
    keep = identity == NO_IDENTITY
    carried = np.flatnonzero(~keep)  # only these are sorted (radar plots carry none)
    if carried.size:
        _, first = np.unique(np.take(identity, carried), return_index=True)
        keep[np.take(carried, first)] = True
    return keep
