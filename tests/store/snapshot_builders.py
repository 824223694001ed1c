"""Hand-made snapshots, alert views and detections for the store and sinks tests."""

from __future__ import annotations

import numpy as np

from skywarden.detections import SourceKind, make_detections
from skywarden.snapshot import AlertView, Snapshot, TrackArrays

SITE = (51.5, -0.1, 45.0)  # lat, lon (deg), h (m)
M_PER_DEG_LAT = 111_320.0


def make_tracks(
    ids: list[int],
    t: float,
    classes: list[int] | None = None,
    rng: np.random.Generator | None = None,
) -> TrackArrays:
    """N confirmed tracks moving east at 10 m/s from 100 m spacing; positions follow t."""
    n = len(ids)
    rng = rng or np.random.default_rng(0)
    idx = np.asarray(ids, dtype=np.int64)
    e = 100.0 * idx + 10.0 * (t - 1_700_000_000.0)
    nn = 50.0 * idx
    u = np.full(n, 120.0)
    enu = np.column_stack([e, nn, u, np.full(n, 10.0), np.zeros(n), np.zeros(n)])
    lat = SITE[0] + nn / M_PER_DEG_LAT
    lon = SITE[1] + e / (M_PER_DEG_LAT * np.cos(np.radians(SITE[0])))
    p = rng.dirichlet(np.ones(4), size=n)
    classes = classes if classes is not None else [1] * n
    return TrackArrays(
        id=idx,
        enu=enu,
        lat=lat,
        lon=lon,
        alt_m=u + SITE[2],
        sigma_m=np.full(n, 12.5),
        status=np.ones(n, np.int8),
        target_class=np.asarray(classes, np.int8),
        p_class=p,
        behaviour=np.array(["hover" if i % 2 else "" for i in ids], dtype=object),
        identity=np.array([f"icao:{i:06X}" if i % 3 == 0 else "" for i in ids], dtype=object),
        callsign=np.array([f"CS{i}" if i % 3 == 0 else None for i in ids], dtype=object),
        t_update=np.full(n, t - 0.5),
        trail=np.full((n, 2, 3), np.nan),
        predicted=np.zeros((n, 0, 3)),
    )


def make_alert(
    alert_id: int,
    t: float,
    state: str = "active",
    zone_id: str = "Z1",
    track_id: int = 1,
    priority: int = 2,
    probability: float = 0.8,
    inside: bool = False,
    t_raised: float | None = None,
) -> AlertView:
    return AlertView(
        id=alert_id,
        zone_id=zone_id,
        track_id=track_id,
        object=f"track:{track_id}",
        state=state,
        priority=priority,
        probability=probability,
        time_to_entry_s=42.0 if not inside else 0.0,
        inside=inside,
        target_class="drone",
        lat=SITE[0] + 0.001 * alert_id,
        lon=SITE[1] + 0.002,
        alt_m=150.0,
        t_raised=t if t_raised is None else t_raised,
        t_state=t,
    )


def make_snapshot(
    seq: int, t: float, ids: list[int], alerts: tuple[AlertView, ...] = ()
) -> Snapshot:
    return Snapshot(seq=seq, t=t, site=SITE, tracks=make_tracks(ids, t), alerts=alerts)


def make_batch(t: float, n: int, rng: np.random.Generator):
    """n radar/ADS-B detections at time t with random full covariances."""
    a = rng.normal(size=(n, 3, 3))
    R = a @ np.swapaxes(a, 1, 2) + np.eye(3)
    v = rng.normal(size=(n, 3))
    v[::2] = np.nan
    return make_detections(
        t + rng.uniform(-0.5, 0, n),
        rng.normal(scale=1000.0, size=(n, 3)),
        R,
        v=v,
        sensor=rng.integers(0, 3, n).astype(np.int32),
        kind=np.where(np.arange(n) % 2, SourceKind.ADSB, SourceKind.RADAR).astype(np.int8),
        identity=np.where(np.arange(n) % 2, 1 << 60 | np.arange(n), -1),
        evidence=rng.integers(0, 256, n),
    )
