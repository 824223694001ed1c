"""The hand-written reductions of the hot paths give NumPy's own numbers, bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from skywarden.track import imm, kalman


@given(st.integers(0, 2**32 - 1), st.sampled_from([(0,), (1,), (7,), (40,), (5, 3)]))
def test_quadratic_form_is_numpys_sum(seed: int, stack: tuple[int, ...]) -> None:
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(*stack, 3)) * 10.0 ** rng.integers(-3, 5)
    A = rng.normal(size=(*stack, 3, 3))
    S_inv = A @ np.swapaxes(A, -1, -2) * 10.0 ** rng.integers(-6, 3)
    want = (y[..., :, None] * S_inv * y[..., None, :]).sum(axis=(-2, -1))
    got = kalman.quadratic_form(y, S_inv)
    assert got.shape == want.shape and np.array_equal(got, want)


@given(st.integers(0, 2**32 - 1), st.integers(1, 9), st.integers(0, 30))
def test_mode_reductions_are_numpys(seed: int, m: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, m)) * 10.0 ** rng.integers(-8, 8, size=(n, m))
    for op in (np.add, np.maximum):
        want = op.reduce(a, axis=1, keepdims=True)
        assert np.array_equal(imm._across_modes(op, a), want)


def test_update_probabilities_unchanged_by_the_column_reductions() -> None:
    rng = np.random.default_rng(3)
    c = rng.dirichlet([1.0, 1.0, 1.0], size=500)
    loglik = rng.normal(size=(500, 3)) * 20.0
    logw = np.log(np.maximum(c, 1e-300)) + loglik
    logw -= logw.max(axis=1, keepdims=True)
    w = np.exp(logw)
    w = np.maximum(w / w.sum(axis=1, keepdims=True), 1e-12)
    want = w / w.sum(axis=1, keepdims=True)
    assert np.array_equal(imm.update_probabilities(c, loglik), want)
