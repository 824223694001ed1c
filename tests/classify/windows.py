"""Analytic state windows for the classifier tests (site ENU, metres, seconds)."""

from __future__ import annotations

import numpy as np

from skywarden.classify.history import StateWindow


def window_from(
    t: np.ndarray, states: np.ndarray, sigma: float = 5.0, rcs: np.ndarray | None = None
) -> StateWindow:
    """A one-or-more track window from times (W,) and states (N, W, 6); all slots measured;
    rcs (N, W) dBsm per plot (default: no amplitude)."""
    states = np.asarray(states, dtype=float)
    n, w, _ = states.shape
    return StateWindow(
        id=np.arange(n, dtype=np.int64),
        t=np.tile(np.asarray(t, float), (n, 1)),
        x=states,
        measured=np.ones((n, w), bool),
        sigma=np.full((n, w), sigma),
        t_birth=np.full(n, float(t[0])),
        rcs=np.full((n, w), np.nan) if rcs is None else np.asarray(rcs, float),
    )


def line(t: np.ndarray, v: tuple[float, float, float], p0=(0.0, 0.0, 100.0)) -> np.ndarray:
    """(W, 6) states of a constant-velocity target."""
    v = np.asarray(v, float)
    p = np.asarray(p0, float) + v * t[:, None]
    return np.column_stack([p, np.tile(v, (t.size, 1))])


def circle(t: np.ndarray, speed: float, radius: float, centre=(0.0, 0.0, 100.0)) -> np.ndarray:
    """(W, 6) states on an anticlockwise horizontal circle."""
    w = speed / radius
    a = w * t
    c = np.asarray(centre, float)
    p = np.column_stack(
        [c[0] + radius * np.cos(a), c[1] + radius * np.sin(a), np.full(t.size, c[2])]
    )
    v = np.column_stack([-speed * np.sin(a), speed * np.cos(a), np.zeros(t.size)])
    return np.column_stack([p, v])
