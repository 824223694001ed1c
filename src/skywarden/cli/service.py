"""The service commands: ``skywarden run`` (a site), ``demo`` (a simulated site over
loopback), ``offline-demo`` (simulate, track and evaluate from files), ``replay`` and
``export`` (of a history file)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from skywarden.cli.evaluate import cmd_evaluate
from skywarden.cli.files import parse_time, require_file
from skywarden.cli.simulate import write_scenario
from skywarden.cli.track import cmd_track


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the ``run``, ``demo``, ``offline-demo``, ``replay`` and ``export`` commands."""
    run = sub.add_parser("run", help="run the service for a site (TOML configuration)")
    run.add_argument("site", type=Path, help="site configuration TOML")
    run.add_argument(
        "--role", choices=("all", "edge", "core", "api", "region"), default="all",
        help="all: the whole site in this process (default, no NATS); edge: sensors onto the "
        "bus; core: tracker from the bus; api: REST/WebSocket/map from the bus ([bus] url); "
        "region: one fused picture of --sites",
    )  # fmt: skip
    run.add_argument(
        "--sites", default="", help="with --role region: the sites' [site] names, a,b,c"
    )
    run.set_defaults(run=_cmd_run, long_running=True)

    demo = sub.add_parser(
        "demo",
        help="a simulated site (munitions, a swarm, airliners, a Remote ID drone, birds, "
        "ground traffic), streamed over loopback through the whole "
        "service; map on http://127.0.0.1:8080",
    )
    demo.add_argument("--scenario", default="site")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--out", type=Path, default=Path("out/demo"))
    demo.add_argument("--port", type=int, default=8080, help="map / API port")
    demo.add_argument("--once", action="store_true", help="exit when the scenario ends")
    demo.add_argument(
        "--cooperative-drones", action="store_true", help="drones broadcast Remote ID"
    )
    demo.set_defaults(run=_cmd_demo, long_running=True)

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


def _cmd_run(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from skywarden.service import build_service, serve
    from skywarden.site_config import load_site_config

    signal.signal(signal.SIGTERM, _interrupted)  # until the loop's handler: a quiet exit
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = load_site_config(args.site)
    if args.role != "all":
        from skywarden.bus.roles import run_role

        sites = tuple(s.strip() for s in args.sites.split(",") if s.strip())
        return run_role(config, args.role, sites)
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


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # the command line prints "interrupted", no traceback


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
    write_scenario(build_scenario(args.scenario, args.seed), out)
    trk = argparse.Namespace(
        detections=out / "detections.csv", out=out / "tracks.csv", config=None, sigma=None,
        pd=None, clutter_density=None, models=None, quiet=False, format=None, classify=False,
    )  # fmt: skip
    cmd_track(trk)
    ev = argparse.Namespace(
        truth=out / "truth.csv", tracks=out / "tracks.csv", json=False,
        plot=out / "evaluation.png", c=50.0, p=2.0, alpha=2.0, scenario=None,
    )  # fmt: skip
    cmd_evaluate(ev)
    print(f"plot: {out / 'evaluation.png'}")
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    from skywarden.service import replay_history

    require_file(args.history)
    diff = replay_history(args.history)
    print(json.dumps(diff.to_json(), indent=2) if args.json else diff.format())
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    import math

    from skywarden.store.export import export

    require_file(args.history)
    t0 = parse_time(args.t0, -math.inf, "--from")
    t1 = parse_time(args.t1, math.inf, "--to")
    for path in export(args.history, t0, t1, args.out, fmt=args.format):
        print(path)
    return 0
