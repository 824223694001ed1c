"""Detections: the struct-of-arrays batch that every source hands to the core.

One row per detection. Positions are in the site ENU frame (metres), times are POSIX seconds,
covariances are metres squared. Sources build these with :func:`make_detections`; the tracker
never sees wire formats, units other than SI, or Python objects per detection.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from skywarden.row_select import select_rows
from skywarden.units import FloatArray, IntArray


class SourceKind(IntEnum):
    """What kind of sensor produced a detection."""

    RADAR = 0  # non-cooperative plot (primary or secondary radar, simulated radar)
    ADSB = 1  # ADS-B / Mode S position (CAT021, Beast, SBS)
    REMOTE_ID = 2  # ASTM F3411 Remote ID broadcast
    SYSTEM_TRACK = 3  # an upstream tracker's output (CAT062)


NO_IDENTITY = -1
_ICAO_TAG = 1 << 60
_REMOTE_ID_TAG = 2 << 60
_TRACK_NUMBER_TAG = 3 << 60
_TAG_MASK = 0xF << 60


def icao_identity(address: int) -> int:
    """Identity key for a 24-bit ICAO aircraft address."""
    return _ICAO_TAG | (int(address) & 0xFFFFFF)


def icao_identities(addresses: IntArray) -> IntArray:
    """Identity keys for an array of 24-bit ICAO addresses (-1 stays -1 = no address)."""
    a = np.asarray(addresses, dtype=np.int64)
    return np.where(a >= 0, np.int64(_ICAO_TAG) | (a & 0xFFFFFF), np.int64(NO_IDENTITY))


def track_number_identity(sensor: int, track_number: int) -> int:
    """Identity key for an upstream system-track number (CAT062/CAT048 track) of a sensor."""
    return _TRACK_NUMBER_TAG | ((int(sensor) & 0xFFFF) << 32) | (int(track_number) & 0xFFFFFFFF)


def remote_id_identity(uas_id: str, id_type: int = 1) -> int:
    """Identity key for a Remote ID UAS ID (serial, registration, ...) and its ID type.

    A stable 56-bit hash of ``(id_type, uas_id)``; the text itself is kept at the edge.
    """
    digest = hashlib.blake2b(f"{id_type}:{uas_id}".encode(), digest_size=7).digest()
    return _REMOTE_ID_TAG | int.from_bytes(digest, "big")


def identity_kind(identity: int) -> str:
    """'icao', 'remote_id', 'track_number' or 'none' for an identity key."""
    if identity < 0:
        return "none"
    return {_ICAO_TAG: "icao", _REMOTE_ID_TAG: "remote_id", _TRACK_NUMBER_TAG: "track_number"}.get(
        identity & _TAG_MASK, "none"
    )


def icao_of(identity: int) -> int | None:
    """The 24-bit ICAO address inside an identity key, or None if it is not an ICAO key."""
    if identity >= 0 and identity & _TAG_MASK == _ICAO_TAG:
        return identity & 0xFFFFFF
    return None


@dataclass(frozen=True, slots=True)
class Detections:
    """A batch of D detections (struct of arrays).

    Attributes:
        t: (D,) POSIX seconds of each measurement.
        z: (D, 3) position [e, n, u] in the site ENU frame, metres.
        R: (D, 3, 3) position covariance, m^2 (symmetric positive definite).
        v: (D, 3) reported velocity [ve, vn, vu] in m/s, NaN where the sensor gave none.
        sensor: (D,) int32 sensor index (into the site's sensor list).
        kind: (D,) int8 :class:`SourceKind`.
        identity: (D,) int64 identity key (ICAO / Remote ID / track number), -1 for none.
        rcs_dbsm: (D,) radar cross-section estimated from a radar plot's amplitude, dB relative
            to 1 m^2 (dBsm); NaN where the sensor reports no amplitude or is not calibrated.
        evidence: (D,) int32 bit field of what the sensor reports besides the position
            (transponder reply, Mode 3/A code, flight plan, on ground, simulated, test):
            the bits of :mod:`skywarden.evidence`, 0 for none.
    """

    t: FloatArray
    z: FloatArray
    R: FloatArray
    v: FloatArray
    sensor: np.ndarray
    kind: np.ndarray
    identity: IntArray
    rcs_dbsm: FloatArray
    evidence: IntArray

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def take(self, index: np.ndarray) -> Detections:
        """The detections selected by a boolean mask or an integer index array."""
        return Detections(
            t=select_rows(self.t, index),
            z=select_rows(self.z, index),
            R=select_rows(self.R, index),
            v=select_rows(self.v, index),
            sensor=select_rows(self.sensor, index),
            kind=select_rows(self.kind, index),
            identity=select_rows(self.identity, index),
            rcs_dbsm=select_rows(self.rcs_dbsm, index),
            evidence=select_rows(self.evidence, index),
        )

    @staticmethod
    def empty() -> Detections:
        """A batch with no detections."""
        return make_detections(np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3, 3)))

    @staticmethod
    def concat(batches: list[Detections]) -> Detections:
        """Concatenate batches (keeps their order)."""
        if not batches:
            return Detections.empty()
        return Detections(
            t=np.concatenate([b.t for b in batches]),
            z=np.concatenate([b.z for b in batches]),
            R=np.concatenate([b.R for b in batches]),
            v=np.concatenate([b.v for b in batches]),
            sensor=np.concatenate([b.sensor for b in batches]),
            kind=np.concatenate([b.kind for b in batches]),
            identity=np.concatenate([b.identity for b in batches]),
            rcs_dbsm=np.concatenate([b.rcs_dbsm for b in batches]),
            evidence=np.concatenate([b.evidence for b in batches]),
        )


def make_detections(
    t: FloatArray | float,
    z: FloatArray,
    R: FloatArray | float,
    *,
    v: FloatArray | None = None,
    sensor: int | np.ndarray = 0,
    kind: SourceKind | np.ndarray = SourceKind.RADAR,
    identity: int | IntArray = NO_IDENTITY,
    rcs_dbsm: float | FloatArray = np.nan,
    evidence: int | IntArray = 0,
) -> Detections:
    """Build a validated :class:`Detections` batch, broadcasting scalars.

    Args:
        t: POSIX seconds, scalar or (D,).
        z: (D, 3) ENU positions in metres.
        R: (D, 3, 3) covariances in m^2, or a scalar 1-sigma in metres applied to every axis.
        v: optional (D, 3) reported velocity in m/s (NaN where unknown).
        sensor, kind, identity: scalars or (D,) arrays.
        rcs_dbsm: radar cross-section from the plot amplitude in dBsm, scalar or (D,); NaN
            (the default) where unknown.
        evidence: :mod:`skywarden.evidence` bits, scalar or (D,); 0 (the default) for none.
    """
    z = np.ascontiguousarray(z, dtype=np.float64).reshape(-1, 3)
    d = z.shape[0]
    t_arr = np.broadcast_to(np.asarray(t, dtype=np.float64), (d,)).copy()
    if np.ndim(R) == 0:
        R_arr = np.broadcast_to(np.eye(3) * float(R) ** 2, (d, 3, 3)).copy()
    else:
        R_arr = np.ascontiguousarray(R, dtype=np.float64).reshape(d, 3, 3)
    v_arr = (
        np.full((d, 3), np.nan)
        if v is None
        else np.ascontiguousarray(v, dtype=np.float64).reshape(d, 3)
    )
    return Detections(
        t=t_arr,
        z=z,
        R=R_arr,
        v=v_arr,
        sensor=np.broadcast_to(np.asarray(sensor, dtype=np.int32), (d,)).copy(),
        kind=np.broadcast_to(np.asarray(kind, dtype=np.int8), (d,)).copy(),
        identity=np.broadcast_to(np.asarray(identity, dtype=np.int64), (d,)).copy(),
        rcs_dbsm=np.broadcast_to(np.asarray(rcs_dbsm, dtype=np.float64), (d,)).copy(),
        evidence=np.broadcast_to(np.asarray(evidence, dtype=np.int32), (d,)).copy(),
    )
