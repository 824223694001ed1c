"""Alert rules: classes, bands, windows, ADS-B aircraft, allow-list, ignore zones, priority."""

from __future__ import annotations

import math

import numpy as np
import pytest

from skywarden.detections import (
    icao_identity,
    identity_kind,
    remote_id_identity,
    track_number_identity,
)
from skywarden.errors import ConfigError
from skywarden.warn.rules import (
    ICAO_TAG,
    NO_PRIORITY,
    REMOTE_ID_TAG,
    AlertRule,
    AllowEntry,
    TargetClass,
    evaluate_rules,
    is_cooperative_aircraft,
    target_classes,
)
from skywarden.warn.time_to_entry import forecast_entry, make_entry_model
from skywarden.warn.zones import circle_zone, inside, polygon_zone

PROTECTED = polygon_zone("base", [(0, 0), (1000, 0), (1000, 1000), (0, 1000)], 0.0, 300.0)
RING = circle_zone("ring", (500.0, 500.0), 2000.0, 0.0, 500.0, role="warning")
PAD = circle_zone("pad", (-1500.0, 500.0), 100.0, 0.0, 50.0, role="ignore")
ZONES = [PROTECTED, RING, PAD]
MODEL = make_entry_model(np.random.default_rng(11))
T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
RID = remote_id_identity("1581F5FKD229400DH3ZD")
ICAO = icao_identity(0x4840D6)


DEFAULT_RULES = (AlertRule(),)


def _decide(x, cls, identity, rules=DEFAULT_RULES, allow=(), t=T0, zones=ZONES):
    x = np.asarray(x, dtype=float).reshape(-1, 6)
    P = np.repeat(np.diag([25.0, 25, 25, 1, 1, 0.25])[None], len(x), axis=0)
    forecast = forecast_entry(x, P, zones, MODEL)
    margin = inside(zones, x[:, :3], 50.0)
    return evaluate_rules(
        rules, zones, t, x, np.asarray(cls), np.asarray(identity), forecast, margin, allow
    )


INSIDE = [500.0, 500.0, 100.0, 5.0, 0.0, 0.0]
APPROACH = [-600.0, 500.0, 100.0, 15.0, 0.0, 0.0]  # 40 s from the protected zone
FAR = [20_000.0, 0.0, 100.0, 15.0, 0.0, 0.0]


def test_identity_tags_match_detections() -> None:
    assert ICAO >> 60 == ICAO_TAG and identity_kind(ICAO) == "icao"
    assert RID >> 60 == REMOTE_ID_TAG and identity_kind(RID) == "remote_id"


def test_drone_inside_and_approaching_alert_far_does_not() -> None:
    d = _decide([INSIDE, APPROACH, FAR], [TargetClass.DRONE] * 3, [-1, RID, -1])
    assert d.should_alert[:, 0].tolist() == [True, True, False]
    assert d.should_alert[:, 1].tolist() == [True, True, False]
    assert not d.should_alert[:, 2].any()  # ignore zones never alert
    assert d.priority[0].tolist() == [1, 2, NO_PRIORITY]
    assert d.rule[0].tolist() == [0, 0, -1]


def test_adsb_aircraft_never_alert_but_other_classes_and_identities_do() -> None:
    rules = (AlertRule(classes=frozenset(TargetClass)),)  # every class, to isolate the exemption
    x = [INSIDE] * 4
    cls = [TargetClass.AIRCRAFT, TargetClass.DRONE, TargetClass.AIRCRAFT, TargetClass.AIRCRAFT]
    identity = [ICAO, ICAO, -1, track_number_identity(2, 77)]
    d = _decide(x, cls, identity, rules)
    assert d.should_alert[:, 0].tolist() == [False, True, True, True]
    assert not d.hold[0].any()
    assert is_cooperative_aircraft(np.array(identity), np.array(cls)).tolist() == [
        True,
        False,
        False,
        False,
    ]
    exempt_off = (AlertRule(classes=frozenset(TargetClass), exempt_cooperative_aircraft=False),)
    assert _decide(x, cls, identity, exempt_off).should_alert[:, 0].all()


def test_default_rule_ignores_birds_and_aircraft_alerts_unknown() -> None:
    cls = [TargetClass.BIRD, TargetClass.AIRCRAFT, TargetClass.UNKNOWN, TargetClass.CLUTTER]
    d = _decide([INSIDE] * 4, cls, [-1] * 4)
    assert d.should_alert[:, 0].tolist() == [False, False, True, False]


def test_allow_list_only_in_its_zones_and_window() -> None:
    allow = (AllowEntry(RID, frozenset({"base"}), T0 - 60.0, T0 + 60.0, "survey flight"),)
    for t, expected in ((T0, [False, True]), (T0 - 61.0, [True, True]), (T0 + 61, [True, True])):
        d = _decide([INSIDE], [TargetClass.DRONE], [RID], allow=allow, t=t)
        assert d.should_alert[0, :2].tolist() == expected, t
    other = remote_id_identity("SOMEONE-ELSE")
    assert _decide([INSIDE], [TargetClass.DRONE], [other], allow=allow).should_alert[0, 0]
    everywhere = (AllowEntry(RID),)
    assert not _decide([INSIDE], [TargetClass.DRONE], [RID], allow=everywhere).should_alert.any()


def test_altitude_and_speed_bands() -> None:
    rules = (AlertRule(altitude_band_m=(0.0, 150.0), speed_band_mps=(2.0, 40.0)),)
    x = np.array([INSIDE] * 4)
    x[1, 2] = 200.0  # too high for the rule (still inside the zone)
    x[2, 3] = 0.5  # too slow
    x[3, 3] = 60.0  # too fast
    d = _decide(x, [TargetClass.DRONE] * 4, [-1] * 4, rules)
    assert d.should_alert[:, 0].tolist() == [True, False, False, False]


def test_time_windows_absolute_and_time_of_day() -> None:
    # T0 is 22:13:20 UTC; a night rule 22:00-06:00 wraps past midnight
    night = AlertRule(time_of_day_s=(22 * 3600.0, 6 * 3600.0))
    day = AlertRule(time_of_day_s=(6 * 3600.0, 22 * 3600.0))
    local = AlertRule(time_of_day_s=(6 * 3600.0, 22 * 3600.0), utc_offset_s=-3600.0)
    assert night.active_at(T0) and not day.active_at(T0) and local.active_at(T0)
    assert night.active_at(T0 + 7 * 3600.0) and not night.active_at(T0 + 9 * 3600.0)  # 05:13, 07:13
    window = AlertRule(active_from_s=T0, active_until_s=T0 + 10.0)
    assert window.active_at(T0 + 5) and not window.active_at(T0 + 11)
    assert not _decide([INSIDE], [TargetClass.DRONE], [-1], (day,)).should_alert.any()
    assert _decide([INSIDE], [TargetClass.DRONE], [-1], (night,)).should_alert[0, 0]


def test_ignore_zone_suppresses_everything_inside_it() -> None:
    on_pad = [-1500.0, 500.0, 10.0, 15.0, 0.0, 0.0]  # inside the ignore pad, inside the ring
    d = _decide([on_pad], [TargetClass.DRONE], [-1])
    assert not d.should_alert.any() and not d.hold.any()


def test_zone_selection_priority_and_thresholds() -> None:
    rules = (
        AlertRule(name="ring", zone_ids=frozenset({"ring"}), priority=5),
        AlertRule(name="base-urgent", zone_ids=frozenset({"base"}), priority=1),
        AlertRule(name="base", zone_ids=frozenset({"base"}), priority=3),
    )
    d = _decide([INSIDE], [TargetClass.DRONE], [-1], rules)
    assert d.priority[0, :2].tolist() == [1, 5]  # the most urgent matching rule wins
    assert d.rule[0, :2].tolist() == [1, 0]
    strict = (AlertRule(min_probability=1.0, clear_probability=0.2, horizon_s=10.0),)
    d = _decide([APPROACH], [TargetClass.DRONE], [-1], strict)  # 40 s away: beyond horizon
    assert not d.should_alert[0, 0] and not d.hold[0, 0]


def test_hold_is_wider_than_raise() -> None:
    just_outside = [1030.0, 500.0, 100.0, 0.0, 0.0, 0.0]  # 30 m outside, hovering
    rule = (AlertRule(min_probability=0.99, clear_probability=0.98),)
    d = _decide([just_outside], [TargetClass.DRONE], [-1], rule)
    assert d.hold[0, 0]  # inside the 50 m margin
    assert (d.should_alert <= d.hold).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_probability": 0.0}, "min_probability"),
        ({"min_probability": 0.5, "clear_probability": 0.5}, "clear_probability"),
        ({"altitude_band_m": (100.0, 0.0)}, "altitude band"),
        ({"speed_band_mps": (10.0, 1.0)}, "speed band"),
        ({"active_from_s": 10.0, "active_until_s": 0.0}, "active_from_s"),
        ({"horizon_s": 0.0}, "horizon_s"),
    ],
)
def test_rule_validation(kwargs, message) -> None:
    with pytest.raises(ConfigError, match=message):
        AlertRule(**kwargs)
    assert math.isclose(AlertRule(min_probability=0.6).clear_probability, 0.3)


def test_target_classes_from_classifier_labels() -> None:
    labels = ["drone", "bird", "aircraft", "unknown", "Clutter", "kite", "drone"]
    assert target_classes(labels).tolist() == [1, 3, 2, 0, 4, 0, 1]
    assert target_classes(np.array([], dtype=str)).shape == (0,)


def test_default_rule_leaves_out_ground_simulated_and_test_tracks() -> None:
    from skywarden import evidence as ev

    bits = [ev.NONE, ev.ON_GROUND, ev.SIMULATED, ev.TEST, ev.AIRBORNE | ev.MODE_3A]
    x = np.asarray([INSIDE] * len(bits), dtype=float).reshape(-1, 6)
    P = np.repeat(np.diag([25.0, 25, 25, 1, 1, 0.25])[None], len(x), axis=0)
    forecast = forecast_entry(x, P, ZONES, MODEL)
    margin = inside(ZONES, x[:, :3], 50.0)
    cls = np.full(len(bits), TargetClass.UNKNOWN)
    ids = np.full(len(bits), -1)

    def decide(rules):
        return evaluate_rules(rules, ZONES, T0, x, cls, ids, forecast, margin, (), bits)

    assert decide(DEFAULT_RULES).should_alert[:, 0].tolist() == [True, False, False, False, True]
    everything = (AlertRule(exempt_ground_and_test=False),)
    assert decide(everything).should_alert[:, 0].all()
    # without evidence (callers that have none) nothing is left out
    no_evidence = evaluate_rules(DEFAULT_RULES, ZONES, T0, x, cls, ids, forecast, margin)
    assert no_evidence.should_alert[:, 0].all()


def test_unknown_track_raises_only_at_the_drone_probability_floor_but_holds_below_it() -> None:
    """An 'unknown' track raises an alert only at p_drone >= unknown_min_drone_probability
    (issue 11: young bird and ground-traffic tracks the classifier will not name yet); an
    alert already raised still holds; 'drone' tracks and unknown probabilities (NaN, or no
    p_drone given) are not held back."""
    from skywarden.warn.rules import UNKNOWN_MIN_DRONE_PROBABILITY as FLOOR

    assert 0.0 < FLOOR <= 0.5
    U, D = TargetClass.UNKNOWN, TargetClass.DRONE
    x = np.asarray([INSIDE] * 5, dtype=float)
    P = np.repeat(np.diag([25.0, 25, 25, 1, 1, 0.25])[None], len(x), axis=0)
    forecast = forecast_entry(x, P, ZONES, MODEL)
    margin = inside(ZONES, x[:, :3], 50.0)
    cls = np.array([U, U, U, D, U])
    p_drone = np.array([FLOOR - 0.01, FLOOR, np.nan, 0.0, 0.99])

    def decide(rules, p):
        return evaluate_rules(
            rules, ZONES, T0, x, cls, np.full(5, -1), forecast, margin, (), None, p
        )

    d = decide(DEFAULT_RULES, p_drone)
    assert d.should_alert[:, 0].tolist() == [False, True, True, True, True]
    assert d.hold[:, 0].all()  # the floor does not clear an alert already raised
    assert decide(DEFAULT_RULES, None).should_alert[:, 0].all()
    none = (AlertRule(unknown_min_drone_probability=0.0),)
    assert decide(none, p_drone).should_alert[:, 0].all()
    with pytest.raises(ConfigError, match="unknown_min_drone_probability"):
        AlertRule(unknown_min_drone_probability=1.5)
