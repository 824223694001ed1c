"""Unit conversion constants (multiply to get SI) and array type aliases.

Everything inside skywarden is SI (metres, seconds, radians) in the site ENU frame; feet,
knots, nautical miles, flight levels and degrees are converted once, at the edge, with these.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FT = 0.3048  # metres per foot
NM = 1852.0  # metres per nautical mile
KT = NM / 3600.0  # metres per second per knot
FL = 100.0 * FT  # metres per flight level
FPM = FT / 60.0  # metres per second per foot-per-minute
DEG = math.pi / 180.0  # radians per degree

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
