"""Truth, detection and track tables: the CSV files that simulation, tracker and evaluation share.

Formats (one header line naming the columns, comma separated, any column order; extra columns
are allowed and ignored, quoted fields included):

- truth:      ``t,target_id,x,y,z,vx,vy,vz``
- detections: ``t,x,y,z`` and optional ``sigma`` (1-sigma position noise per axis, metres)
- tracks:     ``t,track_id,x,y,z,vx,vy,vz`` (confirmed track states at every scan time)

Times are seconds (POSIX or scenario), positions metres in the site ENU frame, velocities m/s.
Rows are in time order (equal times allowed: one scan is the rows that share a time).

Reading and writing are columnar (pyarrow, :mod:`skywarden.columnar_csv`); only when a file
is not clean numbers is it read again (``numpy.loadtxt``, then line by line) to name the first
bad line. Every problem raises
:class:`~skywarden.errors.InputError` naming the file, the 1-based line (the header is line 1)
and what is wrong. Ids are int64 read through float64, so they must be integers below 2**53.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skywarden.columnar_csv import read_float_columns, write_columns
from skywarden.errors import InputError
from skywarden.units import FloatArray, IntArray

TRUTH_COLUMNS = ("t", "target_id", "x", "y", "z", "vx", "vy", "vz")
DETECTION_COLUMNS = ("t", "x", "y", "z")
TRACK_COLUMNS = ("t", "track_id", "x", "y", "z", "vx", "vy", "vz")
_MAX_EXACT_ID = 2**53


@dataclass(frozen=True, slots=True)
class _StateRows:
    """N rows of (time, id, position, velocity), sorted by time.

    Attributes:
        t: (N,) seconds.
        id: (N,) int64 target or track id.
        pos: (N, 3) ENU position, metres.
        vel: (N, 3) ENU velocity, m/s.
    """

    t: FloatArray
    id: IntArray
    pos: FloatArray
    vel: FloatArray

    def __len__(self) -> int:
        return int(self.t.shape[0])


@dataclass(frozen=True, slots=True)
class Truth(_StateRows):
    """Ground truth: one row per target per truth time (``id`` is the target id)."""


@dataclass(frozen=True, slots=True)
class TrackTable(_StateRows):
    """Confirmed track states: one row per track per scan time (``id`` is the track id >= 0)."""


@dataclass(frozen=True, slots=True)
class DetectionTable:
    """N detections sorted by time.

    Attributes:
        t: (N,) seconds.
        pos: (N, 3) ENU position, metres.
        sigma: (N,) 1-sigma position noise per axis, metres; NaN where the file has no sigma.
    """

    t: FloatArray
    pos: FloatArray
    sigma: FloatArray

    def __len__(self) -> int:
        return int(self.t.shape[0])


# ----------------------------------------------------------------------------------- reading


def read_truth(path: str | Path) -> Truth:
    """Read a truth CSV (``t,target_id,x,y,z,vx,vy,vz``); raises InputError on any bad line."""
    cols, lines = _read_numeric(path, TRUTH_COLUMNS, (), allow_empty=False)
    ids = _integer_ids(cols, "target_id", lines)
    _check_sorted(cols["t"], lines)
    _check_unique_per_time(cols["t"], ids, "target_id", lines)
    return Truth(
        t=cols["t"], id=ids, pos=_stack(cols, "x", "y", "z"), vel=_stack(cols, "vx", "vy", "vz")
    )


def read_tracks(path: str | Path) -> TrackTable:
    """Read a tracks CSV (``t,track_id,x,y,z,vx,vy,vz``); a header-only file is an empty table."""
    cols, lines = _read_numeric(path, TRACK_COLUMNS, (), allow_empty=True)
    ids = _integer_ids(cols, "track_id", lines)
    negative = np.flatnonzero(ids < 0)
    if negative.size:
        row = int(negative[0])
        lines.fail(row, f"track_id {ids[row]} is negative (track ids are >= 0)")
    _check_sorted(cols["t"], lines)
    _check_unique_per_time(cols["t"], ids, "track_id", lines)
    return TrackTable(
        t=cols["t"], id=ids, pos=_stack(cols, "x", "y", "z"), vel=_stack(cols, "vx", "vy", "vz")
    )


def read_detections(path: str | Path) -> DetectionTable:
    """Read a detections CSV (``t,x,y,z`` and optional ``sigma`` >= 0)."""
    cols, lines = _read_numeric(path, DETECTION_COLUMNS, ("sigma",), allow_empty=False)
    _check_sorted(cols["t"], lines)
    sigma = cols.get("sigma")
    if sigma is None:
        sigma = np.full(cols["t"].shape, np.nan)
    else:
        negative = np.flatnonzero(sigma < 0)
        if negative.size:
            row = int(negative[0])
            lines.fail(row, f"sigma {float(sigma[row])!r} is negative")
    return DetectionTable(t=cols["t"], pos=_stack(cols, "x", "y", "z"), sigma=sigma)


def scans(table: Truth | TrackTable | DetectionTable) -> Iterator[tuple[float, slice]]:
    """Yield ``(t, rows)`` for each distinct time of a time-sorted table, in time order.

    ``rows`` is a slice into the table's arrays (``table.pos[rows]`` is that scan's positions).
    """
    t = np.asarray(table.t)
    if t.size == 0:
        return
    starts = np.concatenate(([0], np.flatnonzero(np.diff(t) != 0) + 1))
    ends = np.concatenate((starts[1:], [t.size]))
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        yield float(t[start]), slice(start, end)


class _Lines:
    """Maps data-row numbers to file line numbers (only used once a problem is found)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def line_of(self, row: int) -> int:
        """1-based file line of data row ``row`` (0-based; loadtxt skips empty lines)."""
        seen = -1
        with self.path.open(encoding="utf-8-sig", newline="") as f:
            next(f, None)
            for number, text in enumerate(f, start=2):
                if text.rstrip("\r\n"):
                    seen += 1
                    if seen == row:
                        return number
        raise AssertionError(f"row {row} not in {self.path}")  # pragma: no cover

    def fail(self, row: int, problem: str) -> None:
        raise InputError(problem, path=str(self.path), line=self.line_of(row))


def _read_header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            first = f.readline()
            after = f.read(4096) if not first.strip() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file ({exc})", path=str(path)) from None
    if not first.strip():
        problem = "the header line is blank" if after.strip() else "empty file (no header line)"
        raise InputError(problem, path=str(path), line=1)
    return [name.strip() for name in next(csv.reader([first]))]


def _read_numeric(
    path: str | Path, required: tuple[str, ...], optional: tuple[str, ...], *, allow_empty: bool
) -> tuple[dict[str, np.ndarray], _Lines]:
    """Read the named columns as float64 and check that every value is a finite number."""
    path = Path(path)
    header = _read_header(path)
    missing = [name for name in required if name not in header]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)} (the header has: {', '.join(header)})",
            path=str(path),
            line=1,
        )
    names = list(required) + [name for name in optional if name in header]
    usecols = [header.index(name) for name in names]
    # The columnar reader first; where it cannot read the file as clean numbers (or the header
    # repeats a name), loadtxt, which finds and names the first bad line.
    data = None if len(set(header)) < len(header) else read_float_columns(path, names)
    if data is None:
        data = _load_numeric(path, names, usecols)
    lines = _Lines(path)
    if data.size == 0:
        if not allow_empty:
            raise InputError("no data rows (only a header line)", path=str(path), line=1)
        data = np.zeros((0, len(names)))
    bad = ~np.isfinite(data)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        lines.fail(
            row, f"column {names[col]}: value {float(data[row, col])!r} is not a finite number"
        )
    cols = {name: np.ascontiguousarray(data[:, i]) for i, name in enumerate(names)}
    return cols, lines


def _load_numeric(path: Path, names: list[str], usecols: list[int]) -> np.ndarray:
    """The columns by numpy.loadtxt; InputError naming the first line it cannot read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            return np.loadtxt(
                path,
                delimiter=",",
                skiprows=1,
                usecols=usecols,
                ndmin=2,
                comments=None,
                quotechar='"',
                encoding="utf-8-sig",
                dtype=np.float64,
            )
    except (ValueError, UnicodeDecodeError) as exc:
        _locate_unparsable(path, names, usecols)
        raise InputError(f"cannot be read as numbers ({exc})", path=str(path)) from None


def _locate_unparsable(path: Path, names: list[str], usecols: list[int]) -> None:
    """Find the first line loadtxt could not read and raise InputError naming it."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            next(reader, None)
            for fields in reader:
                if not fields:
                    continue
                line = reader.line_num
                for name, col in zip(names, usecols, strict=True):
                    if col >= len(fields):
                        raise InputError(
                            f"has {len(fields)} field(s); column {name} is field {col + 1}",
                            path=str(path),
                            line=line,
                        )
                    if not _is_plain_number(fields[col]):
                        raise InputError(
                            f"column {name}: {fields[col]!r} is not a number",
                            path=str(path),
                            line=line,
                        )
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc})", path=str(path)) from None
    except csv.Error as exc:
        raise InputError(f"not valid CSV ({exc})", path=str(path), line=reader.line_num) from None


def _is_plain_number(text: str) -> bool:
    """True when loadtxt reads ``text`` as a float (ASCII, no ``_`` digit separators)."""
    if not text.isascii() or "_" in text:
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


def _integer_ids(cols: dict[str, np.ndarray], name: str, lines: _Lines) -> IntArray:
    values = cols[name]
    bad = np.flatnonzero((values != np.floor(values)) | (np.abs(values) >= _MAX_EXACT_ID))
    if bad.size:
        row = int(bad[0])
        lines.fail(row, f"{name} {float(values[row])!r} is not an integer below 2**53")
    return values.astype(np.int64)


def _check_sorted(t: FloatArray, lines: _Lines) -> None:
    earlier = np.flatnonzero(np.diff(t) < 0)
    if earlier.size:
        row = int(earlier[0]) + 1
        lines.fail(
            row, f"time {float(t[row])!r} is earlier than the line before ({float(t[row - 1])!r})"
        )


def _check_unique_per_time(t: FloatArray, ids: IntArray, name: str, lines: _Lines) -> None:
    """Raise on the first row that repeats an id already seen at the same time."""
    order = np.lexsort((np.arange(t.size), ids, t))
    repeat = (t[order][1:] == t[order][:-1]) & (ids[order][1:] == ids[order][:-1])
    if repeat.any():
        row = int(order[1:][repeat].min())
        lines.fail(row, f"{name} {ids[row]} appears twice at time {float(t[row])!r}")


def _stack(cols: dict[str, np.ndarray], *names: str) -> FloatArray:
    return np.column_stack([cols[name] for name in names]).reshape(-1, len(names))


# ----------------------------------------------------------------------------------- writing


def write_truth(path: str | Path, truth: Truth) -> None:
    """Write a truth CSV; floats are written exactly (shortest repr), so reading gives them back."""
    _write(path, TRUTH_COLUMNS, [truth.t, truth.id, *truth.pos.T, *truth.vel.T], {})


def write_tracks(
    path: str | Path, tracks: TrackTable, extra: Mapping[str, np.ndarray] | None = None
) -> None:
    """Write a tracks CSV, with optional extra (N,) columns (e.g. ``class``, ``p_drone``)."""
    columns = [tracks.t, tracks.id, *tracks.pos.T, *tracks.vel.T]
    _write(path, TRACK_COLUMNS, columns, dict(extra or {}))


def write_detections(path: str | Path, detections: DetectionTable) -> None:
    """Write a detections CSV; the ``sigma`` column is written when every sigma is finite.

    Raises ValueError when only some sigmas are NaN (the format has no "unknown sigma").
    """
    columns = [detections.t, *detections.pos.T]
    finite = np.isfinite(detections.sigma)
    if finite.all() and finite.size:
        _write(path, (*DETECTION_COLUMNS, "sigma"), [*columns, detections.sigma], {})
    elif finite.any():
        raise ValueError("some but not all detection sigmas are NaN; cannot write a sigma column")
    else:
        _write(path, DETECTION_COLUMNS, columns, {})


def _write(
    path: str | Path,
    names: tuple[str, ...],
    columns: list[np.ndarray],
    extra: dict[str, np.ndarray],
) -> None:
    n = len(columns[0])
    for name, values in extra.items():
        if name in names or len(values) != n:
            raise ValueError(f"extra column {name!r} clashes with a column or has the wrong length")
    write_columns(Path(path), dict(zip(names, columns, strict=True)) | extra)
