"""Stage timestamps for benchmarks/bus.py's latency run: where a datagram's time goes on its
way edge -> bus -> core -> alert out, and how many datagrams each stage saw.

Instrumentation only (the benchmark patches these hooks in for one run and restores them):

- edge receive: the ``Sw-T`` header the edge stamps (wall clock, POSIX s);
- edge publish ack: JetStream acknowledged the publish (the edge's future is done);
- core fetch: the core's fetch loop parses the message (``RawMessages.parse``);
- taken: the live loop takes the chunk (``LiveFeeder.taken``);
- the reorder window the live loop holds detections for (skywarden.reorder);
- tick start / end: the live loop's ``process_off_loop`` (wall clock, and the tick's CPU time
  in both threads);
- alert publish: the core's publisher hands the alert event to JetStream;
- consumer receive: a subscriber of ``skywarden.<site>.alerts`` has the event.

Each alert event carries its tick's time ``t`` (the reorder buffer's release time U: the
tick processed the detections measured up to U and after the previous tick's U'), and its
track. The exact detection-in to alert-out (:meth:`Stages._trigger_report`) follows the
tick's detections through the tracker (which track each updated) back to their datagrams'
edge receive times; ``consumer receive - U'`` bounds only the latency of the tick's own
detections, and an alert raised at a scan close is set off by a plot of an earlier tick.
Garbage-collection pauses are timed per generation (gc.callbacks).
"""

from __future__ import annotations

import bisect
import gc
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skywarden import loop as loop_module
from skywarden import pipeline as pipeline_module
from skywarden.bus import core as core_module

try:
    from skywarden.bus import picture_process
except ImportError:  # an older tree on PYTHONPATH: the picture encoded in a thread
    picture_process = None
from skywarden.bus.core_clock import CoreClock
from skywarden.reorder import ReorderBuffer
from skywarden.sources.feeds import Feed


@dataclass
class Stages:
    """Timestamps recorded during one latency run (wall clock, POSIX s)."""

    late: list[float] = field(default_factory=list)  # the sender's lateness (s)
    acked: list[float] = field(default_factory=list)  # edge receive -> publish ack (s)
    fetched: list[float] = field(default_factory=list)  # edge receive -> core fetch (s)
    taken: list[float] = field(default_factory=list)  # edge receive -> loop takes it (s)
    ticks: list[tuple[float, float, float, float, int]] = field(default_factory=list)
    # (U, wall start, wall end, cpu s, detections)
    published: dict[float, float] = field(default_factory=dict)  # alert t -> publish time
    received: list[tuple[float, float]] = field(default_factory=list)  # (alert t, receive)
    windows: list[float] = field(default_factory=list)  # the reorder window at each release
    cpu: dict[str, float] = field(default_factory=dict)  # CPU s per stage (this process)
    delays: list[float] = field(default_factory=list)  # reorder: received - measured (s)
    advances: list[float] = field(default_factory=list)  # reorder: received - newest Sw-T
    clocks: list[Any] = field(default_factory=list)
    # the exact detection-in -> alert-out of each alert event (see trigger_latencies):
    datagrams: dict[float, list[float]] = field(default_factory=dict)  # Sw-T -> [fetch, taken]
    releasing: dict[tuple[float, float], float] = field(default_factory=dict)  # (t, e) -> Sw-T
    # (t, e) -> Sw-T of the chunk that gave the detection, for feeds that decode chunk by
    # chunk (Feed.feed: Remote ID, SBS, Beast; not the radar's batch decoder): exact, where
    # the reorder buffer's receive_times can only take the earliest chunk of the batch at or
    # after the measurement time (a Remote ID report 200 ms old on arrival got the receive
    # time of the batch's first frame, overstating its latency by up to 200 ms)
    chunk_of: dict[tuple[float, float], float] = field(default_factory=dict)
    tick_plots: dict[float, dict[int, float]] = field(default_factory=dict)  # U -> track -> Sw-T
    events: list[tuple] = field(default_factory=list)
    # (alert t, action, track id, consumer receive, alert id, class) from the probe
    shown: dict[int, float] = field(default_factory=dict)  # alert id -> first picture with it
    gc_pauses: dict[int, list[float]] = field(default_factory=dict)  # generation -> wall s
    gc_cpu: dict[int, float] = field(default_factory=dict)  # generation -> CPU s in all
    _gc_start: list[float] = field(default_factory=list)
    closes: set[float] = field(default_factory=set)  # U of the ticks that closed a scan
    at_close: int = 0  # triggered events of a plot in an earlier tick, raised at a scan close
    _in_tick: list[float] = field(default_factory=list)  # U of the tick in progress
    edge_received: int = 0
    untraced: int = 0  # triggered alert events whose track had no traced plot
    # triggered events by "in tick" (a plot of the track in the alert's tick) or "newest
    # earlier" (none: raised by a label change or a forecast redone on age), and the class
    by_cause: dict[str, int] = field(default_factory=dict)
    edge_published: int = 0
    edge_failed: int = 0
    # wall-clock intervals (start, end, what) of garbage collections (what: the generation),
    # picture encodes and the tick's parts (advance in the worker thread, conclude): the
    # per-alert trace (:meth:`tail`) says which of them a slow alert waited for
    intervals: list[tuple[float, float, str]] = field(default_factory=list)
    trace: list[dict[str, Any]] = field(default_factory=list)  # one row per "in tick" event
    _restore: list[tuple[Any, str, Any]] = field(default_factory=list)

    # ------------------------------------------------------------------ hooks

    def install(self) -> None:
        parse = core_module.RawMessages.parse
        taken = core_module.LiveFeeder.taken
        tick = loop_module.process_off_loop
        # (the names of the tree measured: an older one on PYTHONPATH has flush and no
        # picture_process, its picture encoded in a thread by encode_without_collecting)
        flush_name = "flush_events" if hasattr(core_module.Publisher, "flush_events") else "flush"
        flush = getattr(core_module.Publisher, flush_name)
        release = ReorderBuffer.release
        add = ReorderBuffer.add
        clock_init = CoreClock.__init__
        step = pipeline_module.step
        feed_one = Feed.feed
        if picture_process is not None:
            encode_owner, encode_name = picture_process.PictureEncoder, "encode"
        else:
            encode_owner, encode_name = core_module, "encode_without_collecting"
        encode = getattr(encode_owner, encode_name)
        advance = pipeline_module.Pipeline.advance
        conclude = pipeline_module.Pipeline.conclude
        stages = self

        async def timed_encode(self, snapshot):  # (in the core's child process, or a thread)
            start = time.time()
            try:
                return await encode(self, snapshot)
            finally:
                stages.intervals.append((start, time.time(), "picture encode"))

        def timed_thread_encode(snapshot):  # an older tree's, in a worker thread
            start = time.time()
            try:
                return encode(snapshot)
            finally:
                stages.intervals.append((start, time.time(), "picture encode"))

        def timed_advance(self, *args, **kwargs):
            start = time.time()
            try:
                return advance(self, *args, **kwargs)
            finally:
                if stages._in_tick:
                    stages.intervals.append((start, time.time(), "tick advance"))

        def timed_conclude(self, *args, **kwargs):
            start = time.time()
            try:
                return conclude(self, *args, **kwargs)
            finally:
                if stages._in_tick:
                    stages.intervals.append((start, time.time(), "tick conclude"))

        def traced_feed(self, t, data, connection=0):
            out = feed_one(self, t, data, connection)
            for key in detection_keys(out):
                stages.chunk_of[key] = t
            return out

        def traced_step(tracks, batch, t, params, **kwargs):
            out = step(tracks, batch, t, params, **kwargs)
            if stages._in_tick and len(batch):  # the live loop's tick (not warm-up, catch-up)
                plots = stages.tick_plots.setdefault(stages._in_tick[-1], {})
                ids = np.asarray(out[1].detection_track)
                keys = detection_keys(batch)
                for k in np.flatnonzero(ids >= 0).tolist():
                    r = stages.releasing.get(keys[k])
                    if r is not None:
                        track = int(ids[k])
                        plots[track] = min(plots.get(track, r), r)
            return out

        def timed_add(self, detections, received, source=None):
            if len(detections):
                stages.delays.extend((received - detections.t).tolist())
                if stages.clocks:
                    # one receive time per detection (skywarden.reorder.receive_times): the newest
                    stages.advances.append(float(np.max(received)) - stages.clocks[-1]._edge_t)
            return add(self, detections, received, source)

        def kept_clock(self, *args, **kwargs):
            clock_init(self, *args, **kwargs)
            stages.clocks.append(self)

        def timed_release(self, now):
            stages.windows.append(self.window_s)
            received = dict(zip(detection_keys(self._held), self._received.tolist(), strict=True))
            out = release(self, now)
            if len(out[1]):  # each released detection's receive time (an edge Sw-T), for
                # what the buffer did release: its watermark rule releases plots younger than
                # now - window (re-deriving "t <= now - window" here missed those, and their
                # alerts were then timed from a plot tens of seconds older)
                stages.releasing = {
                    key: stages.chunk_of.get(key, received[key])
                    for key in detection_keys(out[1])
                    if key in received
                }
            return out

        def timed_parse(self, msg):
            cpu = time.process_time()
            item = parse(self, msg)
            stages.add_cpu("core: parse raw messages", cpu)
            if item is not None:
                now = time.time()
                stages.fetched.append(now - item[0])
                stages.datagrams[item[0]] = [now, np.nan]
            return item

        def timed_taken(self, source, t, data):
            now = time.time()
            stages.taken.append(now - t)
            if t in stages.datagrams:
                stages.datagrams[t][1] = now
            taken(self, source, t, data)

        async def timed_tick(pipeline, t, detections, end_of_scan):
            # the live loop's tick (skywarden.tick_thread: its costly part in a worker thread)
            wall = time.time()
            stages._in_tick.append(t)
            if end_of_scan:
                stages.closes.add(t)
            try:
                out = await tick(pipeline, t, detections, end_of_scan)
            finally:
                stages._in_tick.pop()
            cpu_s = out.cpu_ms / 1e3
            stages.cpu["core: ticks (both threads)"] = (
                stages.cpu.get("core: ticks (both threads)", 0.0) + cpu_s
            )
            stages.ticks.append((t, wall, time.time(), cpu_s, len(detections)))
            return out

        async def timed_flush(self):
            now, cpu = time.time(), time.process_time()
            for subject, payload in self.events:
                if subject == self.subjects.alerts:
                    stages.published.setdefault(json.loads(payload)["t"], now)
            await flush(self)
            stages.add_cpu("core: publish alert events", cpu)

        self._restore = [
            (core_module.RawMessages, "parse", parse),
            (core_module.LiveFeeder, "taken", taken),
            (loop_module, "process_off_loop", tick),
            (core_module.Publisher, flush_name, flush),
            (ReorderBuffer, "release", release),
            (ReorderBuffer, "add", add),
            (CoreClock, "__init__", clock_init),
            (pipeline_module, "step", step),
            (Feed, "feed", feed_one),
            (encode_owner, encode_name, encode),
            (pipeline_module.Pipeline, "advance", advance),
            (pipeline_module.Pipeline, "conclude", conclude),
        ]
        core_module.RawMessages.parse = timed_parse
        core_module.LiveFeeder.taken = timed_taken
        loop_module.process_off_loop = timed_tick
        setattr(core_module.Publisher, flush_name, timed_flush)
        ReorderBuffer.release = timed_release
        ReorderBuffer.add = timed_add
        CoreClock.__init__ = kept_clock
        pipeline_module.step = traced_step
        Feed.feed = traced_feed
        setattr(encode_owner, encode_name,
                timed_encode if picture_process is not None else timed_thread_encode)  # fmt: skip
        pipeline_module.Pipeline.advance = timed_advance
        pipeline_module.Pipeline.conclude = timed_conclude
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_start[:] = [time.perf_counter(), time.thread_time()]
        elif self._gc_start:
            generation = int(info["generation"])
            pause = time.perf_counter() - self._gc_start[0]
            self.gc_pauses.setdefault(generation, []).append(pause)
            cpu = time.thread_time() - self._gc_start[1]
            self.gc_cpu[generation] = self.gc_cpu.get(generation, 0.0) + cpu
            if generation > 0:
                end = time.time()
                self.intervals.append((end - pause, end, f"gc {generation}"))

    def add_cpu(self, stage: str, since: float) -> None:
        self.cpu[stage] = self.cpu.get(stage, 0.0) + time.process_time() - since

    def uninstall(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        for owner, name, original in self._restore:
            setattr(owner, name, original)
        self._restore = []

    # ------------------------------------------------------------------ report

    def report(self, warm_s: float) -> dict[str, Any]:
        """p50/p99 (ms) per stage after the first ``warm_s`` of ticks (track initiation)."""
        ticks = sorted(self.ticks)
        t0 = ticks[0][1] + warm_s if ticks else 0.0
        live = [k for k in ticks if k[1] >= t0]
        us = [k[0] for k in ticks]
        out: dict[str, Any] = {}

        def pct(name: str, values_s) -> None:
            v = np.asarray(values_s, float) * 1e3
            v = v[np.isfinite(v)]
            out[name] = (
                (float(np.percentile(v, 50)), float(np.percentile(v, 99)), v.size)
                if (v.size)
                else (np.nan, np.nan, 0)
            )

        keep = max(len(self.taken) // 4, 0)  # the first quarter: track initiation
        pct("sensor sends late (busy machine)", self.late[keep:])
        pct("edge receive -> publish ack", self.acked[keep:])
        pct("edge receive -> core fetch", self.fetched[keep:])
        pct("edge receive -> loop takes", self.taken[keep:])
        busy = [k for k in live if k[4] > 0]
        pct("tick wall (with detections)", [k[2] - k[1] for k in busy])
        pct("tick cpu (with detections)", [k[3] for k in busy])
        by_u = {k[0]: k for k in ticks}
        to_pub, pub_to_rx, end_to_rx, typ, upper = [], [], [], [], []
        for u, rx in self.received:
            tick = by_u.get(u)
            if tick is None or tick[1] < t0:
                continue
            i = bisect.bisect_left(us, u)
            prev_u = us[i - 1] if i > 0 else u
            pub = self.published.get(u, np.nan)
            to_pub.append(pub - tick[2])
            pub_to_rx.append(rx - pub)
            end_to_rx.append(rx - tick[2])
            typ.append(rx - u)
            upper.append(rx - prev_u)
        pct("reorder: received - measured", self.delays[len(self.delays) // 4 :])
        pct("reorder: received - newest Sw-T taken", self.advances[len(self.advances) // 4 :])
        pct("reorder window (at each release)", self.windows[len(self.windows) // 4 :])
        pct("tick end -> alert publish", to_pub)
        pct("alert publish -> consumer receive", pub_to_rx)
        pct("U -> consumer receive (typical e2e)", typ)
        pct("U' -> consumer receive (e2e bound)", upper)
        self._trigger_report(pct, by_u, t0)
        for generation, pauses in sorted(self.gc_pauses.items()):
            pct(f"garbage collection pause, generation {generation}", pauses)
            if generation > 0:  # after the warm-up (start-up's own collect and freeze left out)
                pct(f"  generation {generation} after the first {warm_s:.0f} s of ticks", [
                    end - start for start, end, what in self.intervals
                    if what == f"gc {generation}" and start >= t0
                ])  # fmt: skip
            self.cpu[f"core: garbage collection, generation {generation}"] = self.gc_cpu.get(
                generation, 0.0
            )
        span = (live[-1][2] - live[0][1]) if len(live) > 1 else np.nan
        out["tick_cpu_share"] = sum(k[3] for k in live) / span if span == span else np.nan
        out["ticks_per_s"] = len(live) / span if span == span else np.nan
        out["detections"] = sum(k[4] for k in ticks)
        # the slowest ticks (s after the first tick, wall ms, CPU ms, detections): a tick that
        # takes seconds of data at once closes one scan for all of it, and the tracker then
        # starts tracks on the clutter of several scans (a run that never catches up)
        slow = sorted(ticks, key=lambda k: k[1] - k[2])[:5]
        out["slowest ticks"] = [
            (round(k[1] - ticks[0][1], 1), round(1e3 * (k[2] - k[1])), round(1e3 * k[3]), k[4])
            for k in slow
        ]
        return out

    def _trigger_report(self, pct, by_u: dict, t0: float) -> None:
        """Detection-in to alert-out, exactly: for each alert event of a live tick, the plot
        of the alert's track that this tick processed (the track's newest earlier plot when
        the tick had none, e.g. a scan close) and the edge receive time (Sw-T) of its
        datagram, as the reorder buffer holds it (skywarden.reorder.receive_times: never later
        than the true receipt, so the latency is never understated); latency = the
        consumer's receive time - that. Also where the time went, per stage, from it."""
        us = sorted(self.tick_plots)
        rows: dict[str, list[float]] = defaultdict(list)
        missing = 0
        for u, action, track, rx, alert_id, *more in self.events:
            tick = by_u.get(u)
            if tick is None or tick[1] < t0 or action not in TRIGGERED:
                continue
            r = self.tick_plots.get(u, {}).get(track)
            key = "in tick"
            plot_u = u
            if r is None:
                key = "newest earlier"
                for v in reversed(us[: bisect.bisect_left(us, u)]):
                    r, plot_u = self.tick_plots[v].get(track), v
                    if r is not None:
                        break
            if r is None:
                missing += 1
                continue
            rows[key].append(rx - r)
            label = f"{key}, {more[0] if more else '?'}"
            self.by_cause[label] = self.by_cause.get(label, 0) + 1
            if action == "raised":  # as an api node's consoles see it: on the next picture
                rows["picture"].append(self.shown.get(alert_id, np.nan) - r)
            if key == "newest earlier":
                rows["earlier: the alert tick's U - the plot tick's U"].append(u - plot_u)
            if key == "newest earlier" and u in self.closes:
                self.at_close += 1
                rows["to close"].append(tick[1] - r)
                rows["close to rx"].append(rx - tick[1])
                plot_tick = by_u.get(plot_u)
                if plot_tick is not None:  # had the plot's own tick raised it (what if)
                    rows["if raised in the plot's tick"].append(plot_tick[2] - r + rx - tick[2])
            if key == "in tick":
                fetch, taken = self.datagrams.get(r, [np.nan, np.nan])
                rows["fetch"].append(fetch - r)
                rows["taken"].append(taken - r)
                rows["tick start"].append(tick[1] - r)
                rows["tick end"].append(tick[2] - r)
                rows["publish"].append(self.published.get(u, np.nan) - r)
                self.trace.append({
                    "edge receive": r, "fetch": fetch - r, "taken": taken - r,
                    "tick start": tick[1] - r, "tick end": tick[2] - r,
                    "publish": self.published.get(u, np.nan) - r, "consumer": rx - r,
                    "tick cpu": tick[3], "tick detections": tick[4],
                    "scan close": u in self.closes, "rx": rx,
                })  # fmt: skip
        pct("EXACT e2e: trigger plot in its tick", rows["in tick"])
        pct("EXACT e2e: plot in an earlier tick", rows["newest earlier"])
        pct("EXACT e2e: all triggered events", rows["in tick"] + rows["newest earlier"])
        pct("EXACT e2e to the first picture showing a raised alert", rows["picture"])
        for name in ("fetch", "taken", "tick start", "tick end", "publish"):
            pct(f"  trigger plot's edge receive -> {name}", rows[name])
        pct("  plot in an earlier tick: the alert tick's U - the plot tick's U",
            rows["earlier: the alert tick's U - the plot tick's U"])  # fmt: skip
        pct("  raised at a scan close: plot receive -> close tick", rows["to close"])
        pct("  raised at a scan close: close tick -> consumer", rows["close to rx"])
        pct("  raised at a scan close: estimate, had the plot's tick raised it "
            "(plot receive -> its tick end + close tick end -> consumer)",
            rows["if raised in the plot's tick"])  # fmt: skip
        self.untraced = missing

    def tail(self, n: int = 8) -> list[str]:
        """The ``n`` slowest "in tick" alert events, one line each: the stages (ms from the
        trigger plot's edge receive), the tick's CPU and size, and what ran in the core
        between the edge receive and the consumer's receive (garbage collections, picture
        encodes, the ticks' parts; ms of each, overlapping that span)."""
        lines = []
        for row in sorted(self.trace, key=lambda row: -row["consumer"])[:n]:
            r, rx = row["edge receive"], row["rx"]
            busy: dict[str, float] = defaultdict(float)
            for start, end, what in self.intervals:
                overlap = min(end, rx) - max(start, r)
                if overlap > 0:
                    busy[what] += overlap * 1e3
            stages = " ".join(
                f"{k} {1e3 * row[k]:.0f}"
                for k in ("fetch", "taken", "tick start", "tick end", "publish", "consumer")
            )
            during = ", ".join(f"{k} {v:.0f}" for k, v in sorted(busy.items()))
            lines.append(
                f"{stages} | tick cpu {1e3 * row['tick cpu']:.0f} ms, "
                f"{row['tick detections']} det{', close' if row['scan close'] else ''} | "
                f"during: {during}"
            )
        return lines


def detection_keys(d) -> list[tuple[float, float]]:
    """One key per detection that the pipeline keeps from the feed to the tracker: (time,
    identity) for cooperative reports (the pipeline moves a late one's position on:
    skywarden.late_reports), (time, east) for the others."""
    east = d.z[:, 0].tolist()
    identity = d.identity.tolist()
    return [
        (t, float(i) if i >= 0 else e) for t, i, e in zip(d.t.tolist(), identity, east, strict=True)
    ]


TRIGGERED = frozenset({"raised", "entered", "reopened", "reassociated", "merged"})
