"""Evaluation report: a JSON-ready summary, a rich text table and a PNG plot."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from skywarden.evaluate.gospa import GospaSeries
from skywarden.evaluate.metrics import DEFAULT_ALPHA, DEFAULT_C, DEFAULT_P, Evaluation, evaluate
from skywarden.tables import TrackTable, Truth, read_tracks, read_truth


def _number(value: float) -> float | None:
    """A JSON-safe float (None for NaN/inf)."""
    value = float(value)
    return value if math.isfinite(value) else None


def _stats(values: np.ndarray) -> dict[str, float | None]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"mean": None, "median": None, "max": None}
    return {
        "mean": float(finite.mean()),
        "median": float(np.median(finite)),
        "max": float(finite.max()),
    }


def summary(evaluation: Evaluation, *, detail: bool = False) -> dict[str, Any]:
    """JSON-ready summary of an :class:`Evaluation` (plain dicts, lists, ints, floats, None).

    Keys: ``parameters`` (c, p, alpha, false_track_fraction, assignment), ``counts`` (scans, truths,
    tracks, ...), ``gospa`` (mean distance in m and mean localisation / missed / false
    contributions in m^p, mean missed / false counts), ``id_switches``, ``breaks``,
    ``time_to_confirm_s`` (mean/median/max over truths that were tracked), ``truths_never_tracked``,
    ``false_tracks``, ``mean_coverage``. With ``detail``, also ``per_truth`` and ``per_track``
    lists.
    """
    s, tr, tk = evaluation.series, evaluation.truths, evaluation.tracks

    def mean(values: np.ndarray) -> float | None:
        return _number(values.mean()) if values.size else None

    out: dict[str, Any] = {
        "parameters": {
            "c_m": s.c,
            "p": s.p,
            "alpha": s.alpha,
            "false_track_fraction": evaluation.false_track_fraction,
            "assignment": "sticky" if evaluation.sticky else "gospa",
        },
        "counts": {
            "scans": len(s),
            "truths": int(tr.id.size),
            "tracks": evaluation.n_track_ids,
            "tracks_evaluated": int(tk.id.size),
            "track_times_without_truth": s.unmatched_track_times,
            "track_rows_not_evaluated": evaluation.n_track_rows_not_evaluated,
        },
        "gospa": {
            "mean_distance_m": mean(s.distance),
            "mean_localisation": mean(s.localisation),
            "mean_missed_cost": mean(s.missed_cost),
            "mean_false_cost": mean(s.false_cost),
            "mean_missed": mean(s.missed.astype(float)),
            "mean_false": mean(s.false.astype(float)),
            "parts_unit": "m^p (contributions to distance^p)",
        },
        "id_switches": int(tr.id_switches.sum()),
        "breaks": int(tr.breaks.sum()),
        "time_to_confirm_s": _stats(tr.time_to_confirm),
        "truths_never_tracked": int(np.count_nonzero(np.isnan(tr.time_to_confirm))),
        "false_tracks": int(np.count_nonzero(tk.is_false)),
        "mean_coverage": mean(tr.coverage),
    }
    if detail:
        out["per_truth"] = [
            {
                "id": int(tr.id[i]),
                "time_to_confirm_s": _number(tr.time_to_confirm[i]),
                "id_switches": int(tr.id_switches[i]),
                "breaks": int(tr.breaks[i]),
                "track_ids": int(tr.n_track_ids[i]),
                "coverage": float(tr.coverage[i]),
            }
            for i in range(tr.id.size)
        ]
        out["per_track"] = [
            {
                "id": int(tk.id[i]),
                "rows": int(tk.n_rows[i]),
                "assigned_fraction": float(tk.assigned_fraction[i]),
                "false": bool(tk.is_false[i]),
                "duration_s": float(tk.duration[i]),
            }
            for i in range(tk.id.size)
        ]
    return out


def evaluate_files(
    truth_path: str | Path,
    tracks_path: str | Path,
    *,
    c: float = DEFAULT_C,
    p: float = DEFAULT_P,
    alpha: float = DEFAULT_ALPHA,
    time_tolerance: float = 1e-3,
    false_track_fraction: float = 0.5,
    score_track_only_times: bool = False,
    sticky: bool = True,
    plot_path: str | Path | None = None,
    detail: bool = False,
) -> dict[str, Any]:
    """Read a truth CSV and a tracks CSV, evaluate, optionally write the PNG; return the summary.

    What ``skywarden evaluate --truth T --tracks K [--json] [--plot P]`` runs. Bad files raise
    :class:`~skywarden.errors.InputError` (file, line, problem). The summary gets ``truth`` and
    ``tracks`` keys with the two paths (and ``plot`` when one was written).
    """
    truth, tracks = read_truth(truth_path), read_tracks(tracks_path)
    evaluation = evaluate(
        truth,
        tracks,
        c,
        p,
        alpha,
        time_tolerance=time_tolerance,
        false_track_fraction=false_track_fraction,
        score_track_only_times=score_track_only_times,
        sticky=sticky,
    )
    result = {"truth": str(truth_path), "tracks": str(tracks_path)}
    result |= summary(evaluation, detail=detail)
    if plot_path is not None:
        plot(truth, tracks, evaluation.series, plot_path, title=Path(tracks_path).name)
        result["plot"] = str(plot_path)
    return result


def _fmt(value: float | None, unit: str = "", digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{unit}"


def print_summary(result: dict[str, Any], console: Console | None = None) -> None:
    """Print a :func:`summary` dict as a rich table."""
    console = console or Console()
    par, cnt, g = result["parameters"], result["counts"], result["gospa"]
    table = Table(
        title=f"Evaluation (GOSPA c={par['c_m']:g} m, p={par['p']:g}, alpha={par['alpha']:g})"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    ttc = result["time_to_confirm_s"]
    rows = [
        ("scans evaluated", str(cnt["scans"])),
        ("truths / tracks", f"{cnt['truths']} / {cnt['tracks']}"),
        ("mean GOSPA", _fmt(g["mean_distance_m"], " m")),
        ("  localisation (m^p)", _fmt(g["mean_localisation"])),
        ("  missed (m^p) / count", f"{_fmt(g['mean_missed_cost'])} / {_fmt(g['mean_missed'])}"),
        ("  false (m^p) / count", f"{_fmt(g['mean_false_cost'])} / {_fmt(g['mean_false'])}"),
        ("ID switches", str(result["id_switches"])),
        ("track breaks", str(result["breaks"])),
        ("time to confirm mean / max", f"{_fmt(ttc['mean'], ' s')} / {_fmt(ttc['max'], ' s')}"),
        ("truths never tracked", str(result["truths_never_tracked"])),
        ("false tracks", str(result["false_tracks"])),
        ("mean coverage", _fmt(result["mean_coverage"], digits=3)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    if cnt["track_rows_not_evaluated"]:
        console.print(
            f"[yellow]{cnt['track_times_without_truth']} track time(s) had no truth time and "
            f"were not evaluated ({cnt['track_rows_not_evaluated']} rows).[/yellow]"
        )


def _paths(ids: np.ndarray, t: np.ndarray, xy: np.ndarray) -> list[np.ndarray]:
    """Split (N, 2) points into one time-ordered (n_i, 2) path per id."""
    order = np.lexsort((t, ids))
    ids, xy = ids[order], xy[order]
    cuts = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    return [p for p in np.split(xy, cuts) if len(p)]


def plot(
    truth: Truth,
    tracks: TrackTable,
    gospa_series: GospaSeries,
    path_png: str | Path,
    title: str | None = None,
) -> None:
    """Write a PNG: plan view (east-north) of truth and track paths, and GOSPA over time."""
    # A bare Figure with the Agg canvas: no pyplot, no global backend switch.
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    fig = Figure(figsize=(14, 7), layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 2, width_ratios=(1.1, 1))
    plan, top = fig.add_subplot(grid[:, 0]), fig.add_subplot(grid[0, 1])
    bottom = fig.add_subplot(grid[1, 1], sharex=top)

    everything = np.concatenate((truth.pos[:, :2], tracks.pos[:, :2]))
    span = np.ptp(everything, axis=0).max() if everything.size else 0.0
    scale, unit = (1000.0, "km") if span > 5000 else (1.0, "m")
    truth_paths = _paths(truth.id, truth.t, truth.pos[:, :2] / scale)
    track_paths = _paths(tracks.id, tracks.t, tracks.pos[:, :2] / scale)
    if truth_paths:
        plan.add_collection(
            LineCollection(truth_paths, colors="0.25", linewidths=2.5, alpha=0.5, label="truth")
        )
    if track_paths:
        colours = colormaps["tab10"](np.arange(len(track_paths)) % 10)
        plan.add_collection(
            LineCollection(track_paths, colors=colours, linewidths=1.2, label="track (colour = id)")
        )
        ends = np.array([p[-1] for p in track_paths])
        plan.scatter(ends[:, 0], ends[:, 1], marker="x", s=25, c=colours, label="track end")
    if truth_paths:
        starts = np.array([p[0] for p in truth_paths])
        plan.scatter(starts[:, 0], starts[:, 1], marker="o", s=18, c="0.25", label="truth start")
    plan.autoscale()
    plan.set_aspect("equal", adjustable="datalim")
    plan.set(xlabel=f"east ({unit})", ylabel=f"north ({unit})", title="Plan view")
    plan.grid(alpha=0.3)
    if truth_paths or track_paths:
        plan.legend(loc="best")

    s = gospa_series
    t0 = float(s.t[0]) if len(s) else 0.0
    t = s.t - t0
    top.plot(t, s.distance, color="black", linewidth=1.2, label="GOSPA distance")
    top.set(ylabel="GOSPA (m)", title=f"GOSPA (c={s.c:g} m, p={s.p:g}, alpha={s.alpha:g})")
    top.grid(alpha=0.3)
    top.legend(loc="upper right")
    bottom.stackplot(
        t,
        s.localisation,
        s.missed_cost,
        s.false_cost,
        labels=("localisation", "missed", "false"),
        colors=("tab:blue", "tab:orange", "tab:red"),
        alpha=0.8,
    )
    power = "m" if s.p == 1 else f"m^{s.p:g}"
    bottom.set(
        xlabel=f"time (s) since t0 = {t0:.3f} s", ylabel=f"contribution to GOSPA^p ({power})"
    )
    bottom.grid(alpha=0.3)
    bottom.legend(loc="upper right")
    if title:
        fig.suptitle(title)
    fig.savefig(path_png, dpi=100)
