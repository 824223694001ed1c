"""The live loop's reorder window: detections come out in time order, at their own times."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.detections import make_detections
from skywarden.reorder import ReorderBuffer


def _dets(times: list[float]):
    t = np.asarray(times, dtype=float)
    return make_detections(t, np.column_stack([t, np.zeros_like(t), np.zeros_like(t)]), 5.0)


def test_holds_for_the_window_then_releases_in_time_order() -> None:
    buf = ReorderBuffer(0.1)
    buf.add(_dets([10.02, 10.00]), received=10.03)
    until, ready, first = buf.release(10.05)
    assert until == pytest.approx(9.95) and len(ready) == 0 and first == np.inf
    buf.add(_dets([10.01, 10.12]), received=10.13)  # a slower sensor's older plot
    until, ready, first = buf.release(10.14)
    assert ready.t.tolist() == [10.00, 10.01, 10.02] and first == 10.03
    assert len(buf) == 1
    _, ready, _ = buf.release(10.30)
    assert ready.t.tolist() == [10.12] and len(buf) == 0


def test_future_times_are_held_as_if_measured_on_arrival() -> None:
    buf = ReorderBuffer(0.05)
    buf.add(_dets([3600.0]), received=100.0)  # a sensor clock an hour ahead
    _, ready, _ = buf.release(100.06)
    assert ready.t.tolist() == [100.0] and ready.z[0, 0] == 3600.0


def test_negative_window_is_refused() -> None:
    with pytest.raises(ValueError, match="reorder window"):
        ReorderBuffer(-1.0)


@settings(max_examples=60, deadline=None)
@given(
    delays=st.lists(st.floats(0.0, 0.2), min_size=1, max_size=40),
    window=st.floats(0.0, 0.3),
    step=st.floats(0.01, 0.1),
)
def test_released_stream_is_time_ordered_and_loses_nothing(
    delays: list[float], window: float, step: float
) -> None:
    """Detection k is measured at 0.05 k and received after its delay; the loop polls every
    step. Everything comes out once; only detections delayed past the window can come out
    older than what was released before them."""
    rng = np.random.default_rng(len(delays))
    t = 0.05 * np.arange(len(delays))
    arrive = t + np.asarray(delays)
    order = np.argsort(arrive, kind="stable")
    buf = ReorderBuffer(window)
    out, last_until, now, i = [], -np.inf, 0.0, 0
    while i < len(order) or len(buf):
        while i < len(order) and arrive[order[i]] <= now:
            k = order[i]
            buf.add(_dets([t[k]]), received=float(arrive[k]))
            i += 1
        until, ready, _ = buf.release(now)
        assert np.all(np.diff(ready.t) >= 0)
        late = ready.t < last_until
        assert np.all(np.asarray(delays)[np.searchsorted(t, ready.t[late])] > window - 1e-12)
        out.extend(ready.t.tolist())
        last_until = max(last_until, until)
        now += step + rng.uniform(0, 1e-3)
    assert sorted(out) == sorted(t.tolist())
