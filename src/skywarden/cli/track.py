"""``skywarden track``: a detections CSV or a recording in, confirmed tracks CSV out."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from skywarden.cli.files import ensure_parent
from skywarden.cli.recordings import add_recording_options, is_recording, read_recording_from_args
from skywarden.errors import InputError

if TYPE_CHECKING:  # numpy and the stages load in the commands that use them (fast --help)
    import numpy as np

    from skywarden.detections import Detections
    from skywarden.tables import DetectionTable
    from skywarden.track.kernel_choice import KernelChoice
    from skywarden.track.params import TrackerParams

log = logging.getLogger(__name__)

MIN_SIGMA_M = 0.01  # a sigma of 0 in a file would make the measurement covariance singular


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the ``track`` command."""
    trk = sub.add_parser(
        "track", help="track a detections CSV or a recording, write confirmed tracks CSV"
    )
    trk.add_argument(
        "detections",
        type=Path,
        help="CSV with columns t,x,y,z[,sigma], or a recording (pcap/pcapng, .ast, Beast, SBS)",
    )
    trk.add_argument("--out", type=Path, required=True, help="tracks CSV to write")
    add_tracker_options(trk)
    add_recording_options(trk)
    trk.set_defaults(run=cmd_track)

    trk.add_argument(
        "--kernels",
        choices=["auto", "numpy", "compiled"],
        default="auto",
        help="tracker path: NumPy, or compiled kernels (~10 ms to load when built ahead of"
        " time by ./quickstart, else numba's JIT, ~0.5 s); auto (default) takes them only for"
        " a run long enough to repay the load",
    )
    trk.add_argument(
        "--classify",
        action="store_true",
        help="add class, p_drone, p_bird, p_aircraft, behaviour columns",
    )


def add_tracker_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="TOML file with a [tracker] table")
    p.add_argument("--sigma", type=float, help="1-sigma position noise (m) where no column")
    p.add_argument("--pd", type=float, help="detection probability (0..1)")
    p.add_argument("--clutter-density", type=float, help="false detections per m^3 per scan")
    p.add_argument("--models", choices=["imm", "cv"], help="motion models (default imm)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _tracker_params_from(args: argparse.Namespace, base: dict[str, object] | None = None):
    from skywarden.config import read_toml, tracker_params

    values: dict[str, object] = dict(base or {})
    source = "command line"
    if args.config is not None:
        table = read_toml(args.config)
        values.update(table.get("tracker", {}))
        source = str(args.config)
    overrides = {
        "default_sigma": args.sigma,
        "pd": args.pd,
        "clutter_density": args.clutter_density,
        "models": args.models,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return tracker_params(values, source)


def detection_scans(
    table: DetectionTable, default_sigma: float
) -> Iterator[tuple[float, Detections]]:
    """One Detections batch per distinct time of a detections table (time-sorted), each in
    east order, so the tracker needs no sort or copy of it (step.in_canonical_order).

    The columns of every batch are built once for the whole table, vectorised; a batch holds
    views of their rows (a scan's rows are contiguous after the sort by time, then east)."""
    import numpy as np

    from skywarden.detections import NO_IDENTITY, Detections, SourceKind
    from skywarden.tables import DetectionTable, scans

    order = np.lexsort((table.pos[:, 0], table.t))  # stable: time order kept (scans needs it)
    t, pos = table.t[order], np.ascontiguousarray(table.pos[order], dtype=np.float64)
    sigma = table.sigma[order]
    sigma = np.where(np.isnan(sigma), default_sigma, np.maximum(sigma, MIN_SIGMA_M))
    n = t.shape[0]
    R = _isotropic(sigma)
    v = np.full((n, 3), np.nan)
    sensor, kind = np.zeros(n, np.int32), np.full(n, int(SourceKind.RADAR), np.int8)
    identity, rcs = np.full(n, NO_IDENTITY, np.int64), np.full(n, np.nan)
    evidence = np.zeros(n, np.int32)
    for time, rows in scans(DetectionTable(t, pos, sigma)):
        yield (
            time,
            Detections(
                t[rows],
                pos[rows],
                R[rows],
                v[rows],
                sensor[rows],
                kind[rows],
                identity[rows],
                rcs[rows],
                evidence[rows],
            ),
        )


def _isotropic(sigma: np.ndarray) -> np.ndarray:
    """(N, 3, 3) covariances sigma^2 I, m^2, for 1-sigma noise sigma (N,) m."""
    import numpy as np

    return np.eye(3)[None, :, :] * (sigma**2)[:, None, None]


def cmd_track(args: argparse.Namespace) -> int:
    import numpy as np

    from skywarden.tables import TrackTable, read_detections, write_tracks

    if is_recording(args):
        return _cmd_track_recording(args)
    params = _tracker_params_from(args)
    table = read_detections(args.detections)
    n_scans = int(np.count_nonzero(np.diff(table.t))) + (len(table) > 0)  # t is sorted
    params, kernels = _with_kernels(params, args, n_scans, len(table))
    classifier = _scan_classifier(args)
    history = _run_with_progress(
        detection_scans(table, params.default_sigma), params, n_scans, quiet=args.quiet,
        on_scan=classifier,
    )  # fmt: skip
    out = TrackTable(t=history.t, id=history.id, pos=history.x[:, :3], vel=history.x[:, 3:])
    ensure_parent(args.out)
    write_tracks(args.out, out, extra=classifier.columns() if classifier else None)
    if not args.quiet:
        print(
            f"{len(table)} detections in {n_scans} scans -> {np.unique(history.id).size} "
            f"confirmed tracks, {len(history)} rows in {args.out}; {kernels.name} tracker "
            f"({kernels.reason})"
        )
    return 0


def _with_kernels(
    params: TrackerParams, args: argparse.Namespace, n_scans: int, n_detections: int
) -> tuple[TrackerParams, KernelChoice]:
    """params with the tracker path of ``--kernels`` (auto: by the expected tracking time,
    :func:`skywarden.track.kernel_choice.choose_kernels`), and the choice (logged)."""
    from dataclasses import replace

    from skywarden.track.kernel_choice import choose_kernels

    kernels = choose_kernels(n_scans, n_detections, getattr(args, "kernels", "auto"))
    log.info("track: %s tracker (%s)", kernels.name, kernels.reason)
    return replace(params, compiled_kernels=kernels.compiled), kernels


def _scan_classifier(args: argparse.Namespace):
    """The per-scan classifier collecting the --classify columns, or None."""
    if not getattr(args, "classify", False):
        return None
    from skywarden.classify import ScanClassifier

    return ScanClassifier()


def _run_with_progress(scan_iter, params, n_scans: int, *, quiet: bool, on_scan=None):
    from skywarden.track.run import run_tracker

    if quiet or n_scans < 50:
        history, _ = run_tracker(scan_iter, params, on_scan)
        return history
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("tracking", total=n_scans)

        def advance(n: int, tracks) -> None:
            progress.advance(task)
            if on_scan is not None:
                on_scan(n, tracks)

        history, _ = run_tracker(scan_iter, params, advance)
    return history


def _cmd_track_recording(args: argparse.Namespace) -> int:
    import numpy as np

    from skywarden.sources.recordings.recording import plan_scans, scan_batches
    from skywarden.tables import TrackTable, write_tracks

    rec = read_recording_from_args(args, args.detections)
    if len(rec.detections) == 0:
        raise InputError(
            "no positions to track (see: skywarden inspect FILE)", path=str(args.detections)
        )
    plan = plan_scans(rec.revisit_s)
    params = _tracker_params_from(args, base=plan.tracker_settings())
    batches = scan_batches(rec.detections, plan)
    params, kernels = _with_kernels(params, args, len(batches), len(rec.detections))
    identities: list[np.ndarray] = []
    classifier = _scan_classifier(args)

    def on_scan(n: int, tracks) -> None:
        identities.append(tracks.identity[tracks.confirmed])
        if classifier is not None:
            classifier(n, tracks)

    history = _run_with_progress(iter(batches), params, len(batches), quiet=args.quiet,
                                 on_scan=on_scan)  # fmt: skip
    keys = np.concatenate(identities) if identities else np.zeros(0, np.int64)
    unique, inverse = np.unique(keys, return_inverse=True)
    labels = np.asarray(rec.identity_label(unique) or [""], dtype=object)[inverse]
    out = TrackTable(t=history.t, id=history.id, pos=history.x[:, :3], vel=history.x[:, 3:])
    ensure_parent(args.out)
    _, _, alt_m = rec.frame.enu_to_geodetic(history.x[:, :3])  # a frame: it has detections
    extra = {"alt_m": alt_m, "identity": labels}
    if classifier is not None:
        extra.update(classifier.columns())
    write_tracks(args.out, out, extra=extra)
    if not args.quiet:
        n_tracks = np.unique(history.id).size
        print(
            f"{len(rec.detections)} detections ({rec.inventory.format}) in {len(batches)} scans "
            f"of {plan.period_s:.3g} s (revisit {rec.revisit_s:.3g} s) -> {n_tracks} confirmed "
            f"tracks, {np.unique(unique[unique >= 0]).size} identities, {len(history)} rows "
            f"in {args.out}; {kernels.name} tracker ({kernels.reason})"
        )
    return 0
