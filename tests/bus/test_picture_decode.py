"""Pictures decode column by column: ragged trails, covariances and missing values come back
as the arrays that were encoded (up to the wire's rounding)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skywarden.bus.picture import BusMessageError, decode_picture, encode_picture
from skywarden.snapshot import Snapshot, TrackArrays


def _objects(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _tracks(lengths: list[int], with_nan: bool) -> TrackArrays:
    n, longest = len(lengths), max(lengths, default=0)
    rng = np.random.default_rng(len(lengths))
    trail = np.full((n, longest, 3), math.nan)
    for i, k in enumerate(lengths):  # NaN-padded at the start, oldest first
        trail[i, longest - k :] = rng.uniform(-80, 80, (k, 3)).round(1)
    enu = rng.normal(0, 1e3, (n, 6)).round(2)
    if with_nan and n:
        enu[0, 5] = math.nan
    a = np.triu(rng.normal(0, 10, (n, 6, 6)).round(3))
    cov = a + np.swapaxes(np.triu(a, 1), 1, 2)
    return TrackArrays(
        id=np.arange(n, dtype=np.int64), enu=enu, lat=rng.uniform(-80, 80, n).round(7),
        lon=rng.uniform(-80, 80, n).round(7), alt_m=np.full(n, math.nan if with_nan else 3.0),
        sigma_m=np.full(n, 5.0), status=np.ones(n, np.int8), target_class=np.ones(n, np.int8),
        p_class=np.tile([0.25, 0.25, 0.25, 0.25], (n, 1)), behaviour=_objects([""] * n),
        identity=_objects([""] * n), callsign=_objects([""] * n), t_update=np.full(n, 7.0),
        trail=trail, predicted=trail[:, :2].copy(), cov=cov,
    )  # fmt: skip


@given(st.lists(st.integers(0, 6), max_size=12), st.booleans())
def test_ragged_trails_and_missing_values_come_back(lengths: list[int], with_nan: bool) -> None:
    tracks = _tracks(lengths, with_nan)
    back = decode_picture(*encode_picture(Snapshot(1, 2.0, (50.0, 4.0, 0.0), tracks, ()))).tracks
    if not lengths:
        assert len(back) == 0
        return
    longest = max(lengths)
    np.testing.assert_array_equal(back.trail, tracks.trail[:, -longest:] if longest else
                                  np.zeros((len(lengths), 0, 3)))  # fmt: skip
    np.testing.assert_array_equal(back.enu, tracks.enu)
    np.testing.assert_array_equal(back.alt_m, tracks.alt_m)
    np.testing.assert_array_equal(back.cov, tracks.cov)
    np.testing.assert_array_equal(back.lat, tracks.lat)


def test_a_ragged_enu_row_is_a_bad_picture() -> None:
    tracks = _tracks([1, 2], False)
    payload, headers = encode_picture(Snapshot(1, 2.0, (50.0, 4.0, 0.0), tracks, ()))
    bad = payload.replace(b'"enu":[', b'"enu":[1.0,', 1)
    with pytest.raises(BusMessageError):
        decode_picture(bad, headers)
