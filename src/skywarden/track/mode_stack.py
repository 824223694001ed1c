"""The IMM's modes predicted as one stack: every mode of every track in two matrix products.

:func:`skywarden.track.imm.predict_models` predicts mode by mode (M calls of
:func:`skywarden.track.kalman.predict`, each a handful of NumPy calls); at the tracker's
usual sizes (tens to hundreds of tracks) those calls, not the arithmetic, are the cost. Here
the modes are an axis: the per-mode matrices of one time step are built once
(:func:`scan_matrices`, cached by dt: scans repeat the same step) and stacked, so

    x'_j = x0_j F_j^T                    one stacked product (M, N, 6) @ (M, 6, 6)
    upper(P'_j) = vec(P0_j) (F_j kron F_j)_upper + upper(Q_j)    one (M, N, 36) @ (M, 36, 21)

Each mode's product is the same BLAS call on the same operands as the mode-by-mode path,
so the results are the same bits (tested), with 4 NumPy calls in place of about 30.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from skywarden.track import imm, kalman
from skywarden.track.params import MotionModel
from skywarden.units import FloatArray


@dataclass(frozen=True, slots=True)
class ScanMatrices:
    """The matrices of one time step dt for M modes (read-only arrays).

    Attributes:
        Pi: (M, M) mode transition matrix (imm.transition_matrix).
        F_T: (M, 6, 6) each mode's transition matrix, transposed (views of F).
        kron_upper: (M, 36, 21) vec(P) @ kron_upper[j] = the upper triangle of F_j P F_j^T.
        Q_upper: (M, 1, 21) the upper triangles of the process noises.
        F: (M, 6, 6) each mode's transition matrix; Q: (M, 6, 6) its process noise
            (C-contiguous: what the compiled predict, imm_kernels.imm_predict, reads).
    """

    Pi: FloatArray
    F_T: FloatArray
    kron_upper: FloatArray
    Q_upper: FloatArray
    F: FloatArray
    Q: FloatArray


@lru_cache(maxsize=64)
def scan_matrices(
    dt: float, models: tuple[MotionModel, ...], switch_rate: float, topology: str
) -> ScanMatrices:
    """:class:`ScanMatrices` for dt seconds (a float; cached: a recording repeats a few);
    ``topology``: :func:`imm.mode_links`'s (no default: every caller passes the
    parameters' own, so no path silently runs another mode chain)."""
    pairs = [imm.model_matrices(dt, m.turn_rate, m.accel_sigma) for m in models]
    F = np.stack([f for f, _ in pairs])
    kron = np.stack([kalman.kron_upper(f) for f, _ in pairs])
    Q = np.stack([q for _, q in pairs])
    Q_upper = np.stack([q.reshape(36)[kalman.UPPER6] for _, q in pairs])[:, None, :]
    Pi = imm.transition_matrix(len(models), switch_rate, dt, imm.mode_links(models, topology))
    for a in (F, Q, kron, Q_upper, Pi):
        a.setflags(write=False)
    return ScanMatrices(Pi, F.transpose(0, 2, 1), kron, Q_upper, F, Q)


def predict_modes(
    x0: FloatArray, P0: FloatArray, mats: ScanMatrices, out: tuple[FloatArray, FloatArray]
) -> tuple[FloatArray, FloatArray]:
    """Predict mixed estimates x0 (N, M, 6), P0 (N, M, 6, 6) (C-contiguous, P0 symmetric) of
    every mode with its own model, into ``out`` = (xm (N, M, 6), Pm (N, M, 6, 6)), arrays or
    views whose last axes are contiguous and which do not overlap x0, P0. Returns out."""
    n, m = x0.shape[:2]
    xm, Pm = out
    np.matmul(x0.transpose(1, 0, 2), mats.F_T, out=xm.transpose(1, 0, 2))
    upper = np.matmul(P0.reshape(n, m, 36).transpose(1, 0, 2), mats.kron_upper)  # (M, N, 21)
    upper += mats.Q_upper
    full = upper.take(kalman.FROM_UPPER6, axis=2)  # (M, N, 36)
    flat = Pm.view()
    flat.shape = (n, m, 36)  # a view of out (raises if its rows are not 36 in a row)
    flat[...] = full.transpose(1, 0, 2)
    return xm, Pm
