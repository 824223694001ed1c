"""The fusion bookkeeping's data: its settings (:class:`FusionParams`) and its per-track arrays
(:class:`FusionState`), shared by :mod:`skywarden.track.fuse` (the updates) and
:mod:`skywarden.track.fuse_consistency` (the consistency test of cooperative claims).

Units: seconds (POSIX), metres, ENU.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from skywarden.detections import SourceKind
from skywarden.errors import ConfigError
from skywarden.track.chi_square import chi2_quantile
from skywarden.units import BoolArray, FloatArray, IntArray

N_KINDS = len(SourceKind)
KIND_NAMES = tuple(k.name.lower() for k in SourceKind)  # radar, adsb, remote_id, system_track


@dataclass(frozen=True, slots=True)
class FusionParams:
    """Settings of the fusion bookkeeping and the consistency test (SI units).

    Attributes:
        history_length: reports kept per track for the audit (ring buffer).
        window: last cooperative reports (NIS values) the flag looks at.
        report_false_alarm: probability that one right claim's NIS exceeds the report bound.
        raise_count: exceeding reports within the window that raise the flag.
        clear_after: last reports that must all pass to clear it (> window - raise_count,
            so that a cleared flag is not raised again by the same reports).
        shadow_accel_sigma: white acceleration of the radar shadow, m/s^2/sqrt(Hz).
        shadow_speed_sigma: 1-sigma per axis of the shadow's first velocity, m/s.
        shadow_min_updates: radar updates before a shadow is used as a reference.
        shadow_max_age_s: a shadow not updated for longer is not used, seconds.
        starve_factor: a track's own shadow older than this many usual radar intervals
            gives way to a fresher radar-only track near the claim.
        claim_gate: NIS bound for testing a claim against another track's shadow
            (25 x the 0.9999 chi2(3) gate, as step.py's identity binding: ~528).
        cooperative_stale_s: a track with no cooperative report for this long is
            non-cooperative (if it has radar evidence), seconds.
        retired_memory_s: how long a deleted flagged track's identity stays flagged, s.
        retired_capacity: at most this many such identities are remembered.
    """

    history_length: int = 16
    window: int = 6
    report_false_alarm: float = 1e-3
    raise_count: int = 3
    clear_after: int = 4
    shadow_accel_sigma: float = 3.0
    shadow_speed_sigma: float = 30.0
    shadow_min_updates: int = 2
    shadow_max_age_s: float = 12.0
    starve_factor: float = 2.5
    claim_gate: float = 25.0 * chi2_quantile(0.9999, 3)
    cooperative_stale_s: float = 10.0
    retired_memory_s: float = 60.0
    retired_capacity: int = 256

    def __post_init__(self) -> None:
        checks = [
            (self.history_length >= 1, "history_length must be >= 1"),
            (0.0 < self.report_false_alarm < 0.5, "report_false_alarm must be in (0, 0.5)"),
            (1 <= self.raise_count <= self.window, "need 1 <= raise_count <= window"),
            (
                self.window - self.raise_count < self.clear_after <= self.window,
                "need window - raise_count < clear_after <= window",
            ),
            (self.shadow_accel_sigma > 0.0, "shadow_accel_sigma must be > 0"),
            (self.shadow_speed_sigma > 0.0, "shadow_speed_sigma must be > 0"),
            (self.shadow_min_updates >= 2, "shadow_min_updates must be >= 2"),
            (self.shadow_max_age_s > 0.0, "shadow_max_age_s must be > 0 s"),
            (self.starve_factor > 1.0, "starve_factor must be > 1"),
            (self.claim_gate > 0.0, "claim_gate must be > 0"),
            (self.cooperative_stale_s > 0.0, "cooperative_stale_s must be > 0 s"),
            (self.retired_memory_s >= 0.0, "retired_memory_s must be >= 0 s"),
            (self.retired_capacity >= 0, "retired_capacity must be >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    @property
    def report_bound(self) -> float:
        """NIS above which one cooperative report exceeds (chi2(3) quantile)."""
        return chi2_quantile(1.0 - self.report_false_alarm, 3)


@dataclass(frozen=True, slots=True)
class FusionState:
    """Per live track (T rows, sorted by track id) fusion bookkeeping, valid at time ``t``.

    Attributes:
        t: time of the last update, POSIX s.
        id: (T,) track ids, ascending; identity: (T,) the track's identity key (-1 none).
        hist_t (T, L) POSIX s (NaN = empty), hist_sensor (T, L) int32, hist_kind (T, L)
            int8: ring of the reports that updated the track; hist_count (T,) reports so far.
        last_by_kind: (T, 4) time of the last report per SourceKind (NaN = never).
        count_by_kind: (T, 4) number of reports per SourceKind.
        shadow_x (T, 6), shadow_P (T, 6, 6): radar-only CV estimate valid at shadow_t (T,)
            (NaN = none); shadow_n (T,) radar updates; shadow_dt (T,) usual interval
            between them, s (exponential average; NaN before the second).
        nis: (T, W) ring of the last cooperative NIS values (NaN = empty); nis_count (T,).
        inconsistent: (T,) the "cooperative claim inconsistent" flag.
        reference: (T,) id of the track whose shadow the last test used (-1: the fused
            track after an identity conflict, or none).
        retired_identity, retired_t: (K,) identities of deleted flagged tracks and when
            they were deleted (K <= retired_capacity).
    """

    t: float
    id: IntArray
    identity: IntArray
    hist_t: FloatArray
    hist_sensor: np.ndarray
    hist_kind: np.ndarray
    hist_count: IntArray
    last_by_kind: FloatArray
    count_by_kind: IntArray
    shadow_x: FloatArray
    shadow_P: FloatArray
    shadow_t: FloatArray
    shadow_n: IntArray
    shadow_dt: FloatArray
    nis: FloatArray
    nis_count: IntArray
    inconsistent: BoolArray
    reference: IntArray
    retired_identity: IntArray
    retired_t: FloatArray
    params: FusionParams = field(default_factory=FusionParams)

    def __len__(self) -> int:
        return int(self.id.shape[0])
