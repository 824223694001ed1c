"""The compiled IMM kernels (track/imm_kernels.py) equal the batched NumPy path they replace
(imm.mix, mode_stack.predict_modes, imm.combine, kalman.update, imm.update_probabilities),
to about 1e-9 relative, on random SPD covariances, states and mode probabilities."""

from __future__ import annotations

import numba
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.track import imm, imm_kernels, kalman, mode_stack
from skywarden.track.params import MotionModel, default_models
from tests.track.strategies import random_spd

MODELS = (MotionModel(0.0, 1.0), MotionModel(0.15, 2.0), MotionModel(-0.15, 2.0))
RTOL = 1e-9


def _close(got: np.ndarray, want: np.ndarray, rtol: float = RTOL) -> None:
    """Equal to rtol relative to each matrix's (row's) largest element."""
    if want.size == 0:
        assert got.shape == want.shape
        return
    scale = np.abs(want).reshape(want.shape[0], -1).max(axis=1)
    err = np.abs(got - want).reshape(want.shape[0], -1).max(axis=1)
    assert (err <= rtol * np.maximum(scale, 1e-300)).all(), float((err / scale).max())


def _modes(rng: np.random.Generator, n: int, m: int):
    xm = np.concatenate([rng.uniform(-1e4, 1e4, (n, m, 3)), rng.normal(0, 30, (n, m, 3))], axis=2)
    Pm = random_spd(rng, n * m, 6, 4.0).reshape(n, m, 6, 6)
    mu = rng.dirichlet(np.ones(m), n)
    return xm, Pm, mu


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    dt=st.floats(0.0, 30.0),
    models=st.sampled_from([MODELS, default_models()]),
)
def test_imm_predict_equals_mix_predict_combine(seed, n, dt, models) -> None:
    rng = np.random.default_rng(seed)
    m = len(models)
    xm, Pm, mu = _modes(rng, n, m)
    mats = mode_stack.scan_matrices(float(dt), models, 0.05, "uniform")
    x0, P0, c_want = imm.mix(xm, Pm, mu, mats.Pi)
    xm_want, Pm_want = mode_stack.predict_modes(
        x0, P0, mats, (np.empty_like(x0), np.empty_like(P0))
    )
    x_want, P_want = imm.combine(xm_want, Pm_want, c_want)
    rows = np.flatnonzero(rng.random(n) < 0.7)  # some rows only: the others stay untouched
    xm_got, Pm_got = np.full_like(xm, np.nan), np.full_like(Pm, np.nan)
    c_got, x_got, P_got = (
        np.full_like(mu, np.nan),
        np.full((n, 6), np.nan),
        np.full((n, 6, 6), np.nan),
    )
    imm_kernels.imm_predict(
        xm, Pm, mu, rows, mats.Pi, mats.F, mats.Q, xm_got, Pm_got, c_got, x_got, P_got
    )
    _close(c_got[rows], c_want[rows], 1e-12)
    _close(xm_got[rows], xm_want[rows])
    _close(Pm_got[rows], Pm_want[rows])
    _close(x_got[rows], x_want[rows])
    _close(P_got[rows], P_want[rows])
    assert (Pm_got[rows] == np.swapaxes(Pm_got[rows], -1, -2)).all()  # exactly symmetric
    others = np.setdiff1d(np.arange(n), rows)
    assert np.isnan(xm_got[others]).all() and np.isnan(P_got[others]).all()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), sigma=st.floats(0.5, 50.0))
def test_imm_update_equals_kalman_update_probabilities_combine(seed, n, sigma) -> None:
    rng = np.random.default_rng(seed)
    m = len(MODELS)
    xm, Pm, c = _modes(rng, n, m)
    d = n + 3
    z = rng.uniform(-1e4, 1e4, (d, 3))
    R = random_spd(rng, d, 3, sigma)
    trk_det = np.where(rng.random(n) < 0.8, rng.integers(0, d, n), -1)
    hit = trk_det >= 0
    # reference: each hit row's modes updated with its detection, probabilities, combine
    xm_want, Pm_want, mu_want = xm.copy(), Pm.copy(), c.copy()
    if hit.any():
        det = trk_det[hit]
        xu, Pu, ll = kalman.update(
            xm[hit].reshape(-1, 6), Pm[hit].reshape(-1, 6, 6),
            z[det].repeat(m, axis=0), R[det].repeat(m, axis=0),
        )  # fmt: skip
        xm_want[hit], Pm_want[hit] = xu.reshape(-1, m, 6), Pu.reshape(-1, m, 6, 6)
        mu_want[hit] = imm.update_probabilities(c[hit], ll.reshape(-1, m))
    x_want, P_want = imm.combine(xm_want, Pm_want, mu_want)
    rows = np.arange(n)
    xm_got, Pm_got, mu_got = xm.copy(), Pm.copy(), np.empty_like(c)
    x_got, P_got = np.empty((n, 6)), np.empty((n, 6, 6))
    imm_kernels.imm_update(rows, trk_det, z, R, xm_got, Pm_got, c, mu_got, x_got, P_got)
    _close(xm_got, xm_want)
    _close(Pm_got, Pm_want, 1e-8)  # P - K B^T cancels: rounding relative to P's scale
    _close(mu_got, mu_want)
    _close(x_got, x_want)
    _close(P_got, P_want, 1e-8)
    assert (P_got == np.swapaxes(P_got, -1, -2)).all()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 30), dt=st.floats(0.0, 10.0))
def test_single_predict_and_update_equal_kalman(seed, n, dt) -> None:
    rng = np.random.default_rng(seed)
    x = np.hstack([rng.uniform(-2000, 2000, (n, 3)), rng.normal(0, 20, (n, 3))])
    P = random_spd(rng, n, 6, 5.0)
    F, Q = imm.model_matrices(float(dt), 0.0, 3.0)
    x_want, P_want = kalman.predict(x, P, F, Q)
    rows = np.arange(n)
    x_got, P_got = np.empty_like(x), np.empty_like(P)
    imm_kernels.single_predict(x, P, rows, F, Q, x_got, P_got)
    _close(x_got, x_want)
    _close(P_got, P_want)
    z = x_got[:, :3] + rng.normal(0, 5, (n, 3))
    R = random_spd(rng, n, 3, 5.0)
    trk_det = np.arange(n)
    xu_want, Pu_want, _ = kalman.update(x_got, P_got, z, R)
    imm_kernels.single_update(rows, trk_det, z, R, x_got, P_got)
    _close(x_got, xu_want)
    _close(P_got, Pu_want, 1e-8)


def test_joseph_form_where_the_short_form_loses_a_variance() -> None:
    """A covariance whose short-form update leaves a variance that is not positive takes
    the Joseph form in the kernel as in kalman.update (the same numbers)."""
    rng = np.random.default_rng(3)
    x = rng.normal(0, 10, (4, 6))
    P = random_spd(rng, 4, 6, 3.0)
    P[1, 5, 5] = -1.0  # not positive definite: the short form keeps a negative variance
    z, R = rng.normal(0, 10, (4, 3)), random_spd(rng, 4, 3, 2.0)
    x_want, P_want, _ = kalman.update(x, P, z, R)
    x_got, P_got = x.copy(), P.copy()
    imm_kernels.single_update(np.arange(4), np.arange(4), z, R, x_got, P_got)
    _close(x_got, x_want)
    _close(P_got, P_want, 1e-8)


def _dispatchers() -> dict[str, object]:
    """Every compiled kernel of the tracker's kernel modules, by name."""
    from skywarden.track import (
        association_kernels,
        clutter_kernels,
        gate_kernels,
        lifecycle_kernels,
    )

    found = {}
    modules = (imm_kernels, gate_kernels, association_kernels, clutter_kernels)
    for module in (*modules, lifecycle_kernels):
        for name, value in vars(module).items():
            if isinstance(value, numba.core.registry.CPUDispatcher):
                found[f"{module.__name__}.{name}"] = value
    return found


def test_after_warm_a_tracker_run_compiles_nothing() -> None:
    """warm() (what new_tracks and ./quickstart call) gives every kernel the tracker calls
    its signature: a run through births, confirmations, clusters, deletions and the gate's
    grid path (a spread-out problem) then compiles nothing, so no step or live tick stalls."""
    from dataclasses import replace

    from skywarden.cli.track import detection_scans
    from skywarden.simulate.planar import HELD_OUT_LIKE, planar_scenario
    from skywarden.track.gate_kernels import gate_tracks_and_candidates
    from skywarden.track.params import TrackerParams
    from skywarden.track.run import run_tracker

    imm_kernels.warm()
    kernels = _dispatchers()
    before = {name: len(k.signatures) for name, k in kernels.items()}
    params = TrackerParams()
    for name in ("dense", "manoeuvring"):
        table = planar_scenario(replace(HELD_OUT_LIKE[name], n_scans=12), 0).detections
        history, _ = run_tracker(detection_scans(table, params.default_sigma), params)
        assert len(history) > 0
    rng = np.random.default_rng(7)
    x = np.zeros((300, 6))
    x[:, 1] = np.linspace(-3e4, 3e4, 300)
    P = np.tile(np.eye(6) * 25.0, (300, 1, 1))
    z = x[:, :3] + rng.normal(0, 5, (300, 3))
    z[:, 0] = 0.0  # one east line: every strip holds every point, the grid path runs
    R = np.tile(np.eye(3) * 25.0, (300, 1, 1))
    tracks, _ = gate_tracks_and_candidates(x, P, np.zeros((0, 3)), np.zeros((0, 3, 3)), z, R, 16.0)
    assert len(tracks) > 0
    after = {name: len(k.signatures) for name, k in kernels.items()}
    assert after == before
    called = [name for name, count in before.items() if count]
    # 12: the gate's strip, grid-test and radii kernels that Python called are one (_gate)
    assert len(called) >= 12, called


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 30), t=st.floats(0.0, 20.0))
def test_pair_tracks_equal_the_prior_then_kalman_update(seed, k, t) -> None:
    """candidates.pair_tracks (compiled) = kalman.update of the closed-form prior _prior_at."""
    from skywarden.track.candidates import _prior_at, pair_tracks
    from skywarden.track.params import TrackerParams
    from skywarden.track.tracks import Candidates

    rng = np.random.default_rng(seed)
    params = TrackerParams()
    cands = Candidates(
        rng.uniform(-5.0, 0.0, k), rng.uniform(-1e4, 1e4, (k, 3)),
        random_spd(rng, k, 3, 5.0), np.zeros(k, np.int32),
    )  # fmt: skip
    z = cands.z + rng.normal(0, 30, (k, 3))
    R = random_spd(rng, k, 3, 5.0)
    x_want, P_want, _ = kalman.update(*_prior_at(cands, t, params), z, R)
    x_got, P_got = pair_tracks(cands, z, R, t, params)
    _close(x_got, x_want)
    _close(P_got, P_want, 1e-8)
