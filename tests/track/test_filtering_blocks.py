"""filtering.blocks: the same rows in the same order, consecutive runs as slices."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from skywarden.track.filtering import blocks


@given(st.lists(st.booleans(), max_size=60), st.integers(1, 8))
def test_blocks_cover_the_rows_in_order(mask: list[bool], size: int) -> None:
    rows = np.flatnonzero(np.array(mask, bool))
    parts = blocks(rows, size)
    back = [np.arange(p.start, p.stop) if isinstance(p, slice) else p for p in parts]
    joined = np.concatenate(back) if back else np.zeros(0, np.int64)
    assert np.array_equal(joined, rows)
    assert all(1 <= len(b) <= size for b in back)
    for p, b in zip(parts, back, strict=True):  # a slice exactly when the block is one run
        assert isinstance(p, slice) == bool(np.all(np.diff(b) == 1))


def test_a_run_of_rows_is_read_as_a_view() -> None:
    a = np.arange(20.0).reshape(10, 2)
    (part,) = blocks(np.arange(2, 7), 8)
    assert part == slice(2, 7) and np.shares_memory(a[part], a)
