"""The JSON rows of a snapshot's tracks, built column by column.

:meth:`skywarden.snapshot.TrackArrays.to_json` gives one dict per track. Built track by track
with NumPy scalars (a float() and a Python ``round`` per value, an argsort per summary line, a
finite-mask per trail) that cost ~60 ms at 1,000 tracks (plus ~15 ms of ``json.dumps``), paid
by a site's core for every picture it publishes and by a region node for every regional
picture. Here every column is rounded with NumPy and turned into Python values once
(``tolist``), masks and the summary lines' class orders are computed for all tracks at once,
and the per-track work is only the dict itself. The rows are those the per-track code gave,
except that NumPy's rounding may differ from Python's exact ``round`` by one unit of the last
digit at a near-halfway value (1e-7 degrees, 0.01 m, ...); tests/test_track_rows.py compares
them with the per-track code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from skywarden.classify.dataset import CLASSES
from skywarden.classify.decision import SUMMARY_MIN_P
from skywarden.evidence import ON_GROUND, evidence_names
from skywarden.units import FloatArray

if TYPE_CHECKING:
    from skywarden.snapshot import TrackArrays

P_KEYS = ("drone", "bird", "aircraft", "unknown")


def track_rows(
    tracks: TrackArrays, class_names: tuple[str, ...], status_names: tuple[str, ...],
    source_kinds: tuple[str, ...],
) -> list[dict[str, Any]]:  # fmt: skip
    """One JSON-ready dict per track (see TrackArrays.to_json for the fields)."""
    n = len(tracks)
    if n == 0:
        return []
    x = np.asarray(tracks.enu, float)
    labels = [class_names[int(k)] for k in tracks.target_class.tolist()]
    reasons = [tuple(r) for r in tracks.reasons] if tracks.reasons is not None else [()] * n
    evidence = tracks.evidence.tolist() if tracks.evidence is not None else None
    names = {e: evidence_names(e) for e in set(evidence)} if evidence is not None else {}
    flags = tracks.flags
    cov = (
        rounded(np.asarray(tracks.cov, float)[:, *np.triu_indices(6)], 3)
        if (tracks.cov is not None)
        else None
    )
    course = np.degrees(np.arctan2(x[:, 3], x[:, 4])) % 360.0
    columns = zip(
        tracks.id.tolist(), rounded(tracks.lat, 7), rounded(tracks.lon, 7),
        rounded(tracks.alt_m, 1), rounded(x, 2), rounded(np.hypot(x[:, 3], x[:, 4]), 2),
        rounded(course, 1), rounded(tracks.sigma_m, 1), tracks.status.tolist(), labels,
        rounded(tracks.p_class, 3), tracks.behaviour, tracks.identity, tracks.callsign,
        rounded(tracks.t_update, 3), points(tracks.trail), points(tracks.predicted),
        last_reports(tracks.sources, source_kinds, n), reasons,
        summary_lines(labels, tracks.p_class, reasons), strict=True,
    )  # fmt: skip
    out = []
    for i, (id_, lat, lon, alt, enu, speed, course_deg, sigma, status, label, p, behaviour,
            identity, callsign, t_update, trail, pred, last, why, summary) in enumerate(
        columns
    ):  # fmt: skip
        ev = evidence[i] if evidence is not None else 0
        row = {
            "id": id_,
            "lat": lat,
            "lon": lon,
            "alt_m": alt,
            "enu": enu,
            "speed_mps": speed,
            "course_deg": course_deg,
            "sigma_m": sigma,
            "status": status_names[status],
            "class": label,
            "p": dict(zip(P_KEYS, p, strict=True)),
            "behaviour": str(behaviour or ""),
            "identity": str(identity or ""),
            "callsign": str(callsign or ""),
            "t_update": t_update,
            "trail": trail,
            "predicted": pred,
            "flags": list(flags[i]) if flags is not None else [],
            "sources": last,
            "on_ground": bool(evidence is not None and ev & ON_GROUND),
            "evidence": [] if evidence is None else list(names[ev]),
            "reasons": list(why),
            "summary": summary,
        }
        if cov is not None:
            row["cov"] = cov[i]
        if tracks.members is not None:
            row["members"] = [{"site": str(site), "track_id": int(track)}
                              for site, track in tracks.members[i]]  # fmt: skip
        out.append(row)
    return out


def rounded(a: FloatArray, digits: int) -> list[Any]:
    """``a`` rounded to ``digits`` decimals as nested lists of Python floats, None for NaN and
    infinities. NumPy's rounding (scale, round half to even, unscale), vectorised: it may
    differ from Python's exact ``round`` in the last digit at a near-halfway value (at most
    one unit of the last digit). Magnitudes whose doubles carry no such decimals are kept as
    they are (as ``round`` does; scaling them could overflow)."""
    x = np.asarray(a, dtype=np.float64)
    r = np.where(np.abs(x) < 2.0**52 / 10.0**digits, np.round(x, digits), x)
    finite = np.isfinite(r)
    if finite.all():
        return r.tolist()
    out = r.astype(object)
    out[~finite] = None
    return out.tolist()


def summary_lines(
    labels: list[str], p_class: FloatArray, reasons: list[tuple[str, ...]]
) -> list[str]:
    """skywarden.classify.decision.summary_line for every track at once: p_class (N, 4)
    [drone, bird, aircraft, unknown], clipped into [0, 1] and rounded to 3 decimals as
    there (the probabilities the picture carries: its words survive a decode)."""
    p = np.nan_to_num(np.asarray(p_class, dtype=np.float64).reshape(-1, len(CLASSES)))
    p = np.round(np.clip(p, 0.0, 1.0), 3)
    order = np.argsort(-p, axis=1, kind="stable").tolist()
    values = p.tolist()
    out = []
    for label, row, ks, why in zip(labels, values, order, reasons, strict=True):
        shown = [f"{CLASSES[k]} {100 * row[k]:.0f} %" for k in ks if row[k] >= SUMMARY_MIN_P]
        text = f"{label}: {' / '.join(shown) or 'no probabilities'}"
        out.append(", ".join([text, *why]))
    return out


def points(a: FloatArray) -> list[list[list[float]]]:
    """(N, L, 3) lat, lon, alt -> per track the rows without NaN padding, rounded for the
    wire (1e-7 degrees, 0.1 m)."""
    a = np.asarray(a, dtype=np.float64)
    ok = np.isfinite(a).all(axis=2)
    r = np.empty_like(a)
    r[..., :2] = np.where(np.abs(a[..., :2]) < 2.0**52 / 1e7, np.round(a[..., :2], 7),
                          a[..., :2])  # fmt: skip
    r[..., 2] = np.where(np.abs(a[..., 2]) < 2.0**52 / 10.0, np.round(a[..., 2], 1), a[..., 2])
    if ok.all():
        return r.tolist()
    return [
        [q for q, keep in zip(rows, oks, strict=True) if keep]
        for rows, oks in zip(r.tolist(), ok.tolist(), strict=True)
    ]


def last_reports(
    sources: FloatArray | None, kinds: tuple[str, ...], n: int
) -> list[dict[str, float]]:
    """Per track {source kind: POSIX s of its last report, 1 ms} (kinds never seen left out)."""
    if sources is None:
        return [{} for _ in range(n)]
    return [
        {k: v for k, v in zip(kinds, row, strict=True) if v is not None}
        for row in rounded(sources, 3)
    ]
