"""The per-track columns a batch's hits change, besides the filter state: identity, RCS,
evidence, the open scan's hit flag and the score (NumPy; the reference of
:mod:`skywarden.track.hit_kernels`).

Shapes: tracks (N,); detections (D,); trk_det (N,) int64 index of each track's detection
(-1: none); gain (N,) each hit track's score gain (log-likelihood ratio).
"""

from __future__ import annotations

import numpy as np

from skywarden.detections import NO_IDENTITY, Detections
from skywarden.evidence import merge_track_evidence
from skywarden.track.tracks import Tracks
from skywarden.units import FloatArray, IntArray


def hit_columns(
    tracks: Tracks, dets: Detections, trk_det: IntArray, gain: FloatArray
) -> dict[str, np.ndarray]:
    """The new ``identity`` (a track without one takes its detection's), ``rcs_dbsm`` (the
    detection's), ``evidence`` (:func:`skywarden.evidence.merge_track_evidence`),
    ``pending_hit`` (or-ed with the hit) and ``score`` (+ gain where hit), by field name."""
    upd = trk_det >= 0
    taken = trk_det[upd]  # the detection of each updated track
    identity = tracks.identity  # unchanged unless a detection brings one
    if (dets.identity != NO_IDENTITY).any():
        det_id = np.full(len(tracks), NO_IDENTITY, np.int64)
        det_id[upd] = dets.identity[taken]
        identity = np.where(identity == NO_IDENTITY, det_id, identity)
    rcs = tracks.rcs_dbsm.copy()
    rcs[upd] = dets.rcs_dbsm[taken]
    det_evidence = np.zeros(len(tracks), np.int32)
    det_evidence[upd] = dets.evidence[taken]
    return {
        "identity": identity,
        "pending_hit": tracks.pending_hit | upd,
        "rcs_dbsm": rcs,
        "score": np.where(upd, tracks.score + gain, tracks.score),
        "evidence": merge_track_evidence(tracks.evidence, det_evidence),
    }
