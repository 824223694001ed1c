"""Seeded simulation: truth targets (drones, birds, aircraft) and a sensor with clutter.

Entry point: :func:`build_scenario` (named scenarios) -> :class:`Scenario`. For custom runs,
build a :class:`TargetPlan` with :class:`PlanBuilder` and call :func:`simulate`.
"""

from skywarden.simulate.motion import Motion
from skywarden.simulate.plan import PlanBuilder, TargetPlan
from skywarden.simulate.scenarios import SCENARIO_NAMES, build_scenario
from skywarden.simulate.sensor import BoxVolume, CylinderVolume, SensorParams
from skywarden.simulate.simulator import Scenario, simulate

__all__ = [
    "SCENARIO_NAMES",
    "BoxVolume",
    "CylinderVolume",
    "Motion",
    "PlanBuilder",
    "Scenario",
    "SensorParams",
    "TargetPlan",
    "build_scenario",
    "simulate",
]
