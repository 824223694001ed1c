"""Predicting every IMM mode as one stack (mode_stack) gives the mode-by-mode numbers, bit
for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.track import imm, mode_stack
from skywarden.track.params import MotionModel, default_models

MODELS = (MotionModel(0.0, 1.0), MotionModel(0.1, 2.0), MotionModel(-0.1, 2.0))


def _stack(n: int, m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, m, 6)) * 1000.0
    A = rng.normal(size=(n, m, 6, 6)) * 10.0
    return x, A @ np.swapaxes(A, -1, -2) + np.eye(6)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 70),
    dt=st.floats(0.0, 30.0),
    seed=st.integers(0, 2**16),
    models=st.sampled_from([MODELS, default_models(), MODELS[:1]]),
)
def test_predict_modes_equals_predict_models_bit_for_bit(n, dt, seed, models) -> None:
    x0, P0 = _stack(n, len(models), seed)
    want_x, want_P = imm.predict_models(x0, P0, dt, models)
    mats = mode_stack.scan_matrices(float(dt), models, 0.05, "uniform")
    got_x, got_P = mode_stack.predict_modes(x0, P0, mats, (np.empty_like(x0), np.empty_like(P0)))
    assert np.array_equal(got_x, want_x)
    assert np.array_equal(got_P, want_P)


def test_predict_modes_writes_rows_of_a_bigger_stack_only() -> None:
    x0, P0 = _stack(50, 3)
    mats = mode_stack.scan_matrices(1.5, MODELS, 0.05, "uniform")
    want_x, want_P = imm.predict_models(x0, P0, 1.5, MODELS)
    xm, Pm = np.full((80, 3, 6), np.nan), np.full((80, 3, 6, 6), np.nan)
    mode_stack.predict_modes(x0, P0, mats, (xm[10:60], Pm[10:60]))
    assert np.array_equal(xm[10:60], want_x) and np.array_equal(Pm[10:60], want_P)
    assert np.isnan(xm[:10]).all() and np.isnan(Pm[60:]).all()


def test_scan_matrices_hold_the_transition_matrix_and_are_read_only() -> None:
    mats = mode_stack.scan_matrices(2.0, MODELS, 0.05, "uniform")
    assert np.array_equal(mats.Pi, imm.transition_matrix(3, 0.05, 2.0))
    assert mats.F_T.shape == (3, 6, 6) and mats.kron_upper.shape == (3, 36, 21)
    with pytest.raises(ValueError):
        mats.Q_upper[0, 0, 0] = 1.0


def test_out_rows_that_are_not_one_block_are_refused() -> None:
    x0, P0 = _stack(4, 3)
    mats = mode_stack.scan_matrices(1.0, MODELS, 0.05, "uniform")
    bad = np.empty((4, 3, 6, 12))[..., :6]  # each 6 x 6 is not 36 numbers in a row
    with pytest.raises(AttributeError):
        mode_stack.predict_modes(x0, P0, mats, (np.empty((4, 3, 6)), bad))
