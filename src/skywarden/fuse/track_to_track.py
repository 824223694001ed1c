"""Track-to-track association and fusion of several sites' tracks into regional tracks (pure).

Input: M site tracks of S sites, all in the region's ENU frame at one time (``SiteTracks``),
and the membership of the previous picture. Output: G regional tracks, each a set of site
tracks with at most one per site, and its covariance-intersection fused state.

The rule, in order (each stage vectorised over tracks; Python loops only over sites):

1. **Keep** (hysteresis). Site tracks that formed a regional track of two or more members at
   the last picture stay together while each still gates with the group's leader (its
   member of the lowest site index) at the loose ``keep_probability`` gate, or carries the
   leader's identity. A member whose identity differs from the leader's leaves.
2. **Identity.** A site track with an identity (ICAO address, Remote ID serial or callsign:
   the caller's key) joins the regional track of that identity when that one has no track of
   its site yet; site tracks of one identity seen by several sites form one regional track.
   Identity beats geometry: no gate is applied.
3. **Geometry**, site by site. The remaining tracks of site s are gated against the regional
   tracks without a site-s member (and without a different identity) by the chi-square
   test on the 6-D state difference with the combined covariance
   ``d2 = y^T (P_i + P_g)^-1 y <= chi2_6(join_probability)`` (a KD-tree on position first),
   and assigned one-to-one minimising ``sum(d2 - gate)`` (cluster by cluster,
   skywarden.track.associate.assign). Unassigned tracks start regional tracks of their own.
4. **Fusion.** A regional track's state is the sequential covariance intersection of its
   members in site order (skywarden.fuse.covariance_intersection); a single member's state
   is its own, unchanged.

Regional ids are stable: a kept group keeps its id; a new group takes the previous id of one
of its members when that id is free (so a site track that loses its partner keeps its
regional id), otherwise a new one.

Frames and units: x (M, 6) [e, n, u, ve, vn, vu] region ENU, m and m/s; P (M, 6, 6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skywarden.fuse.covariance_intersection import covariance_intersection
from skywarden.track.associate import assign
from skywarden.track.chi_square import chi2_quantile
from skywarden.track.gate import GatedPairs
from skywarden.units import FloatArray, IntArray

_SITE_SHIFT = 48  # key = site << 48 | site track id


@dataclass(frozen=True)
class FusionParams:
    """Gates of the track-to-track association.

    Attributes:
        join_probability: chi-square (6 dof) probability of the gate that joins a site track
            to a regional track.
        keep_probability: the looser gate that keeps a member in its regional track.
        max_gate_distance_m: no pair further apart than this is considered, metres.
    """

    join_probability: float = 0.999
    keep_probability: float = 0.99999
    max_gate_distance_m: float = 2000.0

    def __post_init__(self) -> None:
        if not 0.0 < self.join_probability <= self.keep_probability < 1.0:
            raise ValueError("need 0 < join_probability <= keep_probability < 1")
        if not self.max_gate_distance_m > 0.0:
            raise ValueError("max_gate_distance_m must be > 0")


@dataclass(frozen=True)
class SiteTracks:
    """M site tracks of all sites in the region ENU frame at one time.

    Attributes:
        site: (M,) site index 0..S-1. track_id: (M,) the site's track number (>= 0).
        x: (M, 6) region ENU state, m and m/s. P: (M, 6, 6) its covariance (SPD).
        identity: (M,) int identity code, -1 for none (equal codes = same object).
    """

    site: IntArray
    track_id: IntArray
    x: FloatArray
    P: FloatArray
    identity: IntArray

    def __len__(self) -> int:
        return int(self.site.shape[0])


@dataclass(frozen=True)
class Membership:
    """The regional id of each site track at the last picture (sorted by key)."""

    key: IntArray
    regional_id: IntArray
    next_id: int = 1

    @staticmethod
    def empty() -> Membership:
        return Membership(np.zeros(0, np.int64), np.zeros(0, np.int64), 1)

    def lookup(self, key: IntArray) -> IntArray:
        """Regional id of each key, -1 where the key is not a member."""
        if self.key.size == 0:
            return np.full(key.shape, -1, np.int64)
        i = np.minimum(np.searchsorted(self.key, key), self.key.size - 1)
        return np.where(self.key[i] == key, self.regional_id[i], -1)


@dataclass(frozen=True)
class RegionalTracks:
    """G regional tracks.

    Attributes:
        regional_id: (G,) stable ids. x: (G, 6), P: (G, 6, 6) fused state (region ENU).
        group: (M,) index into G of each input site track.
        leader: (G,) index of each group's member of the lowest site index.
    """

    regional_id: IntArray
    x: FloatArray
    P: FloatArray
    group: IntArray
    leader: IntArray

    def __len__(self) -> int:
        return int(self.regional_id.shape[0])


def site_keys(site: IntArray, track_id: IntArray) -> IntArray:
    """(M,) int64 keys of (site index, site track id); ids are taken modulo 2^48."""
    ids = np.asarray(track_id, np.int64) & ((1 << _SITE_SHIFT) - 1)
    return (np.asarray(site, np.int64) << _SITE_SHIFT) | ids


def state_distance(xa: FloatArray, Pa: FloatArray, xb: FloatArray, Pb: FloatArray) -> FloatArray:
    """(K,) squared Mahalanobis distance of xa - xb with the combined covariance Pa + Pb."""
    y = xa - xb
    return np.einsum("ki,ki->k", y, np.linalg.solve(Pa + Pb, y[..., None])[..., 0])


def fuse_site_tracks(
    tracks: SiteTracks, previous: Membership, n_sites: int, params: FusionParams | None = None
) -> tuple[RegionalTracks, Membership]:
    """Associate and fuse (see the module docstring). Returns the regional tracks and the
    membership to pass in with the next picture."""
    params = params or FusionParams()
    m = len(tracks)
    key = site_keys(tracks.site, tracks.track_id)
    prev = previous.lookup(key)
    label = _keep(tracks, prev, chi2_quantile(params.keep_probability, 6))
    has = np.zeros((m, n_sites), bool)  # has[label, s]: the group has a site-s member
    has[label[label >= 0], tracks.site[label >= 0]] = True
    label = _join_identity(tracks, label, has, n_sites)
    gx, gP = _fold(tracks, label)
    gate = chi2_quantile(params.join_probability, 6)
    for s in range(n_sites):
        _join_geometry(tracks, s, label, has, gx, gP, gate, params.max_gate_distance_m)
    groups, group = np.unique(label, return_inverse=True)
    rid, next_id = _regional_ids(groups, group, label, prev, previous.next_id, m)
    order = np.lexsort((tracks.site, group))
    first = np.ones(m, bool)
    first[1:] = group[order][1:] != group[order][:-1]
    regional = RegionalTracks(rid, gx[groups], gP[groups], group, order[first])
    member_rid = rid[group]
    sort = np.argsort(key, kind="stable")
    return regional, Membership(key[sort], member_rid[sort], next_id)


def _keep(tracks: SiteTracks, prev: IntArray, gate: float) -> IntArray:
    """Stage 1: labels (index of the leader) of the kept multi-member groups, -1 elsewhere."""
    m = len(tracks)
    label = np.full(m, -1, np.int64)
    idx = np.flatnonzero(prev >= 0)
    if idx.size < 2:
        return label
    idx = idx[np.lexsort((tracks.site[idx], prev[idx]))]
    run = np.ones(idx.size, bool)
    run[1:] = prev[idx][1:] != prev[idx][:-1]
    leader = idx[np.maximum.accumulate(np.where(run, np.arange(idx.size), 0))]
    ident, lead_ident = tracks.identity[idx], tracks.identity[leader]
    same = (ident >= 0) & (ident == lead_ident)
    conflict = (ident >= 0) & (lead_ident >= 0) & (ident != lead_ident)
    d2 = state_distance(tracks.x[idx], tracks.P[idx], tracks.x[leader], tracks.P[leader])
    stays = ~conflict & (same | (d2 <= gate))
    stays &= tracks.site[idx] != tracks.site[leader]  # one member per site
    stays |= idx == leader
    kept = np.bincount(leader[stays], minlength=m)  # members staying with each leader
    ok = stays & (kept[leader] >= 2)
    label[idx[ok]] = leader[ok]
    return label


def _join_identity(tracks: SiteTracks, label: IntArray, has: np.ndarray, n_sites: int) -> IntArray:
    """Stage 2: unassigned tracks with an identity join (or found) that identity's group."""
    label = label.copy()
    n_ident = int(tracks.identity.max(initial=-1)) + 1
    if n_ident == 0:
        return label
    owner = np.full(n_ident, -1, np.int64)  # group label of each identity code
    held = (label >= 0) & (tracks.identity >= 0)
    owner[tracks.identity[held]] = label[held]
    for s in range(n_sites):
        cand = np.flatnonzero((label < 0) & (tracks.identity >= 0) & (tracks.site == s))
        if cand.size == 0:
            continue
        target = owner[tracks.identity[cand]]
        join = target >= 0
        join[join] = ~has[target[join], s]
        j = np.flatnonzero(join)
        _, first = np.unique(target[j], return_index=True)  # one track per site and group
        join[:] = False
        join[j[first]] = True
        label[cand[join]] = target[join]
        has[target[join], s] = True
        rest = cand[~join]
        label[rest] = rest
        has[rest, s] = True
        free = owner[tracks.identity[rest]] < 0  # the first of an identity founds its group
        _, first = np.unique(tracks.identity[rest[free]], return_index=True)
        owner[tracks.identity[rest[free][first]]] = rest[free][first]
    return label


def _fold(tracks: SiteTracks, label: IntArray) -> tuple[FloatArray, FloatArray]:
    """(M, 6), (M, 6, 6) states indexed by group label: the sequential CI of each labelled
    group's members in site order (rows of unused labels are left as the track's own)."""
    gx, gP = tracks.x.copy(), tracks.P.copy()
    idx = np.flatnonzero(label >= 0)
    if idx.size == 0:
        return gx, gP
    idx = idx[np.lexsort((tracks.site[idx], label[idx]))]
    lab = label[idx]
    start = np.ones(idx.size, bool)
    start[1:] = lab[1:] != lab[:-1]
    pos = np.arange(idx.size) - np.maximum.accumulate(np.where(start, np.arange(idx.size), 0))
    heads = idx[start]
    gx[lab[start]], gP[lab[start]] = tracks.x[heads], tracks.P[heads]
    for level in range(1, int(pos.max(initial=0)) + 1):
        at = pos == level
        g, t = lab[at], idx[at]
        gx[g], gP[g], _ = covariance_intersection(gx[g], gP[g], tracks.x[t], tracks.P[t])
    return gx, gP


def _join_geometry(
    tracks: SiteTracks, s: int, label: IntArray, has: np.ndarray, gx: FloatArray,
    gP: FloatArray, gate: float, max_distance_m: float,
) -> None:  # fmt: skip
    """Stage 3 for site s: gate and assign its unassigned tracks to the groups without a
    site-s member; the rest found their own groups. Updates label, has, gx, gP in place."""
    from scipy.spatial import cKDTree

    rows = np.flatnonzero((label < 0) & (tracks.site == s))
    if rows.size == 0:
        return
    groups = np.unique(label[label >= 0])
    groups = groups[~has[groups, s]]
    ti = dj = np.zeros(0, np.int64)
    if groups.size:
        trace_r = np.trace(tracks.P[rows][:, :3, :3], axis1=1, axis2=2)
        trace_g = np.trace(gP[groups][:, :3, :3], axis1=1, axis2=2)
        radius = np.minimum(np.sqrt(gate * (trace_r + trace_g.max())), max_distance_m)
        near = cKDTree(tracks.x[rows, :3]).sparse_distance_matrix(
            cKDTree(gx[groups, :3]), float(radius.max()), output_type="ndarray"
        )
        near = near[near["v"] <= radius[near["i"]]]
        ti, dj = near["i"].astype(np.int64), near["j"].astype(np.int64)
    if ti.size:
        r, g = rows[ti], groups[dj]
        gi = _group_identity(tracks, label, g)
        ok = (tracks.identity[r] < 0) | (gi < 0)
        ti, dj, r, g = ti[ok], dj[ok], r[ok], g[ok]
        d2 = state_distance(tracks.x[r], tracks.P[r], gx[g], gP[g])
        pairs = GatedPairs(ti, dj, d2, np.ones_like(d2))
        a_r, a_g = assign(pairs, d2 - gate, rows.size, groups.size)
        r, g = rows[a_r], groups[a_g]
        label[r] = g
        has[g, s] = True
        gx[g], gP[g], _ = covariance_intersection(gx[g], gP[g], tracks.x[r], tracks.P[r])
    rest = rows[label[rows] < 0]
    label[rest] = rest
    has[rest, s] = True


def _group_identity(tracks: SiteTracks, label: IntArray, groups: IntArray) -> IntArray:
    """Identity code of each group label in ``groups`` (-1 when its members have none)."""
    code = np.full(label.size, -1, np.int64)
    held = (label >= 0) & (tracks.identity >= 0)
    code[label[held]] = tracks.identity[held]
    return code[groups]


def _regional_ids(
    groups: IntArray, group: IntArray, label: IntArray, prev: IntArray, next_id: int, m: int
) -> tuple[IntArray, int]:
    """(G,) regional ids: the previous id of the group's leader label when it had one and
    no other group claims it first, else the previous id of any member that is free, else
    a new id."""
    g = groups.size
    rid = np.full(g, -1, np.int64)
    # candidates: (group, previous id) of each member, the label's own track first
    own = label == np.arange(m)
    cand = np.flatnonzero(prev >= 0)
    order = cand[np.lexsort((group[cand], ~own[cand]))]
    cg, cp = group[order], prev[order]
    _, first_of_id = np.unique(cp, return_index=True)  # each previous id goes to one group
    claim = np.zeros(order.size, bool)
    claim[first_of_id] = True
    cg, cp = cg[claim], cp[claim]
    _, first_of_group = np.unique(cg, return_index=True)
    rid[cg[first_of_group]] = cp[first_of_group]
    new = rid < 0
    rid[new] = next_id + np.arange(int(new.sum()))
    return rid, next_id + int(new.sum())
