"""Evaluation report: JSON summary, rich text, PNG plot."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from skywarden.errors import InputError
from skywarden.evaluate.metrics import evaluate
from skywarden.evaluate.report import evaluate_files, plot, print_summary, summary
from skywarden.tables import TrackTable, Truth, read_tracks, read_truth, write_tracks, write_truth


@pytest.fixture(scope="module")
def run() -> tuple[Truth, TrackTable]:
    """Three targets over 2 min; noisy tracks with a gap, a swap and a false track."""
    rng = np.random.default_rng(11)
    times = np.arange(0.0, 120.0, 2.0) + 1.7e9
    k = np.arange(3)
    t = np.repeat(times, 3)
    ids = np.tile(k, times.size).astype(np.int64)
    s = t - times[0]
    pos = np.column_stack(
        (
            -3000 + 40 * s + 500 * ids,
            1500 * np.sin(s / 40 + ids),
            120 + 10 * ids,
        )
    )
    truth = Truth(t=t, id=ids, pos=pos, vel=np.zeros_like(pos))
    keep = ~((ids == 1) & (s > 40) & (s < 60))
    track_id = np.where((ids == 2) & (s > 80), 7, ids + 1)
    false_t = times[10:30]
    tracks = TrackTable(
        t=np.concatenate((t[keep], false_t)),
        id=np.concatenate((track_id[keep], np.full(false_t.size, 9))),
        pos=np.concatenate(
            (pos[keep] + rng.normal(0, 15, (keep.sum(), 3)), np.tile([0.0, -4000, 200], (20, 1)))
        ),
        vel=np.zeros((keep.sum() + 20, 3)),
    )
    order = np.argsort(tracks.t, kind="stable")
    tracks = TrackTable(tracks.t[order], tracks.id[order], tracks.pos[order], tracks.vel[order])
    return truth, tracks


def test_summary_is_json_ready_and_counts_the_events(run) -> None:
    truth, tracks = run
    ev = evaluate(truth, tracks, c=100, p=1)
    out = summary(ev, detail=True)
    text = json.dumps(out, allow_nan=False)
    back = json.loads(text)
    assert back["counts"]["scans"] == 60 and back["counts"]["truths"] == 3
    assert back["counts"]["tracks"] == 5
    assert back["id_switches"] == 1 and back["breaks"] == 1
    assert back["false_tracks"] == 1 and back["truths_never_tracked"] == 0
    assert back["time_to_confirm_s"]["max"] == 0.0
    assert back["gospa"]["mean_distance_m"] == pytest.approx(float(ev.series.distance.mean()))
    assert [row["id"] for row in back["per_truth"]] == [0, 1, 2]
    assert [row["false"] for row in back["per_track"]] == [False, False, False, False, True]


def test_summary_of_a_run_without_tracks_has_nulls_not_nans(run) -> None:
    truth, _ = run
    empty = TrackTable(np.zeros(0), np.zeros(0, np.int64), np.zeros((0, 3)), np.zeros((0, 3)))
    out = summary(evaluate(truth, empty))
    json.dumps(out, allow_nan=False)
    assert out["time_to_confirm_s"]["mean"] is None and out["truths_never_tracked"] == 3


def test_print_summary_shows_the_metrics(run) -> None:
    truth, tracks = run
    console = Console(record=True, width=100)
    print_summary(summary(evaluate(truth, tracks)), console=console)
    text = console.export_text()
    for words in ("mean GOSPA", "ID switches", "track breaks", "false tracks", "c=50 m"):
        assert words in text


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_plot_writes_a_readable_png(run, tmp_path: Path) -> None:
    truth, tracks = run
    # through the files, as the command line does
    write_truth(tmp_path / "truth.csv", truth)
    write_tracks(tmp_path / "tracks.csv", tracks)
    truth, tracks = read_truth(tmp_path / "truth.csv"), read_tracks(tmp_path / "tracks.csv")
    ev = evaluate(truth, tracks, c=100, p=2)
    path = tmp_path / "report.png"
    plot(truth, tracks, ev.series, path, title="test run")
    assert png_size(path) == (1400, 700)
    assert path.stat().st_size > 30_000
    from matplotlib.image import imread

    pixels = imread(path)
    assert pixels.std() > 0.05  # not a blank canvas


def test_plot_with_no_tracks(run, tmp_path: Path) -> None:
    truth, _ = run
    empty = TrackTable(np.zeros(0), np.zeros(0, np.int64), np.zeros((0, 3)), np.zeros((0, 3)))
    path = tmp_path / "empty.png"
    plot(truth, empty, evaluate(truth, empty).series, path)
    assert png_size(path) == (1400, 700)


def test_evaluate_files_end_to_end(run, tmp_path: Path) -> None:
    truth, tracks = run
    write_truth(tmp_path / "truth.csv", truth)
    write_tracks(tmp_path / "tracks.csv", tracks)
    out = evaluate_files(
        tmp_path / "truth.csv", tmp_path / "tracks.csv", c=50, p=2, plot_path=tmp_path / "r.png"
    )
    assert out["parameters"]["c_m"] == 50 and out["parameters"]["p"] == 2
    assert out["id_switches"] == 1 and out["plot"] == str(tmp_path / "r.png")
    assert png_size(tmp_path / "r.png") == (1400, 700)
    json.dumps(out, allow_nan=False)


def test_evaluate_files_reports_bad_input(tmp_path: Path) -> None:
    (tmp_path / "truth.csv").write_text("t,target_id,x,y,z,vx,vy,vz\n1,1,0,0,0,0,0,0\n")
    (tmp_path / "tracks.csv").write_text("t,track_id,x,y,z,vx,vy\n")
    with pytest.raises(InputError) as info:
        evaluate_files(tmp_path / "truth.csv", tmp_path / "tracks.csv")
    assert "tracks.csv" in str(info.value) and "vz" in str(info.value)
