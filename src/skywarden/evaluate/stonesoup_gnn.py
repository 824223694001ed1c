"""Stone Soup's GNN (+KD-tree) multi-target tracker: the peer skywarden's tracker is judged
against (issue 12), on the same detections, in this process.

Kalman CV in each axis with the scenario's own measurement sigma and a given white
acceleration, Mahalanobis hypothesiser gated at the 0.9999 chi-square quantile,
DetectionKDTreeGNN2D association, 3-point initiation (MultiMeasurementInitiator), deletion
after 5 missed scans. Used by ``benchmarks/track_command_vs_stonesoup.py``,
``benchmarks/track_vs_stonesoup.py`` and ``tests/track/test_defaults_vs_stonesoup.py``.

Stone Soup is a development dependency (test and benchmark peer), never a runtime one: it is
imported inside :func:`run_stonesoup`, only when that is called.
"""

from __future__ import annotations

import datetime
import time

import numpy as np

from skywarden.tables import DetectionTable, TrackTable, scans
from skywarden.track.chi_square import chi2_quantile

EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
"""Stone Soup wants datetimes: scan time t seconds is EPOCH + t."""
GATE_PROBABILITY = 0.9999
"""Chi-square probability of its Mahalanobis gate (3 degrees of freedom)."""
CONFIRM_POINTS = 3
"""Detections its initiator needs (MultiMeasurementInitiator ``min_points``)."""
MAX_MISSES = 5
"""Scans a track may go without an update; it is deleted at the next."""


def run_stonesoup(
    table: DetectionTable, sigma: float, accel_sigma: float
) -> tuple[tuple[float, float], TrackTable]:
    """Stone Soup's GNN tracker over the detections (sigma: their 1-sigma per axis, m;
    accel_sigma: its CV model's white acceleration, m/s^2 per sqrt(Hz)); returns (wall and
    CPU seconds of the tracker loop, its tracks at every scan)."""
    from stonesoup.dataassociator.tree import DetectionKDTreeGNN2D
    from stonesoup.deleter.time import UpdateTimeStepsDeleter
    from stonesoup.hypothesiser.distance import DistanceHypothesiser
    from stonesoup.initiator.simple import MultiMeasurementInitiator
    from stonesoup.measures import Mahalanobis
    from stonesoup.models.measurement.linear import LinearGaussian
    from stonesoup.models.transition.linear import (
        CombinedLinearGaussianTransitionModel,
        ConstantVelocity,
    )
    from stonesoup.predictor.kalman import KalmanPredictor
    from stonesoup.tracker.simple import MultiTargetTracker
    from stonesoup.types.detection import Detection
    from stonesoup.types.state import GaussianState
    from stonesoup.updater.kalman import KalmanUpdater

    transition = CombinedLinearGaussianTransitionModel([ConstantVelocity(accel_sigma**2)] * 3)
    measurement = LinearGaussian(ndim_state=6, mapping=(0, 2, 4), noise_covar=np.eye(3) * sigma**2)
    predictor = KalmanPredictor(transition)
    updater = KalmanUpdater(measurement)
    gate = float(np.sqrt(chi2_quantile(GATE_PROBABILITY, 3)))
    hypothesiser = DistanceHypothesiser(predictor, updater, Mahalanobis(), missed_distance=gate)
    associator = DetectionKDTreeGNN2D(
        hypothesiser=hypothesiser, predictor=predictor, updater=updater, max_distance=10 * sigma
    )
    init_associator = DetectionKDTreeGNN2D(
        hypothesiser=hypothesiser, predictor=predictor, updater=updater, max_distance=200.0
    )
    prior = GaussianState(np.zeros((6, 1)), np.diag([0.0, 40.0**2, 0.0, 40.0**2, 0.0, 10.0**2]))
    initiator = MultiMeasurementInitiator(
        prior_state=prior,
        measurement_model=measurement,
        deleter=UpdateTimeStepsDeleter(time_steps_since_update=2),
        data_associator=init_associator,
        updater=updater,
        min_points=CONFIRM_POINTS,
    )
    batches = []
    for t, rows in scans(table):
        stamp = EPOCH + datetime.timedelta(seconds=t)
        dets = {
            Detection(z.reshape(3, 1), timestamp=stamp, measurement_model=measurement)
            for z in table.pos[rows]
        }
        batches.append((t, stamp, dets))
    tracker = MultiTargetTracker(
        initiator=initiator,
        deleter=UpdateTimeStepsDeleter(time_steps_since_update=MAX_MISSES + 1),
        detector=[(stamp, dets) for _, stamp, dets in batches],
        data_associator=associator,
        updater=updater,
    )
    ids: dict[int, int] = {}
    out_t, out_id, out_x = [], [], []
    start, start_cpu = time.perf_counter(), time.process_time()
    for (t, _, _), (_, tracks) in zip(batches, tracker, strict=True):
        for track in tracks:
            sv = np.asarray(track.state_vector, dtype=float).ravel()
            out_t.append(t)
            out_id.append(ids.setdefault(id(track), len(ids)))
            out_x.append(sv[[0, 2, 4, 1, 3, 5]])
    seconds = (time.perf_counter() - start, time.process_time() - start_cpu)
    x = np.array(out_x).reshape(-1, 6)
    order = np.argsort(np.array(out_t), kind="stable")
    table_out = TrackTable(
        t=np.array(out_t)[order],
        id=np.array(out_id, np.int64)[order],
        pos=x[order, :3],
        vel=x[order, 3:],
    )
    return seconds, table_out
