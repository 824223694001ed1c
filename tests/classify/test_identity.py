"""The evidence table: each row applies where it should, in its order, and moves the class."""

from __future__ import annotations

import numpy as np
import pytest

from skywarden import evidence as ev
from skywarden.classify.identity import (
    EVIDENCE_TABLE,
    MODEL_FLOOR,
    ROW_NAMES,
    evidence_reason,
    evidence_rows,
    fuse,
    identity_likelihood,
)
from skywarden.detections import (
    NO_IDENTITY,
    icao_identity,
    remote_id_identity,
    track_number_identity,
)

ICAO = icao_identity(0x3C660C)
RID = remote_id_identity("SERIAL1")
TRACK = track_number_identity(226 << 8 | 2, 17)
DRONE, BIRD, AIRCRAFT, UNKNOWN = range(4)

# (row, identity, evidence bits, emitter category, class the row must make a track): the
# track's kinematics point the other way, so each row has to overrule them. Measured replies,
# flight plans, Mode 3/A codes and ground reports overrule even certain kinematics (exact
# zeros, as the tree model gives them); Remote ID and the ADS-B category (claims by a
# transmitter) overrule 90 % kinematics; an ICAO address alone only moves an undecided track.
CASES = [
    ("remote_id", RID, 0, "", DRONE),
    ("adsb_uav", ICAO, 0, "B6", DRONE),
    ("mode_s_reply", ICAO, ev.MODE_S_REPLY, "", AIRCRAFT),
    ("flight_plan", TRACK, ev.FLIGHT_PLAN, "", AIRCRAFT),
    ("ssr_reply", NO_IDENTITY, ev.SSR_REPLY | ev.MODE_3A, "", AIRCRAFT),
    ("mode_3a", TRACK, ev.MODE_3A, "", AIRCRAFT),
    ("on_ground", NO_IDENTITY, ev.ON_GROUND, "", AIRCRAFT),
    ("icao_claim", ICAO, 0, "", AIRCRAFT),
]


def test_the_table_has_one_row_per_case_and_a_reason_for_each():
    assert [c[0] for c in CASES] + ["none"] == list(ROW_NAMES)
    for k, row in enumerate(EVIDENCE_TABLE):
        assert len(row.likelihood) == 4 and min(row.likelihood) > 0.0
        assert len(row.reason) > 40 and evidence_reason(k).startswith(row.name + ": ")


@pytest.mark.parametrize(("name", "identity", "bits", "category", "cls"), CASES)
def test_each_row_applies_and_overrules_the_kinematics(name, identity, bits, category, cls):
    rows = evidence_rows(np.array([identity]), np.array([bits]), np.array([category]))
    assert ROW_NAMES[rows[0]] == name
    # kinematics say the opposite, with certainty (exact zeros, as the tree model can give)
    against = AIRCRAFT if cls == DRONE else DRONE
    like = identity_likelihood(np.array([identity]), np.array([category]), None, [bits])
    p = np.zeros((1, 4))
    p[0, against] = 1.0
    q = fuse(p, like)
    if name in ("remote_id", "adsb_uav", "icao_claim"):
        assert q.argmax() == against  # a claim does not overrule certain kinematics
        p = np.full((1, 4), 0.1 / 3.0)
        p[0, against] = 0.9
        if name == "icao_claim":
            p = np.full((1, 4), 0.25)
        q = fuse(p, like)
    assert q.argmax() == cls
    assert np.isclose(q.sum(), 1.0)
    if name not in ("remote_id", "adsb_uav", "icao_claim"):  # also over a certain 'unknown'
        assert fuse(np.array([[0.0, 0.0, 0.0, 1.0]]), like).argmax() == cls


def test_a_measured_reply_outranks_the_claim_of_the_same_address():
    rows = evidence_rows(np.array([ICAO, ICAO]), np.array([0, ev.MODE_S_REPLY]))
    assert [ROW_NAMES[r] for r in rows] == ["icao_claim", "mode_s_reply"]
    l_claim, l_reply = identity_likelihood(np.array([ICAO, ICAO]), None, None, [0, ev.MODE_S_REPLY])
    assert l_reply[DRONE] < l_claim[DRONE] / 100.0


def test_remote_id_outranks_everything_and_ua_type_alone_means_remote_id():
    rows = evidence_rows(
        np.array([RID, NO_IDENTITY]), np.array([ev.MODE_S_REPLY, 0]), ua_type=np.array([-1, 2])
    )
    assert [ROW_NAMES[r] for r in rows] == ["remote_id", "remote_id"]


def test_no_evidence_leaves_the_model_exactly_as_it_was():
    rng = np.random.default_rng(4)
    p = rng.dirichlet(np.ones(4), size=50)
    p[::7, 2] = 0.0
    p /= p.sum(axis=1, keepdims=True)
    ids = np.where(np.arange(50) % 2 == 0, NO_IDENTITY, TRACK)
    like = identity_likelihood(ids)
    assert ROW_NAMES[evidence_rows(ids)[0]] == "none"
    np.testing.assert_allclose(fuse(p, like), p, rtol=1e-12, atol=0.0)


def test_the_floor_lets_evidence_move_exact_zeros_only_where_there_is_evidence():
    p = np.array([[1.0, 0.0, 0.0, 0.0]])
    like = identity_likelihood(np.array([NO_IDENTITY]), None, None, [ev.MODE_S_REPLY])
    q = fuse(p, like)
    assert q[0, AIRCRAFT] > 0.8 and MODEL_FLOOR < 0.01
