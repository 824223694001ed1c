"""Predicting into given arrays (rows of a bigger stack) gives the same numbers."""

from __future__ import annotations

import numpy as np
import pytest

from skywarden.track import imm, kalman
from skywarden.track.params import MotionModel

MODELS = (MotionModel(0.0, 1.0), MotionModel(0.1, 2.0), MotionModel(-0.1, 2.0))


def _stack(n: int, m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, m, 6)) * 100.0
    A = rng.normal(size=(n, m, 6, 6))
    return x, A @ np.swapaxes(A, -1, -2) + np.eye(6)


def test_predict_models_into_rows_of_a_stack_equals_a_fresh_result() -> None:
    x0, P0 = _stack(50, 3)
    want_x, want_P = imm.predict_models(x0, P0, 1.5, MODELS)
    xm, Pm = np.full((80, 3, 6), np.nan), np.full((80, 3, 6, 6), np.nan)
    got_x, got_P = imm.predict_models(x0, P0, 1.5, MODELS, (xm[10:60], Pm[10:60]))
    assert np.shares_memory(got_P, Pm) and np.shares_memory(got_x, xm)
    assert np.array_equal(xm[10:60], want_x) and np.array_equal(Pm[10:60], want_P)
    assert np.isnan(xm[:10]).all() and np.isnan(Pm[60:]).all()  # nothing else written


def test_predict_into_per_track_matrices_path() -> None:
    x, P = _stack(20, 1)
    F = np.broadcast_to(np.eye(6), (20, 6, 6)).copy()
    F[:, :3, 3:] = np.eye(3) * 2.0
    Q = np.broadcast_to(np.eye(6) * 0.5, (20, 6, 6))
    want = kalman.predict(x[:, 0], P[:, 0], F, Q)
    out = (np.empty((20, 6)), np.empty((20, 6, 6)))
    got = kalman.predict(x[:, 0], P[:, 0], F, Q, out=out)
    assert got[0] is out[0] and np.array_equal(got[0], want[0])
    assert np.array_equal(got[1], want[1])


def test_out_rows_that_are_not_one_block_are_refused() -> None:
    x, P = _stack(4, 1)
    F, Q = imm.model_matrices(1.0, 0.0, 1.0)
    bad = np.empty((4, 6, 12))[:, :, :6]  # each 6 x 6 is not 36 numbers in a row
    with pytest.raises(AttributeError):
        kalman.predict(x[:, 0], P[:, 0], F, Q, out=(np.empty((4, 6)), bad))
