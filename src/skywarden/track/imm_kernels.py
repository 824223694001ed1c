"""Compiled kernels for the tracker's per-scan filter maths: the IMM's mix, predict and
combination, and the Kalman / IMM update, each over a whole stack of tracks in one call.

At the tracker's usual sizes (tens to hundreds of tracks, three modes) the batched NumPy
path (:mod:`skywarden.track.imm`, :mod:`skywarden.track.mode_stack`,
:func:`skywarden.track.kalman.update`) costs about a hundred NumPy calls per step, each
doing a few hundred multiplications: the calls, not the arithmetic, were the cost. Here
each stage is one call into a loop compiled by numba (``@njit(cache=True)``, float64, no
fastmath: IEEE arithmetic in the order written, so results are reproducible), with the same
maths as the NumPy path (equal to about 1e-12 relative; tested against it as an oracle):

    imm_predict      mix (Bar-Shalom), predict each mode with its F_j, Q_j, combine
    single_predict   x' = F x, P' = F P F^T + Q for the rows of one model (tentative tracks)
    imm_update       update every mode with the track's detection, re-weight the modes by
                     their likelihoods, combine; rows without a detection only combine
    single_update    the Kalman update of single-model rows
    pair_update      tracks started by candidate + detection pairs (prior, then update)
    prior_position_covariances   where each candidate's target may be (for gating)

Shapes: x (N, 6), P (N, 6, 6), xm (N, M, 6), Pm (N, M, 6, 6), mu / c (N, M); z (D, 3),
R (D, 3, 3); rows are int64 indices into the N tracks. Units: metres, seconds, site ENU.
Covariances are written exactly symmetric (the upper triangle computed, then mirrored).
A Kalman update whose covariance loses a positive variance to rounding takes the Joseph
form for that row, as :func:`skywarden.track.kalman.update` does.

numba is imported here, and only code that tracks imports this module (start-up of the
other commands does not pay for it). The first call of each kernel on a machine compiles
it (seconds) and writes numba's cache next to this file; later processes load it (ms).
:func:`warm` compiles or loads every kernel with the tracker's real types: ``./quickstart``
runs it after installing (``python -m skywarden.track.imm_kernels --warm``) and the live
service calls it before its first tick.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from skywarden.track.compiled_kernel import kernel
from skywarden.units import FloatArray, IntArray

LOG_2PI = math.log(2.0 * math.pi)


@kernel(inline="always")
def _mirror(A: FloatArray) -> None:  # pragma: no cover - compiled
    """Copy the upper triangle of the 6 x 6 A onto its lower one (inlined: a call per
    covariance cost a reference count up and down)."""
    for i in range(6):
        for j in range(i + 1, 6):
            A[j, i] = A[i, j]


@kernel()
def _block_form(F: FloatArray) -> bool:  # pragma: no cover - compiled
    """True when every F (M, 6, 6) is [[I, A], [0, C]] (3 x 3 blocks): position carried
    over plus velocity terms, as every motion model of the tracker (CV, coordinated turns)."""
    for j in range(F.shape[0]):
        for a in range(3):
            for b in range(3):
                if F[j, a, b] != (1.0 if a == b else 0.0) or F[j, a + 3, b] != 0.0:
                    return False
    return True


@kernel(inline="always")
def _predict_into(
    x: FloatArray,
    P: FloatArray,
    Fs: FloatArray,
    Qs: FloatArray,
    mode: int,
    FP: FloatArray,
    x_out: FloatArray,
    P_out: FloatArray,
    block: bool,
) -> None:  # pragma: no cover - compiled
    """x_out = F x, P_out = F P F^T + Q (upper triangle computed, mirrored) with F, Q =
    Fs[mode], Qs[mode] ((M, 6, 6) stacks, read in place: a view per call cost a reference
    count up and down); FP (6, 6) scratch. Inlined into its callers (numba IR: the
    hand-inlined copy it replaces was 12 % faster than a call).

    ``block`` (F is [[I, A], [0, C]], :func:`_block_form`): only F's nonzero products are
    summed, the position rows starting from P's own row, in the dense loop's order (its
    other terms are the exact zeros 0 * P, and 1 * P): the same numbers for finite inputs
    with less than half the multiplications (a NaN or inf in a velocity element then does
    not reach the position rows through 0 * inf). Otherwise the dense 6 x 6 loops, fixed
    size (faster than testing F's elements one by one, which defeats the unrolling)."""
    if block:
        for i in range(6):
            s = x[i] if i < 3 else 0.0
            for k in range(3, 6):
                s += Fs[mode, i, k] * x[k]
            x_out[i] = s
            for j in range(6):
                s = P[i, j] if i < 3 else 0.0
                for k in range(3, 6):
                    s += Fs[mode, i, k] * P[k, j]
                FP[i, j] = s
        for i in range(6):
            for j in range(i, 6):
                s = FP[i, j] if j < 3 else 0.0
                for k in range(3, 6):
                    s += FP[i, k] * Fs[mode, j, k]
                P_out[i, j] = s + Qs[mode, i, j]
        _mirror(P_out)
        return
    for i in range(6):
        s = 0.0
        for k in range(6):
            s += Fs[mode, i, k] * x[k]
        x_out[i] = s
        for j in range(6):
            s = 0.0
            for k in range(6):
                s += Fs[mode, i, k] * P[k, j]
            FP[i, j] = s
    for i in range(6):
        for j in range(i, 6):
            s = 0.0
            for k in range(6):
                s += FP[i, k] * Fs[mode, j, k]
            P_out[i, j] = s + Qs[mode, i, j]
    _mirror(P_out)


@kernel()
def imm_predict(
    xm: FloatArray,
    Pm: FloatArray,
    mu: FloatArray,
    rows: IntArray,
    Pi: FloatArray,
    F: FloatArray,
    Q: FloatArray,
    xm_out: FloatArray,
    Pm_out: FloatArray,
    c_out: FloatArray,
    x_out: FloatArray,
    P_out: FloatArray,
) -> None:  # pragma: no cover - compiled
    """Mix, predict and combine the IMM rows ``rows`` of xm, Pm, mu into the same rows of
    the outputs (which must not overlap the inputs).

    Pi (M, M) mode transition matrix; F, Q (M, 6, 6) each mode's transition and process
    noise. Per row: c_j = sum_i mu_i Pi_ij; mixed x0_j = sum_i w_ij x_i and P0_j = sum_i w_ij
    (P_i + e_ij e_ij^T) with w_ij = mu_i Pi_ij / c_j and e_ij = x_i - x0_j; then each mode
    predicted, and the combined x = sum_j c_j xm_j, P = sum_j c_j (Pm_j + d_j d_j^T), d_j =
    xm_j - x (written whole; the step reads its position block).
    """
    m = mu.shape[1]
    block = _block_form(F)
    c = np.empty(m)
    x0 = np.empty(6)
    P0 = np.empty((6, 6))
    e = np.empty(6)
    FP = np.empty((6, 6))
    xp, Pp = np.empty(6), np.empty((6, 6))
    for r in range(rows.shape[0]):
        n = rows[r]
        for j in range(m):
            s = 0.0
            for i in range(m):
                s += mu[n, i] * Pi[i, j]
            c[j] = s
            c_out[n, j] = s
        for j in range(m):
            x0[:] = 0.0
            P0[:, :] = 0.0
            # the modes read element by element: an array view per mode costs a reference
            # count up and down (a tenth of this kernel at 10^4 tracks)
            for i in range(m):
                w = mu[n, i] * Pi[i, j] / c[j]
                for a in range(6):
                    x0[a] += w * xm[n, i, a]
            for i in range(m):
                w = mu[n, i] * Pi[i, j] / c[j]
                for a in range(6):
                    e[a] = xm[n, i, a] - x0[a]
                for a in range(6):
                    wa = w * e[a]
                    for b in range(a, 6):
                        P0[a, b] += w * Pm[n, i, a, b] + wa * e[b]
            _mirror(P0)
            _predict_into(x0, P0, F, Q, j, FP, xp, Pp, block)
            for a in range(6):  # element by element, as everywhere here: no views
                xm_out[n, j, a] = xp[a]
                for b in range(6):
                    Pm_out[n, j, a, b] = Pp[a, b]
        _combine_row(xm_out, Pm_out, c_out, x_out, P_out, n)


@kernel(inline="always")
def _combine_row(
    xm: FloatArray, Pm: FloatArray, w: FloatArray, x: FloatArray, P: FloatArray, n: int
) -> None:  # pragma: no cover - compiled
    """Moment-matched x[n] (6,), P[n] (6, 6) of the modes xm[n] (M, 6), Pm[n] (M, 6, 6)
    weighted w[n] (M,) (stacks indexed in place, inlined: views of row n and a call per
    row cost reference counts)."""
    m = w.shape[1]
    for a in range(6):
        s = 0.0
        for j in range(m):
            s += w[n, j] * xm[n, j, a]
        x[n, a] = s
    for a in range(6):
        for b in range(a, 6):
            s = 0.0
            for j in range(m):
                s += w[n, j] * (Pm[n, j, a, b] + (xm[n, j, a] - x[n, a]) * (xm[n, j, b] - x[n, b]))
            P[n, a, b] = s
    for a in range(6):
        for b in range(a + 1, 6):
            P[n, b, a] = P[n, a, b]


@kernel()
def single_predict(
    x: FloatArray,
    P: FloatArray,
    rows: IntArray,
    F: FloatArray,
    Q: FloatArray,
    x_out: FloatArray,
    P_out: FloatArray,
) -> None:  # pragma: no cover - compiled
    """x_out[n] = F x[n], P_out[n] = F P[n] F^T + Q for n in rows (F, Q (6, 6))."""
    FP = np.empty((6, 6))
    Fs, Qs = F.reshape(1, 6, 6), Q.reshape(1, 6, 6)
    block = _block_form(Fs)
    xs, Ps, xp, Pp = np.empty(6), np.empty((6, 6)), np.empty(6), np.empty((6, 6))
    for r in range(rows.shape[0]):
        n = rows[r]
        for a in range(6):  # element by element: no views (reference counts)
            xs[a] = x[n, a]
            for b in range(6):
                Ps[a, b] = P[n, a, b]
        _predict_into(xs, Ps, Fs, Qs, 0, FP, xp, Pp, block)
        for a in range(6):
            x_out[n, a] = xp[a]
            for b in range(6):
                P_out[n, a, b] = Pp[a, b]


@kernel()
def _joseph_upper(
    P: FloatArray, K: FloatArray, R: FloatArray, Pn: FloatArray
) -> None:  # pragma: no cover - compiled
    """The upper triangle of the Joseph form (I - K H) P (I - K H)^T + K R K^T into Pn:
    A P = P - K P[:3, :], then (A P) - (A P) H^T K^T + K R K^T (the rare path of
    :func:`_kalman_update`, out of line so the usual one stays small)."""
    AP = np.empty((6, 6))
    for i in range(6):
        for j in range(6):
            AP[i, j] = P[i, j] - (K[i, 0] * P[0, j] + K[i, 1] * P[1, j] + K[i, 2] * P[2, j])
    KR = np.empty((6, 3))
    for i in range(6):
        for k in range(3):
            KR[i, k] = K[i, 0] * R[0, k] + K[i, 1] * R[1, k] + K[i, 2] * R[2, k]
    for i in range(6):
        for j in range(i, 6):
            s = AP[i, j]
            for k in range(3):
                s -= AP[i, k] * K[j, k]
            for k in range(3):
                s += KR[i, k] * K[j, k]
            Pn[i, j] = s


@kernel(inline="always")
def _kalman_update(
    x: FloatArray,
    P: FloatArray,
    z: FloatArray,
    R: FloatArray,
    x_out: FloatArray,
    P_out: FloatArray,
    Si: FloatArray,
    K: FloatArray,
    Pn: FloatArray,
) -> float:  # pragma: no cover - compiled
    """Kalman update of x (6,), P (6, 6) with the position measurement z (3,), R (3, 3) into
    x_out, P_out (may be x, P themselves); returns log N(y; 0, S).

    S = P_pp + R, K = P H^T S^-1, P' = P - K (P H^T)^T; where P' loses a positive variance to
    rounding (or is NaN), the Joseph form (I - K H) P (I - K H)^T + K R K^T instead.
    Si (3, 3), K (6, 3), Pn (6, 6): scratch (allocating them per call cost more than the
    maths). Inlined into its callers (numba IR): the call of a function of nine arrays cost
    a fifth of the IMM update."""
    a = P[0, 0] + R[0, 0]
    b = P[0, 1] + R[0, 1]
    c = P[0, 2] + R[0, 2]
    d = P[1, 1] + R[1, 1]
    e = P[1, 2] + R[1, 2]
    f = P[2, 2] + R[2, 2]
    c00, c01, c02 = d * f - e * e, c * e - b * f, b * e - c * d
    det = a * c00 + b * c01 + c * c02
    Si[0, 0] = c00 / det
    Si[0, 1] = Si[1, 0] = c01 / det
    Si[0, 2] = Si[2, 0] = c02 / det
    Si[1, 1] = (a * f - c * c) / det
    Si[1, 2] = Si[2, 1] = (b * c - a * e) / det
    Si[2, 2] = (a * d - b * b) / det
    y0, y1, y2 = z[0] - x[0], z[1] - x[1], z[2] - x[2]
    diagonal = y0 * y0 * Si[0, 0] + y1 * y1 * Si[1, 1] + y2 * y2 * Si[2, 2]
    cross = y0 * y1 * Si[0, 1] + y0 * y2 * Si[0, 2] + y1 * y2 * Si[1, 2]
    d2 = diagonal + 2.0 * cross
    for i in range(6):
        for k in range(3):
            K[i, k] = P[i, 0] * Si[0, k] + P[i, 1] * Si[1, k] + P[i, 2] * Si[2, k]
    positive = True
    for i in range(6):
        for j in range(i, 6):
            Pn[i, j] = P[i, j] - (K[i, 0] * P[j, 0] + K[i, 1] * P[j, 1] + K[i, 2] * P[j, 2])
        if not Pn[i, i] > 0.0:
            positive = False
    if not positive:
        _joseph_upper(P, K, R, Pn)
    for i in range(6):
        x_out[i] = x[i] + (K[i, 0] * y0 + K[i, 1] * y1 + K[i, 2] * y2)
        for j in range(i, 6):
            P_out[i, j] = Pn[i, j]
    _mirror(P_out)
    return -0.5 * (d2 + math.log(det) + 3.0 * LOG_2PI)


@kernel()
def imm_update(
    rows: IntArray,
    trk_det: IntArray,
    z: FloatArray,
    R: FloatArray,
    xm: FloatArray,
    Pm: FloatArray,
    c: FloatArray,
    mu: FloatArray,
    x: FloatArray,
    P: FloatArray,
) -> None:  # pragma: no cover - compiled
    """For each IMM row n in rows: with a detection (trk_det[n] >= 0) update every mode of
    xm[n], Pm[n] in place and set mu[n] to the posterior mode probabilities (c_j Lambda_j
    normalised in log space, floored at 1e-12 and normalised again, as
    :func:`skywarden.track.imm.update_probabilities`); without one, mu[n] = c[n]. Then the
    combined x[n], P[n] of the modes weighted mu[n]."""
    m = c.shape[1]
    logw = np.empty(m)
    Si, K, Pn = np.empty((3, 3)), np.empty((6, 3)), np.empty((6, 6))
    xs, Ps, zs, Rs = np.empty(6), np.empty((6, 6)), np.empty(3), np.empty((3, 3))
    for r in range(rows.shape[0]):
        n = rows[r]
        d = trk_det[n]
        if d >= 0:
            # the mode and the detection copied element by element into scratch and the
            # mode back: views per mode cost reference counts (a fifth of this kernel)
            for a in range(3):
                zs[a] = z[d, a]
                for b in range(3):
                    Rs[a, b] = R[d, a, b]
            for j in range(m):
                for a in range(6):
                    xs[a] = xm[n, j, a]
                    for b in range(6):
                        Ps[a, b] = Pm[n, j, a, b]
                ll = _kalman_update(xs, Ps, zs, Rs, xs, Ps, Si, K, Pn)
                for a in range(6):
                    xm[n, j, a] = xs[a]
                    for b in range(6):
                        Pm[n, j, a, b] = Ps[a, b]
                logw[j] = math.log(max(c[n, j], 1e-300)) + ll
            top = logw[0]
            for j in range(1, m):
                top = max(top, logw[j])
            total = 0.0
            for j in range(m):
                logw[j] = math.exp(logw[j] - top)
                total += logw[j]
            again = 0.0
            for j in range(m):
                logw[j] = max(logw[j] / total, 1e-12)
                again += logw[j]
            for j in range(m):
                mu[n, j] = logw[j] / again
        else:
            for j in range(m):
                mu[n, j] = c[n, j]
        _combine_row(xm, Pm, mu, x, P, n)


@kernel()
def single_update(
    rows: IntArray, trk_det: IntArray, z: FloatArray, R: FloatArray, x: FloatArray, P: FloatArray
) -> None:  # pragma: no cover - compiled
    """Kalman update in place of x[n], P[n] with detection trk_det[n] for n in rows."""
    Si, K, Pn = np.empty((3, 3)), np.empty((6, 3)), np.empty((6, 6))
    for r in range(rows.shape[0]):
        n = rows[r]
        d = trk_det[n]
        _kalman_update(x[n], P[n], z[d], R[d], x[n], P[n], Si, K, Pn)


@kernel()
def pair_update(
    cand_t: FloatArray,
    cand_z: FloatArray,
    cand_R: FloatArray,
    z: FloatArray,
    R: FloatArray,
    t: float,
    q: float,
    speed_var: FloatArray,
    x_out: FloatArray,
    P_out: FloatArray,
) -> None:  # pragma: no cover - compiled
    """Tracks (x_out (K, 6), P_out (K, 6, 6)) started by K candidates (times cand_t (K,),
    positions cand_z (K, 3), covariances cand_R (K, 3, 3)) paired with detections z (K, 3),
    R (K, 3, 3) at t: each candidate's one-point prior (position with its R, zero velocity
    with variances speed_var (3,)) predicted over dt = t - t_candidate by CV with
    acceleration variance q in closed form (candidates._prior_at), then the Kalman update."""
    x, P = np.empty(6), np.empty((6, 6))
    Si, K, Pn = np.empty((3, 3)), np.empty((6, 3)), np.empty((6, 6))
    for p in range(cand_t.shape[0]):
        dt = t - cand_t[p]
        dt2 = dt * dt
        pos_q, cross_q, vel_q = q * dt2 * dt / 3.0, q * dt2 / 2.0, q * dt
        P[:, :] = 0.0
        for i in range(3):
            x[i] = cand_z[p, i]
            x[i + 3] = 0.0
            for j in range(3):
                P[i, j] = cand_R[p, i, j]
        for i in range(3):
            P[i, i] += dt2 * speed_var[i] + pos_q
            P[i, i + 3] = P[i + 3, i] = dt * speed_var[i] + cross_q
            P[i + 3, i + 3] = speed_var[i] + vel_q
        _kalman_update(x, P, z[p], R[p], x_out[p], P_out[p], Si, K, Pn)


@kernel()
def prior_position_covariances(
    cand_R: FloatArray, cand_t: FloatArray, t: float, q: float, speed_var: FloatArray
) -> FloatArray:  # pragma: no cover - compiled
    """(K, 3, 3) position block of each candidate's one-point prior predicted to t:
    R + (dt^2 Sv + q dt^3 / 3) I with dt = t - t_candidate (candidates.predicted_position)."""
    out = cand_R.copy()
    for p in range(cand_t.shape[0]):
        dt = t - cand_t[p]
        dt2 = dt**2
        drift = q * dt**3 / 3.0
        for k in range(3):
            out[p, k, k] += dt2 * speed_var[k] + drift
    return out


def warm(n_models: int = 3) -> float:
    """Compile (first time on a machine) or load from numba's cache every kernel of this
    module with the tracker's argument types, on a tiny stack; returns the seconds taken."""
    start = time.perf_counter()
    m = n_models
    x, P = np.zeros((2, 6)), np.tile(np.eye(6), (2, 1, 1))
    xm, Pm = np.zeros((2, m, 6)), np.tile(np.eye(6), (2, m, 1, 1))
    mu = np.full((2, m), 1.0 / m)
    rows = np.arange(2, dtype=np.int64)
    F, Q, Pi = np.tile(np.eye(6), (m, 1, 1)), np.tile(np.eye(6), (m, 1, 1)), np.eye(m)
    for a in (F, Q, Pi):  # read-only, as the tracker's cached matrices (mode_stack, imm)
        a.setflags(write=False)
    xm2, Pm2, c, x2, P2 = (np.empty_like(a) for a in (xm, Pm, mu, x, P))
    imm_predict(xm, Pm, mu, rows, Pi, F, Q, xm2, Pm2, c, x2, P2)
    single_predict(x, P, rows, F[0], Q[0], x2, P2)
    z, R, trk_det = np.zeros((2, 3)), np.tile(np.eye(3), (2, 1, 1)), np.array([0, -1])
    imm_update(rows, trk_det, z, R, xm2, Pm2, c, mu, x2, P2)
    single_update(rows[:1], trk_det, z, R, x2, P2)
    pair_update(np.zeros(2), z, R, z, R, 1.0, 1.0, np.ones(3), x2, P2)
    prior_position_covariances(R, np.zeros(2), 1.0, 1.0, np.ones(3))
    # the other kernel modules warm with these
    from skywarden.track import (
        association_kernels,
        association_pass_kernels,
        candidate_kernels,
        clutter_kernels,
        fused_kernels,
        gate_kernels,
        hit_kernels,
        lifecycle_kernels,
    )

    association_kernels.warm()
    association_pass_kernels.warm()
    candidate_kernels.warm()
    gate_kernels.warm()
    hit_kernels.warm()
    clutter_kernels.warm()
    lifecycle_kernels.warm()
    fused_kernels.warm()  # last: it calls the others' kernels, warmed with the same types
    return time.perf_counter() - start


if __name__ == "__main__":  # python -m skywarden.track.imm_kernels --warm
    if sys.argv[1:] != ["--warm"]:
        sys.exit("usage: python -m skywarden.track.imm_kernels --warm")
    # Run as a script, this file is module __main__: with the ahead-of-time module built its
    # kernels would be looked up as "__main____imm_predict" and not be found. Warm the
    # package's own module (this file imported again under its name) instead.
    from skywarden.track import imm_kernels

    print(f"tracker kernels compiled or loaded in {imm_kernels.warm():.2f} s")
