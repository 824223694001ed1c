"""Per-aircraft Mode S state: decoded messages -> ADS-B position reports -> Detections.

:class:`ModeSState` keeps, per ICAO address, the last even and odd CPR frames, the last
resolved position, velocity, callsign, NACp, squawk and GNSS-minus-baro difference, so that
positions resolve across batches (a pipeline tick, a file chunk). Each batch is processed
with array operations: messages are sorted by (address, arrival), the previous state is put
in front of each address as one row, and "latest value so far" is a grouped forward fill.

CPR resolution, in order of preference:
1. global: this frame and the latest opposite-parity frame of the same aircraft within
   ``pair_window_s`` (10 s, as dump1090/pyModeS);
2. local: relative to the aircraft's last resolved position if not older than
   ``reference_age_s``;
3. local relative to the receiver (only when ``receiver`` is given; correct only for
   aircraft within ~333 km of it, so results beyond ``receiver_range_m`` are dropped).
A global position farther from the aircraft's previous global (or stored) one than
``max_speed_mps * dt + 5 km`` is rejected, and so is such a local one relative to its
reference (``rejects['cpr_implausible']``). Surface positions (TC 5-8) are decoded apart, by
:mod:`skywarden.sources.modes.surface`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from skywarden import geo
from skywarden.detections import Detections, SourceKind, icao_identities, make_detections
from skywarden.evidence import AIRBORNE
from skywarden.sources.limits import MODES_MAX_AIRCRAFT, MODES_TABLE_FULL
from skywarden.sources.modes import cpr
from skywarden.sources.modes.messages import NUCP_TO_NACP, ModeSMessages
from skywarden.units import DEG, FPM, FT, KT, BoolArray, FloatArray, IntArray

EARTH_RADIUS_M = 6_371_000.0
# group -> (time column, value columns); a row "has" the group where its time is not NaN
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "even": ("even_t", ("even_lat", "even_lon")),
    "odd": ("odd_t", ("odd_lat", "odd_lon")),
    "pos": ("pos_t", ("pos_lat", "pos_lon")),
    "vel": ("vel_t", ("gs", "trk", "vr")),
    "gmb": ("gmb_t", ("gmb",)),
    "nacp": ("nacp_t", ("nacp",)),
    "callsign": ("callsign_t", ("callsign",)),
    "squawk": ("squawk_t", ("squawk",)),
}
_COLUMNS = [c for tcol, vals in GROUPS.values() for c in (tcol, *vals)]
REPORT_DF = (5, 17, 18, 21)
METHOD_GLOBAL, METHOD_LOCAL, METHOD_RECEIVER = 0, 1, 2


@dataclass(frozen=True, slots=True)
class PositionReports:
    """P ADS-B position reports in message arrival order (struct of arrays; NaN / -1 / ''
    = unknown).

    Attributes:
        t: (P,) POSIX seconds.  icao: (P,) int64 24-bit address.
        lat_deg, lon_deg: (P,) WGS-84 degrees (wire unit; geo.py converts to ENU).
        altitude_m: (P,) best height estimate in metres: GNSS height (TC 20-22), or
            barometric altitude + the aircraft's reported GNSS-minus-baro difference, or
            plain barometric (pressure) altitude when no difference is known.
        altitude_geometric: (P,) bool, True unless altitude_m is plain pressure altitude.
        altitude_baro_m: (P,) barometric pressure altitude (NaN for GNSS positions).
        groundspeed_mps, track_rad (clockwise from true north), vertical_rate_mps:
            (P,) latest ground velocity if not older than ``velocity_age_s``.
        callsign: (P,) object str.  nacp: (P,) int8 (0 = unknown).  squawk: (P,) int16.
        method: (P,) int8 0 = global CPR, 1 = local (aircraft), 2 = local (receiver).
    """

    t: FloatArray
    icao: IntArray
    lat_deg: FloatArray
    lon_deg: FloatArray
    altitude_m: FloatArray
    altitude_geometric: BoolArray
    altitude_baro_m: FloatArray
    groundspeed_mps: FloatArray
    track_rad: FloatArray
    vertical_rate_mps: FloatArray
    callsign: np.ndarray
    nacp: np.ndarray
    squawk: np.ndarray
    method: np.ndarray

    def __len__(self) -> int:
        return int(self.t.shape[0])


def group_starts(icao: IntArray) -> IntArray:
    """For rows sorted by address: the index of the first row of each row's address."""
    n = icao.shape[0]
    new = np.ones(n, dtype=bool)
    new[1:] = icao[1:] != icao[:-1]
    return np.maximum.accumulate(np.where(new, np.arange(n), 0)) if n else np.zeros(0, int)


def latest_index(present: BoolArray, starts: IntArray, exclusive: bool = False) -> IntArray:
    """Index of the latest row with ``present`` at or before each row in its group, or -1."""
    n = present.shape[0]
    idx = np.maximum.accumulate(np.where(present, np.arange(n), -1)) if n else np.zeros(0, int)
    if exclusive:
        idx = np.concatenate([[-1], idx[:-1]]) if n else idx
    return np.where(idx >= starts, idx, -1)


def take(column: np.ndarray, idx: IntArray) -> np.ndarray:
    """column[idx] with NaN ('' for text) where idx is -1."""
    fill = "" if column.dtype == object else np.nan
    return np.where(idx >= 0, column[np.maximum(idx, 0)], fill)


def equirectangular_distance_m(
    lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray
):
    """Equirectangular distance in metres (fine for plausibility checks up to ~1000 km)."""
    dlon = (lon2 - lon1 + 180.0) % 360.0 - 180.0
    x = np.radians(dlon) * np.cos(np.radians(0.5 * (lat1 + lat2)))
    return EARTH_RADIUS_M * np.hypot(x, np.radians(lat2 - lat1))


@dataclass
class ModeSState:
    """Per-ICAO state table; :meth:`update` turns decoded messages into position reports.

    ``rejects`` counts messages dropped by reason; ``unresolved`` counts airborne positions
    that could not (yet) be resolved (no pair, no reference). State is kept for at most
    ``max_aircraft`` addresses, each forgotten after ``forget_after_s`` of silence; beyond
    that the least recently heard are forgotten and counted (``modes_table_full``).
    """

    receiver: tuple[float, float] | None = None  # (lat, lon) degrees, optional
    receiver_range_m: float = 300_000.0
    pair_window_s: float = 10.0
    reference_age_s: float = 60.0
    velocity_age_s: float = 10.0
    max_speed_mps: float = 700.0
    forget_after_s: float = 600.0
    max_aircraft: int = MODES_MAX_AIRCRAFT
    rejects: Counter = field(default_factory=Counter)
    unresolved: int = 0
    _table: dict[str, np.ndarray] = field(default_factory=dict)
    _known: dict[int, float] = field(default_factory=dict)

    def known_address_mask(self, msgs: ModeSMessages) -> BoolArray:
        """Messages whose address is proven (DF11/17/18) or was proven within forget_after_s.

        Updates the known-address table with the verified messages of ``msgs`` first.
        """
        known = self._known
        for address, t in zip(
            msgs.icao[msgs.address_verified].tolist(),
            msgs.t[msgs.address_verified].tolist(),
            strict=True,
        ):
            if t > known.get(address, -np.inf):
                known[address] = t
        if len(known) > self.max_aircraft:
            known = self._known = self._newest_known(known)
        if not known:
            return msgs.address_verified.copy()
        addresses = np.fromiter(known, dtype=np.int64, count=len(known))
        last = np.fromiter(known.values(), dtype=np.float64, count=len(known))
        order = np.argsort(addresses)
        addresses, last = addresses[order], last[order]
        pos = np.clip(np.searchsorted(addresses, msgs.icao), 0, len(addresses) - 1)
        recent = (addresses[pos] == msgs.icao) & (msgs.t - last[pos] <= self.forget_after_s)
        return msgs.address_verified | recent

    def update(self, msgs: ModeSMessages) -> PositionReports:
        """Feed one batch of messages (in arrival order); returns its resolved positions."""
        known = self.known_address_mask(msgs)
        self.rejects["unknown_address"] += int(np.count_nonzero(~known))
        use = np.flatnonzero(known & np.isin(msgs.df, REPORT_DF))
        table, is_batch, source = self._build_table(msgs, use)
        starts = group_starts(table["icao"])
        method = self._resolve_positions(table, starts, is_batch)
        reports = self._reports(msgs, table, starts, is_batch, source, method)
        self._store(table, starts)
        return reports

    def _build_table(self, msgs: ModeSMessages, use: IntArray):
        """Batch rows plus one state row per address, sorted by (address, arrival)."""
        t = msgs.t[use]
        pos = msgs.is_airborne_position()[use]
        odd = msgs.cpr_odd[use]

        def when(mask: BoolArray) -> FloatArray:
            return np.where(mask, t, np.nan)

        lat_cpr = msgs.cpr_lat[use].astype(np.float64)
        lon_cpr = msgs.cpr_lon[use].astype(np.float64)
        rows = {
            "icao": msgs.icao[use],
            "t": t,
            "even_t": when(pos & ~odd),
            "even_lat": lat_cpr,
            "even_lon": lon_cpr,
            "odd_t": when(pos & odd),
            "odd_lat": lat_cpr,
            "odd_lon": lon_cpr,
            "pos_t": np.full(len(use), np.nan),
            "pos_lat": np.full(len(use), np.nan),
            "pos_lon": np.full(len(use), np.nan),
            "vel_t": when(~np.isnan(msgs.groundspeed_kt[use]) & ~msgs.surface[use]),
            "gs": msgs.groundspeed_kt[use],
            "trk": msgs.track_deg[use],
            "vr": msgs.vertical_rate_fpm[use],
            "gmb_t": when(~np.isnan(msgs.geo_minus_baro_ft[use])),
            "gmb": msgs.geo_minus_baro_ft[use],
            "nacp_t": when(msgs.nacp[use] >= 0),
            "nacp": msgs.nacp[use].astype(np.float64),
            "callsign_t": when(msgs.callsign[use] != ""),
            "callsign": msgs.callsign[use],
            "squawk_t": when(msgs.squawk[use] >= 0),
            "squawk": msgs.squawk[use].astype(np.float64),
        }
        state = self._state_rows(np.unique(rows["icao"]))
        n_state = len(state["icao"])
        table = {k: np.concatenate([state[k], rows[k]]) for k in rows}
        is_batch = np.concatenate([np.zeros(n_state, bool), np.ones(len(use), bool)])
        source = np.concatenate([np.full(n_state, -1), use])
        order = np.lexsort((np.arange(len(is_batch)), is_batch, table["icao"]))
        table = {k: v[order] for k, v in table.items()}
        return table, is_batch[order], source[order]

    def _state_rows(self, addresses: IntArray) -> dict[str, np.ndarray]:
        """The stored state rows of these addresses (those that have one)."""
        if not self._table:
            empty = {c: np.zeros(0) for c in ("icao", "t", *_COLUMNS)}
            empty["icao"] = np.zeros(0, dtype=np.int64)
            empty["callsign"] = np.zeros(0, dtype=object)
            return empty
        pick = np.isin(self._table["icao"], addresses)
        return {k: v[pick] for k, v in self._table.items()}

    def _resolve_positions(self, table: dict, starts: IntArray, is_batch: BoolArray):
        """Fill pos_t/pos_lat/pos_lon of batch rows; returns the CPR method per row (-1)."""
        t = table["t"]
        pos = is_batch & (~np.isnan(table["even_t"]) | ~np.isnan(table["odd_t"]))
        glat, glon = self._global(table, starts, pos, pos & ~np.isnan(table["odd_t"]))
        sub = np.flatnonzero(pos | ~is_batch)  # position rows and the stored state rows
        col = {k: table[k][sub] for k in ("t", "pos_t", "pos_lat", "pos_lon", "odd_t")}
        col.update(glat=glat[sub], glon=glon[sub], pos=pos[sub])
        for name in ("lat", "lon"):
            col[name] = np.where(
                col["odd_t"] >= 0, table[f"odd_{name}"][sub], table[f"even_{name}"][sub]
            )
        method, implausible = self._resolve_rows(col, group_starts(table["icao"][sub]))
        self.rejects["cpr_implausible"] += int(np.count_nonzero(implausible))
        self.unresolved += int(np.count_nonzero(col["pos"] & (method < 0) & ~implausible))
        for k in ("pos_t", "pos_lat", "pos_lon"):
            table[k][sub] = col[k]
        full = np.full(len(t), -1, dtype=np.int8)
        full[sub] = method
        return full

    def _plausible(self, lat, lon, t, ref_lat, ref_lon, ref_t) -> BoolArray:
        """Position reachable from the reference at max_speed_mps (+ 5 km); True w/o ref."""
        step = equirectangular_distance_m(ref_lat, ref_lon, lat, lon)
        return np.isnan(ref_t) | (step <= self.max_speed_mps * np.abs(t - ref_t) + 5000.0)

    def _resolve_rows(self, col: dict, starts: IntArray) -> tuple[np.ndarray, BoolArray]:
        """CPR resolution on position rows (+ state rows); updates col['pos_*'] in place."""
        t, pos = col["t"], col["pos"]
        odd = col["odd_t"] >= 0
        stored = ~pos & ~np.isnan(col["pos_t"])
        # 1. globals, checked against the aircraft's previous global (or stored) position
        have_g = ~np.isnan(col["glat"])
        anchor = have_g | stored
        a_t = np.where(have_g, t, col["pos_t"])
        a_lat = np.where(have_g, col["glat"], col["pos_lat"])
        a_lon = np.where(have_g, col["glon"], col["pos_lon"])
        prev = latest_index(anchor, starts, exclusive=True)
        p_t = take(a_t, prev)
        p_t = np.where(t - p_t <= self.reference_age_s, p_t, np.nan)
        ok_g = have_g & self._plausible(
            col["glat"], col["glon"], t, take(a_lat, prev), take(a_lon, prev), p_t
        )
        implausible = have_g & ~ok_g
        # 2. locals (aircraft reference, else receiver) for the rest; chains iterate
        rlat, rlon = self._receiver_local(col["lat"], col["lon"], odd)
        lat, lon = np.where(ok_g, col["glat"], np.nan), np.where(ok_g, col["glon"], np.nan)
        resolved = stored | ok_g
        for _ in range(len(t) + 1):
            cur_t = np.where(pos & resolved, t, col["pos_t"])
            cur_lat = np.where(pos & resolved, lat, col["pos_lat"])
            cur_lon = np.where(pos & resolved, lon, col["pos_lon"])
            ref = latest_index(resolved, starts, exclusive=True)
            ref_t = take(cur_t, ref)
            ref_t = np.where(t - ref_t <= self.reference_age_s, ref_t, np.nan)
            ref_lat, ref_lon = take(cur_lat, ref), take(cur_lon, ref)
            todo = pos & ~have_g
            llat, llon = cpr.decode_local(col["lat"], col["lon"], odd, ref_lat, ref_lon)
            has_ref = ~np.isnan(ref_t)
            llat, llon = np.where(has_ref, llat, rlat), np.where(has_ref, llon, rlon)
            ok_l = todo & ~np.isnan(llat) & self._plausible(llat, llon, t, ref_lat, ref_lon, ref_t)
            new_resolved = stored | ok_g | ok_l
            lat = np.where(ok_l, llat, lat)
            lon = np.where(ok_l, llon, lon)
            if np.array_equal(new_resolved, resolved):
                break
            resolved = new_resolved
        implausible |= todo & ~np.isnan(llat) & ~ok_l
        method = np.full(len(t), -1, dtype=np.int8)
        method[ok_l & ~has_ref] = METHOD_RECEIVER
        method[ok_l & has_ref] = METHOD_LOCAL
        method[ok_g] = METHOD_GLOBAL
        done = method >= 0
        col["pos_t"] = np.where(done, t, col["pos_t"])
        col["pos_lat"] = np.where(done, lat, col["pos_lat"])
        col["pos_lon"] = np.where(done, lon, col["pos_lon"])
        return method, implausible

    def _global(self, table: dict, starts: IntArray, pos: BoolArray, odd: BoolArray):
        """Global CPR decode of each position row with its latest opposite-parity frame."""
        t = table["t"]
        even_idx = latest_index(~np.isnan(table["even_t"]), starts, exclusive=True)
        odd_idx = latest_index(~np.isnan(table["odd_t"]), starts, exclusive=True)
        pair_t = np.where(odd, take(table["even_t"], even_idx), take(table["odd_t"], odd_idx))
        paired = pos & (t - pair_t <= self.pair_window_s)
        lat_e = np.where(odd, take(table["even_lat"], even_idx), table["even_lat"])
        lon_e = np.where(odd, take(table["even_lon"], even_idx), table["even_lon"])
        lat_o = np.where(odd, table["odd_lat"], take(table["odd_lat"], odd_idx))
        lon_o = np.where(odd, table["odd_lon"], take(table["odd_lon"], odd_idx))
        safe = [np.nan_to_num(a) for a in (lat_e, lon_e, lat_o, lon_o)]
        glat, glon = cpr.decode_global(*safe, odd)
        self.rejects["cpr_zone_mismatch"] += int(np.count_nonzero(paired & np.isnan(glat)))
        keep = paired & ~np.isnan(glat)
        return np.where(keep, glat, np.nan), np.where(keep, glon, np.nan)

    def _receiver_local(self, cpr_lat, cpr_lon, odd) -> tuple[FloatArray, FloatArray]:
        """Local decode relative to the receiver; NaN beyond receiver_range_m or no receiver."""
        if self.receiver is None:
            return np.full(len(cpr_lat), np.nan), np.full(len(cpr_lat), np.nan)
        lat, lon = cpr.decode_local(cpr_lat, cpr_lon, odd, *self.receiver)
        far = ~(
            equirectangular_distance_m(self.receiver[0], self.receiver[1], lat, lon)
            <= self.receiver_range_m
        )
        return np.where(far, np.nan, lat), np.where(far, np.nan, lon)

    def _reports(self, msgs, table, starts, is_batch, source, method) -> PositionReports:
        """Position reports of the resolved batch rows, with the latest aircraft data."""
        rows = np.flatnonzero(is_batch & (method >= 0))
        rows = rows[np.argsort(source[rows], kind="stable")]  # arrival order
        t = table["t"][rows]
        latest = {
            g: latest_index(~np.isnan(table[tc]), starts)[rows] for g, (tc, _) in GROUPS.items()
        }
        vel = latest["vel"]
        vel_ok = t - take(table["vel_t"], vel) <= self.velocity_age_s
        vel = np.where(vel_ok, vel, -1)
        src = source[rows]
        alt_ft = msgs.altitude_ft[src]
        gnss = msgs.altitude_gnss[src]
        gmb = take(table["gmb"], latest["gmb"])
        geometric = gnss | (~np.isnan(gmb) & ~np.isnan(alt_ft))
        height_ft = np.where(gnss, alt_ft, alt_ft + np.nan_to_num(gmb))
        nacp = take(table["nacp"], latest["nacp"])
        nucp = msgs.nucp[src]
        fallback = NUCP_TO_NACP[np.clip(nucp, 0, 9)]
        nacp = np.where(np.isnan(nacp), fallback, nacp).astype(np.int8)
        squawk = np.nan_to_num(take(table["squawk"], latest["squawk"]), nan=-1.0)
        return PositionReports(
            t=t,
            icao=table["icao"][rows],
            lat_deg=table["pos_lat"][rows],
            lon_deg=table["pos_lon"][rows],
            altitude_m=height_ft * FT,
            altitude_geometric=geometric,
            altitude_baro_m=np.where(gnss, np.nan, alt_ft * FT),
            groundspeed_mps=take(table["gs"], vel) * KT,
            track_rad=take(table["trk"], vel) * DEG,
            vertical_rate_mps=take(table["vr"], vel) * FPM,
            callsign=take(table["callsign"], latest["callsign"]).astype(object),
            nacp=nacp,
            squawk=squawk.astype(np.int16),
            method=method[rows],
        )

    def _store(self, table: dict, starts: IntArray) -> None:
        """Keep each address's latest values; forget addresses silent for forget_after_s."""
        n = len(table["icao"])
        if n == 0:
            return
        last_rows = np.flatnonzero(np.r_[table["icao"][1:] != table["icao"][:-1], True])
        new = {"icao": table["icao"][last_rows], "t": table["t"][last_rows]}
        for tcol, values in GROUPS.values():
            idx = latest_index(~np.isnan(table[tcol]), starts)[last_rows]
            for col in (tcol, *values):
                new[col] = take(table[col], idx)
        old = self._table
        if old:
            keep = ~np.isin(old["icao"], new["icao"])
            new = {k: np.concatenate([old[k][keep], new[k]]) for k in new}
        now = float(np.max(new["t"]))
        alive = np.flatnonzero(now - new["t"] <= self.forget_after_s)
        if len(alive) > self.max_aircraft:  # a flood of addresses: keep the latest heard
            newest = np.argsort(new["t"][alive], kind="stable")[-self.max_aircraft :]
            self.rejects[MODES_TABLE_FULL] += len(alive) - self.max_aircraft
            alive = alive[newest]
        order = np.argsort(new["icao"][alive], kind="stable")
        self._table = {k: v[alive][order] for k, v in new.items()}
        self._known = {a: t for a, t in self._known.items() if now - t <= self.forget_after_s}

    def _newest_known(self, known: dict[int, float]) -> dict[int, float]:
        """The max_aircraft most recently verified addresses (the rest counted, forgotten)."""
        last = np.fromiter(known.values(), dtype=np.float64, count=len(known))
        keep = np.sort(np.argsort(last, kind="stable")[-self.max_aircraft :])
        self.rejects[MODES_TABLE_FULL] += len(known) - len(keep)
        addresses = list(known)
        return {addresses[i]: known[addresses[i]] for i in keep.tolist()}

    @property
    def aircraft(self) -> int:
        """Addresses with stored state (at most ``max_aircraft`` in each table)."""
        return max(len(self._known), len(self._table.get("icao", ())))


SIGMA_VERTICAL_GEOMETRIC_M = 15.0  # GNSS height, or baro + reported GNSS difference (25 ft)
SIGMA_VERTICAL_BAROMETRIC_M = 150.0  # plain pressure altitude: QNH / temperature offsets


def adsb_detections(
    frame: geo.LocalFrame,
    t: FloatArray,
    icao: IntArray,
    lat_deg: FloatArray,
    lon_deg: FloatArray,
    height_m: FloatArray,
    sigma_horizontal_m: FloatArray,
    sigma_vertical_m: FloatArray,
    ground_velocity: tuple[FloatArray, FloatArray, FloatArray],
    sensor: int = 0,
    evidence: IntArray | int = 0,
) -> Detections:
    """Cooperative positions -> Detections in the site frame (rows without height dropped).

    ``ground_velocity`` is (groundspeed m/s, track rad clockwise from north, vertical rate
    m/s), each (N,); it is rotated from the aircraft's local ENU into the site frame and is
    NaN where any of the three is unknown. ``evidence``: :mod:`skywarden.evidence` bits,
    scalar or (N,).
    """
    keep = ~np.isnan(height_m) & ~np.isnan(lat_deg) & ~np.isnan(lon_deg)
    lat, lon = lat_deg[keep], lon_deg[keep]
    z, R = geo.geodetic_to_enu_with_cov(
        frame, lat, lon, height_m[keep], sigma_horizontal_m[keep], sigma_vertical_m[keep]
    )
    gs, trk, vr = (np.asarray(a, dtype=np.float64)[keep] for a in ground_velocity)
    local = np.stack([gs * np.sin(trk), gs * np.cos(trk), vr], axis=-1)
    known = ~np.isnan(local).any(axis=1)
    v = np.full_like(local, np.nan)
    if np.any(known):
        rot = frame.rotation_at(lat[known], lon[known])
        v[known] = np.einsum("nij,nj->ni", rot, local[known])
    bits = np.broadcast_to(np.asarray(evidence, dtype=np.int32), keep.shape)[keep]
    return make_detections(
        t[keep],
        z,
        R,
        v=v,
        sensor=sensor,
        kind=SourceKind.ADSB,
        identity=icao_identities(icao[keep]),
        evidence=bits,
    )


def modes_to_detections(
    reports: PositionReports, frame: geo.LocalFrame, sensor: int = 0
) -> Detections:
    """ADS-B position reports -> Detections (kind ADSB, identity = ICAO key).

    Horizontal sigma from NACp (geo.nacp_to_sigma_m); vertical sigma 15 m when the height
    is geometric (GNSS, or baro corrected by the aircraft's GNSS-minus-baro difference),
    150 m when only pressure altitude is known (used as height: it can be off by a few
    hundred feet with non-standard pressure / temperature). Reports without altitude are
    dropped. Every report comes from an airborne position message (TC 9-18, 20-22: surface
    positions carry no altitude), so it carries the AIRBORNE evidence bit.
    """
    sigma_v = np.where(
        reports.altitude_geometric, SIGMA_VERTICAL_GEOMETRIC_M, SIGMA_VERTICAL_BAROMETRIC_M
    )
    return adsb_detections(
        frame,
        reports.t,
        reports.icao,
        reports.lat_deg,
        reports.lon_deg,
        reports.altitude_m,
        geo.nacp_to_sigma_m(reports.nacp),
        sigma_v,
        (reports.groundspeed_mps, reports.track_rad, reports.vertical_rate_mps),
        sensor,
        evidence=AIRBORNE,
    )
