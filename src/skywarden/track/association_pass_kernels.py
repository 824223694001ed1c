"""Compiled association of a batch without identities (radar-only input, the usual case):
the step's two GNN passes, confirmed tracks then tentative ones, in one call.

:func:`skywarden.track.step._associate` is the reference (and the path with cooperative
identities, which bind first). Without identities its bookkeeping (selecting each pass's
pairs, the assignments into the track / detection index arrays, the gain, the detections
blocked by a confirmed gate) cost ~25 us per step in NumPy calls around the ~5 us GNN
kernel; here it is one loop around the same GNN (:func:`association_kernels._assigned`),
with the same pairs in the same order, so the same assignment (tested equal). The pairs'
costs are computed once by the caller (``associate.net_cost``, NumPy's logarithm, as the
reference), so every number is the reference's.
"""

from __future__ import annotations

import numpy as np

from skywarden.track.association_kernels import SMALL_CLUSTER_CELLS, _assigned
from skywarden.track.compiled_kernel import kernel
from skywarden.track.gate import GatedPairs
from skywarden.track.tracks import TENTATIVE
from skywarden.units import BoolArray, FloatArray, IntArray


@kernel()
def _one_pass(
    track: IntArray,
    detection: IntArray,
    cost: FloatArray,
    take: BoolArray,
    n_tracks: int,
    n_dets: int,
    max_cells: int,
    trk_det: IntArray,
    det_trk: IntArray,
    gain: FloatArray,
) -> bool:  # pragma: no cover - compiled
    """The GNN on the pairs where ``take``, in their order; the chosen pairs written into
    trk_det, det_trk and gain (minus the cost); False (nothing written) when a cluster
    needs scipy."""
    k = 0
    for q in range(take.shape[0]):
        if take[q]:
            k += 1
    tr, de, co = np.empty(k, np.int64), np.empty(k, np.int64), np.empty(k)
    k = 0
    for q in range(take.shape[0]):
        if take[q]:
            tr[k], de[k], co[k] = track[q], detection[q], cost[q]
            k += 1
    if k == 0:
        return True
    chosen, solved = _assigned(tr, de, co, n_tracks, n_dets, max_cells)
    if not solved:
        return False
    for q in chosen:
        trk_det[tr[q]] = de[q]
        det_trk[de[q]] = tr[q]
        gain[tr[q]] = -co[q]
    return True


@kernel()
def _two_passes(
    track: IntArray,
    detection: IntArray,
    cost: FloatArray,
    status: np.ndarray,
    n_tracks: int,
    n_dets: int,
    max_cells: int,
    trk_det: IntArray,
    det_trk: IntArray,
    blocked: BoolArray,
    gain: FloatArray,
) -> bool:  # pragma: no cover - compiled
    """Both passes into trk_det (N,), det_trk (D,), blocked (D,), gain (N,) (given as -1,
    -1, False, 0); False when a cluster needs scipy (the caller then takes the reference)."""
    p = track.shape[0]
    take = np.empty(p, np.bool_)
    for q in range(p):
        take[q] = status[track[q]] != TENTATIVE
    if not _one_pass(
        track, detection, cost, take, n_tracks, n_dets, max_cells, trk_det, det_trk, gain
    ):
        return False
    for q in range(p):
        if take[q]:
            blocked[detection[q]] = True  # near a confirmed track: starts no track
    for q in range(p):  # tentative pairs of open tracks and free, unblocked detections
        take[q] = (
            status[track[q]] == TENTATIVE
            and trk_det[track[q]] < 0
            and det_trk[detection[q]] < 0
            and not blocked[detection[q]]
        )
    if not _one_pass(
        track, detection, cost, take, n_tracks, n_dets, max_cells, trk_det, det_trk, gain
    ):
        return False
    for j in range(n_dets):
        blocked[j] = blocked[j] and det_trk[j] < 0
    return True


def associate_without_identities(
    gated: GatedPairs, cost: FloatArray, status: np.ndarray, n_tracks: int, n_dets: int
) -> tuple[IntArray, IntArray, BoolArray, FloatArray] | None:
    """Track -> detection (N,) and detection -> track (D,) indices (-1: none), the detections
    blocked from starting tracks (D,) and each assigned track's gain (N,), for the gated
    track pairs with their costs (P,) and the tracks' statuses (N,) int8; None when a
    cluster is too big for the compiled GNN (the caller then takes the NumPy reference)."""
    trk_det = np.full(n_tracks, -1, np.int64)
    det_trk = np.full(n_dets, -1, np.int64)
    blocked = np.zeros(n_dets, np.bool_)
    gain = np.zeros(n_tracks)
    solved = _two_passes(
        gated.track, gated.detection, np.ascontiguousarray(cost), status, int(n_tracks),
        int(n_dets), SMALL_CLUSTER_CELLS, trk_det, det_trk, blocked, gain,
    )  # fmt: skip
    return (trk_det, det_trk, blocked, gain) if solved else None


def warm() -> None:
    """Compile or load the kernel with the tracker's argument types."""
    i = np.array([0, 0, 1, 1], np.int64)
    pairs = GatedPairs(i, np.array([0, 1, 0, 1], np.int64), np.zeros(4), np.ones(4))
    status = np.array([1, 0], np.int8)
    associate_without_identities(pairs, np.array([-2.0, -1.0, -1.5, -3.0]), status, 2, 2)
