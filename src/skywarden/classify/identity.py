"""Identity evidence: cooperative identities turned into class likelihoods and fused.

The tree model sees kinematics only (it is trained on radar-like tracks without identities);
cooperative evidence is applied afterwards as likelihood multipliers per class
[drone, bird, aircraft, unknown], ``p ∝ p_kinematic x L``. The values are stated assumptions,
not fitted (no labelled data with identities exists here):

* Remote ID bound to the track (any UA type: every Remote ID sender is unmanned): drone.
* ICAO 24-bit address bound (Mode S / ADS-B transponder): aircraft, unless the ADS-B emitter
  category says otherwise: ``B6`` (unmanned aerial vehicle) -> drone; ``A7`` rotorcraft and
  other A / B categories -> aircraft.
* Upstream system-track numbers and no identity: no evidence (L = 1).
"""

from __future__ import annotations

import numpy as np

from skywarden.detections import icao_identity, remote_id_identity
from skywarden.units import FloatArray, IntArray

NO_EVIDENCE = np.array([1.0, 1.0, 1.0, 1.0])
REMOTE_ID = np.array([1.0, 1e-3, 1e-2, 1e-2])
TRANSPONDER = np.array([0.05, 1e-3, 1.0, 1e-2])
ADSB_UAV = np.array([1.0, 1e-3, 0.05, 1e-2])
_TAG_SHIFT = 60


def _tag(identity: IntArray) -> IntArray:
    ident = np.asarray(identity, dtype=np.int64)
    return np.where(ident >= 0, (ident >> _TAG_SHIFT) & 0xF, -1)


def identity_likelihood(
    identity: IntArray,
    emitter_category: np.ndarray | None = None,
    ua_type: IntArray | None = None,
) -> FloatArray:
    """(N, 4) likelihood multipliers from identity keys (N,) and optional per-track evidence.

    emitter_category: (N,) str ADS-B category such as 'A3', 'A7', 'B6' ('' = unknown).
    ua_type: (N,) Remote ID UA type (-1 = unknown); it only confirms 'unmanned'.
    """
    tag = _tag(identity)
    n = tag.shape[0]
    out = np.tile(NO_EVIDENCE, (n, 1))
    icao_tag = int(icao_identity(0)) >> _TAG_SHIFT
    rid_tag = int(remote_id_identity("x")) >> _TAG_SHIFT
    rid = tag == rid_tag
    if ua_type is not None:
        rid |= np.asarray(ua_type) >= 0
    icao = (tag == icao_tag) & ~rid
    out[icao] = TRANSPONDER
    if emitter_category is not None:
        cat = np.asarray(emitter_category, dtype=str)
        out[icao & (cat == "B6")] = ADSB_UAV
    out[rid] = REMOTE_ID
    return out


def fuse(p: FloatArray, likelihood: FloatArray) -> FloatArray:
    """Posterior (N, C): p x likelihood, renormalised per row."""
    q = p * likelihood
    return q / q.sum(axis=1, keepdims=True)
