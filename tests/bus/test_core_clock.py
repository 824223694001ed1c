"""The bus core's clock (skywarden.bus.core_clock): the stream's time, on a fake wall clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skywarden.bus.core_clock import CoreClock


class FakeWall:
    def __init__(self, t: float = 1_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_nothing_taken_reads_the_wall_clock() -> None:
    wall = FakeWall()
    clock = CoreClock(wall)
    assert clock() == 1_000.0
    wall.t = 1_002.5
    assert clock() == 1_002.5
    assert clock.lag_s() == 0.0


def test_a_core_behind_the_stream_reads_the_stream_time() -> None:
    wall = FakeWall(100.0)
    clock = CoreClock(wall)
    clock.took(90.0)  # the edge received it 10 s ago: the core is behind
    assert clock() == 90.0
    clock2 = CoreClock(wall)
    clock2.took(90.0)
    wall.t = 100.25
    assert clock2() == 90.25  # the stream's time, advancing with the wall since the take
    clock2.took(90.5)
    assert clock2() == 90.5
    assert clock2.lag_s() == 100.25 - 90.5


def test_a_core_that_keeps_up_reads_the_wall_clock_while_idle() -> None:
    wall = FakeWall(50.0)
    clock = CoreClock(wall)
    clock.took(49.99)  # 10 ms on the bus
    assert clock() == 49.99
    wall.t = 51.0  # nothing arrives for a second: scans must still close
    assert clock() == 50.99
    clock.took(52.0)  # an edge clock ahead of ours: never ahead of the wall clock
    assert clock() == 51.0
    wall.t = 53.0
    assert clock() == 53.0


def test_fixed_while_replaying() -> None:
    clock = CoreClock(FakeWall(10.0))
    clock.fixed = 3.0
    clock.took(9.0)
    assert clock() == 3.0
    assert clock.lag_s() == 0.0
    clock.fixed = None
    assert clock() == 9.0


@given(st.lists(st.tuples(st.floats(0, 5), st.floats(-3, 3), st.booleans()), max_size=40))
def test_never_ahead_of_the_wall_nor_behind_the_newest_datagram(steps) -> None:
    wall = FakeWall(1_000.0)
    clock = CoreClock(wall)
    newest = -float("inf")
    for dt, age, take in steps:
        wall.t += dt
        if take:
            clock.took(wall.t - age)
            newest = max(newest, wall.t - age)
        assert min(newest, wall.t) <= clock() <= wall.t


def test_steps_back_to_the_stream_after_a_long_tick() -> None:
    wall = FakeWall(10.0)
    clock = CoreClock(wall)
    clock.took(10.0)
    wall.t = 10.4  # a 0.4 s tick: read before anything new is taken
    assert clock() == 10.4
    clock.took(10.02)  # what arrived meanwhile: the stream is only at 10.02
    assert clock() == 10.02


def test_with_datagrams_still_to_take_it_stays_at_the_stream_time() -> None:
    wall = FakeWall(20.0)
    clock = CoreClock(wall)
    clock.took(19.99)
    clock.caught_up = False  # fetched, not yet taken: the stream is known to be further
    wall.t = 20.3  # decoding, a tick, the machine busy elsewhere
    assert clock() == 19.99
    clock.took(20.1)
    clock.caught_up = True
    assert clock() == 20.1
    wall.t = 20.5  # caught up: advancing with the wall clock from the take (at 20.3)
    assert clock() == pytest.approx(20.3)
