"""sorted_distinct is np.unique for integer arrays, without importing numpy.ma."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skywarden.sorted_distinct import sorted_distinct


@given(
    hnp.arrays(
        st.sampled_from([np.int64, np.int32, np.uint32, np.int8, np.bool_]),
        hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=30),
    )
)
def test_equals_np_unique(values: np.ndarray) -> None:
    got, want = sorted_distinct(values), np.unique(values)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        sorted_distinct(np.array([1.0, np.nan]))


def test_does_not_import_numpy_ma() -> None:
    code = (
        "import sys, numpy as np; from skywarden.sorted_distinct import sorted_distinct; "
        "sorted_distinct(np.array([3, 1, 3])); print('numpy.ma' in sys.modules)"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "False"
