"""SBS / BaseStation text (port 30003): lines -> records (pure, streaming) and records -> lines.

Each line has 22 comma-separated fields::

    MSG,type,session,aircraftID,hexident,flightID,date gen,time gen,date log,time log,
    callsign,altitude ft,ground speed kt,track deg,lat,lon,vertical rate ft/min,squawk,
    alert,emergency,spi,is on ground

``MSG`` lines carry transmission types 1-8; ``SEL``, ``ID``, ``AIR``, ``STA`` and ``CLK`` lines
are other message types (kept with ``transmission`` 0). Times are UTC. :class:`SbsDecoder`
keeps a partial line between chunks, so its records do not depend on how the text was cut;
lines that cannot be read are counted in ``rejects`` by reason.
"""

from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from skywarden import geo
from skywarden.detections import Detections
from skywarden.evidence import AIRBORNE, ON_GROUND
from skywarden.sources.limits import LINE_TOO_LONG, SBS_MAX_LINE_BYTES
from skywarden.sources.modes.state import (
    SIGMA_VERTICAL_BAROMETRIC_M,
    adsb_detections,
    group_starts,
    latest_index,
    take,
)
from skywarden.units import DEG, FPM, FT, KT, FloatArray, IntArray

MESSAGE_TYPES = ("MSG", "SEL", "ID", "AIR", "STA", "CLK")
_NUMERIC_FIELD = (11, 12, 13, 14, 15, 16)


@dataclass(frozen=True, slots=True)
class SbsRecords:
    """N SBS records (struct of arrays; NaN / -1 / '' where a field was empty).

    Attributes:
        t: (N,) POSIX seconds (the 'generated' date/time, else the 'logged' one).
        message: (N,) object 'MSG', 'SEL', 'ID', 'AIR', 'STA' or 'CLK'.
        transmission: (N,) int8 MSG transmission type 1-8 (0 for other messages).
        icao: (N,) int64 hex ident (-1 if absent).  callsign: (N,) object.
        altitude_ft, groundspeed_kt, track_deg, lat_deg, lon_deg, vrate_fpm: (N,) float.
        squawk: (N,) int16 (four octal digits read as decimal, -1 if absent).
        on_ground: (N,) int8 1 / 0 / -1 (unknown).
    """

    t: FloatArray
    message: np.ndarray
    transmission: np.ndarray
    icao: IntArray
    callsign: np.ndarray
    altitude_ft: FloatArray
    groundspeed_kt: FloatArray
    track_deg: FloatArray
    lat_deg: FloatArray
    lon_deg: FloatArray
    vrate_fpm: FloatArray
    squawk: np.ndarray
    on_ground: np.ndarray

    def __len__(self) -> int:
        return int(self.t.shape[0])

    @staticmethod
    def from_rows(rows: list[tuple]) -> SbsRecords:
        """Build from parsed row tuples (the order of the fields above)."""
        cols = list(zip(*rows, strict=True)) if rows else [()] * 13
        return SbsRecords(
            t=np.asarray(cols[0], dtype=np.float64),
            message=np.asarray(cols[1], dtype=object),
            transmission=np.asarray(cols[2], dtype=np.int8),
            icao=np.asarray(cols[3], dtype=np.int64),
            callsign=np.asarray(cols[4], dtype=object),
            altitude_ft=np.asarray(cols[5], dtype=np.float64),
            groundspeed_kt=np.asarray(cols[6], dtype=np.float64),
            track_deg=np.asarray(cols[7], dtype=np.float64),
            lat_deg=np.asarray(cols[8], dtype=np.float64),
            lon_deg=np.asarray(cols[9], dtype=np.float64),
            vrate_fpm=np.asarray(cols[10], dtype=np.float64),
            squawk=np.asarray(cols[11], dtype=np.int16),
            on_ground=np.asarray(cols[12], dtype=np.int8),
        )

    @staticmethod
    def concat(batches: list[SbsRecords]) -> SbsRecords:
        """Concatenate batches, keeping their order."""
        if not batches:
            return SbsRecords.from_rows([])
        names = SbsRecords.__slots__
        return SbsRecords(**{n: np.concatenate([getattr(b, n) for b in batches]) for n in names})


class _Reject(Exception):
    """A line that cannot be read; the message is the reject reason."""


def _number(text: str) -> float:
    """Float of a field; NaN when empty."""
    if not text:
        return float("nan")
    try:
        value = float(text)
    except ValueError:
        raise _Reject("bad_number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise _Reject("bad_number")
    return value


@dataclass
class SbsDecoder:
    """Streaming SBS line parser. Feed text chunks (bytes), then :meth:`flush`.

    A line longer than ``max_line_bytes`` (before its newline) is rejected as
    ``line_too_long`` however the text was cut: the partial line kept between chunks never
    exceeds that limit, and the rest of such a line is skipped up to its newline.
    :meth:`reset` drops a partial line (a new connection) and keeps the counts.
    """

    rejects: Counter = field(default_factory=Counter)
    max_line_bytes: int = SBS_MAX_LINE_BYTES
    _partial: bytes = b""
    _skipping: bool = False  # inside a line that was too long: drop up to its newline
    _days: dict[str, float] = field(default_factory=dict)

    def feed(self, chunk: bytes) -> SbsRecords:
        """Parse the complete lines now available; keep a trailing partial line."""
        data = bytes(chunk)
        if self._skipping:
            cut = data.find(b"\n")
            if cut < 0:
                return SbsRecords.from_rows([])
            data, self._skipping = data[cut + 1 :], False
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) > self.max_line_bytes:
            self.rejects[LINE_TOO_LONG] += 1
            self._partial, self._skipping = b"", True
        return self._parse(lines)

    def flush(self) -> SbsRecords:
        """End of stream: parse a last line that had no newline."""
        data, self._partial, self._skipping = self._partial, b"", False
        return self._parse([data]) if data else SbsRecords.from_rows([])

    def reset(self) -> None:
        """Drop the partial line (the stream was cut); the reject counts stay."""
        self._partial, self._skipping = b"", False

    @property
    def partial_bytes(self) -> int:
        """Bytes of the partial line kept for the next chunk (at most ``max_line_bytes``)."""
        return len(self._partial)

    def _parse(self, lines: list[bytes]) -> SbsRecords:
        rows = []
        for raw in lines:
            if len(raw) > self.max_line_bytes:
                self.rejects[LINE_TOO_LONG] += 1
                continue
            try:
                rows.append(self._row(raw))
            except _Reject as reject:
                self.rejects[str(reject)] += 1
        return SbsRecords.from_rows(rows)

    def _row(self, raw: bytes) -> tuple:
        """One line -> a row tuple, or raise _Reject(reason)."""
        try:
            line = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            raise _Reject("not_ascii") from None
        if not line:
            raise _Reject("empty_line")
        f = line.split(",")
        message = f[0]
        if message not in MESSAGE_TYPES:
            raise _Reject("not_sbs")
        if len(f) < 10 or (message == "MSG" and len(f) < 22):
            raise _Reject("too_few_fields")
        f += [""] * (22 - len(f))
        transmission = 0
        if message == "MSG":
            if f[1] not in ("1", "2", "3", "4", "5", "6", "7", "8"):
                raise _Reject("bad_transmission_type")
            transmission = int(f[1])
        icao = -1
        if f[4]:
            try:
                icao = int(f[4], 16)
            except ValueError:
                raise _Reject("bad_hexident") from None
            if not 0 <= icao <= 0xFFFFFF:
                raise _Reject("bad_hexident")
        t = self._time(f[6], f[7]) if f[6] else self._time(f[8], f[9])
        numbers = [_number(f[i]) for i in _NUMERIC_FIELD]
        squawk = f[17]
        if squawk and not (squawk.isdigit() and len(squawk) <= 4):
            raise _Reject("bad_squawk")
        ground = f[21]
        on_ground = -1 if not ground else (0 if ground == "0" else 1)
        callsign = f[10].strip()
        return (t, message, transmission, icao, callsign, *numbers, int(squawk or -1), on_ground)

    def _time(self, date: str, clock: str) -> float:
        """'2018/04/03', '19:02:28.136' (UTC) -> POSIX seconds."""
        day = self._days.get(date)
        try:
            if day is None:
                y, m, d = (int(x) for x in date.split("/"))
                day = float(calendar.timegm((y, m, d, 0, 0, 0, 0, 0, 0)))
                if len(self._days) > 64:
                    self._days.clear()
                self._days[date] = day
            h, mi, s = clock.split(":")
            seconds = int(h) * 3600 + int(mi) * 60 + float(s)
        except (ValueError, OverflowError):
            raise _Reject("bad_time") from None
        if not 0.0 <= seconds < 86401.0:
            raise _Reject("bad_time")
        return day + seconds


def decode_sbs(data: bytes) -> tuple[SbsRecords, Counter]:
    """Parse a whole SBS text; returns the records and the reject counts."""
    decoder = SbsDecoder()
    return SbsRecords.concat([decoder.feed(data), decoder.flush()]), decoder.rejects


def _clock(t: float) -> tuple[str, str]:
    """POSIX seconds -> ('YYYY/MM/DD', 'HH:MM:SS.mmm') UTC."""
    ms = int(round(t * 1000.0))
    days, ms_of_day = divmod(ms, 86_400_000)
    y, m, d = _civil_from_days(days)
    h, rest = divmod(ms_of_day, 3_600_000)
    mi, rest = divmod(rest, 60_000)
    return f"{y:04d}/{m:02d}/{d:02d}", f"{h:02d}:{mi:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _civil_from_days(days: int) -> tuple[int, int, int]:
    """Days since 1970-01-01 -> (year, month, day), proleptic Gregorian (H. Hinnant)."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return int(yoe + era * 400 + (m <= 2)), int(m), int(d)


def _fmt(value: float, spec: str) -> str:
    """A number field, empty for NaN."""
    return "" if value != value else format(value, spec)


def encode_sbs_positions(
    t: FloatArray, icao: IntArray, lat_deg: FloatArray, lon_deg: FloatArray, altitude_ft: FloatArray
) -> bytes:
    """MSG,3 (airborne position) lines, CRLF-terminated, from (N,) arrays."""
    lines = []
    for ti, a, la, lo, alt in zip(t, icao, lat_deg, lon_deg, altitude_ft, strict=True):
        date, clock = _clock(float(ti))
        lines.append(
            f"MSG,3,1,1,{int(a):06X},1,{date},{clock},{date},{clock},,{_fmt(alt, '.0f')},,,"
            f"{_fmt(la, '.5f')},{_fmt(lo, '.5f')},,,,,,0\r\n"
        )
    return "".join(lines).encode("ascii")


def encode_sbs_velocities(
    t: FloatArray,
    icao: IntArray,
    groundspeed_kt: FloatArray,
    track_deg: FloatArray,
    vrate_fpm: FloatArray,
) -> bytes:
    """MSG,4 (airborne velocity) lines, CRLF-terminated, from (N,) arrays."""
    lines = []
    for ti, a, gs, trk, vr in zip(t, icao, groundspeed_kt, track_deg, vrate_fpm, strict=True):
        date, clock = _clock(float(ti))
        lines.append(
            f"MSG,4,1,1,{int(a):06X},1,{date},{clock},{date},{clock},,,{_fmt(gs, '.0f')},"
            f"{_fmt(trk, '.0f')},,,{_fmt(vr, '.0f')},,,,,0\r\n"
        )
    return "".join(lines).encode("ascii")


def sbs_to_detections(
    records: SbsRecords,
    frame: geo.LocalFrame,
    sensor: int = 0,
    sigma_horizontal_m: float = 50.0,
    velocity_age_s: float = 10.0,
) -> Detections:
    """SBS position lines (MSG,2 / MSG,3 with lat/lon) -> Detections (kind ADSB, ICAO key).

    SBS carries no accuracy category, so every position gets ``sigma_horizontal_m``.
    Its altitude is barometric (dump1090 writes the pressure altitude), used as height with
    a 150 m vertical sigma. The latest MSG,4 velocity of the same aircraft not older than
    ``velocity_age_s`` is attached. Records must be in time order per aircraft. Ground state
    (:mod:`skywarden.evidence`): the line's on-ground field (1 on the ground, 0 airborne),
    else MSG,2 (surface position) on the ground and MSG,3 airborne.
    """
    velocity = (records.transmission == 4) & ~np.isnan(records.groundspeed_kt)
    position = np.isin(records.transmission, (2, 3)) & ~np.isnan(records.lat_deg)
    rows = np.flatnonzero((velocity | position) & (records.icao >= 0))
    order = rows[np.lexsort((rows, records.icao[rows]))]
    starts = group_starts(records.icao[order])
    latest = latest_index(velocity[order], starts)
    t = records.t[order]
    fresh = (latest >= 0) & (t - take(t, latest) <= velocity_age_s)
    latest = np.where(fresh, latest, -1)
    ground_velocity = (
        take(records.groundspeed_kt[order], latest) * KT,
        take(records.track_deg[order], latest) * DEG,
        take(records.vrate_fpm[order], latest) * FPM,
    )
    pick = np.flatnonzero(position[order])
    pick = pick[np.argsort(order[pick], kind="stable")]  # back to input order
    n = len(pick)
    src = order[pick]
    return adsb_detections(
        frame,
        records.t[src],
        records.icao[src],
        records.lat_deg[src],
        records.lon_deg[src],
        records.altitude_ft[src] * FT,
        np.full(n, sigma_horizontal_m),
        np.full(n, SIGMA_VERTICAL_BAROMETRIC_M),
        tuple(v[pick] for v in ground_velocity),
        sensor,
        evidence=_ground_evidence(records.on_ground[src], records.transmission[src]),
    )


def _ground_evidence(on_ground: np.ndarray, transmission: np.ndarray) -> np.ndarray:
    """(N,) evidence bits from the SBS on-ground field (1/0/-1) and the message type."""
    ground = np.where(on_ground >= 0, on_ground == 1, transmission == 2)
    return np.where(ground, ON_GROUND, AIRBORNE).astype(np.int32)
