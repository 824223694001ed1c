"""The tracker step of the common case in two compiled calls
(:mod:`skywarden.track.fused_kernels`) instead of the ~15 calls and the Python between them
of :func:`skywarden.track.step.step`'s compiled path; the same tracks, to the last bit.

The common case (:func:`applies`): compiled kernels, learnt clutter and Pd, an IMM of two or
more modes, a whole scan (``end_of_scan``), a non-empty batch, and no cooperative identity
on any track or detection and no reported velocity (radar plots, a plain detections CSV).
Anything else takes the step's stages, as does a scan whose association needs scipy
(:func:`step_radar_only` returns None: nothing was written, the stages start from the same
inputs). Spread-out gating (the grid instead of the strips) stays in the first call.
"""

from __future__ import annotations

import math

import numpy as np

from skywarden.detections import Detections
from skywarden.track import imm, kernel_stages, mode_stack
from skywarden.track import score as track_score
from skywarden.track.associate import net_cost
from skywarden.track.clutter_map import ClutterMap
from skywarden.track.filtering import initiation_model
from skywarden.track.gate import GatedPairs
from skywarden.track.lifecycle import MIN_COAST_SCANS
from skywarden.track.params import TrackerParams
from skywarden.track.score import DetectionRate
from skywarden.track.tracks import Candidates, Tracks
from skywarden.units import IntArray

_NO_KEYS = np.zeros(0, np.int64)


def applies(tracks: Tracks, dets: Detections, params: TrackerParams, end_of_scan: bool) -> bool:
    """True when the step of this batch can take :func:`step_radar_only`: no identity on a
    track or detection, no detection with a whole reported velocity (one compiled check)."""
    if not (
        end_of_scan
        and params.compiled_kernels
        and params.learn
        and len(params.models) >= 2
        and len(dets) > 0
    ):
        return False
    from skywarden.track import fused_kernels

    c = np.ascontiguousarray
    return bool(fused_kernels.radar_only(c(tracks.identity), c(dets.identity), c(dets.v)))


_last: tuple = (None, None, {})
"""(params, their :func:`_settings_of`, {dt: :func:`_predict_matrices`}) of the latest
parameters; replaced whole (one assignment), so threads tracking with other parameters
never read one's settings with another's parameters."""


def _settings(params: TrackerParams) -> tuple:
    """:func:`_settings_of` these parameters and their predict matrices by dt, kept while the
    same object comes (a TrackerParams hashes its ~30 fields: an lru_cache's lookup cost
    more than the rest of the Python of a step)."""
    global _last
    last = _last
    if last[0] is not params:
        last = (params, _settings_of(params), {})
        _last = last
    return last[1], last[2]


def _predict_matrices(params: TrackerParams, by_dt: dict, dt: float) -> tuple:
    """(mode_stack.scan_matrices, and the tentative tracks' single model's F, Q) over dt s,
    as filtering.predict_tracks finds them; kept in ``by_dt`` (these parameters')."""
    found = by_dt.get(dt)
    if found is None:
        single = initiation_model(params)
        mats = mode_stack.scan_matrices(
            dt, params.models, params.mode_switch_rate, params.mode_topology
        )
        found = (mats, *imm.model_matrices(dt, single.turn_rate, single.accel_sigma))
        if len(by_dt) > 64:  # a recording repeats a few dt; a live feed many
            by_dt.clear()
        by_dt[dt] = found
    return found


def _settings_of(params: TrackerParams) -> tuple:
    """The kernels' scalar settings of these parameters, as the step's stages compute them
    (the initiation model's q and speed variances, the grid cell's area, the scan close's
    thresholds: lifecycle_kernels.close_scan). The arrays stay writable, as the stages'
    own (a read-only array is another type to the kernels: another compiled signature)."""
    by_score = params.confirmation == "score"
    speed_var = np.array(
        [params.initial_speed_sigma**2] * 2 + [params.initial_vertical_speed_sigma**2]
    )
    grid_area = np.array([params.clutter_cell_m * params.clutter_cell_m])
    close = (
        by_score, track_score.confirm_threshold(params), int(params.confirm_m),
        np.uint32((1 << params.confirm_n) - 1), float(params.target_lifetime_s),
        int(params.confirm_n + 1 + (2 if by_score else 0)), track_score.drop_threshold(params),
        math.log(track_score.DELETE_ODDS), float(params.max_coast_s), MIN_COAST_SCANS,
        float(params.max_position_sigma) ** 2,
    )  # fmt: skip
    birth_mu = imm.birth_mode_probabilities(params.models, params.birth_quiet_probability)
    return initiation_model(params).accel_sigma ** 2, speed_var, birth_mu, grid_area, close


def step_radar_only(
    tracks: Tracks, dets: Detections, t: float, params: TrackerParams
) -> tuple[Tracks, IntArray, IntArray, IntArray, IntArray] | None:
    """:func:`skywarden.track.step.step` of a whole scan of detections ``dets`` in canonical
    order where :func:`applies`: the tracks after it, and its events' born, confirmed and
    deleted ids and each detection's track id (-1: none), in the order of ``dets``; None
    where a kernel cannot finish (the caller takes the stages)."""
    from skywarden.track import fused_kernels as kernels

    (q, speed_var, birth_mu, grid_area, close), by_dt = _settings(params)
    n = len(tracks)
    mats, F1, Q1 = _predict_matrices(params, by_dt, float(t - tracks.t) if n else 0.0)
    cands, cmap = tracks.candidates, tracks.clutter
    c = np.ascontiguousarray
    z, R, sensor = c(dets.z), c(dets.R), dets.sensor.astype(np.int64)
    cell_m = float(params.clutter_cell_m)
    grid = cmap.polar is None
    if grid:
        keys, area = _NO_KEYS, grid_area
    else:  # range x azimuth cells: found by clutter_cells (NumPy), as the step does
        from skywarden.track import clutter_cells

        keys = kernel_stages.cell_keys(dets, params, cmap.polar)
        area = clutter_cells.cell_area(keys, cell_m, cmap.polar)
    cand_t, cand_z, cand_R = c(cands.t), c(cands.z), c(cands.R)
    threshold = float(params.gate_threshold)
    keys, lam, xm, Pm, mode_c, x, P, cand_P, ti, dj, d2, det_S = kernels.predict_and_gate(
        tracks.xm, tracks.Pm, tracks.mu, tracks.x, tracks.P, tracks.status, mats.Pi, mats.F,
        mats.Q, F1, Q1, cand_t, cand_z, cand_R, float(t), q, speed_var, z, R, threshold,
        kernels.STRIP_READS_PER_ROW, grid, keys, sensor, cell_m, cmap.keys, cmap.count,
        float(cmap.scans), cmap.sensors, cmap.height_moments, area, params.clutter_density,
        params.clutter_prior_scans,
    )  # fmt: skip
    if cmap.scans <= 0.0:  # no scan learnt yet: the prior, through NumPy as the step
        lam = kernel_stages.clutter_density(cmap, dets, params, keys)
    pd = tracks.detection_rate.pd(params.pd)
    # every pair's net cost in one NumPy call (elementwise: each pair's cost is the one the
    # stages compute for it in their own subsets)
    cost = net_cost(GatedPairs(ti, dj, d2, det_S), pd, lam[dj])
    split = int(ti.searchsorted(n))  # the method: np.searchsorted's dispatch cost 10x more
    gamma = 1.0 - 1.0 / params.clutter_memory_scans
    out = kernels.associate_and_manage(
        ti[:split], dj[:split], cost[:split], ti[split:] - n, dj[split:], cost[split:],
        tracks.id, tracks.status, tracks.history, tracks.age, tracks.misses, tracks.hits,
        tracks.t_birth, tracks.t_update, tracks.identity, tracks.pending_hit, tracks.rcs_dbsm,
        tracks.score, tracks.evidence, xm, Pm, mode_c, x, P, z, R, c(dets.identity),
        c(dets.rcs_dbsm), c(dets.evidence), keys, sensor, cand_t, cand_z, cand_R,
        c(cands.misses), cmap.keys, cmap.count, cmap.sensors, cmap.height_moments, gamma,
        float(t), True, int(tracks.next_id), kernels.SMALL_CLUSTER_CELLS, q, speed_var, birth_mu,
        int(params.tentative_max_misses), float(np.log1p(-pd)), *close,
    )  # fmt: skip
    if not out[0]:
        return None
    (
        _, ids, x, P, xm, Pm, mu, status, history, age, misses, hits, t_birth, t_update,
        identity, rcs, score, evidence, next_t, next_z, next_R, next_misses, map_keys,
        map_count, map_sensors, map_moments, n_born, det_track, confirmed, deleted, trials,
        rate_hits,
    ) = out  # fmt: skip
    rate = tracks.detection_rate
    result = Tracks(
        t, ids, x, P, xm, Pm, mu, status, history, age, misses, hits, t_birth, t_update,
        identity, np.zeros(ids.shape[0], bool), rcs, score, evidence, tracks.next_id + n_born,
        Candidates(next_t, next_z, next_R, next_misses),
        ClutterMap(map_keys, map_count, map_sensors, map_moments, gamma * (cmap.scans + 1.0),
                   cmap.polar),
        DetectionRate(gamma * (rate.hits + float(rate_hits)), gamma * (rate.trials + trials)),
    )  # fmt: skip
    born = np.arange(tracks.next_id, tracks.next_id + n_born, dtype=np.int64)
    return result, born, confirmed, deleted, det_track
