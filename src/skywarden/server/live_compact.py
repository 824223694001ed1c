"""The live stream's ``compact`` encoding: quantised columns, only what changed, compressed.

Why: at 1,000 moving tracks a snapshot's JSON is ~1.8 MB (~530 kB deflated). Half of it is
trails (30 points a track, every coordinate at 1e-7 degrees), then predicted paths (6 points),
covariances (21 numbers) and summary lines; every number of every moving track changes at
every tick, so the JSON ``delta`` encoding saved little. The map needs much less: positions
to ~0.1 m, and text that changes rarely.

``/api/v1/live?encoding=compact`` (the map's) sends one zlib-compressed (RFC 1950) binary
message per broadcast. The first message of a connection (and, for all clients, the one after
the string table outgrows MAX_STRINGS) is a **keyframe** (``type`` "key": everything, against
an empty state); every other one is a **delta** against the previous broadcast (``base`` is
that broadcast's ``seq``). Over one WebSocket nothing is ever skipped (a client that falls
behind is dropped and reconnects), so there are no periodic keyframes.

Layout (little-endian): ``b"SWC1"``, a uint32 header length, the header (UTF-8 JSON), then
int32 columns. Each column is zigzag-coded and written as 4 byte planes (all low bytes first),
so the many small values compress well. Two blocks: NCOLS columns of ``n`` values (one per
track, tracks by ascending id), then 3 columns of ``m`` values (the added trail points).

Header: ``type``, ``seq``, ``base`` (-1 in a keyframe), ``schema``, ``t``, ``site``, ``n``,
``m``, ``steps`` (predicted points per track), ``strings_from`` and ``strings`` (new string
table entries: index ``strings_from`` on), ``evidence_bits`` (bit names by bit), ``members``
(whether tracks carry region members), ``alerts``, ``sensors``, ``health`` (as in the JSON).

Columns of ``n`` values, in this order:

* ``id``: the track id minus the previous track's id (the first: minus 0).
* QCOLS (per track, quantised as QUANTUM says, then the change against the value the client
  holds for that id, or against the column's default for a track new to it: the site's
  lat/lon, the message's ``t`` for ``t_update``, else 0):
  lat, lon (1e-6 degree: 0.11 m north, 0.07 m east at 50 N), alt_m (0.1 m), ve, vn, vu
  (site ENU, 0.01 m/s), sigma_m (0.1 m), t_update (1 ms), p drone/bird/aircraft/unknown
  (0.001), the predicted path's last point minus the position (lat, lon 1e-6 degree, alt 0.1
  m), status, class, evidence bits, and string table indices of behaviour, identity,
  callsign, summary, reasons, flags and members (index 0: empty).
* ``missing``: bit k set when QCOLS[k] (k < 15, the numbers) is NaN/inf in the snapshot
  (JSON null); its held value then becomes the column's default.
* ``trail_keep``: how many of the held trail's last points stay; ``trail_add``: how many
  points follow in the point block (the trail is then ``held[-keep:] + added``; keep 0
  replaces it).

Point block (``m`` = the sum of trail_add): lat, lon (1e-6 degree) and alt (0.1 m) of each
added point, tracks in order, each point minus the one before it (the first of a track:
minus its last kept point, or minus its position when none is kept).

Left out (the map does not use them; ``json``/``deflate``/REST carry them): the ENU position,
the covariance and the last report time per source. Derived on the client: speed and course
(from ve, vn: within 0.01 m/s, and ~0.01/speed rad), the predicted path's points
(``steps`` points evenly between the position and the path's last point: the snapshot's are
evenly spaced in site ENU; in degrees they bend by far less than a metre over a few km) and
``on_ground`` (an evidence bit). :mod:`skywarden.server.live_compact_reference` is the
reference decoder; map.js's ``live_compact.js`` does the same.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np

from skywarden.evidence import BIT_NAMES
from skywarden.snapshot import SCHEMA_VERSION, Snapshot, json_safe
from skywarden.track.tracks import rows_by_id
from skywarden.track_rows import summary_lines

MAGIC = b"SWC1"
COMPACT_LEVEL = 6  # zlib level: the messages are small (tens of kB before compression)
MAX_STRINGS = 20_000  # table entries before everyone gets a keyframe with a fresh table
QCOLS = (
    "lat", "lon", "alt", "ve", "vn", "vu", "sigma", "t_update",
    "p_drone", "p_bird", "p_aircraft", "p_unknown", "pred_lat", "pred_lon", "pred_alt",
    "status", "class", "evidence",
    "behaviour", "identity", "callsign", "summary", "reasons", "flags", "members",
)  # fmt: skip
NUMBERS = 15  # QCOLS[:NUMBERS] may be missing (NaN); the rest are codes
TEXT = QCOLS[QCOLS.index("behaviour") :]
QUANTUM = {
    "lat": 1e-6, "lon": 1e-6, "alt": 0.1, "ve": 0.01, "vn": 0.01, "vu": 0.01, "sigma": 0.1,
    "t_update": 1e-3, "p_drone": 1e-3, "p_bird": 1e-3, "p_aircraft": 1e-3, "p_unknown": 1e-3,
    "pred_lat": 1e-6, "pred_lon": 1e-6, "pred_alt": 0.1,
}  # fmt: skip
NCOLS = 1 + len(QCOLS) + 3  # id, QCOLS, missing, trail_keep, trail_add
SPAN = 2**29  # quantised values are kept within default +- SPAN (every change fits an int32)
EVIDENCE_BITS = [BIT_NAMES.get(1 << k, f"bit{k}") for k in range(8)]


class StringTable:
    """Append-only table of the text values sent on one stream (index 0: empty)."""

    def __init__(self) -> None:
        self.values: list[Any] = [None]
        self.index: dict[Any, int] = {"": 0, (): 0}

    def codes(self, values: Any) -> np.ndarray:
        """Table indices of values (str or tuples; new ones are appended)."""
        out = np.empty(len(values), np.int64)
        index, table = self.index, self.values
        for k, v in enumerate(values):
            code = index.get(v)
            if code is None:
                code = index[v] = len(table)
                table.append(list(v) if isinstance(v, tuple) else v)
            out[k] = code
        return out


@dataclass(frozen=True, eq=False)
class CompactState:
    """What a client holds after a message: per track (by ascending id) its quantised QCOLS,
    its trail's quantised points (right-aligned in (n, L, 3), ``trail_n`` of them), and the
    string table's first ``n_strings`` entries."""

    seq: int
    ids: np.ndarray
    q: np.ndarray
    trail: np.ndarray
    trail_n: np.ndarray
    table: StringTable = field(default_factory=StringTable)
    n_strings: int = 1


def encode(base: CompactState | None, snapshot: Snapshot, table: StringTable | None = None
           ) -> tuple[bytes, CompactState]:  # fmt: skip
    """The message that turns ``base`` (None: nothing, a keyframe) into the client state of
    ``snapshot``, and that state. A keyframe uses ``table`` (a fresh one if None): pass the
    running table to give a joining client the state the next delta applies to."""
    key = base is None
    if table is None:
        table = StringTable() if key else base.table
    tracks = snapshot.tracks
    order = np.argsort(tracks.id, kind="stable")
    ids = np.asarray(tracks.id, np.int64)[order]
    default = _defaults(snapshot)
    q, missing = _quantised(tracks, order, default, table)
    trail, trail_n = _trails(tracks.trail, order)
    if key:
        held_q = np.broadcast_to(default, q.shape)
        held_trail, held_n = np.zeros_like(trail), np.zeros_like(trail_n)
        strings_from = 0
    else:
        row = rows_by_id(base.ids, ids)  # -1 (new to the client) reads a row masked out
        known = row >= 0
        held_q = np.where(known[:, None], base.q[row] if len(base.ids) else 0, default)
        held_trail, held_n = _held_trails(base, row, known, trail.shape)
        strings_from = base.n_strings
    keep, add = _trail_change(held_trail, held_n, trail, trail_n)
    points = _added_points(trail, add, keep, held_trail, q)
    columns = np.concatenate(
        [np.diff(ids, prepend=0)[None], (q - held_q).T, missing[None], keep[None], add[None]]
    )
    header = {
        "type": "key" if key else "delta", "seq": snapshot.seq,
        "base": -1 if key else base.seq, "schema": SCHEMA_VERSION, "t": snapshot.t,
        "site": {"lat": snapshot.site[0], "lon": snapshot.site[1], "h_m": snapshot.site[2]},
        "n": int(ids.size), "m": int(points.shape[1]), "steps": int(tracks.predicted.shape[1]),
        "strings_from": strings_from, "strings": table.values[strings_from:],
        "evidence_bits": EVIDENCE_BITS, "members": tracks.members is not None,
        "alerts": [a.to_json() for a in snapshot.alerts],
        "sensors": [s.to_json() for s in snapshot.sensors], "health": json_safe(snapshot.health),
    }  # fmt: skip
    n_strings = len(table.values)
    head = msgspec.json.encode(header)
    body = b"".join([MAGIC, struct.pack("<I", len(head)), head, _planes(columns), _planes(points)])
    state = CompactState(snapshot.seq, ids, q, trail, trail_n, table, n_strings)
    return zlib.compress(body, COMPACT_LEVEL), state


def _defaults(snapshot: Snapshot) -> np.ndarray:
    """(len(QCOLS),) the value a track new to the client is coded against."""
    d = np.zeros(len(QCOLS), np.int64)
    d[0] = round(snapshot.site[0] / QUANTUM["lat"])
    d[1] = round(snapshot.site[1] / QUANTUM["lon"])
    d[7] = round(snapshot.t / QUANTUM["t_update"]) if np.isfinite(snapshot.t) else 0
    return d


def _quantised(tracks: Any, order: np.ndarray, default: np.ndarray, table: StringTable
               ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(n, len(QCOLS)) int64 quantised values in id order, and the (n,) missing bits."""
    n = len(order)
    x = np.asarray(tracks.enu, float)[order]
    lat = np.asarray(tracks.lat, float)[order]
    lon = np.asarray(tracks.lon, float)[order]
    alt = np.asarray(tracks.alt_m, float)[order]
    pred = np.asarray(tracks.predicted, float)[order]
    last = pred[:, -1] if pred.shape[1] else np.full((n, 3), np.nan)
    p = np.asarray(tracks.p_class, float).reshape(-1, 4)[order]
    raw = np.column_stack([
        lat, lon, alt, x[:, 3], x[:, 4], x[:, 5], np.asarray(tracks.sigma_m, float)[order],
        np.asarray(tracks.t_update, float)[order], p,
        last[:, 0] - lat, last[:, 1] - lon, last[:, 2] - alt,
    ])  # fmt: skip
    step = np.array([QUANTUM[c] for c in QCOLS[:NUMBERS]])
    finite = np.isfinite(raw)
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.where(finite, raw / step, 0.0)
    lo, hi = default[:NUMBERS] - SPAN, default[:NUMBERS] + SPAN
    numbers = np.clip(np.rint(scaled), lo, hi).astype(np.int64)
    numbers = np.where(finite, numbers, default[:NUMBERS])
    missing = (~finite).astype(np.int64) @ (1 << np.arange(NUMBERS, dtype=np.int64))
    q = np.empty((n, len(QCOLS)), np.int64)
    q[:, :NUMBERS] = numbers
    q[:, NUMBERS] = np.asarray(tracks.status, np.int64)[order]
    q[:, NUMBERS + 1] = np.asarray(tracks.target_class, np.int64)[order]
    ev = tracks.evidence
    q[:, NUMBERS + 2] = np.asarray(ev, np.int64)[order] if ev is not None else 0
    for k, column in enumerate(TEXT):
        q[:, NUMBERS + 3 + k] = table.codes(_text(tracks, column, order))
    return q, missing


def _text(tracks: Any, column: str, order: np.ndarray) -> list[Any]:
    """A text column's values (str, or tuples for the list columns) in id order."""
    n = len(order)
    if column in ("behaviour", "identity", "callsign"):
        return [str(v or "") for v in np.asarray(getattr(tracks, column), object)[order]]
    if column == "summary":
        from skywarden.snapshot import CLASS_NAMES

        labels = [CLASS_NAMES[int(k)] for k in np.asarray(tracks.target_class)[order]]
        return summary_lines(
            labels, np.asarray(tracks.p_class)[order], _tuples(tracks.reasons, order, n)
        )
    if column == "members":
        if tracks.members is None:
            return [()] * n
        return [tuple((str(s), int(i)) for s, i in m) for m in tracks.members[order]]
    return _tuples(getattr(tracks, column), order, n)


def _tuples(values: Any, order: np.ndarray, n: int) -> list[tuple[str, ...]]:
    if values is None:
        return [()] * n
    return [tuple(str(s) for s in v) for v in np.asarray(values, object)[order]]


def _trails(trail: Any, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quantised trail points (n, L, 3) int64, the finite ones right-aligned in their
    order, and how many there are (n,)."""
    a = np.asarray(trail, float)[order]
    ok = np.isfinite(a).all(axis=2)
    step = np.array([QUANTUM["lat"], QUANTUM["lon"], QUANTUM["alt"]])
    with np.errstate(invalid="ignore", over="ignore"):
        q = np.clip(np.rint(np.where(ok[..., None], a / step, 0.0)), -SPAN, SPAN)
    q = q.astype(np.int64)
    aligned = np.argsort(ok, axis=1, kind="stable")  # invalid first, valid in their order
    return np.take_along_axis(q, aligned[..., None], axis=1), ok.sum(axis=1)


def _held_trails(base: CompactState, row: np.ndarray, known: np.ndarray, shape: tuple
                 ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The client's trails for this message's tracks, right-aligned to width shape[1]."""
    held = np.zeros(shape, np.int64)
    held_n = np.zeros(shape[0], np.int64)
    if not len(base.ids) or not known.any():
        return held, held_n
    width = min(shape[1], base.trail.shape[1])
    if width:
        held[known, shape[1] - width :] = base.trail[row[known], base.trail.shape[1] - width :]
    held_n[known] = np.minimum(base.trail_n[row[known]], width)
    return held, held_n


def _trail_change(held: np.ndarray, held_n: np.ndarray, new: np.ndarray, new_n: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Per track (keep, add): the new trail is the held one's last ``keep`` points and then
    ``add`` new points, with the fewest points added (add = new_n: replaced)."""
    n, width = new.shape[:2]
    add = new_n.copy()
    open_ = np.ones(n, bool)
    j = np.arange(width)
    for s in range(width + 1):  # s points added: new[:, :L-s] == held[:, s:]
        rows = np.flatnonzero(open_ & (s <= new_n) & (new_n - s <= held_n))
        if rows.size == 0:
            if not open_.any() or s > new_n.max(initial=0):
                break
            continue
        same = (new[rows, : width - s] == held[rows, s:]).all(axis=2)
        relevant = j[None, : width - s] >= (width - new_n[rows])[:, None]
        ok = (same | ~relevant).all(axis=1)
        add[rows[ok]] = s
        open_[rows[ok]] = False
    return new_n - add, add


def _added_points(trail: np.ndarray, add: np.ndarray, keep: np.ndarray, held: np.ndarray,
                  q: np.ndarray) -> np.ndarray:  # fmt: skip
    """(3, m) the added points, each minus the point before it."""
    width = trail.shape[1]
    take = np.arange(width)[None, :] >= (width - add)[:, None]
    points = trail[take]  # (m, 3), tracks in order, points in order
    ref = np.where((keep > 0)[:, None], held[:, -1] if width else 0, q[:, :3])
    before = np.empty_like(points)
    if points.shape[0]:
        before[1:] = points[:-1]
        first = np.cumsum(add) - add  # index of each track's first added point
        has = add > 0
        before[first[has]] = ref[has]
    return (points - before).T


def _planes(columns: np.ndarray) -> bytes:
    """int64 columns (k, n) as zigzag int32 in byte planes: for each column its n low bytes,
    then the n second bytes, ... (little-endian)."""
    v = np.asarray(columns, np.int64).astype(np.int32)
    z = ((v.astype(np.uint32) << np.uint32(1)) ^ (v >> 31).astype(np.uint32)).astype("<u4")
    z = np.ascontiguousarray(z)
    return np.ascontiguousarray(z.view(np.uint8).reshape(*z.shape, 4).swapaxes(-1, -2)).tobytes()
