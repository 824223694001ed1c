"""Recorded surveillance files: format, inventory, scans for the tracker and replay chunks.

    rec = read_recording("bcn.ast", options=RecordingOptions(date_t=parse_date("2023-05-02")))
    rec.inventory.as_dict()                 # what ``skywarden inspect`` prints
    plan = plan_scans(rec.revisit_s)        # batch period + tracker life-cycle settings
    for t, dets, end in scan_batches(rec.detections, plan): ...   # step(..., end_of_scan=end)
    FileReplay(rec.chunks(), speed=10.0)    # the original bytes, timed, for replay

Formats: pcap/pcapng with ASTERIX over UDP or Remote ID (Wi-Fi / Bluetooth), raw ASTERIX
blocks (``.ast``), Mode-S Beast binary and SBS text; detected from the content
(:func:`~skywarden.sources.recordings.format.detect_format`) unless named. Reading is
:func:`read_recording` (the only I/O: it reads the file's bytes); everything after is pure.

**Site frame.** The LocalFrame origin is ``options.origin``, else the first radar's
position, else the first cooperative position (at height 0).

**Scans.** The tracker takes one batch of detections at a time and treats all of them as
measured at the batch time. Radar plots arrive over a whole antenna rotation (4 s for the
Barcelona radar), so a batch per rotation would misplace a 250 m/s aircraft by up to 1 km.
Instead, time is cut into windows of ``period_s = revisit_s / k`` (k = 2..8 batches per
revisit, the smallest giving a window of at most 0.5 s: at most 0.25 s between a detection
and its batch time, the window's middle, i.e. <= 63 m at 250 m/s, below the radar's
azimuth noise beyond ~25 NM). Every k-th window ends a scan (``end_of_scan``), so the
tracker's hits, misses and M-of-N confirmation count revisits, as for one batch per
rotation; a confirmed track coasts for 3 revisits (at least 6 s,
:meth:`ScanPlan.tracker_settings`). Within a batch, only the report of each identity nearest
the batch time is kept (the tracker would use only one).
"""

from __future__ import annotations

import calendar
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from skywarden.detections import NO_IDENTITY, Detections, icao_of
from skywarden.errors import InputError
from skywarden.geo import LocalFrame
from skywarden.sources.asterix.detections import RadarSite
from skywarden.sources.recordings.format import (
    HEAD_BYTES,
    RecordingFormat,
    detect_format,
)
from skywarden.sources.recordings.readers import (
    Decoded,
    median_interval,
    read_asterix,
    read_beast,
    read_remote_id,
    read_sbs,
)
from skywarden.units import IntArray

MAX_BATCH_TIME_ERROR_S = 0.25
MAX_BATCHES_PER_REVISIT = 8
DEFAULT_REVISIT_S = 1.0
MAX_EMPTY_BATCHES = 256  # empty windows emitted in a row; longer silences are skipped


@dataclass(frozen=True)
class RecordingOptions:
    """How to place a recording in time and space.

    Attributes:
        date_t: POSIX seconds of the UTC midnight starting the recording's day: raw ASTERIX
            times of day are put on that day (default 1970-01-01), and a Beast file without
            a ``utc--<POSIX>`` name starts then. See :func:`parse_date`.
        origin: (lat deg, lon deg, ellipsoidal height m) of the site frame origin.
        radar: the radar position for CAT048 sources without a CAT034 I034/120 position.
        radar_rcs_calibration_dbm: the CAT048 primary-plot amplitude (I048/130 PAM, dBm) of a
            1 m^2 target at 1 km, for every radar of the recording; None: no RCS from plots.
    """

    date_t: float | None = None
    origin: tuple[float, float, float] | None = None
    radar: RadarSite | None = None
    radar_rcs_calibration_dbm: float | None = None


def parse_date(text: str) -> float:
    """``YYYY-MM-DD`` -> POSIX seconds of that day's 00:00 UTC (InputError when not a date)."""
    try:
        y, m, d = (int(part) for part in text.strip().split("-"))
        if not (1 <= m <= 12 and 1 <= d <= 31 and 1970 <= y <= 9999):
            raise ValueError
        time.strptime(f"{y:04d}-{m:02d}-{d:02d}", "%Y-%m-%d")  # rejects 2023-02-30
    except ValueError:
        raise InputError(f"date must be YYYY-MM-DD (1970 or later), not {text!r}") from None
    return float(calendar.timegm((y, m, d, 0, 0, 0, 0, 0, 0)))


def parse_position(text: str, what: str) -> tuple[float, float, float]:
    """``LAT,LON[,H]`` (degrees, degrees, metres; H defaults to 0) -> a checked tuple."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) not in (2, 3) or not all(math.isfinite(v) for v in values):
        raise InputError(f"{what} must be LAT,LON or LAT,LON,H in degrees and metres: {text!r}")
    lat, lon, h = (*values, 0.0)[:3]
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 360.0 and -12000.0 <= h <= 100000.0):
        raise InputError(f"{what} {text!r} is outside -90..90, -180..360 degrees, sane heights")
    return lat, lon, h


def _iso(t: float) -> str | None:
    if not math.isfinite(t):
        return None
    whole, ms = divmod(round(t * 1000.0), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{ms:03d}Z"


@dataclass(frozen=True)
class Inventory:
    """What a recording holds (``skywarden inspect``); :meth:`as_dict` is the JSON form.

    Attributes:
        path, format, size_bytes: the file.
        units: containers (frames, datagrams, blocks per category, lines).
        records: records per ASTERIX category / Remote ID or Mode S message type.
        rejects: reason -> count of inputs that could not be used.
        t_first, t_last: POSIX seconds of the first and last data (NaN if none).
        sensors: data sources "SAC/SIC" (ASTERIX).
        radars: radar positions used for CAT048: sensor, lat_deg, lon_deg, h_m, source.
        icao: 24-bit aircraft addresses seen, as 6 hex digits, sorted.
        remote_ids: Remote ID UAS IDs seen (with their ID type), sorted.
        mode3a: Mode 3/A codes seen, as 4 octal digits, sorted. callsigns: callsigns seen
            (ASTERIX I048/240, I021/170, I062/245, I062/380 and flight plans I062/390), sorted.
        positions: detections made (positions with a known place).
        bbox: lat_min, lat_max, lon_min, lon_max of those positions (None if none).
        frame: site frame origin (lat_deg, lon_deg, h_m) and where it comes from.
        revisit_s: typical time between two reports of one target (antenna rotation).
        notes: remarks (assumed date, unknown radar position, ...).
    """

    path: str
    format: str
    size_bytes: int
    units: dict[str, int]
    records: dict[str, int]
    rejects: dict[str, int]
    t_first: float
    t_last: float
    sensors: list[str]
    radars: list[dict[str, float | str]]
    icao: list[str]
    remote_ids: list[str]
    positions: int
    bbox: dict[str, float] | None
    frame: dict[str, float | str] | None
    revisit_s: float
    notes: list[str] = field(default_factory=list)
    mode3a: list[str] = field(default_factory=list)
    callsigns: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready dict (times also as ISO 8601 UTC, span in seconds)."""
        span = self.t_last - self.t_first
        return {
            "path": self.path,
            "format": self.format,
            "size_bytes": self.size_bytes,
            "units": dict(self.units),
            "records": dict(self.records),
            "rejects": dict(sorted(self.rejects.items())),
            "time": {
                "first": _iso(self.t_first),
                "last": _iso(self.t_last),
                "first_t": self.t_first if math.isfinite(self.t_first) else None,
                "last_t": self.t_last if math.isfinite(self.t_last) else None,
                "span_s": span if math.isfinite(span) else None,
            },
            "sensors": list(self.sensors),
            "radars": [dict(r) for r in self.radars],
            "icao_count": len(self.icao),
            "icao": list(self.icao),
            "remote_ids": list(self.remote_ids),
            "mode3a_count": len(self.mode3a),
            "mode3a": list(self.mode3a),
            "callsign_count": len(self.callsigns),
            "callsigns": list(self.callsigns),
            "positions": self.positions,
            "bbox": None if self.bbox is None else dict(self.bbox),
            "frame": None if self.frame is None else dict(self.frame),
            "revisit_s": self.revisit_s if math.isfinite(self.revisit_s) else None,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Recording:
    """A decoded recording.

    Attributes:
        inventory: the counts (see :class:`Inventory`).
        detections: every usable position, sorted by time, in ``frame`` (ENU metres).
        frame: the site frame, None when the recording has no position at all.
        revisit_s: typical time between two reports of one target, seconds.
        identity_names: identity key -> "rid:SERIAL" / "track:SAC/SIC:N" (ICAO keys are
            named by :meth:`identity_label` directly).
        chunks: -> the recording as (POSIX s, bytes), times non-decreasing: UDP payloads
            or link-layer frames (captures), data blocks (.ast), frames (Beast), lines (SBS).
    """

    inventory: Inventory
    detections: Detections
    frame: LocalFrame | None
    revisit_s: float
    identity_names: dict[int, str]
    chunks: Callable[[], Iterator[tuple[float, bytes]]]

    def identity_label(self, identity: IntArray) -> list[str]:
        """``icao:3C660C``, ``rid:SERIAL``, ``track:SAC/SIC:N`` or ``""`` per identity key."""
        labels = []
        for key in np.asarray(identity, dtype=np.int64).tolist():
            address = icao_of(key) if key != NO_IDENTITY else None
            if address is not None:
                labels.append(f"icao:{address:06X}")
            else:
                labels.append(self.identity_names.get(key, ""))
        return labels


def read_recording(
    path: str | Path, fmt: RecordingFormat | None = None, options: RecordingOptions | None = None
) -> Recording:
    """Read and decode a recording file (the format is detected unless ``fmt`` is given).

    Raises InputError for a missing/unreadable file or an unknown format.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", path=str(p)) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a recording file", path=str(p)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(p)) from None
    return decode_recording(data, str(p), fmt, options or RecordingOptions())


def decode_recording(
    data: bytes, name: str, fmt: RecordingFormat | None, options: RecordingOptions
) -> Recording:
    """Decode recording bytes (pure); ``name`` is the file name (errors, Beast start time)."""
    try:
        return _decode(data, name, fmt, options)
    except InputError as exc:
        if exc.path is None and name:
            raise InputError(exc.problem, path=name) from None
        raise


def _decode(
    data: bytes, name: str, fmt: RecordingFormat | None, options: RecordingOptions
) -> Recording:
    if fmt is None:
        fmt = detect_format(data[:HEAD_BYTES], name, len(data))
    if fmt in (RecordingFormat.ASTERIX, RecordingFormat.ASTERIX_PCAP):
        capture = fmt is RecordingFormat.ASTERIX_PCAP
        decoded = read_asterix(
            data,
            capture=capture,
            date_t=options.date_t,
            radar=options.radar,
            rcs_calibration_dbm=options.radar_rcs_calibration_dbm,
        )
    elif fmt is RecordingFormat.REMOTE_ID_PCAP:
        decoded = read_remote_id(data)
    elif fmt is RecordingFormat.BEAST:
        decoded = read_beast(data, Path(name).name, options.date_t)
    else:
        decoded = read_sbs(data)
    frame, frame_source = _site_frame(decoded, options)
    detections = Detections.empty() if frame is None else decoded.build(frame)
    detections = detections.take(np.argsort(detections.t, kind="stable"))
    revisit = decoded.revisit_hint_s
    if not math.isfinite(revisit):
        revisit = _identity_revisit(detections)
    if not math.isfinite(revisit):
        revisit = DEFAULT_REVISIT_S
        if len(detections):
            decoded.notes.append(f"revisit time unknown: {DEFAULT_REVISIT_S} s assumed")
    where = (frame, frame_source)
    inventory = _inventory(name, fmt, len(data), decoded, detections, where, revisit)
    return Recording(
        inventory=inventory,
        detections=detections,
        frame=frame,
        revisit_s=revisit,
        identity_names=dict(decoded.identity_names),
        chunks=decoded.chunks,
    )


def _site_frame(decoded: Decoded, options: RecordingOptions) -> tuple[LocalFrame | None, str]:
    if options.origin is not None:
        return LocalFrame(*options.origin), "--origin"
    for sensor in decoded.sensors:
        if sensor in decoded.radars:
            site = decoded.radars[sensor][0]
            return LocalFrame(site.lat_deg, site.lon_deg, site.h_m), f"radar {sensor}"
    if decoded.first_position is not None:
        return LocalFrame(*decoded.first_position), "first position (height 0)"
    return None, ""


def _identity_revisit(detections: Detections) -> float:
    """Median positive time between consecutive detections of one identity (NaN if none)."""
    keep = detections.identity != NO_IDENTITY
    return median_interval(detections.t[keep], detections.identity[keep])


def _inventory(
    name: str,
    fmt: RecordingFormat,
    size: int,
    decoded: Decoded,
    detections: Detections,
    where: tuple[LocalFrame | None, str],
    revisit_s: float,
) -> Inventory:
    frame, frame_source = where
    times = decoded.times[np.isfinite(decoded.times)]
    bbox = None
    if frame is not None and len(detections):
        lat, lon, _ = frame.enu_to_geodetic(detections.z)
        bbox = {
            "lat_min": float(lat.min()),
            "lat_max": float(lat.max()),
            "lon_min": float(lon.min()),
            "lon_max": float(lon.max()),
        }
    radars = [
        {"sensor": key, "lat_deg": s.lat_deg, "lon_deg": s.lon_deg, "h_m": s.h_m, "source": src}
        for key, (s, src) in decoded.radars.items()
    ]
    origin = None
    if frame is not None:
        origin = {
            "lat_deg": frame.lat0_deg,
            "lon_deg": frame.lon0_deg,
            "h_m": frame.h0_m,
            "source": frame_source,
        }
    return Inventory(
        path=name,
        format=fmt.value,
        size_bytes=size,
        units=dict(decoded.units),
        records=dict(decoded.records),
        rejects={k: int(v) for k, v in decoded.rejects.items() if v},
        t_first=float(times.min()) if times.size else math.nan,
        t_last=float(times.max()) if times.size else math.nan,
        sensors=list(decoded.sensors),
        radars=radars,
        icao=[f"{a:06X}" for a in sorted(decoded.icao)],
        remote_ids=list(decoded.remote_ids),
        positions=len(detections),
        bbox=bbox,
        frame=origin,
        revisit_s=revisit_s,
        notes=list(decoded.notes),
        mode3a=[f"{c:04o}" for c in sorted(decoded.mode3a)],
        callsigns=sorted(decoded.callsigns),
    )


# --------------------------------------------------------------------------------- scans


@dataclass(frozen=True)
class ScanPlan:
    """Batching of a recording for the tracker (see the module docstring).

    Attributes:
        revisit_s: typical time between two reports of one target, seconds.
        batches_per_revisit: k, windows per revisit.
    """

    revisit_s: float
    batches_per_revisit: int

    @property
    def period_s(self) -> float:
        """Window length, seconds; a detection is at most half of it from its batch time."""
        return self.revisit_s / self.batches_per_revisit

    def tracker_settings(self) -> dict[str, int | float]:
        """TrackerParams values for this revisit: coast for 3 revisits (at least 6 s)."""
        return {"max_coast_s": max(6.0, 3.0 * self.revisit_s + self.period_s)}


def plan_scans(revisit_s: float, max_time_error_s: float = MAX_BATCH_TIME_ERROR_S) -> ScanPlan:
    """The fewest windows per revisit (2..8) that keep detections within
    ``max_time_error_s`` of their batch time."""
    if not (math.isfinite(revisit_s) and revisit_s > 0.0):
        raise InputError(f"revisit time must be > 0 s, not {revisit_s}")
    k = math.ceil(revisit_s / (2.0 * max_time_error_s))
    return ScanPlan(revisit_s, int(min(max(k, 2), MAX_BATCHES_PER_REVISIT)))


@dataclass(frozen=True)
class ScanBatches:
    """Detections cut into time windows; iterate for ``(batch time, Detections, end_of_scan)``
    (every ``windows_per_scan``-th window ends a scan of the tracker).

    Attributes:
        detections: the detections kept, ordered by window then time.
        window: (D,) window index of each kept detection.
        start_t: time of the start of window 0, POSIX s.  period_s: window length.
        dropped_same_identity: reports dropped because their identity already had a report
            nearer the batch time in the same window.
        max_empty: empty windows emitted in a row before skipping to the next detection.
    """

    detections: Detections
    window: IntArray
    start_t: float
    period_s: float
    dropped_same_identity: int
    max_empty: int = MAX_EMPTY_BATCHES
    windows_per_scan: int = 1

    def _windows(self) -> tuple[IntArray, IntArray]:
        """Distinct windows and the start row of each (plus the end)."""
        if self.window.size == 0:
            return np.zeros(0, np.int64), np.zeros(1, np.int64)
        starts = np.flatnonzero(np.diff(self.window)) + 1
        bounds = np.concatenate(([0], starts, [self.window.size]))
        return self.window[bounds[:-1]], bounds

    def __len__(self) -> int:
        windows, _ = self._windows()
        if windows.size == 0:
            return 0
        empty = np.minimum(np.diff(windows) - 1, self.max_empty)
        return int(windows.size + empty.sum())

    def batch_time(self, window: int) -> float:
        """The time given to the tracker for a window: its middle."""
        return self.start_t + (window + 0.5) * self.period_s

    def ends_scan(self, window: int) -> bool:
        """Whether the window is the last of a scan."""
        return (window + 1) % self.windows_per_scan == 0

    def __iter__(self) -> Iterator[tuple[float, Detections, bool]]:
        windows, bounds = self._windows()
        previous = None
        last = int(windows[-1]) if windows.size else -1
        for i, w in enumerate(windows.tolist()):
            if previous is not None:
                for e in range(previous + 1, min(w, previous + 1 + self.max_empty)):
                    yield self.batch_time(e), Detections.empty(), self.ends_scan(e)
            batch = self.detections.take(slice(bounds[i], bounds[i + 1]))
            yield self.batch_time(w), batch, self.ends_scan(w) or w == last
            previous = w


def scan_batches(
    detections: Detections, plan: ScanPlan, *, max_empty: int = MAX_EMPTY_BATCHES
) -> ScanBatches:
    """Cut detections into windows of ``plan.period_s`` seconds starting at the first
    detection; every ``plan.batches_per_revisit``-th window ends a scan.

    Each identity keeps, per window, only its report nearest the window's middle.
    """
    period_s = plan.period_s
    k = plan.batches_per_revisit
    if not (math.isfinite(period_s) and period_s > 0.0):
        raise InputError(f"batch period must be > 0 s, not {period_s}")
    if len(detections) == 0:
        return ScanBatches(detections, np.zeros(0, np.int64), 0.0, period_s, 0, max_empty, k)
    t = detections.t
    start = float(t.min())
    window = np.floor((t - start) / period_s).astype(np.int64)
    offset = np.abs(t - (start + (window + 0.5) * period_s))
    order = np.lexsort((offset, detections.identity, window))
    has_id = detections.identity[order] != NO_IDENTITY
    repeat = np.zeros(order.size, bool)
    repeat[1:] = (window[order][1:] == window[order][:-1]) & (
        detections.identity[order][1:] == detections.identity[order][:-1]
    )
    kept = order[~(repeat & has_id)]
    kept = kept[np.lexsort((t[kept], window[kept]))]
    return ScanBatches(
        detections=detections.take(kept),
        window=window[kept],
        start_t=start,
        period_s=period_s,
        dropped_same_identity=int(order.size - kept.size),
        max_empty=max_empty,
        windows_per_scan=k,
    )
