"""Evidence bits per track: what stays, what follows the latest report."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from skywarden import evidence as ev

bits = st.integers(min_value=0, max_value=255)


def test_ground_state_follows_the_latest_report_and_transponder_bits_stay():
    track = np.array([ev.MODE_S_REPLY | ev.ON_GROUND], np.int32)
    took_off = ev.merge_track_evidence(track, np.array([ev.AIRBORNE]))
    assert ev.evidence_names(int(took_off[0])) == ["mode_s_reply", "airborne"]
    silent = ev.merge_track_evidence(took_off, np.array([0]))
    assert silent[0] == took_off[0]
    landed = ev.merge_track_evidence(silent, np.array([ev.ON_GROUND]))
    assert ev.on_ground(landed)[0] and not landed[0] & ev.AIRBORNE


def test_rules_leave_out_ground_simulated_and_test_tracks():
    values = np.array([0, ev.ON_GROUND, ev.SIMULATED, ev.TEST, ev.AIRBORNE | ev.MODE_3A])
    assert ev.not_for_rules(values).tolist() == [False, True, True, True, False]


@given(st.lists(bits, min_size=1, max_size=12), bits)
def test_merge_keeps_every_sticky_bit_and_only_the_newest_ground_state(reports, start):
    track = np.array([start], np.int32)
    for r in reports:
        track = ev.merge_track_evidence(track, np.array([r], np.int32))
    sticky = start
    for r in reports:
        sticky |= r
    assert track[0] & ev.STICKY == sticky & ev.STICKY
    said = [r for r in [start, *reports] if r & ev.GROUND_STATE]
    assert track[0] & ev.GROUND_STATE == (said[-1] & ev.GROUND_STATE if said else 0)


def test_the_untrained_fallback_takes_transponder_and_ground_reports_as_aircraft():
    from dataclasses import replace

    from skywarden.classify.trained import identity_and_speed_classes
    from skywarden.track.params import TrackerParams
    from skywarden.track.step import new_tracks
    from skywarden.track.tracks import concat_tracks
    from skywarden.warn import TargetClass

    empty = new_tracks(TrackerParams())
    one = replace(
        empty,
        **{
            name: np.zeros((1, *getattr(empty, name).shape[1:]), getattr(empty, name).dtype)
            for name in ("id", "x", "P", "xm", "Pm", "mu", "status", "history", "age", "misses",
                         "hits", "t_birth", "t_update", "pending_hit", "rcs_dbsm", "evidence")
        },
        identity=np.full(1, -1, np.int64),
    )  # fmt: skip
    tracks = empty
    for bits in (0, ev.MODE_3A, ev.ON_GROUND, ev.FLIGHT_PLAN, ev.SIMULATED):
        tracks = concat_tracks(tracks, replace(one, evidence=np.array([bits], np.int32)))
    cls = identity_and_speed_classes(tracks, 0.0).target_class
    aircraft, unknown = TargetClass.AIRCRAFT, TargetClass.UNKNOWN
    assert cls.tolist() == [unknown, aircraft, aircraft, aircraft, unknown]
