"""Compiled :func:`skywarden.track.hits.hit_columns`: the identity, RCS, evidence, hit flag
and score columns after a batch's hits in one loop over the tracks, instead of ~15 NumPy
calls (the same numbers: copies, one addition per hit track, the same bit operations;
tested equal to the NumPy reference).
"""

from __future__ import annotations

import numpy as np

from skywarden.detections import NO_IDENTITY, Detections
from skywarden.evidence import GROUND_STATE, STICKY
from skywarden.track.compiled_kernel import kernel
from skywarden.track.tracks import Tracks
from skywarden.units import FloatArray, IntArray


@kernel()
def _hits(
    trk_det: IntArray,
    det_identity: IntArray,
    det_rcs: FloatArray,
    det_evidence: np.ndarray,
    identity: IntArray,
    rcs: FloatArray,
    evidence: np.ndarray,
    pending_hit: np.ndarray,
    score: FloatArray,
    gain: FloatArray,
    identity_out: IntArray,
    rcs_out: FloatArray,
    evidence_out: np.ndarray,
    pending_out: np.ndarray,
    score_out: FloatArray,
) -> None:  # pragma: no cover - compiled
    """The five columns (N,) after the hits, into the last five arrays."""
    for n in range(trk_det.shape[0]):
        j = trk_det[n]
        own = evidence[n]
        if j >= 0:
            identity_out[n] = det_identity[j] if identity[n] == NO_IDENTITY else identity[n]
            rcs_out[n] = det_rcs[j]
            d = det_evidence[j]
            pending_out[n] = True
            score_out[n] = score[n] + gain[n]
        else:
            identity_out[n] = identity[n]
            rcs_out[n] = rcs[n]
            d = np.int32(0)
            pending_out[n] = pending_hit[n]
            score_out[n] = score[n]
        ground = (d if d & GROUND_STATE else own) & GROUND_STATE
        evidence_out[n] = ((own | d) & STICKY) | ground


def hit_columns(
    tracks: Tracks, dets: Detections, trk_det: IntArray, gain: FloatArray
) -> dict[str, np.ndarray]:
    """:func:`skywarden.track.hits.hit_columns`, compiled."""
    c = np.ascontiguousarray
    out = {
        "identity": np.empty_like(tracks.identity),
        "rcs_dbsm": np.empty_like(tracks.rcs_dbsm),
        "evidence": np.empty_like(tracks.evidence),
        "pending_hit": np.empty_like(tracks.pending_hit),
        "score": np.empty_like(tracks.score),
    }
    _hits(
        trk_det, c(dets.identity), c(dets.rcs_dbsm), c(dets.evidence), c(tracks.identity),
        c(tracks.rcs_dbsm), c(tracks.evidence), c(tracks.pending_hit), c(tracks.score),
        c(gain), *out.values(),
    )  # fmt: skip
    return out


def warm() -> None:
    """Compile or load the kernel with the tracker's argument types."""
    from skywarden.detections import make_detections
    from skywarden.track.tracks import empty_tracks

    dets = make_detections(0.0, np.zeros((1, 3)), 1.0)
    hit_columns(empty_tracks(3), dets, np.zeros(0, np.int64), np.zeros(0))
