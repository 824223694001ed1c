"""A tick that spans several scans closes each of them (skywarden.scan_closes): hits and misses
are counted per scan, as when the live loop keeps up, not once for all of them."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from skywarden.classify.trained import identity_and_speed_classes
from skywarden.detections import Detections, make_detections
from skywarden.pipeline import Pipeline
from skywarden.scan_closes import close_times, scans_due
from skywarden.site_config import site_config_from_dict

T0 = 1_750_000_000.0
SPAN = 4  # scans in the long tick


@given(st.floats(-1e3, 1e3), st.floats(0.05, 5.0))  # now - scan_end, period
def test_scans_due_counts_the_scan_ends_passed(offset: float, period: float) -> None:
    scan_end = T0
    now = T0 + offset
    brute = 0
    while scan_end + brute * period <= now and brute < 100_000:
        brute += 1
    assert scans_due(now, scan_end, period) == brute
    # the loop's next scan end is after now, within one period
    assert scan_end + scans_due(now, scan_end, period) * period > now


@given(st.floats(0.01, 100.0), st.integers(0, 50))
def test_close_times_divide_the_span_into_equal_scans(span: float, scans: int) -> None:
    times = close_times(T0, T0 + span, scans)
    assert len(times) == max(scans - 1, 0)
    edges = [T0, *times, T0 + span]
    widths = np.diff(edges)
    assert (widths > 0).all()
    np.testing.assert_allclose(widths, span / max(scans, 1), rtol=1e-6, atol=1e-6)


def test_nothing_to_divide_gives_no_extra_close() -> None:
    assert close_times(None, T0, 4) == []  # no close before
    assert close_times(T0, T0, 4) == []  # not before the tick
    assert close_times(T0, T0 + 3.0, 1) == []  # one scan: the tick's own close
    assert scans_due(T0 - 0.1, T0, 1.0) == 0
    assert scans_due(math.nan, T0, 1.0) == 0


def _pipeline() -> Pipeline:
    config = site_config_from_dict({"site": {"lat": 47.0, "lon": 8.0}}, Path("."))
    return Pipeline(config, clock=lambda: T0, classifier=identity_and_speed_classes)


def _plot(t: float) -> Detections:
    """A radar plot of one target 1 km out, flying east at 10 m/s, 100 m up."""
    return make_detections(t, np.array([[1000.0 + 10.0 * (t - T0), 500.0, 100.0]]), 5.0)


def _confirmed(scans: int = 8) -> Pipeline:
    """A pipeline with the target's track confirmed, one tick (plot and close) per scan."""
    pipeline = _pipeline()
    for k in range(scans):
        pipeline.process(T0 + k + 0.5, _plot(T0 + k + 0.3), end_of_scan=True)
    assert len(pipeline.tracks) == 1 and pipeline.tracks.take(pipeline.tracks.confirmed).id.size
    return pipeline


def _long_tick(seen_in: list[int], end_of_scan: bool | int) -> Pipeline:
    """SPAN scans' plots (those of the scans ``seen_in``) in one tick after a long one."""
    pipeline = _confirmed()
    t_close = pipeline.last_close_t
    plots = [_plot(t_close + k + 0.8) for k in seen_in]
    detections = Detections.concat(plots) if plots else Detections.empty()
    pipeline.process(t_close + SPAN, detections, end_of_scan=end_of_scan)
    return pipeline


def test_a_target_seen_in_one_of_the_spanned_scans_counts_a_miss_in_each_other() -> None:
    per_scan = _long_tick([0], SPAN)
    assert per_scan.tracks.misses.tolist() == [SPAN - 1]
    assert int(per_scan.tracks.history[0]) & 0b1111 == 0b1000  # hit, miss, miss, miss
    assert per_scan.spanned_scan_closes == SPAN - 1
    assert per_scan.health()["spanned_scan_closes"] == SPAN - 1
    # closing one scan for all of them (as the loop did) counted no miss at all
    one_close = _long_tick([0], True)
    assert one_close.tracks.misses.tolist() == [0]
    assert one_close.spanned_scan_closes == 0


def test_a_target_seen_in_every_spanned_scan_counts_a_hit_in_each() -> None:
    before = _confirmed()
    per_scan = _long_tick(list(range(SPAN)), SPAN)
    assert per_scan.tracks.misses.tolist() == [0]
    assert per_scan.tracks.hits.tolist() == [int(before.tracks.hits[0]) + SPAN]
    assert per_scan.tracks.age.tolist() == [int(before.tracks.age[0]) + SPAN]
    one_close = _long_tick(list(range(SPAN)), True)
    assert one_close.tracks.hits.tolist() == [int(before.tracks.hits[0]) + 1]


def test_the_live_loop_closes_every_scan_a_long_tick_spanned() -> None:
    """run_live: a tick that takes 3.5 scan periods (the pipeline's clock moves on during
    it) is followed by one that closes the 3 scans whose ends passed meanwhile."""
    from skywarden.loop import run_live

    now = [T0]
    config = site_config_from_dict({"site": {"lat": 47.0, "lon": 8.0}}, Path("."))
    pipeline = Pipeline(config, clock=lambda: now[0], classifier=identity_and_speed_classes)
    period = config.scan_period_s
    advanced = pipeline.advance
    closes: list[bool | int] = []

    async def run() -> None:
        stop = asyncio.Event()

        def advance(t, detections, end_of_scan=True):
            closes.append(end_of_scan)
            if len(closes) == 1:
                now[0] += 3.5 * period  # a long tick
            else:
                stop.set()
            return advanced(t, detections, end_of_scan)

        pipeline.advance = advance  # type: ignore[method-assign]
        loop = asyncio.create_task(run_live(pipeline, [], stop))
        await asyncio.sleep(0)  # run_live starts the first scan at its clock: T0
        now[0] = T0 + period  # its end (the loop wakes up for it within a period)
        await asyncio.wait_for(loop, 30)

    asyncio.run(run())
    assert closes == [1, 3]
    assert pipeline.spanned_scan_closes == 2
