"""Candidates: single unexplained detections that start a track when a second one follows.

Most unexplained detections are clutter. Keeping each as a full tentative track (per-mode
states and covariances) would make clutter the bulk of the tracker's work, so a detection
first becomes a compact candidate: its time, position and covariance. A later detection that
falls in its gate (zero-velocity prior with ``initial_speed_sigma``) makes a tentative track
from the pair, exactly as a one-point track updated with the second detection would be.
Candidates unpaired for ``tentative_max_misses`` scans are dropped. ``misses`` counts the
scans since the candidate's own (-1 during the scan that made it).
"""

from __future__ import annotations

import numpy as np

from skywarden.track import kalman
from skywarden.track.filtering import initiation_model
from skywarden.track.params import TrackerParams
from skywarden.track.tracks import Candidates
from skywarden.units import FloatArray


def predicted_position(
    cands: Candidates, t: float, params: TrackerParams
) -> tuple[FloatArray, FloatArray]:
    """Where each candidate's target may be at t: its position (K, 3), with the position
    covariance (K, 3, 3) of the one-point prior predicted over dt = t - t_candidate:
    R + dt^2 diag(sv^2, sv^2, svz^2) + q dt^3 / 3 I (the CV model in closed form; with
    ``params.compiled_kernels`` one compiled call: imm_kernels.prior_position_covariances)."""
    q = initiation_model(params).accel_sigma ** 2
    speed_var = np.array(
        [params.initial_speed_sigma**2] * 2 + [params.initial_vertical_speed_sigma**2]
    )
    if not params.compiled_kernels:
        dt = t - cands.t
        P_pos = cands.R.copy()
        dt2, drift = dt**2, q * dt**3 / 3.0
        for k in range(3):  # the diagonal, one element at a time (a fancy-index add is 5x slower)
            P_pos[:, k, k] += dt2 * speed_var[k] + drift
        return cands.z, P_pos
    from skywarden.track import imm_kernels

    P_pos = imm_kernels.prior_position_covariances(
        np.ascontiguousarray(cands.R), np.ascontiguousarray(cands.t), float(t), q, speed_var
    )
    return cands.z, P_pos


def pair_tracks(
    cands: Candidates, z: FloatArray, R: FloatArray, t: float, params: TrackerParams
) -> tuple[FloatArray, FloatArray]:
    """States (K, 6) and covariances (K, 6, 6) of tracks started by candidates paired with
    detections z (K, 3), R (K, 3, 3) at t: the one-point prior predicted to t
    (:func:`_prior_at`), then the Kalman update; with ``params.compiled_kernels`` in one
    compiled call (:func:`skywarden.track.imm_kernels.pair_update`)."""
    if not params.compiled_kernels:
        x, P = _prior_at(cands, t, params)
        x, P, _ = kalman.update(x, P, z, R)
        return x, P
    from skywarden.track import imm_kernels

    k = len(cands)
    x, P = np.empty((k, 6)), np.empty((k, 6, 6))
    speed_var = np.array(
        [params.initial_speed_sigma**2] * 2 + [params.initial_vertical_speed_sigma**2]
    )
    imm_kernels.pair_update(
        np.ascontiguousarray(cands.t), np.ascontiguousarray(cands.z),
        np.ascontiguousarray(cands.R), np.ascontiguousarray(z), np.ascontiguousarray(R),
        float(t), initiation_model(params).accel_sigma ** 2, speed_var, x, P,
    )  # fmt: skip
    return x, P


def next_candidates(
    cands: Candidates,
    paired: np.ndarray,
    new: Candidates,
    params: TrackerParams,
    end_of_scan: bool,
) -> Candidates:
    """Candidates after a batch: the unpaired ones plus the new ones (misses = -1: made in this
    scan, so they cannot pair within it). At the end of a scan every candidate ages by one
    and those unpaired for ``tentative_max_misses`` scans are dropped (never a new one:
    tentative_max_misses >= 1). The old ones are aged and selected in one pass before
    joining the new ones."""
    keep = ~paired
    misses = cands.misses
    if end_of_scan:
        misses = misses + 1
        keep &= misses < params.tentative_max_misses
    new_misses = np.full(len(new), 0 if end_of_scan else -1, np.int32)
    if keep.all():
        old = Candidates(cands.t, cands.z, cands.R, misses)
    else:
        old = Candidates(
            cands.t.compress(keep),
            cands.z.compress(keep, 0),
            cands.R.compress(keep, 0),
            misses.compress(keep),
        )
    if len(new) == 0:
        return old
    return Candidates(
        np.concatenate([old.t, new.t]),
        np.concatenate([old.z, new.z]),
        np.concatenate([old.R, new.R]),
        np.concatenate([old.misses, new_misses]),
    )


def _prior_at(cands: Candidates, t: float, params: TrackerParams) -> tuple[FloatArray, FloatArray]:
    """The one-point prior of each candidate (position z with R, zero velocity with the
    initial speed sigmas Sv) predicted to t by the initiation model (CV, q = sigma_a^2), in
    closed form: x = [z, 0] and, with dt = t - t_candidate,

        P_pp = R + (dt^2 Sv + q dt^3 / 3) I,   P_pv = P_vp = (dt Sv + q dt^2 / 2) I,
        P_vv = (Sv + q dt) I

    (what F P F^T + Q gives, up to rounding, in a dozen array operations instead of the
    general per-track predict's ~40)."""
    k = len(cands)
    dt = t - cands.t
    q = initiation_model(params).accel_sigma ** 2
    speed_var = (params.initial_speed_sigma**2,) * 2 + (params.initial_vertical_speed_sigma**2,)
    x = np.zeros((k, 6))
    x[:, :3] = cands.z
    P = np.zeros((k, 6, 6))
    P[:, :3, :3] = cands.R
    dt2 = dt * dt
    pos_q, cross_q, vel_q = q * dt2 * dt / 3.0, q * dt2 / 2.0, q * dt
    for i, sv in enumerate(speed_var):
        P[:, i, i] += dt2 * sv + pos_q
        P[:, i, i + 3] = P[:, i + 3, i] = dt * sv + cross_q
        P[:, i + 3, i + 3] = sv + vel_q
    return x, P
