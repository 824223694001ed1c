"""Auditable multi-sensor fusion beside the tracker: which reports fed each track, and whether
the cooperative claims (ADS-B, Remote ID) agree with the non-cooperative (radar) evidence.

    fusion = new_fusion()
    tracks, events = step(tracks, detections, t, params)
    fusion = update_fusion(fusion, tracks, detections, events.detection_track, t)
    inconsistent, non_cooperative, last_by_kind = fusion_flags(fusion, tracks.id)

The tracker (step.py) does the fusion itself: one track per object, asynchronous batches in
time order, each detection with its own R, cooperative identities bound as aliases. This
module keeps, per live track id (rows follow the tracks, so memory is bounded):

* a ring of the last ``history_length`` reports that updated the track: (t, sensor, kind);
  per source kind the time of the last report and a count;
* a **radar shadow** (a CV filter fed only by the track's radar detections) and a
  **consistency test** of every cooperative report against radar evidence, raising the
  "cooperative claim inconsistent" flag: see :mod:`skywarden.track.fuse_consistency`;
* ``non_cooperative``: the track has radar evidence and no cooperative report within
  ``cooperative_stale_s`` (no bound identity, or its transmitter fell silent); callers may
  narrow it to drone-like tracks.

Units: seconds (POSIX), metres, ENU; shapes are given per function.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from skywarden.detections import Detections, SourceKind
from skywarden.errors import ConfigError
from skywarden.track.chi_square import chi2_quantile
from skywarden.track.fuse_consistency import (
    COOPERATIVE_KINDS,
    check_claims,
    established,
    is_cooperative_identity,
    ring_slots,
    update_shadows,
)
from skywarden.track.tracks import Tracks
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


_NOT_ROWS = ("t", "params", "retired_identity", "retired_t")


def _row_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(FusionState) if f.name not in _NOT_ROWS)


def new_fusion(params: FusionParams | None = None, t: float = 0.0) -> FusionState:
    """An empty fusion state."""
    params = params or FusionParams()
    empty = np.zeros(0, np.int64)
    return _blank(empty, empty, params, t, (empty, np.zeros(0)))


def _blank(
    ids: IntArray,
    identity: IntArray,
    params: FusionParams,
    t: float,
    retired: tuple[IntArray, FloatArray],
) -> FusionState:
    n, L, W = ids.shape[0], params.history_length, params.window
    return FusionState(
        t=t,
        id=ids.astype(np.int64),
        identity=identity.astype(np.int64),
        hist_t=np.full((n, L), np.nan),
        hist_sensor=np.full((n, L), -1, np.int32),
        hist_kind=np.full((n, L), -1, np.int8),
        hist_count=np.zeros(n, np.int64),
        last_by_kind=np.full((n, N_KINDS), np.nan),
        count_by_kind=np.zeros((n, N_KINDS), np.int64),
        shadow_x=np.zeros((n, 6)),
        shadow_P=np.repeat(np.eye(6)[None], n, axis=0),
        shadow_t=np.full(n, np.nan),
        shadow_n=np.zeros(n, np.int64),
        shadow_dt=np.full(n, np.nan),
        nis=np.full((n, W), np.nan),
        nis_count=np.zeros(n, np.int64),
        inconsistent=np.zeros(n, bool),
        reference=np.full(n, -1, np.int64),
        retired_identity=retired[0],
        retired_t=retired[1],
        params=params,
    )


def _align(state: FusionState, ids: IntArray, identity: IntArray, t: float) -> FusionState:
    """Rows for exactly the given track ids (sorted): kept rows copied, new rows blank (or
    flagged if their identity was retired flagged), rows of deleted tracks dropped (their
    identity retired if flagged). The identity column is refreshed from the tracks."""
    order = np.argsort(ids, kind="stable")
    ids, identity = ids[order], identity[order]
    kept = np.isin(state.id, ids)
    out = _blank(ids, identity, state.params, t, _retire(state, ~kept, t))
    if len(state) and ids.size:
        pos = np.clip(np.searchsorted(state.id, ids), 0, len(state) - 1)
        found = state.id[pos] == ids
        for name in _row_fields():
            if name not in ("id", "identity"):
                getattr(out, name)[found] = getattr(state, name)[pos[found]]
        out.inconsistent[~found] = np.isin(identity[~found], out.retired_identity)
    elif ids.size:
        out.inconsistent[:] = np.isin(identity, out.retired_identity)
    return out


def _retire(state: FusionState, dropped: BoolArray, t: float) -> tuple[IntArray, FloatArray]:
    """The remembered flagged identities after dropping rows: old ones forgotten after
    ``retired_memory_s``, newest ``retired_capacity`` kept."""
    p = state.params
    gone = dropped & state.inconsistent & is_cooperative_identity(state.identity)
    identity = np.concatenate([state.retired_identity, state.identity[gone]])
    when = np.concatenate([state.retired_t, np.full(int(gone.sum()), t)])
    fresh = t - when <= p.retired_memory_s
    identity, when = identity[fresh], when[fresh]
    if identity.size > p.retired_capacity:
        newest = np.argsort(when, kind="stable")[identity.size - p.retired_capacity :]
        identity, when = identity[newest], when[newest]
    return identity, when


def rows_of(state: FusionState, track_ids: IntArray) -> IntArray:
    """(N,) row of each track id in the state, -1 where absent."""
    track_ids = np.asarray(track_ids, dtype=np.int64)
    if len(state) == 0:
        return np.full(track_ids.shape, -1, np.int64)
    pos = np.clip(np.searchsorted(state.id, track_ids), 0, len(state) - 1)
    return np.where(state.id[pos] == track_ids, pos, -1)


def update_fusion(
    state: FusionState,
    tracks: Tracks,
    detections: Detections,
    detection_track: IntArray,
    t: float,
) -> FusionState:
    """The fusion state after one tracker step at t (POSIX s).

    Args:
        state: the state after the previous step.
        tracks: the tracks returned by this step.
        detections: the (D,) batch given to this step, in the order given to it.
        detection_track: (D,) StepEvents.detection_track (track id each detection updated
            or started, -1 none).
        t: the step's time.
    """
    state = _align(state, tracks.id, tracks.identity, t)
    detection_track = np.asarray(detection_track, dtype=np.int64)
    used = np.flatnonzero(detection_track >= 0)
    rows = rows_of(state, detection_track[used])
    used, rows = used[rows >= 0], rows[rows >= 0]
    _record_reports(state, rows, detections.take(used))
    radar = detections.kind[used] == SourceKind.RADAR
    update_shadows(state, rows[radar], detections.take(used[radar]), t)
    check_claims(state, tracks, detections, detection_track, t)
    return state


def _record_reports(state: FusionState, rows: IntArray, dets: Detections) -> None:
    """Write the reports that updated tracks into the rings and per-kind tables (in place)."""
    if rows.size == 0:
        return
    order, slots = ring_slots(rows, state.hist_count, state.params.history_length)
    r = rows[order]
    state.hist_t[r, slots] = dets.t[order]
    state.hist_sensor[r, slots] = dets.sensor[order]
    state.hist_kind[r, slots] = dets.kind[order]
    kind = dets.kind.astype(np.int64)
    np.fmax.at(state.last_by_kind, (rows, kind), dets.t)
    np.add.at(state.count_by_kind, (rows, kind), 1)


def fusion_flags(
    state: FusionState, track_ids: IntArray, drone_like: BoolArray | None = None
) -> tuple[BoolArray, BoolArray, FloatArray]:
    """Flags of the given tracks: (inconsistent (N,), non_cooperative (N,), last_by_kind
    (N, 4) POSIX s per SourceKind, NaN = never). Unknown ids: False, False, NaN.

    ``non_cooperative``: radar evidence and no cooperative report within
    ``cooperative_stale_s`` of the state's time; and ``drone_like`` (N,) where given.
    """
    rows = rows_of(state, track_ids)
    known = rows >= 0
    r = np.where(known, rows, 0)
    if len(state) == 0:
        n = rows.shape[0]
        return np.zeros(n, bool), np.zeros(n, bool), np.full((n, N_KINDS), np.nan)
    last = np.where(known[:, None], state.last_by_kind[r], np.nan)
    inconsistent = known & state.inconsistent[r]
    coop_t = np.fmax(last[:, COOPERATIVE_KINDS[0]], last[:, COOPERATIVE_KINDS[1]])
    heard = state.t - coop_t <= state.params.cooperative_stale_s  # NaN compares False
    non_cooperative = known & np.isfinite(last[:, SourceKind.RADAR]) & ~heard
    if drone_like is not None:
        non_cooperative &= np.asarray(drone_like, dtype=bool)
    return inconsistent, non_cooperative, last


def audit(state: FusionState, track_id: int) -> list[dict]:
    """The reports that last updated a track, newest first: [{"t", "sensor", "kind"}] with
    kind one of radar / adsb / remote_id / system_track; [] for an unknown track."""
    row = int(rows_of(state, np.array([track_id]))[0])
    if row < 0:
        return []
    L = state.params.history_length
    count = int(state.hist_count[row])
    slots = (count - 1 - np.arange(min(count, L))) % L
    return [
        {
            "t": float(state.hist_t[row, s]),
            "sensor": int(state.hist_sensor[row, s]),
            "kind": KIND_NAMES[int(state.hist_kind[row, s])],
        }
        for s in slots
    ]


def sources_view(state: FusionState, track_id: int) -> dict | None:
    """JSON-ready fusion summary of one track (for GET /api/v1/tracks/{id}/sources), or None.

    Keys: track_id, reports (see :func:`audit`), last (kind -> POSIX s), counts (kind ->
    reports), consistency {inconsistent, nis (newest first), exceeding, bound,
    reference_track, radar_shadow}.
    """
    row = int(rows_of(state, np.array([track_id]))[0])
    if row < 0:
        return None
    p = state.params
    count = int(state.nis_count[row])
    newest = (count - 1 - np.arange(min(count, p.window))) % p.window
    nis = state.nis[row, newest]
    last = state.last_by_kind[row]
    ref = int(state.reference[row])
    return {
        "track_id": int(track_id),
        "reports": audit(state, track_id),
        "last": {KIND_NAMES[k]: float(last[k]) for k in range(N_KINDS) if np.isfinite(last[k])},
        "counts": {KIND_NAMES[k]: int(c) for k, c in enumerate(state.count_by_kind[row]) if c},
        "consistency": {
            "inconsistent": bool(state.inconsistent[row]),
            "nis": [round(float(v), 2) for v in nis],
            "exceeding": int((nis > p.report_bound).sum()),
            "bound": p.report_bound,
            "reference_track": ref if ref >= 0 else None,
            "radar_shadow": bool(established(state, state.t)[0][row]),
        },
    }
