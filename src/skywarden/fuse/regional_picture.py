"""One regional picture from the latest picture of each site (pure; ``--role region``).

Per call: each site's confirmed tracks (site ENU, with the covariance the core publishes,
or one made from ``sigma_m`` for an older core) are predicted to the region time, turned
into the region ENU frame (skywarden.fuse.site_frames), associated and fused
(skywarden.fuse.track_to_track). Each regional track lists its members as
(site name, site track id).

Columns of a regional track:

* state, covariance, lat/lon/alt, sigma_m: the covariance-intersection fusion;
* class probabilities: the normalised geometric mean of the members' (drone, bird,
  aircraft, unknown) vectors (log-linear pooling: sites that saw the same evidence are not
  counted twice as a product would); the class is the members' class when they agree,
  otherwise the pooled most probable of drone / bird / aircraft when that is >= 0.5, else
  unknown;
* status: confirmed if any member is, else coasting if any is; t_update: the newest;
  evidence bits: OR; last report per source kind: the newest;
* identity, callsign, behaviour: the first member (in site order) that has one;
  trail, predicted path, flags, reasons: the leader's (its member of the lowest site index).

Alerts stay per site, with their states: each site's alerts are listed with ``site`` set,
``id = site index * ALERT_ID_STRIDE + the site's alert id`` (so the region can send an
operator action to the right core) and ``track_id`` the regional track (-1 when the track is
not in the picture).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from skywarden.fuse.covariance_intersection import repair_covariance
from skywarden.fuse.site_frames import covariance_from_sigma, predict, site_to_region
from skywarden.fuse.track_to_track import (
    FusionParams,
    Membership,
    RegionalTracks,
    SiteTracks,
    fuse_site_tracks,
    site_keys,
)
from skywarden.geo import LocalFrame
from skywarden.snapshot import AlertView, Snapshot, TrackArrays

ALERT_ID_STRIDE = 1_000_000_000
MAX_PREDICT_S = 30.0  # a site picture older than this is predicted no further
PROCESS_NOISE_M2PS3 = 1.0  # white-acceleration spectral density for the time alignment
P_FLOOR = 1e-3  # class probability floor before pooling
_P_TO_CLASS = np.array([1, 3, 2, 0])  # (drone, bird, aircraft, unknown) -> CLASS_NAMES index
_STATUS_RANK = np.array([2, 0, 1])  # tentative, confirmed, coasting: confirmed best


@dataclass(frozen=True)
class SitePicture:
    """The latest picture of one site (``name`` as in ``--sites``)."""

    name: str
    snapshot: Snapshot


def regional_picture(
    pictures: Sequence[SitePicture], frame: LocalFrame, previous: Membership, t: float,
    params: FusionParams | None = None,
) -> tuple[TrackArrays, tuple[AlertView, ...], Membership]:  # fmt: skip
    """The regional tracks and alerts at POSIX time ``t`` (see the module docstring) and the
    membership to pass in next time."""
    columns = [_site_columns(i, p, frame, t) for i, p in enumerate(pictures)]
    columns = [c for c in columns if len(c.tracks)]
    if not columns:
        return TrackArrays.empty(), _alerts(pictures, Membership.empty()), previous
    tracks = _concat([c.tracks for c in columns])
    site = np.concatenate([np.full(len(c.tracks), c.site, np.int64) for c in columns])
    site_tracks = _site_tracks(tracks, site)
    regional, membership = fuse_site_tracks(site_tracks, previous, len(pictures), params)
    out = _regional_columns(tracks, site_tracks, regional, frame, [p.name for p in pictures])
    return out, _alerts(pictures, membership), membership


@dataclass(frozen=True)
class _Columns:
    site: int
    tracks: TrackArrays  # region-frame enu and cov


def _site_columns(index: int, picture: SitePicture, region: LocalFrame, t: float) -> _Columns:
    snap = picture.snapshot
    tr = snap.tracks
    if len(tr) == 0:
        return _Columns(index, tr)
    P = tr.cov if tr.cov is not None else covariance_from_sigma(tr.sigma_m)
    x = np.where(np.isfinite(tr.enu), tr.enu, 0.0)
    P = repair_covariance(P)
    dt = np.full(len(tr), float(np.clip(t - snap.t, 0.0, MAX_PREDICT_S)))
    x, P = predict(x, P, dt, PROCESS_NOISE_M2PS3)
    x, P = site_to_region(x, P, LocalFrame(*snap.site), region)
    return _Columns(index, dataclasses.replace(tr, enu=x, cov=P, members=None))


def _concat(trs: list[TrackArrays]) -> TrackArrays:
    """The sites' tracks in one TrackArrays (trails NaN-padded to the longest)."""
    out = {}
    for k in TrackArrays.__slots__:
        values = [getattr(t, k) for t in trs]
        if k in ("trail", "predicted"):
            length = max(v.shape[1] for v in values)
            values = [np.concatenate([np.full((v.shape[0], length - v.shape[1], 3), np.nan), v],
                                     axis=1) for v in values]  # fmt: skip
        if any(v is None for v in values):
            out[k] = None
        else:
            out[k] = np.concatenate(values)
    return TrackArrays(**out)


def _site_tracks(tracks: TrackArrays, site: np.ndarray) -> SiteTracks:
    """Identity codes: the identity label, else the callsign, else none (-1)."""
    ident = np.array([i if i else (f"callsign:{c}" if c else "")
                      for i, c in zip(tracks.identity, tracks.callsign, strict=True)],
                     dtype=object)  # fmt: skip
    names, code = np.unique(ident.astype(str), return_inverse=True)
    if names.size and names[0] == "":
        code = code - 1
    return SiteTracks(site, tracks.id.astype(np.int64), tracks.enu, tracks.cov,
                      code.astype(np.int64))  # fmt: skip


def _regional_columns(
    tracks: TrackArrays,
    st: SiteTracks,
    regional: RegionalTracks,
    frame: LocalFrame,
    names: list[str],
) -> TrackArrays:
    g, group = len(regional), regional.group
    order = np.lexsort((st.site, group))
    starts = np.flatnonzero(np.r_[True, group[order][1:] != group[order][:-1]])
    lead = regional.leader
    lat, lon, alt = frame.enu_to_geodetic(regional.x[:, :3])
    logp = np.log(np.clip(np.nan_to_num(tracks.p_class, nan=0.25), P_FLOOR, 1.0))
    pooled = np.exp(
        np.add.reduceat(logp[order], starts, axis=0) / np.diff(np.r_[starts, len(order)])[:, None]
    )
    pooled /= pooled.sum(axis=1, keepdims=True)
    cls = tracks.target_class.astype(np.int64)
    agree = np.minimum.reduceat(cls[order], starts) == np.maximum.reduceat(cls[order], starts)
    best = np.argmax(pooled[:, :3], axis=1)
    voted = np.where(pooled[np.arange(g), best] >= 0.5, _P_TO_CLASS[best], 0)
    target_class = np.where(agree, cls[lead], voted).astype(np.int8)
    rank = np.minimum.reduceat(_STATUS_RANK[tracks.status.astype(np.int64)][order], starts)
    status = np.argsort(_STATUS_RANK)[rank].astype(np.int8)
    members = np.empty(g, dtype=object)
    site_names = np.array(names, dtype=object)[st.site[order]]
    ids = st.track_id[order]
    pairs = zip(np.split(site_names, starts[1:]), np.split(ids, starts[1:]), strict=True)
    members[:] = [tuple(zip(s, i.tolist(), strict=True)) for s, i in pairs]
    return TrackArrays(
        id=regional.regional_id, enu=regional.x, lat=lat, lon=lon, alt_m=alt,
        sigma_m=np.sqrt(np.maximum(regional.P[:, 0, 0], regional.P[:, 1, 1])),
        status=status, target_class=target_class, p_class=pooled,
        behaviour=_first_set(tracks.behaviour, order, starts),
        identity=_first_set(tracks.identity, order, starts),
        callsign=_first_set(tracks.callsign, order, starts),
        t_update=np.fmax.reduceat(tracks.t_update[order], starts),
        trail=tracks.trail[lead], predicted=tracks.predicted[lead],
        flags=None if tracks.flags is None else tracks.flags[lead],
        sources=None if tracks.sources is None
        else np.fmax.reduceat(tracks.sources[order], starts, axis=0),
        evidence=None if tracks.evidence is None else _bits_or(tracks.evidence, order, starts),
        reasons=None if tracks.reasons is None else tracks.reasons[lead],
        cov=regional.P, members=members,
    )  # fmt: skip


def _bits_or(bits: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    return np.bitwise_or.reduceat(bits[order].astype(np.int64), starts).astype(np.int32)


def _first_set(values: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """(G,) the first non-empty string of each group in member order ('' if none)."""
    v = values[order].astype(str)
    empty = v == ""
    rank = np.where(empty, len(v), np.arange(len(v)))
    first = np.minimum.reduceat(rank, starts)
    out = np.empty(starts.size, dtype=object)
    out[:] = np.where(first < len(v), v[np.minimum(first, len(v) - 1)], "")
    return out


def _alerts(pictures: Sequence[SitePicture], membership: Membership) -> tuple[AlertView, ...]:
    out: list[AlertView] = []
    for s, picture in enumerate(pictures):
        alerts = picture.snapshot.alerts
        if not alerts:
            continue
        tracks = np.array([a.track_id for a in alerts], np.int64)
        rid = membership.lookup(site_keys(np.full(tracks.size, s), np.maximum(tracks, 0)))
        rid = np.where(tracks >= 0, rid, -1)
        out.extend(
            dataclasses.replace(
                a, id=s * ALERT_ID_STRIDE + a.id, track_id=int(r), site=picture.name
            )
            for a, r in zip(alerts, rid.tolist(), strict=True)
        )
    return tuple(out)
