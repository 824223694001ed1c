"""The live loop's reorder window: detections come out in time order, at their own times."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.detections import make_detections
from skywarden.reorder import MIN_WINDOW_S, ReorderBuffer, receive_times


def _dets(times: list[float]):
    t = np.asarray(times, dtype=float)
    return make_detections(t, np.column_stack([t, np.zeros_like(t), np.zeros_like(t)]), 5.0)


def test_holds_for_the_window_then_releases_in_time_order() -> None:
    buf = ReorderBuffer()
    buf.add(_dets([10.00, 9.98]), received=10.03)  # delays 30 and 50 ms
    assert buf.window_s == pytest.approx(0.0598, abs=1e-3)  # 99th percentile + 10 ms
    until, ready, first = buf.release(10.035)
    assert until < 9.98 and len(ready) == 0 and first == np.inf
    buf.add(_dets([9.99, 10.08]), received=10.10)  # a slower sensor's older plot
    assert buf.window_s == pytest.approx(0.118, abs=2e-3)  # the window widens to 110 ms
    until, ready, first = buf.release(10.13)
    assert until == pytest.approx(10.13 - buf.window_s)
    assert ready.t.tolist() == [9.98, 9.99, 10.00] and first == 10.03
    assert len(buf) == 1
    _, ready, _ = buf.release(11.0)
    assert ready.t.tolist() == [10.08] and len(buf) == 0


def test_window_follows_the_delays_within_its_bounds() -> None:
    buf = ReorderBuffer(max_window_s=0.5)
    for k in range(300):
        buf.add(_dets([k * 0.1]), received=k * 0.1 + 0.002)
    assert buf.window_s == MIN_WINDOW_S  # a fast link: the smallest window
    for k in range(300, 2300):
        buf.add(_dets([k * 0.1]), received=k * 0.1 + (0.9 if k % 500 == 0 else 0.05))
    assert buf.window_s == pytest.approx(0.06)  # 4 outliers in 2000 do not widen it
    for k in range(2300, 4300):
        buf.add(_dets([k * 0.1]), received=k * 0.1 + (0.495 if k % 2 else 0.7))
    assert buf.window_s == 0.5  # never above the latency budget


def test_delays_beyond_the_budget_do_not_hold_the_others() -> None:
    """A few wild times (a corrupted time field, a sensor clock's jump): no window within the
    budget would catch them, so they must not hold every other detection for all of it."""
    buf = ReorderBuffer(max_window_s=0.5)
    for k in range(2000):
        wild = k % 20 == 0  # 5 %: far more than the 1 % the percentile ignores
        buf.add(_dets([k * 0.1]), received=k * 0.1 + (30.0 if wild else 0.04))
    assert buf.window_s == pytest.approx(0.05)
    _, ready, _ = buf.release(2000 * 0.1 + 1.0)
    assert len(ready) == 2000  # the wild ones are released too (late), none is lost


def test_future_times_are_held_as_if_measured_on_arrival() -> None:
    buf = ReorderBuffer()
    buf.add(_dets([3600.0]), received=100.0)  # a sensor clock an hour ahead
    _, ready, _ = buf.release(100.1)
    assert ready.t.tolist() == [100.0] and ready.z[0, 0] == 3600.0


def test_negative_window_is_refused() -> None:
    with pytest.raises(ValueError, match="reorder window"):
        ReorderBuffer(-1.0)


@settings(max_examples=60, deadline=None)
@given(
    delay=st.floats(0.0, 0.3),
    jitter=st.lists(st.floats(0.0, 0.005), min_size=1, max_size=60),
    step=st.floats(0.005, 0.1),
)
def test_steady_delays_lose_nothing_and_come_out_in_order(
    delay: float, jitter: list[float], step: float
) -> None:
    """Detection k is measured at 0.05 k and received delay (+ up to 5 ms) later; the loop
    polls every step. Everything comes out once, in time order, and none is late."""
    t = 0.05 * np.arange(len(jitter))
    arrive = t + delay + np.asarray(jitter)
    order = np.argsort(arrive, kind="stable")
    buf = ReorderBuffer()
    out, now, i = [], 0.0, 0
    while i < len(order) or len(buf):
        while i < len(order) and arrive[order[i]] <= now:
            k = order[i]
            buf.add(_dets([t[k]]), received=float(arrive[k]))
            i += 1
        _, ready, _ = buf.release(now)
        out.extend(ready.t.tolist())
        now += step
    assert out == sorted(t.tolist())


@settings(max_examples=80, deadline=None)
@given(
    chunks=st.lists(
        st.tuples(st.floats(0.0, 10.0), st.lists(st.floats(0.0, 0.3), min_size=1, max_size=5)),
        min_size=1,
        max_size=20,
    )
)
def test_receive_times_are_never_later_than_the_true_receipt(
    chunks: list[tuple[float, list[float]]],
) -> None:
    """Chunk k received at r_k carries detections measured up to 0.3 s before it: each
    detection's estimated receipt is a chunk's receive time, not before its measurement and
    not after its own chunk's (a backlog taken in one batch is not the sensor's delay)."""
    received = np.array([r for r, _ in chunks])
    measured = np.array([r - d for r, ds in chunks for d in ds])
    true = np.array([r for r, ds in chunks for _ in ds])
    est = receive_times(measured, received)
    assert np.isin(est, received).all()
    assert (est >= measured).all() and (est <= true).all()


def test_per_detection_receive_times_set_the_delays_and_the_latency_start() -> None:
    buf = ReorderBuffer()
    # a backlog of two datagrams taken together: measured 10.00 and 10.10, each received 5 ms
    # after; the newest receive time for both would make the first look 105 ms late
    buf.add(_dets([10.00, 10.10]), received=np.array([10.005, 10.105]))
    assert buf.window_s == pytest.approx(MIN_WINDOW_S)
    until, ready, first = buf.release(10.2)
    assert ready.t.tolist() == [10.00, 10.10] and first == 10.005
    assert receive_times(np.array([10.0, 10.1, 11.0]), np.array([10.105, 10.005])).tolist() == [
        10.005, 10.105, 10.105,
    ]  # fmt: skip


def test_a_lone_in_order_source_is_released_at_once() -> None:
    """A radar's sector: every plot in it is older than its newest, and the radar sends in
    order, so nothing can still come that is older: no wait for the window."""
    buf = ReorderBuffer()
    for k in range(50):  # sectors 31 ms long, sent 5 ms after their last plot
        sector = 10.0 + 0.031 * k + np.array([0.0, 0.015, 0.030])
        buf.add(_dets(sector.tolist()), received=sector[-1] + 0.005, source=0)
        until, ready, _ = buf.release(sector[-1] + 0.006)
        assert len(ready) == 3 and until == pytest.approx(sector[-1])
    assert buf.window_s > 0.03  # the window alone would have held the newest plots


def test_a_slower_source_holds_the_others_back_to_its_watermark() -> None:
    buf = ReorderBuffer()
    buf.add(_dets([10.000]), received=10.040, source=0)  # radar: 40 ms late
    buf.add(_dets([10.030, 10.045]), received=10.046, source=1)  # ADS-B: 1 ms late
    until, ready, _ = buf.release(10.047)
    assert until == pytest.approx(10.000)  # the radar may still send plots after 10.000
    assert ready.t.tolist() == [10.000] and len(buf) == 2
    buf.add(_dets([10.031]), received=10.071, source=0)
    _, ready, _ = buf.release(10.072)
    assert ready.t.tolist() == [10.030, 10.031]  # in time order, across the sources


def test_a_silent_source_holds_nothing_back_beyond_its_own_delay() -> None:
    buf = ReorderBuffer()
    buf.add(_dets([10.000]), received=10.002, source=1)  # a fast source, then silence
    buf.add(_dets([10.500]), received=10.540, source=0)
    until, ready, _ = buf.release(10.541)
    assert until == pytest.approx(10.500)  # source 1 cannot send anything older than ~10.53
    assert ready.t.tolist() == [10.000, 10.500]


def test_a_source_seen_out_of_order_is_held_by_its_delay_only() -> None:
    buf = ReorderBuffer()
    buf.add(_dets([10.000]), received=10.040, source=0)
    buf.add(_dets([9.990]), received=10.041, source=0)  # older than its watermark
    buf.add(_dets([10.050]), received=10.090, source=0)
    until, _, _ = buf.release(10.091)
    assert until == pytest.approx(10.091 - buf._sources[0].delay_s)  # not 10.050
    assert until < 10.050


def _reports(times: list[float]):
    """Cooperative reports (Remote ID, ADS-B): each with its own velocity."""
    t = np.asarray(times, dtype=float)
    z = np.column_stack([t, np.zeros_like(t), np.zeros_like(t)])
    return make_detections(t, z, 5.0, v=np.tile([15.0, 0.0, 0.0], (t.size, 1)))


def test_a_source_that_reports_velocity_holds_no_other_back() -> None:
    """A Remote ID receiver 200 ms behind its drones would hold every radar plot 200 ms;
    its reports carry their velocity, so the radar's plots go at once and a report that
    comes late is taken at the tracker's time (counted late there)."""
    buf = ReorderBuffer()
    buf.add(_reports([10.000]), received=10.200, source=1)
    buf.add(_dets([10.180, 10.210]), received=10.215, source=0)
    until, ready, _ = buf.release(10.216)
    assert until == pytest.approx(10.210)  # the radar's watermark alone
    assert ready.t.tolist() == [10.000, 10.180, 10.210]
    buf.add(_reports([10.050]), received=10.250, source=1)  # older than the release: late
    buf.add(_dets([10.240]), received=10.245, source=0)
    _, ready, _ = buf.release(10.251)
    assert ready.t.tolist() == [10.050, 10.240]
    # a source that once sent a detection without velocity is waited for again
    buf.add(_dets([10.100]), received=10.300, source=1)
    buf.add(_dets([10.290]), received=10.295, source=0)
    until, ready, _ = buf.release(10.301)
    assert until < 10.290 and ready.t.tolist() == [10.100]


def test_an_untagged_batch_brings_back_the_window() -> None:
    buf = ReorderBuffer()
    buf.add(_dets([10.000]), received=10.040, source=0)
    buf.add(_dets([10.010]), received=10.045)
    until, ready, _ = buf.release(10.046)
    assert until == pytest.approx(10.046 - buf.window_s) and len(ready) == 0


@settings(max_examples=80, deadline=None)
@given(
    sources=st.lists(
        st.tuples(st.floats(0.0, 0.1), st.floats(0.005, 0.05)), min_size=1, max_size=3
    ),
    polls=st.lists(st.floats(0.0, 0.03), min_size=1, max_size=40),
)
def test_in_order_sources_with_steady_delays_never_deliver_behind_a_release(
    sources: list[tuple[float, float]], polls: list[float]
) -> None:
    """Each source measures every ``step`` s and is received ``delay`` s later, in order:
    whatever the loop's release times (once each source was heard from), nothing arrives
    older than a time already released,
    and every detection comes out once, in time order per release."""
    events = sorted(
        (10.0 + k * step + delay, 10.0 + k * step, i)
        for i, (delay, step) in enumerate(sources)
        for k in range(40)
    )
    # every source has been heard from before the first release (one never heard from cannot
    # be waited for: its first detections may be late, as the module docstring says)
    now = 10.0 + max(delay for delay, _ in sources)
    buf, released_until, out = ReorderBuffer(), -np.inf, []
    for dt in [0.0] + polls + [1.0] * 10:
        now += dt
        while events and events[0][0] <= now:
            received, t, i = events.pop(0)
            assert t > released_until
            buf.add(_dets([t]), received=received, source=i)
        until, ready, _ = buf.release(now)
        released_until = max(released_until, until)
        assert np.all(np.diff(ready.t) >= 0)
        out += ready.t.tolist()
    if not events:
        assert len(out) == 40 * len(sources) and len(buf) == 0
