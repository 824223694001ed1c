"""Tests of the truth / detections / tracks CSV tables: round trips and every validation error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skywarden.errors import InputError
from skywarden.tables import (
    DetectionTable,
    TrackTable,
    Truth,
    read_detections,
    read_tracks,
    read_truth,
    scans,
    write_detections,
    write_tracks,
    write_truth,
)

TRUTH_HEADER = "t,target_id,x,y,z,vx,vy,vz\n"
TRACK_HEADER = "t,track_id,x,y,z,vx,vy,vz\n"


def random_states(rng: np.random.Generator, n: int) -> tuple:
    """Time-sorted rows with several rows per time and distinct ids within each time."""
    t = np.sort(rng.integers(0, n // 3 + 1, n)).astype(float) * 0.5 + 1.7e9
    index_in_scan = np.arange(n) - np.searchsorted(t, t, side="left")
    ids = (index_in_scan * 7 + 3).astype(np.int64)
    return t, ids, rng.normal(0, 1e4, (n, 3)), rng.normal(0, 50, (n, 3))


def write_text(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


# ------------------------------------------------------------------------------ round trips


def test_truth_round_trip_is_exact(tmp_path: Path) -> None:
    t, ids, pos, vel = random_states(np.random.default_rng(1), 500)
    truth = Truth(t=t, id=ids, pos=pos, vel=vel)
    write_truth(tmp_path / "truth.csv", truth)
    back = read_truth(tmp_path / "truth.csv")
    for name in ("t", "id", "pos", "vel"):
        assert np.array_equal(getattr(back, name), getattr(truth, name)), name
    assert back.id.dtype == np.int64 and back.pos.shape == (500, 3)


def test_tracks_round_trip_with_extra_columns(tmp_path: Path) -> None:
    t, ids, pos, vel = random_states(np.random.default_rng(2), 300)
    tracks = TrackTable(t=t, id=ids, pos=pos, vel=vel)
    extra = {
        "class": np.array(["drone", "bird, maybe", 'say "hi"'] * 100),
        "p_drone": np.linspace(0, 1, 300),
    }
    write_tracks(tmp_path / "tracks.csv", tracks, extra)
    back = read_tracks(tmp_path / "tracks.csv")
    for name in ("t", "id", "pos", "vel"):
        assert np.array_equal(getattr(back, name), getattr(tracks, name)), name


@pytest.mark.parametrize("with_sigma", [True, False])
def test_detections_round_trip(tmp_path: Path, with_sigma: bool) -> None:
    rng = np.random.default_rng(3)
    n = 200
    sigma = rng.uniform(0, 30, n) if with_sigma else np.full(n, np.nan)
    det = DetectionTable(
        t=np.sort(rng.uniform(0, 100, n)), pos=rng.normal(0, 1e3, (n, 3)), sigma=sigma
    )
    write_detections(tmp_path / "det.csv", det)
    back = read_detections(tmp_path / "det.csv")
    assert np.array_equal(back.t, det.t) and np.array_equal(back.pos, det.pos)
    assert np.array_equal(back.sigma, det.sigma, equal_nan=True)
    header = (tmp_path / "det.csv").read_text().splitlines()[0]
    assert header == ("t,x,y,z,sigma" if with_sigma else "t,x,y,z")


def test_write_detections_refuses_partly_missing_sigma(tmp_path: Path) -> None:
    det = DetectionTable(t=np.zeros(2), pos=np.zeros((2, 3)), sigma=np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="sigma"):
        write_detections(tmp_path / "d.csv", det)


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=40, deadline=None)
@given(
    pos=arrays(np.float64, st.tuples(st.integers(1, 20), st.just(3)), elements=finite),
    t0=finite,
)
def test_round_trip_any_finite_floats(tmp_path_factory, pos: np.ndarray, t0: float) -> None:
    n = pos.shape[0]
    truth = Truth(t=np.full(n, t0), id=np.arange(n, dtype=np.int64) - 3, pos=pos, vel=pos[::-1])
    path = tmp_path_factory.mktemp("rt") / "truth.csv"
    write_truth(path, truth)
    back = read_truth(path)
    assert np.array_equal(back.pos, pos) and np.array_equal(back.t, truth.t)
    assert np.array_equal(back.id, truth.id) and np.array_equal(back.vel, truth.vel)


def test_any_column_order_extra_columns_bom_crlf_and_empty_lines(tmp_path: Path) -> None:
    text = (
        "\ufeffvz,note,x,y,z,t,target_id,vx,vy,extra\r\n"
        '3,"a, quoted",1,2,3,10.5,7,1,2,x\r\n'
        "\r\n"
        "6,plain,4,5,6,11.5,7,4,5,y\r\n"
    )
    truth = read_truth(write_text(tmp_path, text))
    assert np.array_equal(truth.t, [10.5, 11.5])
    assert np.array_equal(truth.id, [7, 7])
    assert np.array_equal(truth.pos, [[1, 2, 3], [4, 5, 6]])
    assert np.array_equal(truth.vel, [[1, 2, 3], [4, 5, 6]])


def test_header_only_tracks_file_is_an_empty_table(tmp_path: Path) -> None:
    tracks = read_tracks(write_text(tmp_path, TRACK_HEADER))
    assert len(tracks) == 0 and tracks.pos.shape == (0, 3) and tracks.id.dtype == np.int64


def test_scans_groups_rows_by_time() -> None:
    t = np.array([1.0, 1.0, 2.0, 5.0, 5.0, 5.0])
    table = Truth(t=t, id=np.arange(6), pos=np.zeros((6, 3)), vel=np.zeros((6, 3)))
    got = [(time, rows.start, rows.stop) for time, rows in scans(table)]
    assert got == [(1.0, 0, 2), (2.0, 2, 3), (5.0, 3, 6)]
    empty = Truth(
        t=np.zeros(0), id=np.zeros(0, np.int64), pos=np.zeros((0, 3)), vel=np.zeros((0, 3))
    )
    assert list(scans(empty)) == []


# ------------------------------------------------------------------------------ validation

GOOD_ROW = "1.0,1,0,0,0,0,0,0\n"

CASES = {
    # name: (reader, file text, expected line, words the message must contain)
    "missing columns": (read_truth, "t,target_id,x,y,z\n1,1,0,0,0\n", 1, ["missing", "vx, vy, vz"]),
    "missing sigma-less column": (read_detections, "t,x,y\n1,2,3\n", 1, ["missing", "z"]),
    "non-numeric": (read_truth, TRUTH_HEADER + GOOD_ROW + "2.0,1,abc,0,0,0,0,0\n", 3, ["x", "abc"]),
    "empty field": (read_tracks, TRACK_HEADER + GOOD_ROW + "2.0,1,0,0,,0,0,0\n", 3, ["z"]),
    "too few fields": (read_truth, TRUTH_HEADER + GOOD_ROW + "2.0,1,0\n", 3, ["field"]),
    "nan": (read_truth, TRUTH_HEADER + GOOD_ROW + "2.0,1,0,nan,0,0,0,0\n", 3, ["y", "finite"]),
    "inf": (read_tracks, TRACK_HEADER + GOOD_ROW + "2.0,1,0,0,0,0,-inf,0\n", 3, ["vy", "finite"]),
    "unsorted": (
        read_truth,
        TRUTH_HEADER + GOOD_ROW + "3.0,1,0,0,0,0,0,0\n2.5,1,0,0,0,0,0,0\n",
        4,
        ["earlier", "2.5"],
    ),
    "negative sigma": (
        read_detections,
        "t,x,y,z,sigma\n1,0,0,0,2\n2,0,0,0,-1\n",
        3,
        ["sigma", "negative"],
    ),
    "empty file": (read_truth, "", 1, ["empty"]),
    "blank header": (read_truth, "\n" + GOOD_ROW, 1, ["header", "blank"]),
    "header only truth": (read_truth, TRUTH_HEADER, 1, ["no data"]),
    "header only detections": (read_detections, "t,x,y,z\n", 1, ["no data"]),
    "fractional id": (
        read_truth,
        TRUTH_HEADER + GOOD_ROW + "2.0,1.5,0,0,0,0,0,0\n",
        3,
        ["target_id", "integer"],
    ),
    "negative track id": (
        read_tracks,
        TRACK_HEADER + "1.0,-4,0,0,0,0,0,0\n",
        2,
        ["track_id", "negative"],
    ),
    "duplicate id in a scan": (
        read_tracks,
        TRACK_HEADER + GOOD_ROW + "1.0,2,0,0,0,0,0,0\n1.0,1,5,0,0,0,0,0\n",
        4,
        ["track_id 1", "twice"],
    ),
    "digit separators": (read_truth, TRUTH_HEADER + "1.0,1,1_000,0,0,0,0,0\n", 2, ["x", "1_000"]),
    "empty lines before the bad line": (
        read_truth,
        TRUTH_HEADER + GOOD_ROW + "\n\n" + "2.0,1,0,0,0,0,0,inf\n",
        5,
        ["vz"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_validation_error_names_file_line_and_problem(tmp_path: Path, case: str) -> None:
    reader, text, line, words = CASES[case]
    path = write_text(tmp_path, text, name="input file.csv")
    with pytest.raises(InputError) as info:
        reader(path)
    err = info.value
    assert err.path == str(path)
    assert err.line == line
    message = str(err)
    assert str(path) in message and f"line {line}" in message
    for word in words:
        assert word in err.problem, (word, err.problem)


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_truth(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="cannot read"):
        read_tracks(tmp_path)
    (tmp_path / "bin.csv").write_bytes(b"t,x,y,z\n\xff\xfe\x00\x01\n")
    with pytest.raises(InputError):
        read_detections(tmp_path / "bin.csv")


def test_bad_line_found_deep_in_a_larger_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    n = 20_000
    det = DetectionTable(
        t=np.arange(n, dtype=float), pos=rng.normal(0, 100, (n, 3)), sigma=np.ones(n)
    )
    path = tmp_path / "det.csv"
    write_detections(path, det)
    lines = path.read_text().splitlines(keepends=True)
    lines[15_001] = "15000.0,1,2,oops,1\n"  # data row 15000 is line 15002
    path.write_text("".join(lines))
    with pytest.raises(InputError) as info:
        read_detections(path)
    assert info.value.line == 15_002 and "oops" in info.value.problem
    lines[15_001] = "14000.0,1,2,3,1\n"
    path.write_text("".join(lines))
    with pytest.raises(InputError) as info:
        read_detections(path)
    assert info.value.line == 15_002 and "earlier" in info.value.problem
