"""The distinct values of an integer array, sorted: ``np.unique(values)`` without its start-up cost.

    keys = sorted_distinct(values)        # the same array as np.unique(values)

NumPy 2's ``np.unique`` checks its input for a mask (``np.ma.is_masked``) on the plain call
(no ``return_index`` / ``return_inverse`` / ``return_counts``), and the first such call of a
process imports ``numpy.ma``: 13-30 ms, a noticeable share of a command's start-up (``skywarden
inspect`` of a small file takes ~0.3 s of CPU). A sort and one comparison of neighbours give the
same values without it.
"""

from __future__ import annotations

import numpy as np

from skywarden.units import IntArray


def sorted_distinct(values: np.ndarray) -> IntArray:
    """The distinct values (K,) of an integer (or boolean) array, flattened, in ascending
    order: equal to ``np.unique(values)``. Integers only: NaN, which np.unique collapses into
    one, never compares equal to itself here."""
    values = np.asarray(values)
    if values.dtype.kind not in "biu":
        raise TypeError(f"sorted_distinct needs integers, not {values.dtype}")
    s = np.sort(values, axis=None)
    first = np.ones(s.size, bool)
    np.not_equal(s[1:], s[:-1], out=first[1:])
    return s[first]
