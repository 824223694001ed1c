"""What a sensor says about a target besides its position: one bit field per detection.

Sources set these bits at the edge from the fields of the wire format; the tracker carries
them per track (:func:`merge_track_evidence`); the classifier turns them into likelihoods
(:mod:`skywarden.classify.identity`) and the default rules leave out on-ground, simulated
and test tracks (:mod:`skywarden.warn.rules`).

Bits (a detection may carry several):

=================  =========================================================================
MODE_S_REPLY       the radar itself measured a Mode S reply at this plot's range/azimuth
                   (CAT048 I048/220 address on a plot with I048/020 TYP 4-7)
SSR_REPLY          a secondary radar measured a Mode A/C (SSR) reply: a validated I048/070
                   Mode 3/A code or I048/090 Mode C level on a plot with I048/020 TYP 2, 3
                   (or Mode S 4-7); or an ATC system track updated by secondary detections
                   (I062/080 SSR or MDS age within the system's threshold)
MODE_3A            a Mode 3/A code is reported for the target (I048/070, I062/060, I021/070)
FLIGHT_PLAN        an ATC system correlates the track with a flight plan (I062/390, or the
                   I062/080 FPC bit)
ON_GROUND          the report says the target is on the ground (I048/230 STAT 1 or 3,
                   CAT021 I021/040 GBS, I062/080 SFC, ADS-B surface position / ground bit)
AIRBORNE           the report says the target is airborne (I048/230 STAT 0 or 2, ADS-B
                   airborne position); with ON_GROUND, "the ground state is known"
SIMULATED          the sensor flags the report as simulated (I048/020 SIM, I021/040 SIM,
                   I062/080 SIM)
TEST               the report is a test target or a fixed field-monitor transponder
                   (I048/020 TST or RAB, I021/040 TST or RAB)
=================  =========================================================================
"""

from __future__ import annotations

import numpy as np

from skywarden.units import IntArray

MODE_S_REPLY = 1 << 0
SSR_REPLY = 1 << 1
MODE_3A = 1 << 2
FLIGHT_PLAN = 1 << 3
ON_GROUND = 1 << 4
AIRBORNE = 1 << 5
SIMULATED = 1 << 6
TEST = 1 << 7

NONE = 0
GROUND_STATE = ON_GROUND | AIRBORNE  # bits describing the latest ground/airborne state
COOPERATIVE_AIRCRAFT = MODE_S_REPLY | SSR_REPLY | MODE_3A | FLIGHT_PLAN | ON_GROUND
STICKY = MODE_S_REPLY | SSR_REPLY | MODE_3A | FLIGHT_PLAN | SIMULATED | TEST
EVIDENCE_DTYPE = np.int32

BIT_NAMES = {
    MODE_S_REPLY: "mode_s_reply",
    SSR_REPLY: "ssr_reply",
    MODE_3A: "mode_3a",
    FLIGHT_PLAN: "flight_plan",
    ON_GROUND: "on_ground",
    AIRBORNE: "airborne",
    SIMULATED: "simulated",
    TEST: "test",
}


def merge_track_evidence(track: IntArray, detection: IntArray) -> IntArray:
    """Track evidence (N,) after an update with detections' evidence (N,) (0 = no update).

    The transponder, flight-plan, simulated and test bits stay once seen (a transponder does
    not leave an aircraft); the ground state follows the latest detection that reports one
    (an aircraft takes off), and is kept when the detection says nothing about it.
    """
    track = np.asarray(track, dtype=EVIDENCE_DTYPE)
    detection = np.asarray(detection, dtype=EVIDENCE_DTYPE)
    ground = np.where(detection & GROUND_STATE, detection, track) & GROUND_STATE
    return ((track | detection) & STICKY) | ground


def on_ground(evidence: IntArray) -> np.ndarray:
    """(N,) bool: the latest report of the ground state said 'on the ground'."""
    return (np.asarray(evidence) & ON_GROUND) != 0


def not_for_rules(evidence: IntArray) -> np.ndarray:
    """(N,) bool: tracks the default rules leave out (on the ground, simulated or test)."""
    return (np.asarray(evidence) & (ON_GROUND | SIMULATED | TEST)) != 0


def evidence_names(evidence: int) -> list[str]:
    """The names of the bits set in one evidence value, in bit order."""
    return [name for bit, name in BIT_NAMES.items() if int(evidence) & bit]
