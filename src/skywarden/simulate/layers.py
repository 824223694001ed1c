"""Confuser layers: extra targets simulated on their own random streams and overlaid on a
scenario, so that adding them changes nothing of what the scenario already had.

A scenario's targets, their motion noise and every detection's noise, Pd draw and RCS come
from the seed's three random streams; a target added to its plan would shift every one of
those draws and change every existing seed (and every test and measurement pinned on one).
A *layer* is instead a second plan, simulated with the seed's fourth stream by the same
sensor (same Pd, noise, volume and scan times, no clutter of its own: the base scenario's
clutter already covers the volume) and overlaid: its targets get the ids after the base's,
its truth rows and detections are merged scan by scan. The base part of a layered scenario
is bit-for-bit the scenario without the layer.

Layers (:data:`LAYERS`):

* ``mixed``: one salvo of 2-4 loitering munitions with their confusers (gliders and
  ultralights without transponders, thermalling birds, commuting gulls; ranges in
  :mod:`skywarden.simulate.loitering`), and ground traffic
  (:mod:`skywarden.simulate.ground_traffic`).
* ``loitering``: ground traffic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from skywarden.simulate.ground_traffic import add_ground_traffic
from skywarden.simulate.loitering import add_loitering_threat
from skywarden.simulate.plan import PlanBuilder, TargetPlan
from skywarden.simulate.simulator import Scenario, simulate

if TYPE_CHECKING:
    from skywarden.simulate.scenarios import Settings

MIXED_SALVO = (2, 4)  # munitions in mixed's salvo, inclusive


def mixed_layer(rng: np.random.Generator, st: Settings) -> TargetPlan:
    """The ``mixed`` scenario's layer: a munition salvo with its confusers, ground traffic."""
    b = PlanBuilder()
    add_loitering_threat(b, rng, st, salvo=MIXED_SALVO)
    add_ground_traffic(b, rng, st)
    return b.build()


def loitering_layer(rng: np.random.Generator, st: Settings) -> TargetPlan:
    """The ``loitering`` scenario's layer: ground traffic."""
    b = PlanBuilder()
    add_ground_traffic(b, rng, st)
    return b.build()


LAYERS: dict[str, Callable[[np.random.Generator, Settings], TargetPlan]] = {
    "mixed": mixed_layer,
    "loitering": loitering_layer,
}


def with_layer(base: Scenario, name: str, seed: int, st: Settings) -> Scenario:
    """``base`` with the named scenario's layer overlaid (``base`` itself if it has none).

    The layer uses the seed's fourth random stream (the base uses the first three), split
    into layout, motion and sensor streams as the base's are."""
    layer = LAYERS.get(name)
    if layer is None:
        return base
    fourth = np.random.default_rng(int(seed)).spawn(4)[3]
    layout_rng, motion_rng, sensor_rng = fourth.spawn(3)
    plan = layer(layout_rng, st)
    sensor = replace(base.sensor_params, clutter_rate=0.0)
    extra = simulate(
        plan, sensor, np.asarray(base.times), motion_rng=motion_rng, sensor_rng=sensor_rng,
        name=base.name, seed=base.seed,
    )  # fmt: skip
    return overlay(base, extra)


def overlay(base: Scenario, extra: Scenario) -> Scenario:
    """One scenario holding both: ``extra``'s target ids shifted past ``base``'s, truth rows
    sorted by (scan, id), detections by scan (base's first within a scan). Both must share
    their scan times."""
    if not np.array_equal(base.times, extra.times):
        raise ValueError("overlay: the two scenarios must have the same scan times")
    k = base.n_targets
    truth_id = np.concatenate([base.truth_id, extra.truth_id + k])
    truth_scan = np.concatenate([base.truth_scan, extra.truth_scan])
    order = np.lexsort((truth_id, truth_scan))
    scan_index = np.concatenate([base.scan_index, extra.scan_index])
    det_order = np.argsort(scan_index, kind="stable")
    extra_tid = np.where(extra.det_truth_id >= 0, extra.det_truth_id + k, -1)

    def cat(a: np.ndarray, b: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b])[rows]

    arrays = {
        "times": np.asarray(base.times).copy(),
        "truth_t": cat(base.truth_t, extra.truth_t, order),
        "truth_scan": truth_scan[order],
        "truth_id": truth_id[order],
        "truth_state": cat(base.truth_state, extra.truth_state, order),
        "target_class": np.concatenate([base.target_class, extra.target_class]),
        "target_kind": np.concatenate([base.target_kind, extra.target_kind]),
        "target_accel_sigma": np.concatenate([base.target_accel_sigma, extra.target_accel_sigma]),
        "target_accel_max": np.concatenate([base.target_accel_max, extra.target_accel_max]),
        "det_t": cat(base.det_t, extra.det_t, det_order),
        "det_z": cat(base.det_z, extra.det_z, det_order),
        "det_sigma": cat(base.det_sigma, extra.det_sigma, det_order),
        "det_truth_id": cat(base.det_truth_id, extra_tid, det_order),
        "scan_index": scan_index[det_order],
        "det_rcs_dbsm": cat(base.det_rcs_dbsm, extra.det_rcs_dbsm, det_order),
        "target_rcs_dbsm": np.concatenate([base.target_rcs_dbsm, extra.target_rcs_dbsm]),
    }
    for a in arrays.values():
        a.flags.writeable = False
    return Scenario(name=base.name, seed=base.seed, sensor_params=base.sensor_params, **arrays)
