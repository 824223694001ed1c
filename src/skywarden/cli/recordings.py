"""``skywarden inspect``, and the recording options and reader shared with ``track``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from skywarden.errors import InputError
from skywarden.sources.recordings.format import (
    HEAD_BYTES,
    RecordingFormat,
    detect_format,
    looks_like_text,
    parse_format,
)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the ``inspect`` command."""
    ins = sub.add_parser("inspect", help="what a recording holds: counts, time, sensors, area")
    ins.add_argument("recording", type=Path, help="pcap/pcapng, .ast, Beast or SBS file")
    ins.add_argument("--json", action="store_true", help="print JSON instead of tables")
    add_recording_options(ins)
    ins.set_defaults(run=_cmd_inspect)


def add_recording_options(p: argparse.ArgumentParser) -> None:
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


def is_recording(args: argparse.Namespace) -> bool:
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


def read_recording_from_args(args: argparse.Namespace, path: Path):
    """The recording named on the command line (imports the decoders only when needed)."""
    from skywarden.sources.asterix.detections import RadarSite
    from skywarden.sources.recordings.recording import (
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


def _cmd_inspect(args: argparse.Namespace) -> int:
    inventory = read_recording_from_args(args, args.recording).inventory
    if args.json:
        print(json.dumps(inventory.as_dict(), indent=2))
    else:
        _print_inventory(inventory.as_dict())
    return 0


def _print_inventory(data: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(markup=False, emoji=False)  # the values are data: "[x]" is not markup
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
