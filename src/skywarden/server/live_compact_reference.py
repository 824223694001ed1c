"""The reference client of the live ``compact`` encoding (skywarden.server.live_compact).

Plain Python, track by track, written to be read rather than fast: :class:`CompactClient`
applies messages in order and gives the picture as the snapshot JSON's rows would be, to the
encoding's quantisation (the map's ``live_compact.js`` does the same). The rows have the JSON
row's keys except ``enu`` (replaced by ``v_enu``: [ve, vn, vu] m/s), ``cov`` and ``sources``.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from typing import Any

from skywarden.errors import SkywardenError
from skywarden.server.live_compact import MAGIC, NCOLS, NUMBERS, QCOLS, QUANTUM
from skywarden.snapshot import CLASS_NAMES, STATUS_NAMES

P_KEYS = ("drone", "bird", "aircraft", "unknown")
ON_GROUND_BIT = 4


class CompactStreamError(SkywardenError):
    """A compact message that cannot be applied (bad bytes, or a delta on another base)."""


def parse(message: bytes) -> tuple[dict[str, Any], list[list[int]], list[list[int]]]:
    """(header, the n-long columns, the 3 point columns) of one compressed message."""
    try:
        body = zlib.decompress(message)
    except zlib.error as exc:
        raise CompactStreamError(f"not a zlib stream: {exc}") from exc
    if body[:4] != MAGIC or len(body) < 8:
        raise CompactStreamError("not a compact live message (magic)")
    (size,) = struct.unpack_from("<I", body, 4)
    header = json.loads(body[8 : 8 + size])
    at = 8 + size
    n, m = header["n"], header["m"]
    columns, at = _columns(body, at, NCOLS, n)
    points, at = _columns(body, at, 3, m)
    if at != len(body):
        raise CompactStreamError(f"message length {len(body)}, expected {at}")
    return header, columns, points


def _columns(body: bytes, at: int, k: int, n: int) -> tuple[list[list[int]], int]:
    out = []
    for _ in range(k):
        planes = [body[at + b * n : at + (b + 1) * n] for b in range(4)]
        if any(len(p) != n for p in planes):
            raise CompactStreamError("message too short")
        column = []
        for i in range(n):
            z = planes[0][i] | planes[1][i] << 8 | planes[2][i] << 16 | planes[3][i] << 24
            column.append((z >> 1) ^ -(z & 1))  # zigzag back to a signed int
        out.append(column)
        at += 4 * n
    return out, at


class CompactClient:
    """What a client holds: per track id its quantised values and trail, the string table."""

    def __init__(self) -> None:
        self.seq: int | None = None
        self.tracks: dict[int, dict[str, Any]] = {}
        self.strings: list[Any] = []
        self.header: dict[str, Any] = {}

    def apply(self, message: bytes) -> dict[str, Any]:
        """Apply one message; the picture after it (:meth:`picture`)."""
        header, columns, points = parse(message)
        if header["type"] == "key":
            self.tracks, self.strings = {}, []
        elif header["base"] != self.seq:
            raise CompactStreamError(f"delta on {header['base']}, but {self.seq} is held")
        if header["strings_from"] != len(self.strings):
            raise CompactStreamError("string table out of step")
        self.strings.extend(header["strings"])
        default = [0] * len(QCOLS)
        default[0] = round(header["site"]["lat"] / QUANTUM["lat"])
        default[1] = round(header["site"]["lon"] / QUANTUM["lon"])
        default[7] = round(header["t"] / QUANTUM["t_update"])
        tracks, track_id, p = {}, 0, 0
        for i in range(header["n"]):
            track_id += columns[0][i]
            old = self.tracks.get(track_id)
            held = old["q"] if old is not None else default
            q = [held[k] + columns[1 + k][i] for k in range(len(QCOLS))]
            missing = columns[1 + len(QCOLS)][i]
            for k in range(NUMBERS):
                if missing >> k & 1:
                    q[k] = default[k]
            keep, add = columns[-2][i], columns[-1][i]
            trail = list(old["trail"][len(old["trail"]) - keep :]) if old and keep else []
            last = trail[-1] if trail else q[:3]
            for _ in range(add):
                last = [last[c] + points[c][p] for c in range(3)]
                trail.append(last)
                p += 1
            tracks[track_id] = {"q": q, "missing": missing, "trail": trail}
        self.tracks, self.seq, self.header = tracks, header["seq"], header
        return self.picture()

    def picture(self) -> dict[str, Any]:
        """The snapshot document as the JSON has it (rows by ascending id)."""
        h = self.header
        return {
            "schema": h["schema"], "seq": h["seq"], "t": h["t"], "site": h["site"],
            "tracks": [self._row(i, v) for i, v in sorted(self.tracks.items())],
            "alerts": h["alerts"], "sensors": h["sensors"], "health": h["health"],
        }  # fmt: skip

    def _row(self, track_id: int, held: dict[str, Any]) -> dict[str, Any]:
        q, missing = held["q"], held["missing"]
        value = {c: None if missing >> k & 1 else q[k] * QUANTUM[c]
                 for k, c in enumerate(QCOLS[:NUMBERS])}  # fmt: skip
        ve, vn = value["ve"], value["vn"]
        moving = ve is not None and vn is not None
        text = {c: self.strings[q[QCOLS.index(c)]] for c in QCOLS[NUMBERS + 3 :]}
        evidence = q[QCOLS.index("evidence")]
        names = self.header["evidence_bits"]
        row = {
            "id": track_id, "lat": _r(value["lat"], 7), "lon": _r(value["lon"], 7),
            "alt_m": _r(value["alt"], 1), "v_enu": [_r(ve, 2), _r(vn, 2), _r(value["vu"], 2)],
            "speed_mps": _r(math.hypot(ve, vn), 2) if moving else None,
            "course_deg": _r(math.degrees(math.atan2(ve, vn)) % 360.0, 1) if moving else None,
            "sigma_m": _r(value["sigma"], 1), "status": STATUS_NAMES[q[QCOLS.index("status")]],
            "class": CLASS_NAMES[q[QCOLS.index("class")]],
            "p": {k: _r(value["p_" + k], 3) for k in P_KEYS},
            "behaviour": text["behaviour"] or "", "identity": text["identity"] or "",
            "callsign": text["callsign"] or "", "t_update": _r(value["t_update"], 3),
            "trail": [_point(pt) for pt in held["trail"]],
            "predicted": self._predicted(q, missing),
            "flags": list(text["flags"] or []),
            "on_ground": bool(evidence >> ON_GROUND_BIT & 1),
            "evidence": [names[b] for b in range(len(names)) if evidence >> b & 1],
            "reasons": list(text["reasons"] or []), "summary": text["summary"] or "",
        }  # fmt: skip
        if self.header["members"]:
            row["members"] = [{"site": s, "track_id": t} for s, t in text["members"] or []]
        return row

    def _predicted(self, q: list[int], missing: int) -> list[list[float]]:
        """``steps`` points evenly from the position to the path's last point (whole quanta,
        halves rounded up, as JavaScript's Math.round)."""
        steps = self.header["steps"]
        if steps == 0 or missing & 0b111 or missing >> 12 & 0b111:
            return []
        return [_point([q[c] + math.floor(q[12 + c] * k / steps + 0.5) for c in range(3)])
                for k in range(1, steps + 1)]  # fmt: skip


def _point(pt: list[float]) -> list[float]:
    return [_r(pt[0] * QUANTUM["lat"], 7), _r(pt[1] * QUANTUM["lon"], 7),
            _r(pt[2] * QUANTUM["alt"], 1)]  # fmt: skip


def _r(v: float | None, digits: int) -> float | None:
    return None if v is None else round(v, digits)
