"""The core encodes its picture with the cyclic garbage collector paused: the same bytes, no
collection set off by the document's containers, and the collector's state restored."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from skywarden.bus.core import encode_without_collecting
from skywarden.bus.picture import encode_picture
from skywarden.snapshot import Snapshot
from tests.bus.test_picture_decode import _tracks


def _snapshot(n: int) -> Snapshot:
    return Snapshot(1, 2.0, (50.0, 4.0, 0.0), _tracks([6] * n, False), ())


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generation of each collection that starts, with a threshold that makes the
    document's containers set collections off (restored afterwards)."""
    started: list[int] = []

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            started.append(int(info["generation"]))

    threshold, enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(50, 1, 1)
    gc.enable()
    gc.callbacks.append(note)
    try:
        yield started
    finally:
        gc.callbacks.remove(note)
        gc.set_threshold(*threshold)
        if enabled:  # as it was (a test here disables it: the rest of the session collects)
            gc.enable()
        else:
            gc.disable()


def test_the_bytes_are_encode_pictures() -> None:
    snapshot = _snapshot(30)
    expected = encode_picture(_snapshot(30))
    assert encode_without_collecting(snapshot) == expected


def test_encoding_sets_off_no_collection(collections: list[int]) -> None:
    encode_picture(_snapshot(200))  # the check below can fail: unpaused, it collects
    assert collections, "the threshold should make an unpaused encoding collect"
    collections.clear()
    encode_without_collecting(_snapshot(200))
    assert collections == []
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled(collections: list[int]) -> None:
    gc.disable()
    encode_without_collecting(_snapshot(3))
    assert not gc.isenabled()


def test_the_collector_is_enabled_again_after_an_error(collections: list[int]) -> None:
    with pytest.raises(AttributeError):
        encode_without_collecting(None)  # type: ignore[arg-type]
    assert gc.isenabled()
