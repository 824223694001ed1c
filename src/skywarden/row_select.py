"""Select rows of arrays (the first axis) by a boolean mask or an integer index, fast.

    rows = select_rows(array, index)      # the same array as array[index]

NumPy's fancy indexing ``a[mask]`` / ``a[idx]`` goes through its general indexing machinery,
which is slow for the tracker's shapes: many short rows (a detection's (3,) position or (3, 3)
covariance). ``np.compress`` and ``np.take`` along axis 0 copy the same bytes without it.
Measured on 190,000 detections (NumPy 2.4, one core): a (D, 3, 3) stack by a random
permutation 13.5 -> 3.1 ms, a (D, 3) array 11.9 -> 0.9 ms; by a boolean mask (D,) 0.84 ->
0.14 ms, (D, 3, 3) 3.3 -> 0.6 ms. The result is the same, element for element (a copy).
"""

from __future__ import annotations

import numpy as np


def select_rows(array: np.ndarray, index: np.ndarray | slice) -> np.ndarray:
    """``array[index]`` for a boolean mask (same length as ``array``) or an integer index
    array (negative indices count from the end; out of range raises IndexError), as a new
    array with the first axis selected. A slice gives ``array[index]`` itself (a view).

    Lean on purpose (ndarray methods, no NumPy function wrappers): it is called a hundred
    times per tracker step, so at 100-1,000 tracks its own overhead is what it costs."""
    if isinstance(index, slice):
        return array[index]
    if not isinstance(index, np.ndarray):
        index = np.asarray(index)
    if index.dtype.kind == "b":
        if index.shape != array.shape[:1]:
            raise IndexError(
                f"boolean index of shape {index.shape} for an axis of length {array.shape[0]}"
            )
        return array.compress(index, axis=0)
    return array.take(index, axis=0)
