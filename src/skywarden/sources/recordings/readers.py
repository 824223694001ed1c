"""One reader per recording format: file bytes -> :class:`Decoded` (counts, sensors, times,
a detections builder and timed chunks for replay). Pure: the bytes are passed in.

Used by :mod:`skywarden.sources.recordings.recording`, which picks the site frame, builds the
detections and the inventory. Every reader counts what it cannot use (by reason) and never
invents a record; all decoding is done by the format modules (asterix, remote_id_*, beast,
modes, sbs).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from skywarden.detections import Detections, track_number_identity
from skywarden.errors import InputError
from skywarden.geo import LocalFrame
from skywarden.sources.asterix.decoder import AsterixDecoder, AsterixRecords, split_blocks
from skywarden.sources.asterix.detections import (
    RadarSite,
    cat021_to_detections,
    cat048_to_detections,
    cat062_to_detections,
    radar_site_from_cat034,
)
from skywarden.sources.asterix.records import resolve_time_of_day
from skywarden.sources.recordings.pcap import Frame, iter_frames, udp_datagrams
from skywarden.units import FloatArray

# The Mode S and Remote ID decoders are imported by their readers, when a file of that
# format is read: inspecting a small ASTERIX capture does not load them (start-up, issue 12).

SECONDS_PER_DAY = 86400.0
# Radars whose position is public knowledge but absent from their recordings (no CAT034):
# (SAC, SIC) -> (site, where the position comes from).
# Source of the Barcelona (LEBL) radar, SAC 20 / SIC 129: the UPC PGTA course handout that
# ships the recording gives 41 18 02.5284 N, 002 06 07.4095 E, 2.007 m terrain + 25.25 m
# antenna (quoted identically by many student decoders). Not an AIP value; the height is
# above MSL, used as ellipsoidal height (the geoid is ~50 m above the ellipsoid there, and
# Mode C heights are converted with no geoid offset either, so the two errors largely cancel).
KNOWN_RADARS: dict[tuple[int, int], tuple[RadarSite, str]] = {
    (20, 129): (
        RadarSite(41.0 + 18.0 / 60.0 + 2.5284 / 3600.0, 2.0 + 6.0 / 60.0 + 7.4095 / 3600.0, 27.257),
        "built-in: LEBL radar from the UPC PGTA course handout",
    ),
}
# A Location that declares no horizontal accuracy (the real Parrot ANAFI does this) is still
# a GNSS fix, and the Remote ID rules (FAA 14 CFR 89 / ASTM F3586, EU 2019/945) require
# 30 m (95 %) or better; geo's "unknown" (~15 km) would make it untrackable. Assumed 1-sigma:
REMOTE_ID_UNDECLARED_SIGMA_M = 50.0
_MESSAGE_NAMES = {
    "BasicId": "Basic ID",
    "Location": "Location",
    "AuthPage": "Authentication",
    "SelfId": "Self-ID",
    "System": "System",
    "OperatorId": "Operator ID",
}
_BEAST_TYPE_NAMES = {1: "Mode A/C", 2: "Mode S short", 3: "Mode S long"}
_BEAST_START = re.compile(r"utc--(\d{9,11}(?:\.\d+)?)")


@dataclass
class Decoded:
    """What a reader found in one recording (mutable while the reader fills it).

    Attributes:
        units: container counts (datagrams, blocks per category, frames, lines).
        records: records per category / message type.
        rejects: reason -> count of things that could not be used.
        times: (K,) POSIX seconds of the data (capture or record times) for the time span.
        sensors: "SAC/SIC" of each data source, in order of first appearance (sensor index).
        icao: 24-bit addresses seen.  remote_ids: "UAS ID (id type)" seen in Basic IDs.
        mode3a: validated Mode 3/A codes seen (12-bit, octal digits).  callsigns: callsigns
            and flight-plan callsigns seen (ASTERIX).
        radars: "SAC/SIC" -> (radar site, source of the position) for CAT048 sources.
        first_position: (lat, lon, h) of the first cooperative position, for the origin.
        revisit_hint_s: the sensor's own revisit time (antenna rotation), NaN if unknown.
        build: site frame -> every usable position as Detections (any order).
        identity_names: identity key -> display text, filled by ``build``.
        chunks: -> the recording as (POSIX s, bytes) chunks, non-decreasing times.
        notes: remarks for the user (missing date, missing radar position, ...).
    """

    units: dict[str, int] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)
    rejects: Counter[str] = field(default_factory=Counter)
    times: FloatArray = field(default_factory=lambda: np.zeros(0))
    sensors: list[str] = field(default_factory=list)
    icao: set[int] = field(default_factory=set)
    remote_ids: list[str] = field(default_factory=list)
    mode3a: set[int] = field(default_factory=set)
    callsigns: set[str] = field(default_factory=set)
    radars: dict[str, tuple[RadarSite, str]] = field(default_factory=dict)
    first_position: tuple[float, float, float] | None = None
    revisit_hint_s: float = math.nan
    build: Callable[[LocalFrame], Detections] = lambda _frame: Detections.empty()
    identity_names: dict[int, str] = field(default_factory=dict)
    chunks: Callable[[], Iterator[tuple[float, bytes]]] = lambda: iter(())
    notes: list[str] = field(default_factory=list)


def _frames(data: bytes, rejects: Counter[str]) -> list[Frame]:
    """Every frame of a capture; a header that cannot be read is an InputError."""
    try:
        return list(iter_frames(data, rejects))
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _non_decreasing(t: FloatArray) -> FloatArray:
    """Fill NaN with the previous time (the first known one at the start), then running max."""
    t = np.asarray(t, dtype=np.float64)
    known = np.flatnonzero(np.isfinite(t))
    if known.size == 0:
        return np.zeros_like(t)
    idx = np.maximum.accumulate(np.where(np.isfinite(t), np.arange(t.size), -1))
    filled = t[np.where(idx >= 0, idx, known[0])]
    return np.maximum.accumulate(filled)


def median_interval(t: FloatArray, group: np.ndarray) -> float:
    """Median positive time between consecutive rows of the same group (NaN if none)."""
    if t.size < 2:
        return math.nan
    order = np.lexsort((t, group))
    same = group[order][1:] == group[order][:-1]
    dt = np.diff(t[order])[same]
    dt = dt[dt > 0]
    return finite_median(dt) if dt.size else math.nan


def finite_median(values: FloatArray) -> float:
    """``np.median`` of finite values (same value: the middle one, or the mean of the two),
    without its ``numpy.ma`` import (~18 ms of an ``inspect``'s start-up)."""
    s = np.sort(values)
    half = s.size // 2
    return float(s[half]) if s.size % 2 else float((s[half - 1] + s[half]) / 2.0)


# ----------------------------------------------------------------------------------- ASTERIX


def read_asterix(
    data: bytes,
    *,
    capture: bool,
    date_t: float | None,
    radar: RadarSite | None,
    rcs_calibration_dbm: float | None = None,
) -> Decoded:
    """ASTERIX over UDP in a capture (``capture``) or raw data blocks (an ``.ast`` file).

    Raw blocks carry only times of day: the first record is put on the UTC day starting at
    ``date_t`` (POSIX s; 1970-01-01 when None, with a note), the others within 12 h of it.
    CAT048 plots need their radar position: CAT034 I034/120 in the recording, else
    ``radar``, else :data:`KNOWN_RADARS`. ``rcs_calibration_dbm`` (the I048/130 PAM of 1 m^2
    at 1 km, every radar): plots with a PAM then carry an RCS (else NaN).
    """
    out = Decoded()
    decoder = AsterixDecoder()
    if capture:
        frames = _frames(data, out.rejects)
        datagrams = list(udp_datagrams(iter(frames), out.rejects))
        records = decoder.decode_datagrams([d.payload for d in datagrams], [d.t for d in datagrams])
        out.units = {"frames": len(frames), "UDP datagrams": len(datagrams)}
        out.times = np.array([f.t for f in frames])
        out.chunks = lambda: ((d.t, d.payload) for d in datagrams)
    else:
        day = 0.0 if date_t is None else date_t
        if date_t is None:
            out.notes.append("raw blocks have only times of day: put on 1970-01-01 (give --date)")
        records = _from_first_record(decoder.decode(data, day + SECONDS_PER_DAY / 2), day)
        out.times = np.concatenate(
            [records.cat048.t, records.cat021.t, records.cat062.t, records.cat034.t]
        )
        out.chunks = lambda: _block_chunks(data, records)
    out.units.update({f"CAT{c:03d} blocks": n for c, n in sorted(decoder.blocks.items())})
    out.records = {f"CAT{c:03d}": n for c, n in sorted(decoder.records.items())}
    out.rejects.update(decoder.rejects)
    _asterix_sensors(out, records, radar)
    out.build = lambda frame: _asterix_detections(out, records, frame, rcs_calibration_dbm)
    return out


def _from_first_record(records: AsterixRecords, day: float) -> AsterixRecords:
    """Times of day -> POSIX: the first record (in file order) on ``day``, every other one
    within 12 h of it, so a recording that runs past midnight goes on into the next day."""
    parts = (records.cat048, records.cat021, records.cat062, records.cat034)
    block = np.concatenate([p.block for p in parts])
    tod = np.concatenate([p.tod_s for p in parts])
    known = np.flatnonzero(np.isfinite(tod))
    if known.size == 0:
        return records
    reference = day + float(tod[known[np.argmin(block[known])]])
    fixed = []
    for p in parts:
        columns = {name: getattr(p, name) for name in type(p).dtypes()}
        columns["t"] = resolve_time_of_day(p.tod_s, reference)
        fixed.append(type(p).from_columns(columns, len(p)))
    return AsterixRecords(*fixed)


def _block_chunks(data: bytes, records: AsterixRecords) -> Iterator[tuple[float, bytes]]:
    """Each data block with the time of its first record (blocks without one: the time of
    the block before), made non-decreasing for replay."""
    starts, _, lengths = split_blocks(data, Counter())
    t = np.full(len(starts), np.nan)
    for recs in (records.cat034, records.cat062, records.cat021, records.cat048):
        if len(recs):
            np.fmin.at(t, recs.block, recs.t)
    t = _non_decreasing(t)
    for i, (s, n) in enumerate(zip(starts, lengths, strict=True)):
        yield float(t[i]), data[s : s + n]


def _asterix_sensors(out: Decoded, records: AsterixRecords, radar: RadarSite | None) -> None:
    parts = [records.cat048, records.cat021, records.cat062, records.cat034]
    t = np.concatenate([p.t for p in parts])
    code = np.concatenate([p.sac.astype(np.int64) << 8 | p.sic.astype(np.int64) for p in parts])
    code, t = code[code >= 0], t[code >= 0]
    order = np.argsort(np.where(np.isfinite(t), t, np.inf), kind="stable")
    _, first = np.unique(code[order], return_index=True)
    out.sensors = [f"{c >> 8}/{c & 0xFF}" for c in code[order][np.sort(first)].tolist()]
    addresses = np.concatenate([p.address for p in parts[:3]])
    out.icao = set(addresses[addresses >= 0].tolist())
    c048, c021, c062 = records.cat048, records.cat021, records.cat062
    codes = np.concatenate(
        [c048.mode3a[c048.mode3a_valid], c021.mode3a, c062.mode3a[c062.mode3a_valid]]
    )
    out.mode3a = set(codes[codes >= 0].tolist())
    names = np.concatenate([c048.callsign, c021.callsign, c062.callsign, c062.plan_callsign])
    out.callsigns = set(names[names != ""].tolist())
    plots, services = records.cat048, records.cat034
    for sac, sic in sorted(set(zip(plots.sac.tolist(), plots.sic.tolist(), strict=True))):
        key = f"{sac}/{sic}"
        site = radar_site_from_cat034(services, sac, sic)
        if site is not None:
            out.radars[key] = (site, "CAT034 I034/120")
        elif radar is not None:
            out.radars[key] = (radar, "--radar")
        elif (sac, sic) in KNOWN_RADARS:
            out.radars[key] = KNOWN_RADARS[(sac, sic)]
        else:
            n = int(((plots.sac == sac) & (plots.sic == sic)).sum())
            out.notes.append(f"radar {key}: position unknown (no CAT034 I034/120): give --radar")
            out.rejects["cat048_radar_position_unknown"] += n
    out.revisit_hint_s = _asterix_revisit(records)
    for recs in (records.cat021, records.cat062):
        ok = np.flatnonzero(np.isfinite(recs.lat_deg) & np.isfinite(recs.lon_deg))
        if ok.size and out.first_position is None:
            i = ok[np.nanargmin(np.where(np.isfinite(recs.t[ok]), recs.t[ok], np.inf))]
            out.first_position = (float(recs.lat_deg[i]), float(recs.lon_deg[i]), 0.0)


def _asterix_revisit(records: AsterixRecords) -> float:
    """Antenna rotation: CAT034 I034/041, else the median time between plots of one CAT048
    track (I048/161, or the Mode S address), else between updates of a CAT062 track."""
    rotation = records.cat034.rotation_period_s
    if np.isfinite(rotation).any():
        return finite_median(rotation[np.isfinite(rotation)])
    for recs in (records.cat048, records.cat062):
        key = np.where(recs.track_number >= 0, recs.track_number, -2 - recs.address)
        key = (recs.sac.astype(np.int64) << 40) | (recs.sic.astype(np.int64) << 32) | key
        usable = (recs.track_number >= 0) | (recs.address >= 0)
        dt = median_interval(recs.t[usable], key[usable])
        if math.isfinite(dt):
            return dt
    return math.nan


def _asterix_detections(
    out: Decoded, records: AsterixRecords, frame: LocalFrame, rcs_calibration_dbm: float | None
) -> Detections:
    sensor = {name: i for i, name in enumerate(out.sensors)}
    parts = []
    plots = records.cat048
    for key, (site, _) in out.radars.items():
        sac, sic = (int(x) for x in key.split("/"))
        mine = plots.take((plots.sac == sac) & (plots.sic == sic))
        parts.append(
            cat048_to_detections(
                mine, frame, site, sensor=sensor[key], rcs_calibration_dbm=rcs_calibration_dbm
            )
        )
    for recs, convert in ((records.cat021, cat021_to_detections), (records.cat062, None)):
        for sac, sic in sorted(set(zip(recs.sac.tolist(), recs.sic.tolist(), strict=True))):
            mine = recs.take((recs.sac == sac) & (recs.sic == sic))
            s = sensor.get(f"{sac}/{sic}", 0)
            if convert is not None:
                parts.append(convert(mine, frame, sensor=s))
            else:
                parts.append(cat062_to_detections(mine, frame, sensor=s))
    tracks = records.cat062
    for sac, sic, number in set(
        zip(tracks.sac.tolist(), tracks.sic.tolist(), tracks.track_number.tolist(), strict=True)
    ):
        key = track_number_identity(sac << 8 | sic, number)
        out.identity_names[key] = f"track:{sac}/{sic}:{number}"
    return Detections.concat(parts)


# --------------------------------------------------------------------------------- Remote ID


def read_remote_id(data: bytes) -> Decoded:
    """Remote ID broadcasts (Wi-Fi beacon / NAN, Bluetooth) in a pcap/pcapng capture.

    Every Location with a position gives one detection (repeats of one measurement are
    reported once; see :mod:`skywarden.sources.remote_id.reports`); an undeclared horizontal
    accuracy is taken as :data:`REMOTE_ID_UNDECLARED_SIGMA_M`. The reasons why a
    Location gave no report are counted with the rejects (prefix ``location_``).
    """
    from skywarden.sources.remote_id.messages import BasicId
    from skywarden.sources.remote_id.reports import RemoteIdAssembler, remote_id_to_detections
    from skywarden.sources.remote_id.transports import iter_frame_messages

    out = Decoded()
    frames = _frames(data, out.rejects)
    seen: Counter[str] = Counter()
    messages = list(iter_frame_messages(frames, out.rejects, seen))
    assembler = RemoteIdAssembler()
    reports = assembler.add_all(messages)
    assembler.forget_before(math.inf)
    out.rejects.update(assembler.counts)
    out.units = {"frames": len(frames)}
    out.units.update({f"frames with Remote ID ({k})": n for k, n in sorted(seen.items())})
    kinds = Counter(_MESSAGE_NAMES.get(type(m.message).__name__, "other") for m in messages)
    out.records = dict(sorted(kinds.items()))
    out.records["position reports"] = len(reports)
    ids = {
        (m.message.uas_id, m.message.id_type) for m in messages if isinstance(m.message, BasicId)
    }
    out.remote_ids = sorted(f"{uas} (id type {kind})" for uas, kind in ids)
    out.units["transmitter addresses"] = len({m.address for m in messages if m.address})
    out.times = np.array([f.t for f in frames])
    for r in reports:
        out.identity_names[r.identity] = f"rid:{r.uas_id}"
    if reports:
        first = min(reports, key=lambda r: r.t)
        out.first_position = (first.lat_deg, first.lon_deg, 0.0)
    out.build = lambda frame: remote_id_to_detections(
        reports, frame, unknown_horizontal_sigma_m=REMOTE_ID_UNDECLARED_SIGMA_M
    )
    out.chunks = lambda: ((f.t, f.data) for f in frames)
    return out


# ------------------------------------------------------------------------------ Mode S / ADS-B


def beast_start_time(name: str, date_t: float | None) -> tuple[float, str | None]:
    """POSIX time of a Beast recording's first frame: a ``utc--<POSIX>`` token in the file
    name (the beastblackbox recorder's naming), else ``date_t``, else 0; with a note when
    guessed."""
    match = _BEAST_START.search(name)
    if match:
        return float(match.group(1)), None
    if date_t is not None:
        return date_t, "Beast has only a relative 12 MHz clock: first frame put at --date 00:00"
    return 0.0, "Beast has only a relative 12 MHz clock: first frame put at 1970-01-01 (--date)"


def read_beast(data: bytes, name: str, date_t: float | None) -> Decoded:
    """Mode-S Beast binary: frames -> Mode S messages -> ADS-B positions (CPR resolved)."""
    from skywarden.sources.modes.beast import decode_beast, encode_beast
    from skywarden.sources.modes.messages import decode_messages
    from skywarden.sources.modes.state import ModeSState, modes_to_detections
    from skywarden.sources.modes.surface import surface_detections

    out = Decoded()
    frames, rejects = decode_beast(data)
    out.rejects.update(rejects)
    t0, note = beast_start_time(name, date_t)
    if note:
        out.notes.append(note)
    t = frames.times(t0)
    out.times = t
    out.units = {"frames": len(frames)}
    kinds = Counter(frames.frame_type.tolist())
    out.records = {_BEAST_TYPE_NAMES[k]: kinds[k] for k in sorted(kinds)}
    mode_s = np.flatnonzero(frames.frame_type >= 2)
    messages = decode_messages([frames.payload[i] for i in mode_s], t[mode_s], out.rejects)
    out.records.update({f"DF{d}": n for d, n in sorted(Counter(messages.df.tolist()).items())})
    state = ModeSState()
    reports = state.update(messages)
    out.rejects.update(state.rejects)
    out.records["position reports"] = len(reports)
    out.icao = set(np.unique(messages.icao[messages.address_verified]).tolist())
    if len(reports):
        out.first_position = (float(reports.lat_deg[0]), float(reports.lon_deg[0]), 0.0)
    out.records["surface positions"] = int(np.count_nonzero(messages.is_surface_position()))
    out.build = lambda frame: Detections.concat(
        [
            modes_to_detections(reports, frame),
            surface_detections(messages, frame, rejects=out.rejects),
        ]
    )
    ticks = frames.mlat_ticks

    def chunks() -> Iterator[tuple[float, bytes]]:
        times = _non_decreasing(t)
        for i, payload in enumerate(frames.payload):
            yield float(times[i]), encode_beast([payload], ticks[i : i + 1], frames.signal[i])

    out.chunks = chunks
    return out


def read_sbs(data: bytes) -> Decoded:
    """SBS / BaseStation text: MSG,2 / MSG,3 lines with a position give detections."""
    from skywarden.sources.modes.sbs import decode_sbs, sbs_to_detections

    out = Decoded()
    records, rejects = decode_sbs(data)
    out.rejects.update(rejects)
    out.units = {"lines": len(records) + sum(rejects.values())}
    names = [
        f"MSG,{n}" if m == "MSG" else str(m)
        for m, n in zip(records.message.tolist(), records.transmission.tolist(), strict=True)
    ]
    out.records = dict(sorted(Counter(names).items()))
    out.times = records.t
    out.icao = set(np.unique(records.icao[records.icao >= 0]).tolist())
    with_position = np.flatnonzero(np.isfinite(records.lat_deg) & np.isfinite(records.lon_deg))
    if with_position.size:
        i = with_position[0]
        out.first_position = (float(records.lat_deg[i]), float(records.lon_deg[i]), 0.0)
    out.build = lambda frame: sbs_to_detections(records, frame)
    out.chunks = lambda: _sbs_chunks(data)
    return out


def _sbs_chunks(data: bytes) -> Iterator[tuple[float, bytes]]:
    """Each line with its own time (lines without one: the time of the line before)."""
    from skywarden.sources.modes.sbs import SbsDecoder

    lines = data.splitlines(keepends=True)
    t = np.full(len(lines), np.nan)
    for i, line in enumerate(lines):
        decoder = SbsDecoder()
        parsed = decoder.feed(line.rstrip(b"\r\n") + b"\n")
        if len(parsed):
            t[i] = parsed.t[0]
    t = _non_decreasing(t)
    for i, line in enumerate(lines):
        yield float(t[i]), line
