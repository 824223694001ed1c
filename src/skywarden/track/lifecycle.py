"""Track life cycle: initiation, M-of-N confirmation, coasting and deletion (vectorised)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from skywarden.detections import NO_IDENTITY, Detections
from skywarden.track.params import TrackerParams
from skywarden.track.tracks import Status, Tracks
from skywarden.units import BoolArray


def popcount(bits: np.ndarray) -> np.ndarray:
    """Number of set bits of each uint32."""
    return np.bitwise_count(bits.astype(np.uint32)).astype(np.int32)


def record_scan(tracks: Tracks, hit: BoolArray, t: float, params: TrackerParams) -> Tracks:
    """Advance hit history, age and miss counters after one scan, and set statuses.

    A tentative track is confirmed when it has ``confirm_m`` hits within its first
    ``confirm_n`` scans; a confirmed track that misses becomes coasting, and a coasting
    track that is hit becomes confirmed again.
    """
    history = (tracks.history << np.uint32(1)) | hit.astype(np.uint32)
    age = tracks.age + 1
    status = tracks.status.copy()
    tentative = status == Status.TENTATIVE
    window = np.uint32((1 << params.confirm_n) - 1)
    confirm = tentative & (popcount(history & window) >= params.confirm_m)
    status[confirm | (~tentative & hit)] = Status.CONFIRMED
    status[~tentative & ~hit] = Status.COASTING
    return replace(
        tracks,
        history=history,
        age=age,
        misses=np.where(hit, 0, tracks.misses + 1).astype(np.int32),
        hits=tracks.hits + hit.astype(np.int32),
        status=status,
        t_update=np.where(hit, t, tracks.t_update),
    )


def survivors(tracks: Tracks, params: TrackerParams) -> BoolArray:
    """(N,) True for tracks to keep after this scan.

    Deleted: tentative tracks with ``tentative_max_misses`` consecutive misses or still
    unconfirmed after ``confirm_n`` scans; any track not updated for ``max_coast_s`` seconds
    or whose position 1-sigma (largest axis) exceeds ``max_position_sigma`` metres.
    """
    tentative = tracks.status == Status.TENTATIVE
    dead_tentative = tentative & (
        (tracks.misses >= params.tentative_max_misses) | (tracks.age >= params.confirm_n + 1)
    )
    stale = (tracks.t - tracks.t_update) > params.max_coast_s
    pos_var = np.diagonal(tracks.P[:, :3, :3], axis1=1, axis2=2).max(axis=1)
    lost = pos_var > params.max_position_sigma**2
    return ~(dead_tentative | stale | lost)


def initiate(detections: Detections, t: float, params: TrackerParams, first_id: int) -> Tracks:
    """New tentative tracks, one per detection: position from the detection, zero velocity
    with ``initial_speed_sigma`` (horizontal) / ``initial_vertical_speed_sigma`` (vertical).
    Reported velocities (ADS-B, Remote ID) are used where present.
    """
    n = len(detections)
    m = len(params.models)
    x = np.zeros((n, 6))
    x[:, :3] = detections.z
    P = np.zeros((n, 6, 6))
    P[:, :3, :3] = detections.R
    vel_var = np.array(
        [params.initial_speed_sigma**2] * 2 + [params.initial_vertical_speed_sigma**2]
    )
    has_v = np.isfinite(detections.v)
    x[:, 3:] = np.where(has_v, detections.v, 0.0)
    # a reported velocity is trusted to about 2 m/s per axis
    P[:, [3, 4, 5], [3, 4, 5]] = np.where(has_v, 4.0, vel_var)
    return Tracks(
        t=t,
        id=np.arange(first_id, first_id + n, dtype=np.int64),
        x=x,
        P=P,
        xm=np.repeat(x[:, None, :], m, axis=1),
        Pm=np.repeat(P[:, None, :, :], m, axis=1),
        mu=np.full((n, m), 1.0 / m),
        status=np.zeros(n, np.int8),
        history=np.ones(n, np.uint32),
        age=np.ones(n, np.int32),
        misses=np.zeros(n, np.int32),
        hits=np.ones(n, np.int32),
        t_birth=np.full(n, t),
        t_update=np.full(n, t),
        identity=detections.identity.astype(np.int64, copy=True),
        next_id=first_id + n,
    )


def first_of_each_identity(identity: np.ndarray) -> BoolArray:
    """(D,) True for detections with no identity or the first with their identity."""
    keep = identity == NO_IDENTITY
    _, first = np.unique(identity, return_index=True)
    keep[first] = True
    return keep
