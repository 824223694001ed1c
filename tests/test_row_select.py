"""select_rows is array[index], element for element, for masks, indices and slices."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skywarden.row_select import select_rows

SHAPES = [(), (3,), (3, 3), (2, 6, 6)]
DTYPES = [np.float64, np.int32, np.int64, np.int8, np.bool_, np.uint32]


@given(
    n=st.integers(0, 40),
    tail=st.sampled_from(SHAPES),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
)
def test_equals_fancy_indexing(n: int, tail: tuple[int, ...], dtype: type, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = (rng.normal(size=(n, *tail)) * 100).astype(dtype)
    mask = rng.random(n) < 0.5
    index = rng.integers(-n, n, size=rng.integers(0, 2 * n + 1)) if n else np.zeros(0, int)
    for sel in (mask, index, np.flatnonzero(mask), np.zeros(0, np.int64)):
        got, want = select_rows(a, sel), a[sel]
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want)
        assert not np.shares_memory(got, a) or got.size == 0  # a copy, as fancy indexing
    assert np.shares_memory(select_rows(a, slice(1, 3)), a) or a[1:3].size == 0


def test_bad_indices_raise_like_fancy_indexing() -> None:
    a = np.arange(12.0).reshape(4, 3)
    with pytest.raises(IndexError):
        select_rows(a, np.array([4]))
    with pytest.raises(IndexError):
        select_rows(a, np.ones(3, bool))
