"""The ``skywarden`` command: simulate | track | evaluate | demo | inspect.

Only this module and pipeline.py import every stage. User errors (bad files, bad options)
print one clear line naming the file, line and problem, and exit with status 2; never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from skywarden import __version__
from skywarden.config import read_toml, tracker_params
from skywarden.detections import Detections, make_detections
from skywarden.errors import ConfigError, InputError, SkywardenError
from skywarden.sources.recording_format import (
    HEAD_BYTES,
    RecordingFormat,
    detect_format,
    looks_like_text,
    parse_format,
)
from skywarden.tables import DetectionTable, TrackTable, read_detections, scans

MIN_SIGMA_M = 0.01  # a sigma of 0 in a file would make the measurement covariance singular


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except SkywardenError as exc:
        print(f"skywarden: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("skywarden: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skywarden", description="Drone early warning and airspace surveillance."
    )
    parser.add_argument("--version", action="version", version=f"skywarden {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sim = sub.add_parser("simulate", help="simulate a scenario: truth.csv and detections.csv")
    sim.add_argument("scenario", help="crossing | swarm | mixed | bench | scale-N")
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--out", type=Path, help="output folder (truth.csv, detections.csv)")
    sim.add_argument(
        "--wire",
        action="store_true",
        help="also write the wire bytes real sensors send: radar.pcap (CAT034+CAT048), "
        "adsb_cat021.pcap, adsb.beast, adsb.sbs, remote_id.pcap",
    )
    sim.add_argument(
        "--stream",
        action="store_true",
        help="stream the wire formats live on loopback (UDP 8600 radar, 8601 CAT021, 8602 "
        "Remote ID; TCP 30003 SBS, 30005 Beast) instead of writing files",
    )
    sim.add_argument("--speed", type=float, default=1.0, help="stream speed factor")
    sim.set_defaults(run=_cmd_simulate)

    trk = sub.add_parser(
        "track", help="track a detections CSV or a recording, write confirmed tracks CSV"
    )
    trk.add_argument(
        "detections",
        type=Path,
        help="CSV with columns t,x,y,z[,sigma], or a recording (pcap/pcapng, .ast, Beast, SBS)",
    )
    trk.add_argument("--out", type=Path, required=True, help="tracks CSV to write")
    _add_tracker_options(trk)
    _add_recording_options(trk)
    trk.set_defaults(run=_cmd_track)

    trk.add_argument(
        "--classify",
        action="store_true",
        help="add class, p_drone, p_bird, p_aircraft, behaviour columns",
    )

    ins = sub.add_parser("inspect", help="what a recording holds: counts, time, sensors, area")
    ins.add_argument("recording", type=Path, help="pcap/pcapng, .ast, Beast or SBS file")
    ins.add_argument("--json", action="store_true", help="print JSON instead of tables")
    _add_recording_options(ins)
    ins.set_defaults(run=_cmd_inspect)

    ev = sub.add_parser("evaluate", help="GOSPA and track metrics of tracks against truth")
    ev.add_argument("--truth", type=Path)
    ev.add_argument("--tracks", type=Path)
    ev.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ev.add_argument("--plot", type=Path, help="write truth, tracks and GOSPA to this PNG")
    _add_gospa_options(ev)
    ev.set_defaults(run=_cmd_evaluate)

    ev.add_argument(
        "--scenario",
        help="instead of files: run the full pipeline on a simulated scenario "
        "and print the warning metrics (lead time per drone, missed drones, false alerts/h)",
    )
    ev.add_argument("--seed", type=int, default=1)

    evc = sub.add_parser(
        "evaluate-classifier",
        help="confusion matrix, balanced accuracy, calibration (ECE) and a reliability diagram",
    )
    evc.add_argument("--data", type=Path, default=_default_shared_data(), help="../shared/data")
    evc.add_argument("--plot", type=Path, default=Path("out/reliability.png"))
    evc.add_argument("--json", action="store_true")
    evc.set_defaults(run=_cmd_evaluate_classifier)

    run = sub.add_parser("run", help="run the service for a site (TOML configuration)")
    run.add_argument("site", type=Path, help="site configuration TOML")
    run.set_defaults(run=_cmd_run)

    demo = sub.add_parser(
        "demo",
        help="a simulated site under a drone swarm, streamed over loopback through the whole "
        "service; map on http://127.0.0.1:8080",
    )
    demo.add_argument("--scenario", default="swarm")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--out", type=Path, default=Path("out/demo"))
    demo.add_argument("--port", type=int, default=8080, help="map / API port")
    demo.add_argument("--once", action="store_true", help="exit when the scenario ends")
    demo.add_argument(
        "--cooperative-drones", action="store_true", help="drones broadcast Remote ID"
    )
    demo.set_defaults(run=_cmd_demo)

    offline = sub.add_parser(
        "offline-demo", help="simulate, track and evaluate a scenario from files (no sockets)"
    )
    offline.add_argument("--scenario", default="mixed")
    offline.add_argument("--seed", type=int, default=1)
    offline.add_argument("--out", type=Path, default=Path("out/offline-demo"))
    offline.set_defaults(run=_cmd_offline_demo)

    rep = sub.add_parser(
        "replay",
        help="re-run recorded raw inputs through the current tracker and rules; "
        "print the difference in alerts",
    )
    rep.add_argument("history", type=Path, help="history .duckdb file")
    rep.add_argument("--json", action="store_true")
    rep.set_defaults(run=_cmd_replay)

    exp = sub.add_parser("export", help="GeoJSON or CSV of tracks and alerts for a time window")
    exp.add_argument("history", type=Path, help="history .duckdb file")
    exp.add_argument("--out", type=Path, required=True)
    exp.add_argument("--format", choices=["geojson", "csv"], default="geojson")
    exp.add_argument("--from", dest="t0", help="start (ISO 8601 or POSIX s; default: all)")
    exp.add_argument("--to", dest="t1", help="end (ISO 8601 or POSIX s; default: all)")
    exp.set_defaults(run=_cmd_export)
    return parser


def _add_tracker_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="TOML file with a [tracker] table")
    p.add_argument("--sigma", type=float, help="1-sigma position noise (m) where no column")
    p.add_argument("--pd", type=float, help="detection probability (0..1)")
    p.add_argument("--clutter-density", type=float, help="false detections per m^3 per scan")
    p.add_argument("--models", choices=["imm", "cv"], help="motion models (default imm)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_recording_options(p: argparse.ArgumentParser) -> None:
    formats = ", ".join(f.value for f in RecordingFormat)
    p.add_argument("--format", help=f"recording format ({formats}); default: detected")
    p.add_argument(
        "--date", help="UTC day of a raw .ast recording (YYYY-MM-DD; default 1970-01-01)"
    )
    p.add_argument("--origin", help="site frame origin LAT,LON[,H] (default: radar or first fix)")
    p.add_argument(
        "--radar", help="radar position LAT,LON[,H] for every CAT048 source without CAT034"
    )
    p.add_argument(
        "--radar-rcs-calibration",
        type=float,
        metavar="DBM",
        help="I048/130 primary amplitude (dBm) of a 1 m^2 target at 1 km: plots then carry an "
        "RCS for the classifier (default: none; an uncalibrated amplitude is not used)",
    )


def _add_gospa_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--c", type=float, default=50.0, help="GOSPA cut-off distance, m")
    p.add_argument("--p", type=float, default=2.0, help="GOSPA order")
    p.add_argument("--alpha", type=float, default=2.0, help="GOSPA alpha (2 splits the parts)")


def _tracker_params_from(args: argparse.Namespace, base: dict[str, object] | None = None):
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
    """One Detections batch per distinct time of a detections table."""
    sigma = np.where(np.isnan(table.sigma), default_sigma, np.maximum(table.sigma, MIN_SIGMA_M))
    for t, rows in scans(table):
        yield t, make_detections(t, table.pos[rows], _isotropic(sigma[rows]))


def _isotropic(sigma: np.ndarray) -> np.ndarray:
    return np.eye(3)[None, :, :] * (sigma**2)[:, None, None]


def _cmd_track(args: argparse.Namespace) -> int:
    from skywarden.tables import write_tracks

    if _is_recording(args):
        return _cmd_track_recording(args)
    params = _tracker_params_from(args)
    table = read_detections(args.detections)
    n_scans = int(np.unique(table.t).size)
    classifier = _scan_classifier(args)
    history = _run_with_progress(
        detection_scans(table, params.default_sigma), params, n_scans, quiet=args.quiet,
        on_scan=classifier,
    )  # fmt: skip
    out = TrackTable(t=history.t, id=history.id, pos=history.x[:, :3], vel=history.x[:, 3:])
    _parent(args.out)
    write_tracks(args.out, out, extra=classifier.columns() if classifier else None)
    if not args.quiet:
        print(
            f"{len(table)} detections in {n_scans} scans -> {np.unique(history.id).size} "
            f"confirmed tracks, {len(history)} rows in {args.out}"
        )
    return 0


def _scan_classifier(args: argparse.Namespace):
    """The per-scan classifier collecting the --classify columns, or None."""
    if not getattr(args, "classify", False):
        return None
    from skywarden.classify import ScanClassifier

    return ScanClassifier()


def _run_with_progress(scan_iter, params, n_scans: int, *, quiet: bool, on_scan=None):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from skywarden.track.run import run_tracker

    if quiet or n_scans < 50:
        history, _ = run_tracker(scan_iter, params, on_scan)
        return history
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


# ------------------------------------------------------------------------------- recordings


def _is_recording(args: argparse.Namespace) -> bool:
    """A recording unless it reads as text that no recording format claims (a CSV)."""
    if getattr(args, "format", None):
        return True
    try:
        with Path(args.detections).open("rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError:
        return False  # the CSV reader names the problem, as before
    try:
        detect_format(head, str(args.detections), Path(args.detections).stat().st_size)
    except InputError:
        return not looks_like_text(head)
    return True


def _read_recording(args: argparse.Namespace, path: Path):
    """The recording named on the command line (imports the decoders only when needed)."""
    from skywarden.sources.asterix_detections import RadarSite
    from skywarden.sources.recordings import (
        RecordingOptions,
        parse_date,
        parse_position,
        read_recording,
    )

    radar = None
    if args.radar:
        radar = RadarSite(*parse_position(args.radar, "--radar"))
    options = RecordingOptions(
        date_t=parse_date(args.date) if args.date else None,
        origin=parse_position(args.origin, "--origin") if args.origin else None,
        radar=radar,
        radar_rcs_calibration_dbm=args.radar_rcs_calibration,
    )
    fmt = parse_format(args.format) if args.format else None
    return read_recording(path, fmt, options)


def _cmd_track_recording(args: argparse.Namespace) -> int:
    from skywarden.sources.recordings import plan_scans, scan_batches
    from skywarden.tables import write_tracks

    rec = _read_recording(args, args.detections)
    if len(rec.detections) == 0:
        raise InputError(
            "no positions to track (see: skywarden inspect FILE)", path=str(args.detections)
        )
    plan = plan_scans(rec.revisit_s)
    params = _tracker_params_from(args, base=plan.tracker_settings())
    batches = scan_batches(rec.detections, plan)
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
    _parent(args.out)
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
            f"in {args.out}"
        )
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    inventory = _read_recording(args, args.recording).inventory
    if args.json:
        print(json.dumps(inventory.as_dict(), indent=2))
    else:
        _print_inventory(inventory.as_dict())
    return 0


def _print_inventory(data: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    span = data["time"]["span_s"]
    head = Table(title=f"{data['path']}", show_header=False)
    rows = [
        ("format", data["format"]),
        ("size", f"{data['size_bytes']:,} bytes"),
        ("first", data["time"]["first"] or "-"),
        ("last", data["time"]["last"] or "-"),
        ("span", "-" if span is None else f"{span:,.1f} s"),
        ("sensors (SAC/SIC)", ", ".join(data["sensors"]) or "-"),
        (
            "ICAO addresses",
            f"{data['icao_count']}: "
            + " ".join(data["icao"][:12])
            + (" ..." if data["icao_count"] > 12 else ""),
        ),
        ("Mode 3/A codes", _listing(data["mode3a_count"], data["mode3a"])),
        ("callsigns", _listing(data["callsign_count"], data["callsigns"])),
        ("Remote ID", ", ".join(data["remote_ids"]) or "-"),
        ("positions", f"{data['positions']:,}"),
        ("revisit", "-" if data["revisit_s"] is None else f"{data['revisit_s']:.3g} s"),
    ]
    if data["bbox"]:
        b = data["bbox"]
        rows.append(
            (
                "area",
                f"lat {b['lat_min']:.4f} .. {b['lat_max']:.4f}, "
                f"lon {b['lon_min']:.4f} .. {b['lon_max']:.4f}",
            )
        )
    for r in data["radars"]:
        rows.append(
            (
                f"radar {r['sensor']}",
                f"{r['lat_deg']:.6f}, {r['lon_deg']:.6f}, {r['h_m']:.1f} m ({r['source']})",
            )
        )
    if data["frame"]:
        f = data["frame"]
        rows.append(
            (
                "site origin",
                f"{f['lat_deg']:.6f}, {f['lon_deg']:.6f}, {f['h_m']:.1f} m ({f['source']})",
            )
        )
    for name, value in rows:
        head.add_row(name, str(value))
    console.print(head)
    for title, counts in (
        ("units", data["units"]),
        ("records", data["records"]),
        ("rejects", data["rejects"]),
    ):
        table = Table(title=title)
        table.add_column("kind")
        table.add_column("count", justify="right")
        for name, n in counts.items():
            table.add_row(name, f"{n:,}")
        if counts:
            console.print(table)
    for note in data["notes"]:
        console.print(f"note: {note}")


def _listing(count: int, items: list[str], shown: int = 12) -> str:
    """'N: a b c ...' for the inventory table."""
    return f"{count}: " + " ".join(items[:shown]) + (" ..." if count > shown else "")


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from skywarden.evaluate.metrics import evaluate
    from skywarden.evaluate.report import plot, print_summary, summary
    from skywarden.tables import read_tracks, read_truth

    if getattr(args, "scenario", None):
        return _evaluate_scenario_warnings(args)
    if args.truth is None or args.tracks is None:
        raise ConfigError("evaluate needs --truth and --tracks (or --scenario NAME)")
    truth = read_truth(args.truth)
    tracks = read_tracks(args.tracks)
    result = evaluate(truth, tracks, c=args.c, p=args.p, alpha=args.alpha)
    data = summary(result)
    if args.plot is not None:
        _parent(args.plot)
        plot(truth, tracks, result.series, args.plot)
        data["plot"] = str(args.plot)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print_summary(data)
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from skywarden.simulate import build_scenario

    scenario = build_scenario(args.scenario, args.seed)
    if args.stream:
        return _stream_scenario(scenario, args.speed)
    if args.out is None:
        raise ConfigError("--out is required (or --stream)")
    _write_scenario(scenario, args.out)
    if args.wire:
        from skywarden.simulate.emit import write_scenario_recordings
        from skywarden.simulate.emit_site import SiteSetup, write_wire_site_config

        setup = SiteSetup()
        paths = write_scenario_recordings(scenario, setup, args.out)
        site = write_wire_site_config(scenario, setup, paths, args.out)
        print("wire formats: " + ", ".join(p.name for p in paths.values()) + f"; {site.name}")
    return 0


def _write_scenario(scenario, out: Path) -> None:
    from skywarden.tables import Truth, write_detections, write_truth

    out.mkdir(parents=True, exist_ok=True)
    s = scenario.truth_state
    write_truth(
        out / "truth.csv",
        Truth(t=scenario.truth_t, id=scenario.truth_id, pos=s[:, :3], vel=s[:, 3:]),
    )
    write_detections(
        out / "detections.csv",
        DetectionTable(t=scenario.det_t, pos=scenario.det_z, sigma=scenario.det_sigma),
    )
    print(
        f"{scenario.name} (seed {scenario.seed}): {scenario.n_targets} targets, "
        f"{scenario.times.size} scans, {scenario.det_t.size} detections -> {out}"
    )


def _stream_scenario(scenario, speed: float) -> int:
    import asyncio
    import math
    import time

    from skywarden.simulate.emit import LivePorts, stream_scenario
    from skywarden.simulate.emit_site import SiteSetup

    setup = SiteSetup(start_posix=math.floor(time.time()) + 1.0)
    ports = LivePorts(remote_id_udp=8602)
    print(
        f"streaming {scenario.name} on 127.0.0.1: UDP {ports.radar_udp} radar (CAT034/048), "
        f"{ports.adsb_cat021_udp} CAT021, {ports.remote_id_udp} Remote ID; TCP {ports.sbs_tcp} "
        f"SBS, {ports.beast_tcp} Beast; speed {speed}x"
    )
    counters = asyncio.run(stream_scenario(scenario, setup, ports, speed=speed))
    for name, c in counters.items():
        print(f"{name}: {c.as_dict()}")
    return 0


def _evaluate_scenario_warnings(args: argparse.Namespace) -> int:
    from skywarden.evaluate.warning import evaluate_scenario_warnings, print_warning_report

    report = evaluate_scenario_warnings(args.scenario, args.seed)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print_warning_report(report)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from skywarden.service import build_service, serve
    from skywarden.site_config import load_site_config

    config = load_site_config(args.site)
    service = build_service(config)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, service.stop.set)
        print(
            f"skywarden: {config.name}: {len(config.sensors)} sensors, "
            f"{len(service.pipeline.zones)} zones; map on "
            f"http://{config.bind_host}:{config.bind_port}/"
        )
        await serve(service)

    asyncio.run(main())
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    import asyncio

    from skywarden.demo import DemoPorts, run_demo

    asyncio.run(
        run_demo(
            args.scenario, args.seed, out=args.out, ports=DemoPorts(http=args.port),
            once=args.once, cooperative_drones=args.cooperative_drones,
        )
    )  # fmt: skip
    return 0


def _cmd_offline_demo(args: argparse.Namespace) -> int:
    from skywarden.simulate import build_scenario

    out: Path = args.out
    _write_scenario(build_scenario(args.scenario, args.seed), out)
    trk = argparse.Namespace(
        detections=out / "detections.csv", out=out / "tracks.csv", config=None, sigma=None,
        pd=None, clutter_density=None, models=None, quiet=False, format=None, classify=False,
    )  # fmt: skip
    _cmd_track(trk)
    ev = argparse.Namespace(
        truth=out / "truth.csv", tracks=out / "tracks.csv", json=False,
        plot=out / "evaluation.png", c=50.0, p=2.0, alpha=2.0, scenario=None,
    )  # fmt: skip
    _cmd_evaluate(ev)
    print(f"plot: {out / 'evaluation.png'}")
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    from skywarden.service import replay_history

    _require_file(args.history)
    diff = replay_history(args.history)
    print(json.dumps(diff.to_json(), indent=2) if args.json else diff.format())
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    import math

    from skywarden.store.export import export

    _require_file(args.history)
    t0 = _parse_time(args.t0, -math.inf, "--from")
    t1 = _parse_time(args.t1, math.inf, "--to")
    for path in export(args.history, t0, t1, args.out, fmt=args.format):
        print(path)
    return 0


def _parse_time(text: str | None, default: float, option: str) -> float:
    from datetime import datetime

    if text is None:
        return default
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ConfigError(f"{option}: use ISO 8601 or POSIX seconds, not {text!r}") from None


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise InputError("no such file", path=str(path))


def _cmd_evaluate_classifier(args: argparse.Namespace) -> int:
    from skywarden.classify.evaluation import evaluate_classifier, format_report

    if not args.data.is_dir():
        raise InputError(
            "the real recordings folder (../shared/data) is missing", path=str(args.data)
        )
    _parent(args.plot)
    report = evaluate_classifier(args.plot, args.data)
    print(json.dumps(report, indent=2, default=str) if args.json else format_report(report))
    return 0


def _default_shared_data() -> Path:
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def _parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create folder: {exc.strerror}", path=str(path.parent)) from None


if __name__ == "__main__":
    raise SystemExit(main())
