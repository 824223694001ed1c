"""The tracker stages that have a compiled kernel, on the path ``params.compiled_kernels``
chooses: the NumPy reference (``False``) or the numba kernels (``True``).

Both paths are vectorised over the whole batch and give the same tracks (tested: same ids
and rows, positions equal to 1e-9). The compiled kernels are imported here only on the
compiled path, so a process that tracks with NumPy never imports numba (~0.25 s) nor
loads the kernels from numba's cache (~0.35 s): for a short file that load costs more than
the whole tracking (see :mod:`skywarden.track.kernel_choice`).

Shapes and units as in :mod:`skywarden.track.step`: detections z (D, 3) site ENU m,
R (D, 3, 3) m^2; tracks' x (N, 6), P (N, 6, 6); cell keys (D,) int64.
"""

from __future__ import annotations

import numpy as np

from skywarden.detections import Detections
from skywarden.track import clutter_cells, clutter_map
from skywarden.track.clutter_cells import PolarCells
from skywarden.track.clutter_map import ClutterMap
from skywarden.track.gate import GatedPairs, gate
from skywarden.track.params import TrackerParams
from skywarden.units import BoolArray, FloatArray, IntArray


def warm(params: TrackerParams) -> None:
    """Load (or compile, the first time on a machine) the compiled kernels before the first
    step, so no live tick stalls on them; nothing on the NumPy path."""
    if params.compiled_kernels:
        from skywarden.track import imm_kernels

        imm_kernels.warm(len(params.models))


def cell_keys(dets: Detections, params: TrackerParams, polar: PolarCells | None) -> IntArray:
    """The detections' clutter cells (D,) (:func:`skywarden.track.clutter_cells.cell_keys`)."""
    if params.compiled_kernels:
        from skywarden.track import clutter_kernels

        return clutter_kernels.cell_keys(dets.z, dets.sensor, params.clutter_cell_m, polar)
    return clutter_map.cell_keys(dets.z, dets.sensor, params.clutter_cell_m, polar)


def clutter_density(
    cmap: ClutterMap, dets: Detections, params: TrackerParams, keys: IntArray | None
) -> FloatArray:
    """The learnt clutter density (D,) per m^3 at each detection (>= 1e-300)."""
    if not params.compiled_kernels or len(dets) == 0 or cmap.scans <= 0.0 or keys is None:
        lam = clutter_map.density(
            cmap, dets.z, dets.R, dets.sensor, cell_m=params.clutter_cell_m,
            prior=params.clutter_density, prior_scans=params.clutter_prior_scans, keys=keys,
        )  # fmt: skip
        return np.maximum(lam, 1e-300)
    from skywarden.track import clutter_kernels

    if cmap.polar is None:  # every cell on the grid: one area
        area = np.array([params.clutter_cell_m * params.clutter_cell_m])
    else:
        area = clutter_cells.cell_area(keys, params.clutter_cell_m, cmap.polar)
    return clutter_kernels.densities(
        cmap.keys, cmap.count, cmap.scans, cmap.sensors, cmap.height_moments, keys, area,
        np.ascontiguousarray(dets.z), np.ascontiguousarray(dets.R),
        dets.sensor.astype(np.int64), params.clutter_density, params.clutter_prior_scans,
    )  # fmt: skip


def record_clutter(
    cmap: ClutterMap,
    dets: Detections,
    unexplained: BoolArray,
    params: TrackerParams,
    keys: IntArray | None,
    *,
    end_of_scan: bool,
) -> ClutterMap:
    """The clutter map after recording the unexplained detections (D,) mask of the batch."""
    if not params.compiled_kernels:
        return clutter_map.record(
            cmap, dets.z.compress(unexplained, 0), dets.sensor.compress(unexplained),
            cell_m=params.clutter_cell_m, end_of_scan=end_of_scan,
            memory_scans=params.clutter_memory_scans,
            keys=None if keys is None else keys.compress(unexplained),
        )  # fmt: skip
    from skywarden.track import clutter_kernels

    if keys is None:
        keys = clutter_kernels.cell_keys(dets.z, dets.sensor, params.clutter_cell_m, cmap.polar)
    return clutter_kernels.record(
        cmap, keys, dets.z[:, 2], dets.sensor.astype(np.int64), unexplained,
        end_of_scan=end_of_scan, memory_scans=params.clutter_memory_scans,
    )  # fmt: skip


def gate_tracks_and_candidates(
    x: FloatArray,
    P: FloatArray,
    cand_pos: FloatArray,
    cand_P: FloatArray,
    dets: Detections,
    params: TrackerParams,
) -> tuple[GatedPairs, GatedPairs]:
    """Gate tracks x (N, 6), P (N, 6, 6) and candidates' positions (K, 3), covariances
    (K, 3, 3) against the batch: the track pairs and the candidate pairs (candidate
    indices), each in the same order on both paths."""
    if params.compiled_kernels:
        from skywarden.track import gate_kernels

        return gate_kernels.gate_tracks_and_candidates(
            x, P, cand_pos, cand_P, dets.z, dets.R, params.gate_threshold
        )
    n = x.shape[0]
    pos, P_pos = x[:, :3], P[:, :3, :3]
    if cand_pos.shape[0]:
        pos, P_pos = np.concatenate([pos, cand_pos]), np.concatenate([P_pos, cand_P])
    pairs = gate(pos, P_pos, dets.z, dets.R, params.gate_threshold)
    is_track = pairs.track < n
    cand = pairs.take(~is_track)
    return pairs.take(is_track), GatedPairs(cand.track - n, cand.detection, cand.d2, cand.det_S)


def assigned_pairs(
    pairs: GatedPairs, cost: FloatArray, n_tracks: int, n_detections: int, params: TrackerParams
) -> IntArray:
    """The GNN's chosen pairs (:func:`skywarden.track.associate.assigned_pairs`)."""
    if params.compiled_kernels:
        from skywarden.track import association_kernels

        return association_kernels.assigned_pairs(pairs, cost, n_tracks, n_detections)
    from skywarden.track import associate

    return associate.assigned_pairs(pairs, cost, n_tracks, n_detections)
