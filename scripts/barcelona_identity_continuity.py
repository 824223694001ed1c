"""Track the real Barcelona CAT048 hour end to end and report how Mode-S addresses map to tracks.

    .venv/bin/python scripts/barcelona_identity_continuity.py [--shared ../shared/data]
        [--minutes 60] [--out out/barcelona_tracks.csv]

Runs ``skywarden track <the .ast file> --date 2023-05-02`` in-process (the recording is
read from ../shared/data, never copied), then reads the tracks CSV back and checks, using
the ``identity`` column:

- no Mode-S address is on two confirmed tracks at the same scan time;
- no track changes its address;
- per address: on exactly one track number for the whole hour, or on several because the
  track was deleted and re-created; each re-creation is "after a gap" when the radar sent no
  plot of that address for longer than the tracker's coasting time (max_coast_s) shortly
  before the old track's deletion or between it and the new track, "unexplained" otherwise.

Prints the numbers and the wall time of the ``track`` command.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import numpy as np

from skywarden.cli import main
from skywarden.detections import icao_of
from skywarden.sources.recordings.recording import (
    RecordingOptions,
    parse_date,
    plan_scans,
    read_recording,
)

ROOT = Path(__file__).resolve().parents[1]
BARCELONA = "upc-pgta-lebl/230502-est-080001_BCN_60MN_08_09.ast"
DATE = "2023-05-02"


def read_identity_rows(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t, track_id, identity label) columns of a tracks CSV with an ``identity`` column."""
    with path.open(newline="") as f:
        rows = [(float(r["t"]), int(r["track_id"]), r["identity"]) for r in csv.DictReader(f)]
    t, ids, labels = zip(*rows, strict=True) if rows else ((), (), ())
    return np.array(t), np.array(ids, dtype=np.int64), np.array(labels, dtype=object)


def continuity(
    t: np.ndarray,
    track_id: np.ndarray,
    label: np.ndarray,
    plot_times: dict[str, np.ndarray],
    max_coast_s: float,
) -> dict[str, object]:
    """Address-to-track statistics (see the module docstring)."""
    has = label != ""
    pairs = {(float(a), str(b)) for a, b in zip(t[has], label[has], strict=True)}
    same_time_clashes = int(has.sum()) - len(pairs)
    labels_per_track: dict[int, set[str]] = {}
    spans: dict[str, dict[int, list[float]]] = {}
    for ti, tid, lab in zip(
        t[has].tolist(), track_id[has].tolist(), label[has].tolist(), strict=True
    ):
        labels_per_track.setdefault(tid, set()).add(lab)
        span = spans.setdefault(lab, {}).setdefault(tid, [ti, ti])
        span[0], span[1] = min(span[0], ti), max(span[1], ti)
    one_track, after_gap, unexplained = 0, 0, 0
    breaks_after_gap = breaks_unexplained = 0
    for lab, tracks in spans.items():
        ordered = sorted(tracks.values())
        if len(ordered) == 1:
            one_track += 1
            continue
        plots = plot_times.get(lab, np.zeros(0))
        explained_all = True
        for (_, end), (start, _) in zip(ordered[:-1], ordered[1:], strict=True):
            # the old track's last row is its deletion, max_coast_s after its last plot
            near = plots[(plots >= end - 2.0 * max_coast_s) & (plots <= start + 1e-6)]
            if near.size < 2 or np.diff(near).max() > max_coast_s:
                breaks_after_gap += 1
            else:
                breaks_unexplained += 1
                explained_all = False
        if explained_all:
            after_gap += 1
        else:
            unexplained += 1
    return {
        "tracks": int(np.unique(track_id).size),
        "tracks_with_address": len(labels_per_track),
        "tracks_that_changed_address": sum(len(v) > 1 for v in labels_per_track.values()),
        "same_time_clashes": same_time_clashes,
        "addresses_in_plots": len(plot_times),
        "addresses_on_tracks": len(spans),
        "addresses_on_one_track": one_track,
        "addresses_reacquired_after_gap": after_gap,
        "addresses_with_unexplained_break": unexplained,
        "breaks_after_gap": breaks_after_gap,
        "breaks_unexplained": breaks_unexplained,
    }


def plot_times_by_address(path: Path, minutes: float) -> tuple[dict[str, np.ndarray], float]:
    """Plot times per ``icao:XXXXXX`` label, and the tracker's coasting time for this file."""
    rec = read_recording(path, options=RecordingOptions(date_t=parse_date(DATE)))
    det = rec.detections
    keep = det.t <= det.t.min() + minutes * 60.0
    out: dict[str, list[float]] = {}
    for key, ti in zip(det.identity[keep].tolist(), det.t[keep].tolist(), strict=True):
        address = icao_of(key) if key >= 0 else None
        if address is not None:
            out.setdefault(f"icao:{address:06X}", []).append(ti)
    coast = float(plan_scans(rec.revisit_s).tracker_settings()["max_coast_s"])
    return {k: np.sort(v) for k, v in out.items()}, coast


def _first_minutes(path: Path, minutes: float, folder: Path) -> Path:
    """A copy of the first ``minutes`` of the recording's blocks in a temporary folder."""
    if minutes >= 60.0:
        return path
    from skywarden.sources.recordings.recording import RecordingOptions as Options
    from skywarden.sources.recordings.recording import read_recording as read

    rec = read(path, options=Options(date_t=parse_date(DATE)))
    chunks = list(rec.chunks())
    t0 = chunks[0][0]
    part = folder / f"first_{minutes:g}_min.ast"
    part.write_bytes(b"".join(b for t, b in chunks if t <= t0 + minutes * 60.0))
    return part


def run(shared: Path, minutes: float, out: Path | None) -> dict[str, object]:
    """Track, read back, analyse; returns the statistics plus the wall time."""
    source = shared / BARCELONA
    with tempfile.TemporaryDirectory() as tmp:
        recording = _first_minutes(source, minutes, Path(tmp))
        tracks_csv = out or Path(tmp) / "tracks.csv"
        start = time.perf_counter()
        status = main(
            ["track", str(recording), "--date", DATE, "--out", str(tracks_csv), "--quiet"]
        )
        wall = time.perf_counter() - start
        if status != 0:
            raise SystemExit(f"skywarden track failed with status {status}")
        t, ids, labels = read_identity_rows(tracks_csv)
    plots, coast = plot_times_by_address(source, minutes)
    stats = continuity(t, ids, labels, plots, coast)
    stats.update({"minutes": minutes, "track_wall_s": round(wall, 2), "max_coast_s": coast})
    return stats


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--out", type=Path, help="keep the tracks CSV here")
    args = parser.parse_args()
    for key, value in run(args.shared, args.minutes, args.out).items():
        print(f"{key:36s} {value}")


if __name__ == "__main__":
    _main()
