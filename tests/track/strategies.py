"""Random tracker inputs shared by the track tests (seeded, no global randomness)."""

from __future__ import annotations

import numpy as np


def random_spd(rng: np.random.Generator, n: int, dim: int, scale: float) -> np.ndarray:
    """n random symmetric positive definite (dim x dim) matrices with entries ~ scale^2."""
    A = rng.normal(0.0, scale, (n, dim, dim))
    return A @ np.swapaxes(A, 1, 2) + np.eye(dim) * scale**2 * 0.1


def random_tracks(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.hstack([rng.uniform(-2000, 2000, (n, 3)), rng.normal(0, 20, (n, 3))])
    P = random_spd(rng, n, 6, 5.0)
    return x, P
