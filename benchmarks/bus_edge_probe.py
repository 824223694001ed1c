"""The edge and an alert consumer of benchmarks/bus.py's latency run, as a process of their own.

The core's ticks hold its event loop for tens of milliseconds; an edge or a consumer in the
same loop would stamp datagrams and alerts late by as much. So this process, like a real edge
and a real console, paces the radar's datagrams at real time into the raw stream (the edge's
publishing code, skywarden.bus.edge._forward, stamping ``Sw-T``), records when JetStream
acknowledged each publish and when each alert event arrived, and writes them as JSON.

    python benchmarks/bus_edge_probe.py URL TOKEN SITE SCANS OUT.json [DRONES]

With DRONES > 0 the scenario is benchmarks/bus_zone_scenario.py's (scale-1000 and DRONES
Remote ID drones turning into the zone): the radar's datagrams and the drones' Remote ID
frames go to their own sensors' subjects, each at its own real time.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import asyncio  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from skywarden.bus.edge import EdgeCounters, _forward  # noqa: E402
from skywarden.bus.settings import BusConfig  # noqa: E402
from skywarden.bus.subjects import HEADER_T, SiteSubjects  # noqa: E402
from skywarden.simulate import build_scenario  # noqa: E402
from skywarden.simulate.emit_cooperative import remote_id_messages  # noqa: E402
from skywarden.simulate.emit_radar import radar_messages  # noqa: E402
from skywarden.simulate.emit_site import RADAR, REMOTE_ID, SiteSetup  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bus_zone_scenario import turning_drones_scenario  # noqa: E402

TAIL_S = 6.0  # alerts still coming after the last datagram


def encode_ahead(scenario, lead_s: float = 3.0, remote_id: bool = False):
    """The radar's datagrams (and with ``remote_id`` the drones' Remote ID frames, merged in
    send order) for a start just ahead of now (the times inside the ASTERIX records must agree
    with the receive times), and that start."""

    def encode(setup: SiteSetup) -> list:
        messages = radar_messages(scenario, setup).messages
        if remote_id:
            messages = sorted(messages + remote_id_messages(scenario, setup), key=lambda m: m.t)
        return messages

    t0 = time.time()
    encode(SiteSetup(start_posix=float(int(t0)), max_range_m=250_000.0))  # how long it takes
    took = time.time() - t0
    while True:  # on a machine whose load rises meanwhile, encoding can take longer than it
        # did: then the start had passed and every datagram went late, in one burst (a
        # first tick of 5,000 detections and 4-10 s); so encode again, further ahead
        start = float(int(time.time() + took + lead_s))
        t1 = time.time()
        messages = encode(SiteSetup(start_posix=start, max_range_m=250_000.0))
        if time.time() < start - 0.5:
            return messages, messages[0].t
        took = 2.0 * (time.time() - t1)
        print(
            f"edge probe: encoding took {time.time() - t1:.1f} s, past the start: again",
            file=sys.stderr,
        )


async def paced(
    messages, start: float, late: list[float] | None = None, first: float | None = None
):
    """(receive time, bytes) at real time from ``start`` (for the message sent at ``first``,
    default the first message's send time); ``late`` collects how late each datagram left (s;
    a busy machine wakes this process late)."""
    first = messages[0].t if first is None else first
    for m in messages:
        due = start + (m.t - first)
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.time()
        if late is not None:
            late.append(now - due)
        yield now, m.data


CHANNEL_SENSORS = {RADAR: "radar", REMOTE_ID: "remote-id"}  # channel -> the site's sensor


async def forward_channels(messages, start, js, subjects, counters, bus, late=None) -> None:
    """Publish each channel's messages (the radar's datagrams, the Remote ID frames) to its
    sensor's raw subject through the edge's code, each at its own real time from ``start``."""
    await asyncio.gather(*(
        _forward(paced([m for m in messages if m.channel == channel], start, late, start),
                 js, subjects.raw(sensor), counters, bus)
        for channel, sensor in CHANNEL_SENSORS.items()
        if any(m.channel == channel for m in messages)
    ))  # fmt: skip


async def main(url: str, token: str, site: str, scans: int, out: Path, drones: int = 0) -> None:
    import nats

    if drones:
        scenario = turning_drones_scenario(1000, drones, scans)
    else:
        scenario = build_scenario("scale-1000", 0, n_scans=scans)
    messages, start = encode_ahead(scenario, remote_id=drones > 0)
    subjects = SiteSubjects.of(site)
    nc = await nats.connect(url, token=token)
    js = nc.jetstream(publish_async_max_pending=4000)
    acked: list[float] = []
    late: list[float] = []
    alerts: list[tuple[float, float]] = []
    events: list[tuple[float, str, int, float, int]] = []
    # (t, action, track id, receive, alert id, the track's class when raised)

    async def on_alert(msg) -> None:
        now = time.time()
        event = json.loads(msg.data)
        alerts.append((float(event["t"]), now))
        track = (event.get("alert") or {}).get("track_id", -1)
        target_class = (event.get("alert") or {}).get("target_class", "")
        events.append((float(event["t"]), str(event["action"]), int(track), now,
                       int(event["alert_id"]), str(target_class)))  # fmt: skip

    await nc.subscribe(subjects.alerts, cb=on_alert)

    class TimedJs:  # records edge receive -> publish acknowledged
        async def publish_async(self, subject, payload, **kwargs):
            t = float(kwargs["headers"][HEADER_T])
            future = await js.publish_async(subject, payload, **kwargs)
            future.add_done_callback(
                lambda f: (
                    acked.append(time.time() - t)
                    if not f.cancelled() and f.exception() is None
                    else None
                )
            )
            return future

    counters = EdgeCounters()
    cpu0 = time.process_time()
    await forward_channels(messages, start, TimedJs(), subjects, counters, BusConfig(urls=(url,)),
                           late)  # fmt: skip
    await js.publish_async_completed()
    await asyncio.sleep(TAIL_S)
    await nc.close()
    out.write_text(json.dumps({
        "sent": len(messages), "received": counters.received, "published": counters.published,
        "failed": counters.failed, "acked": acked, "late": late, "alerts": alerts,
        "events": events,
        "cpu_s": time.process_time() - cpu0,
    }))  # fmt: skip


if __name__ == "__main__":
    url, token, site, scans, out = sys.argv[1:6]
    drones = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    asyncio.run(main(url, token, site, int(scans), Path(out), drones))
