"""``skywarden simulate``: truth and detections, wire recordings, or a live stream."""

from __future__ import annotations

import argparse
from pathlib import Path

from skywarden.errors import ConfigError


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the ``simulate`` command."""
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


def _cmd_simulate(args: argparse.Namespace) -> int:
    from skywarden.simulate import build_scenario

    scenario = build_scenario(args.scenario, args.seed)
    if args.stream:
        return _stream_scenario(scenario, args.speed)
    if args.out is None:
        raise ConfigError("--out is required (or --stream)")
    write_scenario(scenario, args.out)
    if args.wire:
        from skywarden.simulate.emit import write_scenario_recordings
        from skywarden.simulate.emit_site import SiteSetup, write_wire_site_config

        setup = SiteSetup()
        paths = write_scenario_recordings(scenario, setup, args.out)
        site = write_wire_site_config(scenario, setup, paths, args.out)
        print("wire formats: " + ", ".join(p.name for p in paths.values()) + f"; {site.name}")
    return 0


def write_scenario(scenario, out: Path) -> None:
    from skywarden.tables import DetectionTable, Truth, write_detections, write_truth

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
