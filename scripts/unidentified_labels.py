"""Every drone or unknown label on a track without an identity, with its reasons.

    .venv/bin/python scripts/unidentified_labels.py RECORDING [--date YYYY-MM-DD] [--json]

The recording goes through the tracker and the per-scan classifier as in ``skywarden track
--classify``. For every confirmed track that never had an identity of the target (no ICAO
address, no Remote ID; an upstream system-track number says nothing about what the target
is, so such tracks are listed, with their number) and was labelled ``drone`` or ``unknown``
on at least one scan, it prints one line: the track, how many scans it was labelled drone /
unknown / anything, its time span, median speed and height above the ellipsoid, the rows of
the evidence table that applied (:data:`skywarden.classify.identity.EVIDENCE_TABLE`, e.g.
``ssr_reply`` for a Mode A/C reply the radar measured, ``none`` for a primary-only plot),
the mean class probabilities over those scans and the model's three features that pushed
hardest towards its class at the last such scan. Tracks with an identity are left out: the
evidence table decides those (tests/test_cli_recordings.py checks that none with an ICAO
address is labelled drone on the Barcelona recording).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from skywarden.classify import classify_tracks, new_classifier_state
from skywarden.classify.identity import ROW_NAMES, evidence_rows
from skywarden.config import tracker_params
from skywarden.detections import identity_kind
from skywarden.sources.recordings.recording import (
    RecordingOptions,
    parse_date,
    plan_scans,
    read_recording,
    scan_batches,
)
from skywarden.track.run import run_tracker
from skywarden.track.tracks import Tracks

LABELS = ("drone", "unknown")


@dataclass
class TrackLabels:
    """What one track was labelled, scan by scan (only its drone/unknown scans kept)."""

    scans: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    t: list[float] = field(default_factory=list)
    speed: list[float] = field(default_factory=list)
    enu: list[np.ndarray] = field(default_factory=list)
    p: list[np.ndarray] = field(default_factory=list)
    evidence: Counter[str] = field(default_factory=Counter)
    reasons: list[str] = field(default_factory=list)
    had_identity: bool = False
    upstream: str = ""


def collect(path: Path, options: RecordingOptions) -> tuple[dict[int, TrackLabels], object]:
    """Track and classify the recording; the per-track label record and the recording."""
    rec = read_recording(path, None, options)
    plan = plan_scans(rec.revisit_s)
    params = tracker_params(dict(plan.tracker_settings()), "recording")
    state = new_classifier_state()
    out: dict[int, TrackLabels] = defaultdict(TrackLabels)

    def on_scan(_n: int, tracks: Tracks) -> None:
        nonlocal state
        state, result = classify_tracks(state, tracks, n_top=3)
        rows = evidence_rows(tracks.identity, tracks.evidence)
        for i in np.flatnonzero(tracks.confirmed):
            entry = out[int(tracks.id[i])]
            entry.scans += 1
            kind = identity_kind(int(tracks.identity[i]))
            entry.had_identity |= kind in ("icao", "remote_id")
            if kind == "track_number" and not entry.upstream:
                entry.upstream = rec.identity_label(tracks.identity[i : i + 1])[0]
            label = str(result.label[i])
            if label not in LABELS:
                continue
            entry.labels[label] += 1
            entry.t.append(float(tracks.t))
            entry.speed.append(float(np.hypot(*tracks.x[i, 3:5])))
            entry.enu.append(tracks.x[i, :3].copy())
            entry.p.append(result.p[i])
            entry.evidence[ROW_NAMES[rows[i]]] += 1
            entry.reasons = [str(n) for n in result.top_features[i]]

    run_tracker(iter(scan_batches(rec.detections, plan)), params, on_scan)
    return {k: v for k, v in out.items() if v.labels and not v.had_identity}, rec


def report(found: dict[int, TrackLabels], rec) -> list[dict]:
    """One JSON-ready row per track, most drone scans first."""
    rows = []
    for track_id, e in found.items():
        _, _, alt = rec.frame.enu_to_geodetic(np.array(e.enu))
        p = np.mean(e.p, axis=0)
        rows.append(
            {
                "track": track_id,
                "upstream": e.upstream,
                "drone_scans": e.labels["drone"],
                "unknown_scans": e.labels["unknown"],
                "scans": e.scans,
                "first": time.strftime("%H:%M:%S", time.gmtime(min(e.t))),
                "last": time.strftime("%H:%M:%S", time.gmtime(max(e.t))),
                "speed_mps": round(float(np.median(e.speed)), 1),
                "alt_m": round(float(np.median(alt)), 0),
                "evidence": dict(e.evidence),
                "p": {k: round(float(v), 3) for k, v in zip(("drone", "bird", "aircraft",
                                                               "unknown"), p, strict=True)},
                "top_features": e.reasons,
            }
        )  # fmt: skip
    return sorted(rows, key=lambda r: (-r["drone_scans"], -r["unknown_scans"], r["track"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recording", type=Path)
    parser.add_argument("--date", help="YYYY-MM-DD for raw ASTERIX blocks (times of day)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    options = RecordingOptions(date_t=parse_date(args.date) if args.date else None)
    found, rec = collect(args.recording, options)
    rows = report(found, rec)
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{len(rows)} tracks without identity labelled drone or unknown on some scan")
    print("track  drone unknown  scans  first-last         speed  alt_m  evidence; p; reasons")
    print("       (upstream track number, if any, after the reasons)")
    for r in rows:
        ev = ",".join(f"{k}:{v}" for k, v in r["evidence"].items())
        p = " ".join(f"{k[0]}{v:.2f}" for k, v in r["p"].items())
        print(
            f"{r['track']:5d} {r['drone_scans']:6d} {r['unknown_scans']:7d} {r['scans']:6d}  "
            f"{r['first']}-{r['last']}  {r['speed_mps']:5.1f} {r['alt_m']:6.0f}  "
            f"{ev}; {p}; {', '.join(r['top_features'])} {r['upstream']}"
        )


if __name__ == "__main__":
    main()
