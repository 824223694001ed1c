"""Evidence from what the sensors report besides kinematics: one table of class likelihoods.

The tree model sees kinematics only (it is trained on radar-like tracks without identities);
what the sensors report about the target itself is applied afterwards as likelihood
multipliers per class [drone, bird, aircraft, unknown], ``p ∝ p_kinematic x L``.

:data:`EVIDENCE_TABLE` is the one place these values live. Each row names the evidence, the
likelihood vector and the reason for it. A track takes the *first* row that applies to it
(rows are in order of strength: a measured reply outranks a claim), so evidence is never
counted twice. A row that must overrule certain kinematics has likelihood ratios beyond 1 /
:data:`MODEL_FLOOR` (see :func:`fuse`), against 'unknown' as much as against 'drone': the
model's 'unknown' (clutter-like kinematics) must not hide a transponder either. The values
are stated assumptions, not fitted: no labelled data with identities exists here. The
per-track inputs are the bound identity key (ICAO address, Remote ID serial, upstream track
number), the :mod:`skywarden.evidence` bits the tracker carries, and optionally the ADS-B
emitter category and the Remote ID UA type.

On-ground is also a *state* beside the class (:func:`skywarden.evidence.on_ground`): the
map and API show it and the default rules leave such tracks out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skywarden import evidence as ev
from skywarden.detections import icao_identity, remote_id_identity
from skywarden.units import FloatArray, IntArray

_TAG_SHIFT = 60


@dataclass(frozen=True)
class EvidenceRow:
    """One row of the evidence table: likelihoods [drone, bird, aircraft, unknown]."""

    name: str
    likelihood: tuple[float, float, float, float]
    reason: str


EVIDENCE_TABLE: tuple[EvidenceRow, ...] = (
    EvidenceRow(
        "remote_id",
        (1.0, 1e-3, 1e-2, 1e-2),
        "a Remote ID broadcast is bound to the track: every Remote ID sender (ASTM F3411, any "
        "UA type) is an unmanned aircraft; birds send nothing, manned aircraft do not send it",
    ),
    EvidenceRow(
        "adsb_uav",
        (1.0, 1e-3, 1e-2, 1e-2),
        "ADS-B emitter category B6 (unmanned aerial vehicle) declared by the transmitter "
        "itself: as strong as Remote ID, a declaration no manned aircraft makes",
    ),
    EvidenceRow(
        "mode_s_reply",
        (1e-4, 1e-5, 1.0, 1e-4),
        "the radar measured a Mode S reply at the plot's own range and azimuth (I048/220 with "
        "I048/020 TYP 4-7): a transponder is physically there, not claimed from elsewhere; "
        "small drones practically never carry Mode S transponders and birds never do",
    ),
    EvidenceRow(
        "flight_plan",
        (1e-4, 1e-5, 1.0, 1e-4),
        "an ATC system correlated the track with a flight plan (I062/390 or I062/080 FPC): "
        "a filed flight by a manned or certified aircraft",
    ),
    EvidenceRow(
        "ssr_reply",
        (1e-4, 1e-5, 1.0, 1e-4),
        "a secondary radar measured a Mode A/C (SSR) reply at the plot's own range and "
        "azimuth, with a validated Mode 3/A code or only a Mode C level, or an ATC system "
        "track is kept up by secondary detections (I062/080 SSR/MDS): a transponder is there",
    ),
    EvidenceRow(
        "mode_3a",
        (1e-4, 1e-5, 1.0, 1e-4),
        "a Mode 3/A code is reported for the target by an ATC system track (I062/060) or "
        "ADS-B (I021/070): it comes from a transponder, which birds lack and small drones "
        "practically never carry",
    ),
    EvidenceRow(
        "on_ground",
        (1e-4, 1e-4, 1.0, 1e-4),
        "a cooperative report says the target is on the ground (I048/230 STAT, I021/040 GBS, "
        "I062/080 SFC, ADS-B surface position): an aircraft or vehicle on the surface; such "
        "reports come from transponders and ATC systems, not from drones or birds",
    ),
    EvidenceRow(
        "icao_claim",
        (0.05, 1e-3, 1.0, 1e-2),
        "an ICAO 24-bit address is bound, from ADS-B or Mode S position messages only: a "
        "claim (it could be a spoofed or drone-carried transmitter), so weaker evidence",
    ),
    EvidenceRow(
        "none",
        (1.0, 1.0, 1.0, 1.0),
        "no identity and no report beyond the position (or only an upstream track number): "
        "the kinematic model decides",
    ),
)
ROW_NAMES = tuple(row.name for row in EVIDENCE_TABLE)
_LIKELIHOODS = np.array([row.likelihood for row in EVIDENCE_TABLE])


def _tag(identity: IntArray) -> IntArray:
    ident = np.asarray(identity, dtype=np.int64)
    return np.where(ident >= 0, (ident >> _TAG_SHIFT) & 0xF, -1)


def evidence_rows(
    identity: IntArray,
    evidence: IntArray | None = None,
    emitter_category: np.ndarray | None = None,
    ua_type: IntArray | None = None,
) -> IntArray:
    """(N,) index into :data:`EVIDENCE_TABLE` of the first row that applies to each track.

    identity: (N,) identity keys; evidence: (N,) :mod:`skywarden.evidence` bits (default 0);
    emitter_category: (N,) str ADS-B category such as 'A3', 'A7', 'B6' ('' = unknown);
    ua_type: (N,) Remote ID UA type (-1 = unknown); it only confirms 'unmanned'.
    """
    tag = _tag(identity)
    n = tag.shape[0]
    bits = np.zeros(n, np.int64) if evidence is None else np.asarray(evidence, np.int64)
    rid = tag == int(remote_id_identity("x")) >> _TAG_SHIFT
    if ua_type is not None:
        rid |= np.asarray(ua_type) >= 0
    icao = (tag == int(icao_identity(0)) >> _TAG_SHIFT) & ~rid
    uav = np.zeros(n, bool)
    if emitter_category is not None:
        uav = icao & (np.asarray(emitter_category, dtype=str) == "B6")
    applies = {
        "remote_id": rid,
        "adsb_uav": uav,
        "mode_s_reply": (bits & ev.MODE_S_REPLY) != 0,
        "flight_plan": (bits & ev.FLIGHT_PLAN) != 0,
        "ssr_reply": (bits & ev.SSR_REPLY) != 0,
        "mode_3a": (bits & ev.MODE_3A) != 0,
        "on_ground": (bits & ev.ON_GROUND) != 0,
        "icao_claim": icao,
        "none": np.ones(n, bool),
    }
    out = np.full(n, len(EVIDENCE_TABLE) - 1, np.int64)
    for k in range(len(EVIDENCE_TABLE) - 1, -1, -1):  # the first applicable row wins
        out[applies[ROW_NAMES[k]]] = k
    return out


def identity_likelihood(
    identity: IntArray,
    emitter_category: np.ndarray | None = None,
    ua_type: IntArray | None = None,
    evidence: IntArray | None = None,
) -> FloatArray:
    """(N, 4) likelihood multipliers: each track's row of :data:`EVIDENCE_TABLE`."""
    return _LIKELIHOODS[evidence_rows(identity, evidence, emitter_category, ua_type)]


def evidence_reason(row: int) -> str:
    """'name: reason' of one table row (for explanations and reports)."""
    entry = EVIDENCE_TABLE[int(row)]
    return f"{entry.name}: {entry.reason}"


MODEL_FLOOR = 1e-3  # no kinematic output is certain: evidence can always overrule it


def fuse(p: FloatArray, likelihood: FloatArray) -> FloatArray:
    """Posterior (N, C): p x likelihood, renormalised per row.

    Where a track has evidence (a likelihood row that is not flat), each model probability
    is first raised to at least :data:`MODEL_FLOOR`: the tree model gives exact zeros (a
    taxiing airliner can have p_aircraft = 0 from its kinematics), and no multiplier could
    move a zero. Rows without evidence are left exactly as the model gave them.
    """
    flat = np.all(likelihood == likelihood[:, :1], axis=1, keepdims=True)
    q = np.where(flat, p, np.maximum(p, MODEL_FLOOR)) * likelihood
    return q / q.sum(axis=1, keepdims=True)
