"""Surface traffic evidence (skywarden.classify.surface): what it matches, what it never
matches, and that it never turns a confident drone into a bird or an aircraft."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.classify.decision import SURFACE, decide, reason_names
from skywarden.classify.identity import fuse
from skywarden.classify.surface import (
    SURFACE_LIKELIHOOD,
    SURFACE_MIN_STATES,
    surface_likelihood,
    surface_traffic,
)
from skywarden.detections import icao_identity, remote_id_identity
from tests.classify.windows import line, window_from

T = np.arange(16.0)


def _noisy(states: np.ndarray, sigma_h: float, seed: int) -> np.ndarray:
    """states with seeded Gaussian noise on the height (a radar's height error)."""
    out = states.copy()
    out[:, 2] += np.random.default_rng(seed).normal(0.0, sigma_h, states.shape[0])
    return out


def test_a_car_on_a_road_is_surface_traffic_with_radar_height_noise():
    car = _noisy(line(T, (15.0, 3.0, 0.0), p0=(3000.0, 0.0, 1.5)), 5.0, seed=1)
    assert surface_traffic(window_from(T, car[None])).tolist() == [True]


def test_what_is_never_surface_traffic():
    cases = {
        "multirotor at 40 m": line(T, (10.0, 0.0, 0.0), p0=(2000.0, 0.0, 40.0)),
        "drone hovering 3 m above a road": line(T, (0.3, 0.0, 0.0), p0=(2000.0, 0.0, 3.0)),
        "drone climbing away from the ground": line(T, (5.0, 0.0, 3.0), p0=(2000.0, 0.0, 1.0)),
        "munition diving at 60 m/s": line(T, (60.0, 0.0, 0.0), p0=(2000.0, 0.0, 5.0)),
        "car on ground 50 m above the site": line(T, (15.0, 0.0, 0.0), p0=(2000.0, 0.0, 50.0)),
    }
    states = np.stack(list(cases.values()))
    got = surface_traffic(window_from(T, states))
    assert not got.any(), [k for k, g in zip(cases, got, strict=True) if g]


def test_a_short_track_or_a_cooperative_one_is_not_judged():
    t = T[: SURFACE_MIN_STATES - 1]
    car = line(t, (15.0, 0.0, 0.0), p0=(3000.0, 0.0, 1.0))
    assert not surface_traffic(window_from(t, car[None])).any()
    cars = np.stack([line(T, (15.0, 0.0, 0.0), p0=(3000.0, 0.0, 1.0))] * 3)
    ident = np.array([-1, icao_identity(0x4CA123), remote_id_identity("SN1")])
    assert surface_traffic(window_from(T, cars), ident).tolist() == [True, False, False]


def test_empty_slots_are_ignored():
    w = window_from(T, line(T, (15.0, 0.0, 0.0), p0=(3000.0, 0.0, 1.0))[None])
    t, x = w.t.copy(), w.x.copy()
    t[0, :4], x[0, :4] = np.nan, np.nan  # 12 states left
    w2 = type(w)(w.id, t, x, w.measured, w.sigma, w.t_birth, w.rcs)
    assert surface_traffic(w2).tolist() == [True]


def test_it_is_evidence_against_drone_never_an_exclusion():
    """A confident low-flying drone over a road stays the most probable class (the default
    policy then says 'unknown', which the protected-zone rule warns of); a car the model
    thinks a drone at p 0.8 is no longer 'drone'."""
    lik = surface_likelihood(np.array([True, False]))
    assert lik[0].tolist() == list(SURFACE_LIKELIHOOD) and lik[1].tolist() == [1.0] * 4
    drone = fuse(np.array([[0.95, 0.02, 0.02, 0.01]]), lik[:1])
    assert drone[0].argmax() == 0 and decide(drone, 0.5)[0] == "drone"
    car = fuse(np.array([[0.8, 0.12, 0.07, 0.01]]), lik[:1])
    assert car[0, 0] < 0.5 and decide(car, 0.5)[0] != "drone"


def test_the_reason_has_words():
    assert reason_names(np.array([SURFACE]))[0] == ("at ground level, moving like road traffic",)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_rows_are_judged_independently(seed):
    rng = np.random.default_rng(seed)
    heights = rng.uniform(-5.0, 60.0, 6)
    speeds = rng.uniform(0.0, 50.0, 6)
    states = np.stack(
        [line(T, (s, 0.0, 0.0), p0=(2500.0, 0.0, h)) for h, s in zip(heights, speeds, strict=True)]
    )
    whole = surface_traffic(window_from(T, states))
    order = rng.permutation(6)
    assert surface_traffic(window_from(T, states[order])).tolist() == whole[order].tolist()
    alone = [surface_traffic(window_from(T, states[i : i + 1]))[0] for i in range(6)]
    assert whole.tolist() == alone
