"""The class decision (decision_confidence) and its reasons (skywarden.classify.decision)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from skywarden.classify.decision import (
    BEYOND_DRONE_RANGE,
    HIGH_RCS,
    LOW_RCS,
    NON_COOPERATIVE,
    OUTSIDE_DRONE_ENVELOPE,
    REASONS,
    REMOTE_ID,
    TRANSPONDER,
    decide,
    evidence_reasons,
    reason_names,
    summary_line,
    track_evidence,
)
from skywarden.classify.physics import RadarCoverage
from skywarden.detections import icao_identity, remote_id_identity


def test_argmax_only_at_decision_confidence():
    p = np.array([[0.45, 0.55, 0, 0], [0.7, 0.3, 0, 0], [0.1, 0.1, 0.8, 0.0]])
    assert decide(p, 0.5).tolist() == ["bird", "drone", "aircraft"]
    assert decide(p, 0.6).tolist() == ["unknown", "drone", "aircraft"]
    assert decide(p, 0.75).tolist() == ["unknown", "unknown", "aircraft"]
    assert decide(np.zeros((0, 4)), 0.5).shape == (0,)


@given(
    st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4).filter(lambda v: sum(v) > 0),
    st.floats(0.25, 1.0),
)
def test_decision_is_argmax_or_unknown(values, confidence):
    p = np.array([values]) / sum(values)
    label = decide(p, confidence)[0]
    if p.max() >= confidence:
        assert label == ("drone", "bird", "aircraft", "unknown")[int(p.argmax())]
    else:
        assert label == "unknown"


def test_reasons_from_identity_and_rcs():
    ids = np.array([icao_identity(0xABCDEF), remote_id_identity("S"), -1, -1, -1])
    rcs = np.array([np.nan, np.nan, -25.0, 12.0, np.nan])
    m = evidence_reasons(ids, rcs)
    assert m.tolist() == [TRANSPONDER, REMOTE_ID, NON_COOPERATIVE | LOW_RCS,
                          NON_COOPERATIVE | HIGH_RCS, NON_COOPERATIVE]  # fmt: skip


def test_physics_reasons_are_named():
    radar = RadarCoverage(np.zeros((1, 3)), np.array([3000.0]), np.array([-20.0]))
    x = np.array([[30_000.0, 0, 100, 10, 0, 0], [100.0, 0, 100, 200, 0, 0]])
    L, m = track_evidence(x, np.array([-1, -1]), np.full(2, np.nan), radar)
    assert m[0] & BEYOND_DRONE_RANGE and not m[0] & OUTSIDE_DRONE_ENVELOPE
    assert m[1] & OUTSIDE_DRONE_ENVELOPE and not m[1] & BEYOND_DRONE_RANGE
    assert np.all(L[:, 0] < 0.5) and np.all(L[:, 1:] == 1.0)
    L, m = track_evidence(x, np.array([-1, -1]), np.full(2, np.nan), None)
    assert not m[0] & BEYOND_DRONE_RANGE


def test_reason_names_lookup():
    words = reason_names(np.array([0, NON_COOPERATIVE | LOW_RCS, (1 << len(REASONS)) - 1]))
    assert words[0] == ()
    assert words[1] == ("no transponder or Remote ID", "low RCS")
    assert words[2] == REASONS


def test_summary_line_says_the_vector_and_the_reasons():
    line = summary_line("unknown", np.array([0.45, 0.55, 0.0, 0.0]), ("no transponder", "low RCS"))
    assert line == "unknown: bird 55 % / drone 45 %, no transponder, low RCS"
    assert summary_line("aircraft", np.array([0.01, 0.01, 0.98, 0.0])) == "aircraft: aircraft 98 %"


@given(st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4))
def test_summary_line_says_the_same_of_the_probabilities_a_picture_carries(p):
    """A picture carries p rounded to 3 decimals; decoded and encoded again, a track's words
    must not change (0.48504 said "49 %" and its carried 0.485 "48 %")."""
    exact = np.asarray(p)
    assert summary_line("unknown", exact) == summary_line("unknown", np.round(exact, 3))
    assert summary_line("drone", np.array([0.48504, 0.51496, 0, 0])) == summary_line(
        "drone", np.array([0.485, 0.515, 0, 0])
    )


def test_summary_line_of_a_corrupt_vector_is_clipped_without_overflow():
    """inf, huge, negative and NaN entries show as 100 % / 0 %, with no RuntimeWarning."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        line = summary_line("unknown", np.array([np.nan, -3.0, 1e308, np.inf]))
    assert line == "unknown: aircraft 100 % / unknown 100 %"


def test_switch_between_drone_and_bird_needs_switch_confidence():
    """A track decided drone (bird) becomes bird (drone) only at p >= SWITCH_CONFIDENCE;
    below, unknown. Undecided tracks and other switches are left alone."""
    from skywarden.classify.decision import SWITCH_CONFIDENCE, hold_decided
    from skywarden.warn.rules import TargetClass as C

    label = np.array([C.BIRD, C.BIRD, C.DRONE, C.DRONE, C.BIRD, C.AIRCRAFT, C.DRONE])
    decided = np.array([C.DRONE, C.DRONE, C.BIRD, C.BIRD, C.UNKNOWN, C.DRONE, C.DRONE])
    hi, lo = SWITCH_CONFIDENCE, SWITCH_CONFIDENCE - 0.2
    p = np.array(
        [
            [1 - lo, lo, 0, 0],  # drone -> bird, not sure enough: unknown
            [1 - hi, hi, 0, 0],  # drone -> bird at the switch confidence: bird
            [lo, 1 - lo, 0, 0],  # bird -> drone, not sure enough: unknown
            [hi, 1 - hi, 0, 0],  # bird -> drone, sure: drone
            [0.3, 0.7, 0, 0],  # never decided: not held
            [0.3, 0, 0.7, 0],  # drone -> aircraft: not this rule's
            [0.75, 0.25, 0, 0],  # stays drone
        ]
    )
    out, held = hold_decided(label, p, decided)
    assert out.tolist() == [C.UNKNOWN, C.BIRD, C.UNKNOWN, C.DRONE, C.BIRD, C.AIRCRAFT, C.DRONE]
    assert held.tolist() == [True, False, True, False, False, False, False]
    assert label[0] == C.BIRD  # the input is not changed


def test_a_track_decided_drone_becomes_aircraft_only_with_a_transponder():
    """A track decided drone and now labelled aircraft by the model is 'unknown' unless its
    reasons hold a transponder; aircraft never decided drone, and other labels, are left
    alone; the input is not changed."""
    from skywarden.classify.decision import hold_drone_from_aircraft
    from skywarden.warn.rules import TargetClass as C

    label = np.array([C.AIRCRAFT, C.AIRCRAFT, C.AIRCRAFT, C.AIRCRAFT, C.BIRD, C.DRONE])
    decided = np.array([C.DRONE, C.DRONE, C.UNKNOWN, C.AIRCRAFT, C.DRONE, C.DRONE])
    reasons = np.array([NON_COOPERATIVE | LOW_RCS, TRANSPONDER, 0, NON_COOPERATIVE, 0, 0])
    out, held = hold_drone_from_aircraft(label, decided, reasons)
    assert out.tolist() == [C.UNKNOWN, C.AIRCRAFT, C.AIRCRAFT, C.AIRCRAFT, C.BIRD, C.DRONE]
    assert held.tolist() == [True, False, False, False, False, False]
    assert label[0] == C.AIRCRAFT
    assert "judged drone before, no transponder to say aircraft" in REASONS
