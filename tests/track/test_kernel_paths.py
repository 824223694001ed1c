"""The NumPy path and the compiled path of the tracker (``TrackerParams.compiled_kernels``)
give the same tracks: the same ids in the same rows, positions and velocities equal to 1e-9,
on small seeded scenarios that go through clutter, IMM manoeuvres, births and deaths."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from skywarden.cli.track import detection_scans
from skywarden.simulate.planar import HELD_OUT_LIKE, planar_scenario
from skywarden.track.params import TrackerParams
from skywarden.track.run import run_tracker

SRC = Path(__file__).resolve().parents[2] / "src"


def _both_paths(table, params: TrackerParams):
    numpy_path = replace(params, compiled_kernels=False)
    compiled = replace(params, compiled_kernels=True)
    got_np, last_np = run_tracker(detection_scans(table, params.default_sigma), numpy_path)
    got_c, last_c = run_tracker(detection_scans(table, params.default_sigma), compiled)
    return got_np, last_np, got_c, last_c


@pytest.mark.parametrize(
    ("name", "n_scans", "seed"),
    [("dense", 15, 0), ("heavy", 12, 1), ("manoeuvring", 40, 2), ("manoeuvring", 40, 3)],
)
def test_numpy_and_compiled_paths_give_the_same_tracks(name, n_scans, seed) -> None:
    """Dense and heavy clutter (the clutter map, candidates, deletions of false tracks) and
    manoeuvring targets (the IMM's modes), with targets born and dying during the run."""
    settings = replace(HELD_OUT_LIKE[name], n_scans=n_scans)
    table = planar_scenario(settings, seed).detections
    params = TrackerParams()
    got_np, last_np, got_c, last_c = _both_paths(table, params)
    assert len(got_np) > 0
    np.testing.assert_array_equal(got_np.t, got_c.t)
    np.testing.assert_array_equal(got_np.id, got_c.id)
    np.testing.assert_allclose(got_np.x, got_c.x, rtol=0.0, atol=1e-9)
    np.testing.assert_array_equal(last_np.id, last_c.id)
    np.testing.assert_array_equal(last_np.status, last_c.status)
    np.testing.assert_allclose(last_np.P, last_c.P, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(last_np.mu, last_c.mu, rtol=0.0, atol=1e-9)
    np.testing.assert_allclose(last_np.score, last_c.score, rtol=0.0, atol=1e-9)


def test_the_paths_agree_with_m_of_n_confirmation_and_one_model() -> None:
    """The other confirmation rule and a plain Kalman filter (one model) on both paths."""
    table = planar_scenario(replace(HELD_OUT_LIKE["dense"], n_scans=12), 4).detections
    params = TrackerParams(confirmation="m_of_n")
    got_np, _, got_c, _ = _both_paths(table, params)
    assert len(got_np) > 0
    np.testing.assert_array_equal(got_np.id, got_c.id)
    np.testing.assert_allclose(got_np.x, got_c.x, rtol=0.0, atol=1e-9)
    from skywarden.config import tracker_params

    cv = tracker_params({"models": "cv"})
    got_np, _, got_c, _ = _both_paths(table, cv)
    np.testing.assert_array_equal(got_np.id, got_c.id)
    np.testing.assert_allclose(got_np.x, got_c.x, rtol=0.0, atol=1e-9)


def test_the_numpy_path_never_imports_numba(tmp_path) -> None:
    """``skywarden track --kernels numpy`` tracks without importing numba (in a fresh
    interpreter, as the command runs), and ``--kernels compiled`` does import it."""
    table = planar_scenario(replace(HELD_OUT_LIKE["dense"], n_scans=6), 0).detections
    csv = tmp_path / "dets.csv"
    rows = np.column_stack([table.t, table.pos, table.sigma])
    np.savetxt(csv, rows, delimiter=",", header="t,x,y,z,sigma", comments="")
    script = (
        "import sys\n"
        "from skywarden.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print('NUMBA', 'numba' in sys.modules)\n"
        "sys.exit(code)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    for choice, expected in (("numpy", "NUMBA False"), ("compiled", "NUMBA True")):
        out = tmp_path / f"tracks_{choice}.csv"
        args = ["track", str(csv), "--out", str(out), "--quiet", "--kernels", choice]
        run = subprocess.run(
            [sys.executable, "-c", script, *args], capture_output=True, text=True, env=env
        )
        assert run.returncode == 0, run.stderr
        assert expected in run.stdout, (choice, run.stdout, run.stderr)
        assert out.stat().st_size > 0


def test_auto_tracks_a_100_scan_file_with_numpy_and_a_long_one_compiled() -> None:
    """The cost model, not a timing: issue 12's 100-scan files (64-340 detections a scan)
    track with NumPy, 5,000 scans of 190 detections with the kernels; an explicit choice
    wins; an unknown one is a clear error."""
    from skywarden.errors import ConfigError
    from skywarden.track.kernel_choice import choose_kernels, expected_numpy_seconds

    for per_scan in (64, 190, 340):
        choice = choose_kernels(100, 100 * per_scan)
        assert not choice.compiled and choice.name == "numpy", choice
        assert "auto" in choice.reason
    assert choose_kernels(0, 0).name == "numpy"
    long = choose_kernels(5000, 5000 * 190)
    assert long.compiled and long.name == "compiled"
    assert expected_numpy_seconds(5000, 5000 * 190) > expected_numpy_seconds(100, 19000)
    assert choose_kernels(100, 19000, "compiled").compiled
    assert not choose_kernels(5000, 5000 * 190, "numpy").compiled
    with pytest.raises(ConfigError, match="kernels"):
        choose_kernels(100, 100, "fast")
