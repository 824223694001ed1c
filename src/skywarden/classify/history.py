"""Bounded per-track history: a ring of the last W track states at scan times.

The classifier needs a little recent history per track (speed variability, turn rate,
straightness ...), but the core keeps no unbounded history. :class:`StateWindow` holds, for
each live track, its last ``W`` combined states ``[e, n, u, ve, vn, vu]`` (site ENU, m and
m/s) and the scan times they belong to, oldest in column 0 and newest in column ``W - 1``.
Empty slots have time NaN. :func:`update_window` re-keys the window by track id after every
tracker step (tracks born get an empty row, deleted tracks drop out) and appends the new
states, all as array operations: no Python loop per track.

Memory is ``N * W * 9`` numbers: 32 scans x 1000 tracks is about 2 MB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skywarden.track.tracks import Tracks, rows_by_id
from skywarden.units import BoolArray, FloatArray, IntArray

DEFAULT_WINDOW = 32  # scans kept per track (32 s at a 1 s scan period)


@dataclass(frozen=True, slots=True)
class StateWindow:
    """The last W states of N tracks, row i belonging to track ``id[i]``.

    Attributes:
        id: (N,) track numbers, in the order of the tracker's arrays at the last update.
        t: (N, W) POSIX seconds of each stored state; NaN for an empty slot.
        x: (N, W, 6) states [e, n, u, ve, vn, vu] in metres and m/s (NaN when empty).
        measured: (N, W) True where the track was updated by a detection at that scan.
        sigma: (N, W) filtered position 1-sigma, sqrt(trace(P_pos) / 3), metres (NaN if empty).
        rcs: (N, W) radar cross-section of the plot that updated the track at that scan, dBsm
            (NaN if not updated then, or the plot had no amplitude).
        t_birth: (N,) POSIX seconds of each track's birth.
    """

    id: IntArray
    t: FloatArray
    x: FloatArray
    measured: BoolArray
    sigma: FloatArray
    t_birth: FloatArray
    rcs: FloatArray

    def __len__(self) -> int:
        return int(self.id.shape[0])

    @property
    def width(self) -> int:
        """W, the number of scans kept per track."""
        return int(self.t.shape[1])

    @property
    def valid(self) -> BoolArray:
        """(N, W) True where a slot holds a state."""
        return np.isfinite(self.t)

    def take(self, rows: IntArray | BoolArray) -> StateWindow:
        """The window of the tracks at rows (indices or a boolean mask), in that order."""
        return StateWindow(
            id=self.id[rows], t=self.t[rows], x=self.x[rows], measured=self.measured[rows],
            sigma=self.sigma[rows], t_birth=self.t_birth[rows], rcs=self.rcs[rows],
        )  # fmt: skip


def empty_window(width: int = DEFAULT_WINDOW) -> StateWindow:
    """A window of ``width`` scans with no tracks."""
    if width < 2:
        raise ValueError("a state window needs at least 2 scans")
    return StateWindow(
        id=np.zeros(0, np.int64),
        t=np.zeros((0, width)),
        x=np.zeros((0, width, 6)),
        measured=np.zeros((0, width), bool),
        sigma=np.zeros((0, width)),
        t_birth=np.zeros(0),
        rcs=np.zeros((0, width)),
    )


match_ids = rows_by_id  # the classifier's name for it
_PER_SCAN = ("t", "x", "measured", "sigma", "rcs")  # the (N, W, ...) arrays of a StateWindow


def update_window(window: StateWindow, tracks: Tracks) -> StateWindow:
    """The window after a tracker step: rows follow ``tracks`` and gain the state at ``tracks.t``.

    A second update at the same time replaces the newest column instead of shifting.
    """
    row = match_ids(window.id, tracks.id)
    kept = row >= 0
    same_time = kept.copy()
    same_time[kept] = np.abs(window.t[row[kept], -1] - tracks.t) < 1e-9
    shift = kept & ~same_time
    columns = {}
    for name in _PER_SCAN:  # older columns move left by one scan, or stay for a repeat time
        old = getattr(window, name)
        a = np.full((len(tracks), *old.shape[1:]), False if old.dtype == bool else np.nan)
        a[shift, :-1] = old[row[shift], 1:]
        a[same_time, :-1] = old[row[same_time], :-1]
        columns[name] = a
    measured = np.abs(tracks.t_update - tracks.t) < 1e-9
    columns["t"][:, -1] = tracks.t
    columns["x"][:, -1] = tracks.x
    columns["measured"][:, -1] = measured
    columns["sigma"][:, -1] = np.sqrt(np.trace(tracks.P[:, :3, :3], axis1=1, axis2=2) / 3.0)
    columns["rcs"][:, -1] = np.where(measured, tracks.rcs_dbsm, np.nan)
    return StateWindow(
        id=tracks.id.astype(np.int64).copy(),
        t_birth=tracks.t_birth.astype(np.float64).copy(),
        **columns,
    )


def absent_rows(old: StateWindow, new: StateWindow, t: float, keep_s: float) -> IntArray:
    """Rows of ``old`` whose track is not in ``new`` and whose newest state is less than
    ``keep_s`` seconds before ``t`` (POSIX s): tracks missing from one update (a confirmed
    track that is not shown for a scan) whose history is worth keeping until they return."""
    if len(old) == 0:
        return np.zeros(0, np.int64)
    gone = rows_by_id(new.id, old.id) < 0
    recent = (t - old.t[:, -1]) < keep_s  # NaN (no state) compares False
    return np.flatnonzero(gone & recent).astype(np.int64)


def concat_windows(a: StateWindow, b: StateWindow) -> StateWindow:
    """The rows of ``a`` followed by those of ``b`` (same width)."""
    return StateWindow(
        **{
            name: np.concatenate([getattr(a, name), getattr(b, name)])
            for name in ("id", "t_birth", *_PER_SCAN)
        }
    )
