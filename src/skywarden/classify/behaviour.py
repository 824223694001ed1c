"""Behaviour labels from recent track states: transit, loiter, hover, approach, group.

Vectorised over tracks; works on a :class:`~skywarden.classify.history.StateWindow` (site ENU,
metres, m/s). Rules (thresholds in :class:`BehaviourParams`):

* hover: horizontal net speed over the newest ``hover_window_s`` (net displacement / time)
  below ``hover_speed`` and current horizontal speed below twice that.
* loiter (orbit or back-and-forth patrol): moving, and either the summed signed heading change
  in the window reaches ``loiter_turn_rad`` or the path is not straight (straightness below
  ``loiter_straightness`` over at least ``loiter_min_span_s``) within ``loiter_extent_m``.
* approach: moving and not loitering, outside every protected zone, within
  ``approach_range_m`` of a zone's boundary and flying towards the nearest zone: closing
  speed (velocity along the line to the zone centre) at least ``approach_fraction`` of the
  horizontal speed. Zones are circles ``(K, 3)`` rows [e, n, radius] in metres; with none
  given, the site origin is the zone.
* group: drones (the ``is_drone`` mask) within ``group_distance_m`` of each other and with
  velocities within ``group_speed_mps``, in connected sets of at least ``group_min_size``.
* transit: anything else.

The single ``label`` per track takes the first that applies of approach, group, hover,
loiter, transit; the boolean arrays keep every behaviour that applies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from skywarden.classify.features import FEATURE_NAMES, features_from_window
from skywarden.classify.history import StateWindow
from skywarden.units import BoolArray, FloatArray, IntArray

BEHAVIOURS: tuple[str, ...] = ("transit", "loiter", "hover", "approach", "group")


@dataclass(frozen=True, slots=True)
class BehaviourParams:
    """Thresholds of the behaviour rules (SI units)."""

    hover_speed: float = 1.5
    hover_window_s: float = 10.0
    moving_speed: float = 2.0
    loiter_turn_rad: float = np.pi
    loiter_straightness: float = 0.4
    loiter_min_span_s: float = 15.0
    loiter_extent_m: float = 1000.0
    approach_fraction: float = 0.7
    approach_range_m: float = 5000.0
    group_distance_m: float = 200.0
    group_speed_mps: float = 3.0
    group_min_size: int = 3


@dataclass(frozen=True, slots=True)
class Behaviour:
    """Behaviour of N tracks (rows in the window's order).

    label: (N,) object str from :data:`BEHAVIOURS`; hover, loiter, approach, group: (N,) bool;
    group_id: (N,) int, -1 when not in a group; closing_speed: (N,) m/s towards the nearest
    protected zone (negative when opening).
    """

    label: np.ndarray
    hover: BoolArray
    loiter: BoolArray
    approach: BoolArray
    group: BoolArray
    group_id: IntArray
    closing_speed: FloatArray


def _col(features: FloatArray, name: str) -> FloatArray:
    return features[:, FEATURE_NAMES.index(name)]


def _net_speed_recent(window: StateWindow, seconds: float) -> FloatArray:
    """Horizontal net displacement / time over the newest ``seconds`` of each window, m/s."""
    t = window.t
    recent = np.isfinite(t) & (t >= t[:, -1:] - seconds - 1e-9)
    first = np.argmax(recent, axis=1)
    rows = np.arange(len(window))
    dt = t[:, -1] - t[rows, first]
    d = window.x[:, -1, :2] - window.x[rows, first, :2]
    net = np.hypot(d[:, 0], d[:, 1])
    return np.divide(net, dt, out=np.full(len(window), np.nan), where=dt > 0)


def _turn_total(window: StateWindow) -> FloatArray:
    """|sum of signed heading changes| over the window where moving, radians."""
    v = np.nan_to_num(window.x[..., 3:5])
    speed = np.hypot(v[..., 0], v[..., 1])
    heading = np.arctan2(v[..., 1], v[..., 0])
    dpsi = np.angle(np.exp(1j * (heading[:, 1:] - heading[:, :-1])))
    ok = window.valid[:, 1:] & window.valid[:, :-1] & (speed[:, 1:] >= 2.0) & (speed[:, :-1] >= 2.0)
    return np.abs(np.where(ok, dpsi, 0.0).sum(axis=1))


def _closing(p: FloatArray, v: FloatArray, zones: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(distance to the nearest zone boundary (N,) m, closing speed towards it (N,) m/s)."""
    d = zones[None, :, :2] - p[:, None, :2]
    dist_c = np.hypot(d[..., 0], d[..., 1])
    gap = dist_c - zones[None, :, 2]
    k = np.argmin(gap, axis=1)
    rows = np.arange(p.shape[0])
    u = d[rows, k] / np.maximum(dist_c[rows, k], 1e-9)[:, None]
    return gap[rows, k], np.einsum("ij,ij->i", v[:, :2], u)


def _groups(p: FloatArray, v: FloatArray, member: BoolArray, bp: BehaviourParams) -> IntArray:
    """Group number per track (-1 if none): connected drones close in position and velocity."""
    n = p.shape[0]
    out = np.full(n, -1, np.int64)
    idx = np.flatnonzero(member)
    if idx.size < bp.group_min_size:
        return out
    pairs = cKDTree(p[idx]).query_pairs(bp.group_distance_m, output_type="ndarray")
    if pairs.size == 0:
        return out
    dv = np.linalg.norm(v[idx[pairs[:, 0]]] - v[idx[pairs[:, 1]]], axis=1)
    pairs = pairs[dv <= bp.group_speed_mps]
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(idx.size,) * 2)
    _, comp = connected_components(graph, directed=False)
    size = np.bincount(comp)
    big = size[comp] >= bp.group_min_size
    _, renumbered = np.unique(comp[big], return_inverse=True)
    out[idx[big]] = renumbered
    return out


def classify_behaviour(
    window: StateWindow,
    is_drone: BoolArray | None = None,
    zones: FloatArray | None = None,
    params: BehaviourParams | None = None,
    features: FloatArray | None = None,
) -> Behaviour:
    """Behaviour of every track in the window (module docstring). features: precomputed."""
    bp = params or BehaviourParams()
    n = len(window)
    f = features if features is not None else features_from_window(window)
    p, v = np.nan_to_num(window.x[:, -1, :3]), np.nan_to_num(window.x[:, -1, 3:])
    speed = np.hypot(v[:, 0], v[:, 1])
    moving = speed >= bp.moving_speed
    net = _net_speed_recent(window, bp.hover_window_s) if n else np.zeros(0)
    hover = (np.nan_to_num(net, nan=np.inf) < bp.hover_speed) & (speed < 2 * bp.hover_speed)
    compact = np.nan_to_num(_col(f, "spread_major_m"), nan=np.inf) <= bp.loiter_extent_m
    winding = (np.nan_to_num(_col(f, "straightness"), nan=1.0) < bp.loiter_straightness) & (
        np.nan_to_num(_col(f, "span_s")) >= bp.loiter_min_span_s
    )
    turned = (_turn_total(window) >= bp.loiter_turn_rad) if n else np.zeros(0, bool)
    loiter = moving & ~hover & compact & (turned | winding)
    zones = np.zeros((1, 3)) if zones is None or len(zones) == 0 else np.asarray(zones, float)
    gap, closing = _closing(p, v, zones) if n else (np.zeros(0), np.zeros(0))
    approach = (
        moving
        & ~loiter
        & (gap > 0)
        & (gap <= bp.approach_range_m)
        & (closing >= bp.approach_fraction * speed)
    )
    member = np.ones(n, bool) if is_drone is None else np.asarray(is_drone, bool)
    group_id = _groups(p, v, member, bp)
    group = group_id >= 0
    label = np.full(n, "transit", dtype=object)
    for mask, name in (
        (loiter, "loiter"),
        (hover, "hover"),
        (group, "group"),
        (approach, "approach"),
    ):
        label[mask] = name
    return Behaviour(label, hover, loiter, approach, group, group_id, closing)
