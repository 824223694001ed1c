"""gc_pauses: the start-up freeze collects first, and the thaw undoes it."""

from __future__ import annotations

import gc
import weakref

from skywarden.gc_pauses import freeze_start_up, thaw_start_up


def test_freeze_then_thaw():
    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: garbage once dropped, collected before the freeze
    gone = weakref.ref(a)
    del a, b
    try:
        frozen = freeze_start_up()
        assert gone() is None  # not frozen with the living
        assert frozen > 0 and frozen == gc.get_freeze_count()
        kept = [Node()]  # made after the freeze: still tracked by the collector
        assert any(o is kept[0] for o in gc.get_objects())
    finally:
        thaw_start_up()
    assert gc.get_freeze_count() == 0
