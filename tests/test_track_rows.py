"""skywarden.track_rows builds the rows that the per-track code built.

The oracle below is TrackArrays.to_json as it was before the rows were built column by
column: one track at a time, NumPy scalars, Python's round, summary_line per track. NumPy's
vectorised rounding may differ from Python's exact round by one unit of the last digit at a
near-halfway value: numbers may differ by that much, nothing else may differ.
"""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.classify.decision import summary_line
from skywarden.evidence import ON_GROUND, evidence_names
from skywarden.snapshot import CLASS_NAMES, SOURCE_KINDS, STATUS_NAMES, Snapshot, TrackArrays
from skywarden.track_rows import summary_lines


def _num(v, digits):
    v = float(v)
    return round(v, digits) if math.isfinite(v) else None


def _points(a):
    ok = np.isfinite(a).all(axis=1)
    return [[round(float(p[0]), 7), round(float(p[1]), 7), round(float(p[2]), 1)] for p in a[ok]]


def reference_rows(t: TrackArrays) -> list[dict]:
    out = []
    cov = None
    if t.cov is not None:
        i6, j6 = np.triu_indices(6)
        tri = np.round(np.asarray(t.cov, float)[:, i6, j6], 3)
        cov = [[v if math.isfinite(v) else None for v in row] for row in tri.tolist()]
    for i in range(len(t)):
        reasons = tuple(t.reasons[i]) if t.reasons is not None else ()
        label = CLASS_NAMES[int(t.target_class[i])]
        row = {
            "id": int(t.id[i]), "lat": _num(t.lat[i], 7), "lon": _num(t.lon[i], 7),
            "alt_m": _num(t.alt_m[i], 1), "enu": [_num(v, 2) for v in t.enu[i]],
            "speed_mps": _num(math.hypot(t.enu[i, 3], t.enu[i, 4]), 2),
            "course_deg": _num(math.degrees(math.atan2(t.enu[i, 3], t.enu[i, 4])) % 360.0, 1),
            "sigma_m": _num(t.sigma_m[i], 1), "status": STATUS_NAMES[int(t.status[i])],
            "class": label,
            "p": {k: _num(t.p_class[i, j], 3)
                  for j, k in enumerate(("drone", "bird", "aircraft", "unknown"))},
            "behaviour": str(t.behaviour[i] or ""), "identity": str(t.identity[i] or ""),
            "callsign": str(t.callsign[i] or ""), "t_update": _num(t.t_update[i], 3),
            "trail": _points(t.trail[i]), "predicted": _points(t.predicted[i]),
            "flags": list(t.flags[i]) if t.flags is not None else [],
            "sources": {} if t.sources is None else {
                k: round(float(v), 3) for k, v in zip(SOURCE_KINDS, t.sources[i], strict=True)
                if math.isfinite(v)},
            "on_ground": bool(t.evidence is not None and int(t.evidence[i]) & ON_GROUND),
            "evidence": [] if t.evidence is None else evidence_names(int(t.evidence[i])),
            "reasons": list(reasons), "summary": summary_line(label, t.p_class[i], reasons),
        }  # fmt: skip
        if cov is not None:
            row["cov"] = cov[i]
        if t.members is not None:
            row["members"] = [{"site": str(s), "track_id": int(k)} for s, k in t.members[i]]
        out.append(row)
    return out


TRICKY = [0.0, -0.0, 0.5, 2.675, 1.0000000499, -3.14159265358979, 1e-9, 123456.789049, 1e12]
floats = st.one_of(
    st.sampled_from(TRICKY + [math.nan, math.inf, -math.inf]),
    st.floats(-1e7, 1e7, allow_nan=False, allow_infinity=False),
)


def _objects(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


@st.composite
def track_arrays(draw) -> TrackArrays:
    n = draw(st.integers(0, 6))
    trail_len = draw(st.integers(0, 3))

    def column(*shape):
        size = int(np.prod((n, *shape)))
        return np.array(draw(st.lists(floats, min_size=size, max_size=size)), float).reshape(
            (n, *shape)
        )

    def optional(make):
        return make() if draw(st.booleans()) else None

    p = np.abs(column(4))
    words = st.sampled_from(["", "hover", "icao:3C660C", "rid:ABC", None])
    reasons = st.lists(st.sampled_from(["no transponder or Remote ID", "fast", "slow"]),
                       max_size=2)  # fmt: skip
    return TrackArrays(
        id=np.array(draw(st.lists(st.integers(0, 2**40), min_size=n, max_size=n)), np.int64),
        enu=column(6), lat=column(), lon=column(), alt_m=column(), sigma_m=column(),
        status=np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), np.int8),
        target_class=np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)),
                              np.int8),
        p_class=p,
        behaviour=_objects([draw(words) for _ in range(n)]),
        identity=_objects([draw(words) for _ in range(n)]),
        callsign=_objects([draw(words) for _ in range(n)]),
        t_update=column(), trail=column(trail_len, 3), predicted=column(2, 3),
        flags=optional(lambda: _objects([("non_cooperative",) * (i % 2) for i in range(n)])),
        sources=optional(lambda: column(4)),
        evidence=optional(lambda: np.array(
            draw(st.lists(st.integers(0, 255), min_size=n, max_size=n)), np.int32)),
        reasons=optional(lambda: _objects([tuple(draw(reasons)) for _ in range(n)])),
        cov=optional(lambda: column(6, 6)),
        members=optional(lambda: _objects([(("north", i), ("south", i + 1)) for i in range(n)])),
    )  # fmt: skip


DIGITS = {"lat": 7, "lon": 7, "alt_m": 1, "enu": 2, "speed_mps": 2, "course_deg": 1,
          "sigma_m": 1, "p": 3, "t_update": 3, "sources": 3, "cov": 3}  # fmt: skip


def assert_same(got, want, key: str = "", digits: int | None = None) -> None:
    """Equal, numbers within one unit of their last rounded digit."""
    digits = DIGITS.get(key, digits)
    if isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want), (key, got, want)
        for k in want:
            assert_same(got[k], want[k], k, digits)
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), (key, got, want)
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            if key in ("trail", "predicted") and isinstance(w, float):
                assert_same(g, w, "", 7 if i < 2 else 1)
            else:
                assert_same(g, w, key, digits)
    elif isinstance(want, float) and not isinstance(want, bool):
        assert isinstance(got, float), (key, got, want)
        unit = 10.0 ** -(digits if digits is not None else 12)
        assert abs(got - want) <= 1.0001 * unit + 1e-15 * abs(want), (key, got, want)
        assert got == want or len(repr(got)) <= len(repr(want)) + 2, (key, got, want)
    else:
        assert got == want and type(got) is type(want), (key, got, want)


def test_assert_same_sees_a_difference() -> None:
    assert_same({"lat": 1.0000001}, {"lat": 1.0000002})
    for got, want in (({"lat": 1.0}, {"lat": 1.0000002}), ({"alt_m": None}, {"alt_m": 1.0}),
                      ({"summary": "a"}, {"summary": "b"}), ([1.0], [1.0, 2.0])):  # fmt: skip
        try:
            assert_same(got, want)
        except AssertionError:
            continue
        raise AssertionError(f"{got} == {want}?")


@settings(max_examples=200, deadline=None)
@given(track_arrays())
def test_rows_are_the_per_track_rows(tracks: TrackArrays) -> None:
    assert_same(tracks.to_json(), reference_rows(tracks))


@settings(max_examples=50, deadline=None)
@given(track_arrays())
def test_snapshot_json_bytes_are_the_per_track_encoding(tracks: TrackArrays) -> None:
    snap = Snapshot(3, 1.7e9, (50.0, 4.0, 10.0), tracks, ())
    assert_same(
        json.loads(snap.json_bytes)["tracks"], json.loads(json.dumps(reference_rows(tracks)))
    )


def test_most_values_are_exactly_the_per_track_ones() -> None:
    rng = np.random.default_rng(7)
    n = 500
    tracks = TrackArrays(
        id=np.arange(n), enu=rng.normal(0, 5e3, (n, 6)), lat=50 + rng.random(n),
        lon=4 + rng.random(n), alt_m=rng.uniform(0, 3e3, n), sigma_m=rng.uniform(1, 50, n),
        status=np.ones(n, np.int8), target_class=np.ones(n, np.int8),
        p_class=rng.dirichlet(np.ones(4), n), behaviour=_objects([""] * n),
        identity=_objects([""] * n), callsign=_objects([""] * n),
        t_update=1.7e9 + rng.random(n), trail=50 + rng.random((n, 5, 3)),
        predicted=50 + rng.random((n, 3, 3)), cov=rng.normal(0, 1e3, (n, 6, 6)),
    )  # fmt: skip
    got = json.dumps(tracks.to_json())
    want = json.dumps(reference_rows(tracks))
    assert_same(json.loads(got), json.loads(want))
    same = sum(a == b for a, b in zip(got.split(","), want.split(","), strict=True))
    assert same >= 0.999 * len(want.split(","))


@given(st.lists(st.tuples(st.sampled_from(CLASS_NAMES),
                          st.lists(floats, min_size=4, max_size=4)), max_size=8))  # fmt: skip
def test_summary_lines_are_summary_line(rows) -> None:
    labels = [label for label, _ in rows]
    p = np.array([values for _, values in rows], float).reshape(-1, 4)
    why = [("fast",) if i % 2 else () for i in range(len(rows))]
    expected = [summary_line(label, p[i], why[i]) for i, label in enumerate(labels)]
    assert summary_lines(labels, p, why) == expected
