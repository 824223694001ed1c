"""Tracks as arrays: the state of the tracker between steps.

Every per-track quantity is one array with the track axis first; deleting tracks is one
boolean mask applied to all of them. States are in the site ENU frame (metres, m/s).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from enum import IntEnum

import numpy as np

from skywarden.detections import NO_IDENTITY
from skywarden.units import FloatArray, IntArray


class Status(IntEnum):
    """Track life cycle: tentative -> confirmed <-> coasting -> (deleted: removed)."""

    TENTATIVE = 0
    CONFIRMED = 1
    COASTING = 2


@dataclass(frozen=True, slots=True)
class Tracks:
    """N tracks with M motion models, all valid at time ``t``.

    Attributes:
        t: time of the states, POSIX seconds.
        id: (N,) stable track numbers.
        x: (N, 6) combined state [e, n, u, ve, vn, vu].
        P: (N, 6, 6) combined covariance.
        xm: (N, M, 6) per-model states; Pm: (N, M, 6, 6) per-model covariances.
        mu: (N, M) model probabilities.
        status: (N,) int8 :class:`Status`.
        history: (N,) uint32 bit history of hits, newest in bit 0.
        age: (N,) int32 number of scans since birth (1 at birth).
        misses: (N,) int32 consecutive scans without an update.
        hits: (N,) int32 number of updates.
        t_birth, t_update: (N,) POSIX seconds of birth and of the last update.
        identity: (N,) int64 cooperative identity key bound to the track, -1 if none.
        next_id: the number the next new track gets.
    """

    t: float
    id: IntArray
    x: FloatArray
    P: FloatArray
    xm: FloatArray
    Pm: FloatArray
    mu: FloatArray
    status: np.ndarray
    history: np.ndarray
    age: np.ndarray
    misses: np.ndarray
    hits: np.ndarray
    t_birth: FloatArray
    t_update: FloatArray
    identity: IntArray
    next_id: int = 1

    def __len__(self) -> int:
        return int(self.id.shape[0])

    @property
    def n_models(self) -> int:
        return int(self.mu.shape[1])

    def take(self, index: np.ndarray) -> Tracks:
        """The tracks selected by a boolean mask or integer index (t and next_id kept)."""
        changes = {f.name: getattr(self, f.name)[index] for f in fields(self) if _is_array(f.name)}
        return replace(self, **changes)

    @property
    def confirmed(self) -> np.ndarray:
        """(N,) bool: confirmed or coasting (tracks an operator sees)."""
        return self.status != Status.TENTATIVE


def _is_array(name: str) -> bool:
    return name not in ("t", "next_id")


def empty_tracks(n_models: int, t: float = 0.0, next_id: int = 1) -> Tracks:
    """A tracker state with no tracks."""
    return Tracks(
        t=t,
        id=np.zeros(0, np.int64),
        x=np.zeros((0, 6)),
        P=np.zeros((0, 6, 6)),
        xm=np.zeros((0, n_models, 6)),
        Pm=np.zeros((0, n_models, 6, 6)),
        mu=np.zeros((0, n_models)),
        status=np.zeros(0, np.int8),
        history=np.zeros(0, np.uint32),
        age=np.zeros(0, np.int32),
        misses=np.zeros(0, np.int32),
        hits=np.zeros(0, np.int32),
        t_birth=np.zeros(0),
        t_update=np.zeros(0),
        identity=np.full(0, NO_IDENTITY, np.int64),
        next_id=next_id,
    )


def concat_tracks(a: Tracks, b: Tracks) -> Tracks:
    """Tracks of a followed by tracks of b (b's time and next_id are kept)."""
    changes = {
        f.name: np.concatenate([getattr(a, f.name), getattr(b, f.name)])
        for f in fields(a)
        if _is_array(f.name)
    }
    return replace(b, **changes)
