"""finite_median is np.median of finite values, without np.median's numpy.ma import."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skywarden.sources.recordings.readers import finite_median, median_interval


@given(
    hnp.arrays(
        np.float64,
        st.integers(1, 60),
        elements=st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False),
    )
)
def test_finite_median_is_numpys_median(values: np.ndarray) -> None:
    assert finite_median(values) == float(np.median(values))


def test_median_interval_per_group() -> None:
    t = np.array([0.0, 5.0, 1.0, 10.0, 3.0, np.nan])
    group = np.array([1, 2, 1, 2, 1, 1])
    # group 1: 0, 1, 3 -> 1, 2; group 2: 5, 10 -> 5; median of (1, 2, 5)
    assert median_interval(t, group) == 2.0
