"""The bus roles (skywarden.bus) over a real nats-server with JetStream, on this machine.

1. Throughput: simulated radar datagrams (real CAT034/CAT048 encoder, a scale-200 picture)
   go through the edge's publishing code (acknowledged JetStream publishes) into the raw
   stream and are decoded, tracked and acknowledged by a live core, edge and core in ONE
   Python process (one core); datagrams per second from the first publish until the core's
   ack floor reaches the stream's end.
2. Latency at 1,000 tracks (paced at real time; with ``--drones N``, the default 60,
   benchmarks/bus_zone_scenario.py: scale-1000 plus N Remote ID drones, already labelled
   'drone', that turn into a protected zone during the run, so that each of their alerts is
   set off by a plot; ``--drones 0``: scale-1000 alone): the edge and an alert consumer
   run as a process of their own (benchmarks/bus_edge_probe.py: in the core's process, the
   core's ticks would hold their stamps back), the core in this one with stage timestamps
   (benchmarks/bus_stages.py): edge receive -> publish acknowledged -> core fetch -> the live
   loop takes it; the reorder window; tick wall and CPU time; tick end -> alert published ->
   consumer receive; garbage-collection pauses. Detection-in to alert-out, exactly, per
   alert event a detection can trigger (raised, entered, reopened, reassociated, merged):
   from the edge's receive time of the datagram carrying the alert's track's plot that the
   alert's tick processed (its newest earlier plot when that tick processed none, as at a
   scan close) to the consumer's receive time. (The older figures, consumer receive - U and
   - U', U the alert's tick release time and U' the previous tick's, are kept: U is no bound
   at all, and U' bounds the latency of the alert tick's own plots only, which a scan close
   does not have.) Target: p99 < 150 ms. Also the counts end to end (sent, edge received,
   published, core took, acknowledged) and CPU per stage.
3. Failover: the core as its own process (``skywarden run --role core``), scale-100 with 30
   Remote ID drones turning into the zone, paced at real time; ``kill -9`` mid-stream and
   an immediate restart. Raw messages lost (stream
   messages not acknowledged by a core after the stream ended; target 0) and the seconds
   from the kill until pictures and alert events flow again.

    python benchmarks/bus.py [--throughput-scans 40] [--latency-scans 60] [--drones 60]
                             [--failover-s 40]

Needs nats-server on the PATH (./quickstart test installs it).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from skywarden.bus.core import run_core  # noqa: E402
from skywarden.bus.edge import EdgeCounters, _forward  # noqa: E402
from skywarden.bus.picture import decode_picture  # noqa: E402
from skywarden.bus.subjects import SiteSubjects  # noqa: E402
from skywarden.simulate import build_scenario  # noqa: E402
from skywarden.simulate.emit_radar import radar_messages  # noqa: E402
from skywarden.simulate.emit_site import SiteSetup  # noqa: E402
from skywarden.site_config import load_site_config  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bus_edge_probe import encode_ahead, forward_channels  # noqa: E402
from bus_stages import Stages  # noqa: E402
from bus_zone_scenario import turning_drones_scenario, zone_feature  # noqa: E402

TOKEN = "bench-token"
CORE_WITH_PHASES = """
import logging, sys
logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logging.getLogger("skywarden.bus.core").setLevel(logging.INFO)
from skywarden.cli import main
sys.exit(main(["run", sys.argv[1], "--role", "core"]))
"""
SRC = Path(__file__).resolve().parents[1] / "src"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nats(store: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    port = free_port()
    proc = subprocess.Popen([binary, "-js", "-sd", str(store), "-a", "127.0.0.1", "-p",
                             str(port), "--auth", TOKEN], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, f"nats://127.0.0.1:{port}"


def write_site(
    folder: Path, url: str, setup: SiteSetup, half_side_m: float, drones: bool = False
) -> Path:
    """The benchmark's site file; with ``drones``, bus_zone_scenario's one zone and a Remote ID
    sensor beside the radar."""
    zones = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": f"zone-{k}", "properties": {
            "role": "protected", "floor_m": 0, "ceiling_m": 3000, "altitude_ref": "agl",
            "radius_m": 0.05 * half_side_m},
         "geometry": {"type": "Point", "coordinates": [setup.lon_deg + dx, setup.lat_deg + dy]}}
        for k, (dx, dy) in enumerate([(0, 0), (0.01, 0.01), (-0.01, 0.01), (0.01, -0.01)])
    ]}  # fmt: skip
    if drones:
        zones["features"] = [zone_feature(setup.lon_deg, setup.lat_deg)]
    (folder / "zones.geojson").write_text(json.dumps(zones))
    radar = setup.radar_site
    text = f"""
[site]
name = "bench"
lat = {setup.lat_deg}
lon = {setup.lon_deg}
height_m = {setup.h_m}

[service]
bind = "127.0.0.1:{free_port()}"

[zones]
file = "zones.geojson"

[bus]
url = "{url}"
token = "{TOKEN}"
replay_window_s = 30

[[sensors]]
name = "radar"
kind = "asterix"
transport = "udp"
host = "127.0.0.1"
port = {free_port()}
lat = {radar.lat_deg}
lon = {radar.lon_deg}
height_m = {radar.h_m}
range_m = 250000.0

[[alert_rules]]
classes = ["drone", "unknown"]
horizon_s = 180
"""
    if drones:
        text += f"""
[[sensors]]
name = "remote-id"
kind = "remote_id"
transport = "udp"
host = "127.0.0.1"
port = {free_port()}
"""
    path = folder / "site.toml"
    path.write_text(text)
    return path


async def _burst(messages):
    for m in messages:
        yield time.time(), m.data


async def _wait_live(nc, subjects: SiteSubjects, timeout_s: float = 180.0) -> None:
    seen = asyncio.Event()

    async def on_health(msg) -> None:
        seen.set()

    sub = await nc.subscribe(subjects.health("core"), cb=on_health)
    await asyncio.wait_for(seen.wait(), timeout_s)
    await sub.unsubscribe()


async def _raw_state(js, subjects: SiteSubjects) -> tuple[int, int, int]:
    stream = await js.stream_info(subjects.stream("raw"))
    info = await js.consumer_info(subjects.stream("raw"), subjects.core_consumer)
    return int(stream.state.last_seq), int(info.ack_floor.stream_seq), int(info.num_pending)


async def _drained(js, subjects, timeout_s: float = 300.0) -> tuple[int, int, int]:
    deadline = time.monotonic() + timeout_s
    from nats.js.errors import NotFoundError

    while True:
        try:
            last, floor, pending = await _raw_state(js, subjects)
        except NotFoundError:  # a restarting core re-creates its consumer
            await asyncio.sleep(0.05)
            continue
        if (floor >= last and pending == 0) or time.monotonic() > deadline:
            return last, floor, pending
        await asyncio.sleep(0.02)


async def throughput(folder: Path, url: str, scans: int) -> dict:
    import nats

    scenario = build_scenario("scale-200", 0, n_scans=scans)
    setup = SiteSetup(start_posix=float(int(time.time())), max_range_m=250_000.0)
    messages = radar_messages(scenario, setup).messages
    site = load_site_config(write_site(folder, url, setup, 1000.0 * np.sqrt(200)))
    subjects = SiteSubjects.of(site.name)
    nc = await nats.connect(url, token=TOKEN)
    js = nc.jetstream(publish_async_max_pending=4000)
    stop = asyncio.Event()
    core = asyncio.create_task(run_core(site, site.bus, stop))
    await _wait_live(nc, subjects)
    start_seq = (await _raw_state(js, subjects))[0]
    counters = EdgeCounters()
    t0 = time.perf_counter()
    await _forward(_burst(messages), js, subjects.raw("radar"), counters, site.bus)
    await js.publish_async_completed()
    t_published = time.perf_counter() - t0
    last, floor, pending = await _drained(js, subjects)
    elapsed = time.perf_counter() - t0
    stop.set()
    await core
    await nc.close()
    n = last - start_seq
    return {"datagrams": n, "published_per_s": n / t_published, "through_core_per_s": n / elapsed,
            "lost": last - floor, "failed": counters.failed}  # fmt: skip


async def _stopped(core: asyncio.Task, timeout_s: float = 30.0) -> None:
    """Wait for the core to stop; if it does not, say which tasks hang, and cancel it."""
    done, _ = await asyncio.wait([core], timeout=timeout_s)
    if done:
        core.result()
        return
    for task in asyncio.all_tasks():
        if task is not asyncio.current_task():
            print(f"core did not stop within {timeout_s:.0f} s: {task!r}", file=sys.stderr)
            task.print_stack(limit=6, file=sys.stderr)
    core.cancel()


async def latency(folder: Path, url: str, scans: int, drones: int = 0) -> dict:
    import nats

    setup = SiteSetup(start_posix=0.0, max_range_m=250_000.0)
    site = load_site_config(write_site(folder, url, setup, 1000.0 * np.sqrt(1000), drones > 0))
    subjects = SiteSubjects.of(site.name)
    stages = Stages()
    stages.install()
    nc = await nats.connect(url, token=TOKEN)
    health: dict = {}

    tracks = [0]

    async def on_health(msg) -> None:
        health.update(json.loads(msg.data))
        tracks[0] = max(tracks[0], health["pipeline"]["tracks"])

    await nc.subscribe(subjects.health("core"), cb=on_health)
    stop = asyncio.Event()
    core = asyncio.create_task(run_core(site, site.bus, stop))
    out = folder / "edge.json"
    try:
        await _wait_live(nc, subjects)
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        pictures = await asyncio.create_subprocess_exec(
            sys.executable, str(Path(__file__).with_name("bus_picture_probe.py")), url, TOKEN,
            site.name, str(folder / "pictures.json"), env=env,
        )  # fmt: skip
        cpu0, wall0 = time.process_time(), time.time()
        edge = await asyncio.create_subprocess_exec(
            sys.executable, str(Path(__file__).with_name("bus_edge_probe.py")), url, TOKEN,
            site.name, str(scans), str(out), str(drones),
            env={**os.environ, "PYTHONPATH": str(SRC)},
        )  # fmt: skip
        await edge.wait()
        cpu, wall = time.process_time() - cpu0, time.time() - wall0
        await asyncio.sleep(2.5)  # one more health report
        pictures.terminate()
        await pictures.wait()
    finally:
        stop.set()
        await _stopped(core)
        await nc.close()
        stages.uninstall()
    probe = json.loads(out.read_text())
    stages.acked = probe["acked"]
    stages.late = probe["late"]
    stages.received = [tuple(a) for a in probe["alerts"]]
    stages.events = [tuple(e) for e in probe["events"]]
    shown = json.loads((folder / "pictures.json").read_text())["shown"]
    stages.shown = {int(k): v for k, v in shown.items()}
    tick = health["pipeline"]["tick_latency_ms"]
    bus = health["bus"]
    report = stages.report(5.0)
    actions: dict[str, int] = {}
    for event in stages.events:
        actions[event[1]] = actions.get(event[1], 0) + 1
    return {"tracks": tracks[0], "alerts": len(stages.received), "actions": actions,
            "tail": stages.tail(), "trace": stages.trace,
            "untraced": stages.untraced, "at_close": stages.at_close,
            "by_cause": stages.by_cause,
            "tick_p50": tick["p50"], "tick_p99": tick["p99"], "stages": report,
            "sent": probe["sent"], "edge_received": probe["received"],
            "edge_published": probe["published"], "edge_failed": probe["failed"],
            "edge_cpu_share": probe["cpu_s"] / wall,
            "core_live": bus["live"], "core_acked": bus["acked"], "rejects": bus["rejects"],
            "cpu_share": cpu / wall, "wall_s": wall,
            "stage_cpu": {**stages.cpu, "core process in all": cpu,
                          "edge + consumer process": probe["cpu_s"]}}  # fmt: skip


async def failover(folder: Path, url: str, seconds: float) -> dict:
    import nats

    # 30 Remote ID drones turning into the zone from scan 10 on: alerts before and after
    scenario = turning_drones_scenario(100, 30, int(seconds), cruise_s=10.0, tail_scans=4)
    setup = SiteSetup(start_posix=0.0, max_range_m=250_000.0)
    path = write_site(folder, url, setup, 1000.0 * np.sqrt(100), drones=True)
    site = load_site_config(path)
    subjects = SiteSubjects.of(site.name)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    log = open(folder / "core.log", "ab")  # noqa: SIM115

    def start_core() -> subprocess.Popen:  # its start-up phases logged (INFO), with times
        return subprocess.Popen([sys.executable, "-c", CORE_WITH_PHASES, str(path)],
                                env=env, stdout=log, stderr=log)  # fmt: skip

    nc = await nats.connect(url, token=TOKEN)
    js = nc.jetstream(publish_async_max_pending=4000)
    events: list[tuple[str, float]] = []

    async def on_alert(msg) -> None:
        events.append(("alert", time.time()))

    async def on_picture(msg) -> None:
        t = time.time()
        events.append(("picture", t))
        try:  # alerts flowing = a picture that carries open alerts
            if any(a.state != "cleared" for a in decode_picture(msg.data, msg.headers).alerts):
                events.append(("picture_alerts", t))
        except ValueError:
            pass

    async def on_health(msg) -> None:
        events.append(("health", time.time()))

    await nc.subscribe(subjects.alerts, cb=on_alert)
    await nc.subscribe(subjects.picture, cb=on_picture)
    await nc.subscribe(subjects.health("core"), cb=on_health)
    cores = [start_core()]
    try:
        return await _failover_run(nc, js, subjects, scenario, site, cores, start_core, events)
    finally:
        for core in cores:
            if core.poll() is None:
                core.kill()
        await nc.close()
        log.close()
        phases = [line for line in (folder / "core.log").read_text(errors="replace").splitlines()
                  if "core" in line and "INFO" in line]  # fmt: skip
        print("core start-up phases (both starts):\n  " + "\n  ".join(phases[-12:]))


async def _failover_run(nc, js, subjects, scenario, site, cores, start_core, events) -> dict:
    core = cores[0]
    await _wait_live(nc, subjects)
    messages, start = encode_ahead(scenario, remote_id=True)
    feeding = asyncio.create_task(
        forward_channels(messages, start, js, subjects, EdgeCounters(), site.bus)
    )
    await asyncio.sleep(scenario.n_scans * scenario.sensor_params.scan_period / 2)
    core.kill()  # kill -9
    core.wait()
    t_kill = time.time()
    core = start_core()
    cores.append(core)
    await feeding
    await js.publish_async_completed()
    last, floor, pending = await _drained(js, subjects)
    await asyncio.sleep(3.0)  # the restarted core's first pictures and health after catch-up
    after = [(kind, t - t_kill) for kind, t in events if t > t_kill]
    core.terminate()
    try:
        core.wait(30)
    except subprocess.TimeoutExpired:
        core.kill()
    first = {k: min((dt for kind, dt in after if kind == k), default=float("nan"))
             for k in ("picture", "alert", "health", "picture_alerts")}  # fmt: skip
    before = [t - t_kill for kind, t in events if kind == "picture_alerts" and t <= t_kill]
    return {"raw": last, "lost": last - floor, "pending": pending,
            "pictures_after_s": first["picture"], "alerts_after_s": first["alert"],
            "alerts_shown_after_s": first["picture_alerts"],
            "alerts_shown_before_s": max(before, default=float("nan")),
            "live_after_s": first["health"],
            "alert_events_before": sum(1 for k, t in events if k == "alert" and t <= t_kill),
            "alert_events_after": sum(1 for k, _ in after if k == "alert")}  # fmt: skip


def print_latency(r: dict) -> None:
    print(f"latency at {r['tracks']} tracks (most seen) ({r['alerts']} alert events), load "
          f"{os.getloadavg()[0]:.1f}; CPU: core {100 * r['cpu_share']:.0f} %, edge + consumer "
          f"{100 * r['edge_cpu_share']:.0f} % of a core; "
          f"radar datagrams sent {r['sent']}, edge received {r['edge_received']}, published "
          f"{r['edge_published']} (failed {r['edge_failed']}), core took {r['core_live']}, "
          f"acknowledged {r['core_acked']}, rejected {r['rejects']}; "
          f"{r['stages']['detections']} detections in ticks")  # fmt: skip
    stages = r["stages"]
    for name, value in stages.items():
        if isinstance(value, tuple):
            print(f"  {name:40s} p50 {value[0]:8.1f} ms  p99 {value[1]:8.1f} ms  (n {value[2]})")
    for name, seconds in r["stage_cpu"].items():
        print(f"  CPU {name:52s} {100 * seconds / r['wall_s']:5.1f} % of a core")
    print(f"  ticks {stages['ticks_per_s']:.1f}/s using {100 * stages['tick_cpu_share']:.0f} % of "
          f"a core; the loop's own tick latency p50 {r['tick_p50']:.1f} / p99 "
          f"{r['tick_p99']:.1f} ms")  # fmt: skip
    print(f"  slowest ticks (s after the first, wall ms, CPU ms, detections): "
          f"{stages['slowest ticks']}")  # fmt: skip
    print(f"  alert events by action: {r['actions']}; triggered events with no traced plot: "
          f"{r['untraced']}; of those with the plot in an earlier tick, raised by a scan close: "
          f"{r['at_close']}")  # fmt: skip
    print(f"  triggered events by cause ('in tick': its track's plot in the alert's tick; "
          f"'newest earlier': none, raised by a label change or a forecast redone on age) "
          f"and class: {r['by_cause']}")  # fmt: skip
    print("  slowest alerts a plot set off (ms from the plot's edge receive; what ran meanwhile):")
    for line in r["tail"]:
        print(f"    {line}")
    exact = stages["EXACT e2e: all triggered events"]
    print(f"all triggered events, those with no plot of their track in the alert's tick timed "
          f"from its newest earlier plot (raised by a label change or a forecast redone on "
          f"age, not by a detection): p50 {exact[0]:.1f} / p99 {exact[1]:.1f} ms (n "
          f"{exact[2]})")  # fmt: skip
    plot = stages["EXACT e2e: trigger plot in its tick"]
    verdict = "met" if plot[2] and plot[1] < 150.0 else "NOT met"
    print(f"detection-in (edge receive of the datagram of the plot that set the alert off, "
          f"processed in the alert's tick) to alert-out (consumer receive): p50 {plot[0]:.1f} "
          f"/ p99 {plot[1]:.1f} ms (n {plot[2]}): target p99 < 150 ms {verdict}")  # fmt: skip


async def main_async(args) -> None:
    if args.gc_threshold:
        import gc

        gc.set_threshold(*(int(v) for v in args.gc_threshold.split(",")))
        print(f"gc thresholds in this process: {gc.get_threshold()}")
    if args.what_if_confirm_at_hit:
        from bus_what_if import confirm_at_hit

        confirm_at_hit()
        print("WHAT-IF: tracks confirmed at the hit that makes them confirmed (not shipped)")
    for part in args.parts.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            proc, url = start_nats(folder / "nats")
            try:
                if part == "throughput":
                    r = await throughput(folder, url, args.throughput_scans)
                    print(f"throughput: {r['datagrams']} radar datagrams; edge published "
                          f"{r['published_per_s']:.0f}/s; edge -> bus -> core (decoded, tracked, "
                          f"acknowledged) {r['through_core_per_s']:.0f}/s on one core; "
                          f"lost {r['lost']}, failed {r['failed']}")  # fmt: skip
                elif part == "latency":
                    r = await latency(folder, url, args.latency_scans, args.drones)
                    print_latency(r)
                    if args.save_trace:  # the "in tick" alerts' stages, to pool runs
                        with open(args.save_trace, "a") as out:
                            out.write(json.dumps({"load": os.getloadavg(), "trace": r["trace"],
                                                  "stages": r["stages"]}) + "\n")  # fmt: skip
                elif part == "failover":
                    r = await failover(folder, url, args.failover_s)
                    print(f"failover: {r['raw']} raw messages, lost {r['lost']} (pending "
                          f"{r['pending']}); after kill -9 + restart pictures flow again in "
                          f"{r['pictures_after_s']:.1f} s (core live in "
                          f"{r['live_after_s']:.1f} s), alert events in "
                          f"{r['alerts_after_s']:.1f} s ({r['alert_events_before']} before, "
                          f"{r['alert_events_after']} after)")  # fmt: skip
                    print(f"failover: open alerts on the picture again "
                          f"{r['alerts_shown_after_s']:.1f} s after the kill (the last "
                          f"picture with alerts before it: "
                          f"{r['alerts_shown_before_s']:.1f} s)")  # fmt: skip
            finally:
                proc.terminate()
                proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default="throughput,latency,failover")
    parser.add_argument("--throughput-scans", type=int, default=40)
    parser.add_argument("--latency-scans", type=int, default=60)
    parser.add_argument("--drones", type=int, default=60,
                        help="Remote ID drones turning into the zone during the latency run "
                             "(benchmarks/bus_zone_scenario.py); 0: scale-1000 alone")  # fmt: skip
    parser.add_argument("--failover-s", type=float, default=40.0)
    parser.add_argument("--save-trace", default="",
                        help="append the latency run's per-alert stages (JSON line) to this "
                             "file, to pool the alerts of several runs")  # fmt: skip
    parser.add_argument("--what-if-confirm-at-hit", action="store_true",
                        help="latency with tracks confirmed at the hit, not at the scan close "
                             "(a what-if patch: benchmarks/bus_what_if.py)")  # fmt: skip
    parser.add_argument(
        "--gc-threshold",
        default="",
        help="a,b,c: gc.set_threshold in the core's process (an experiment)",
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
