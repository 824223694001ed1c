"""The tracker kernels built ahead of time (track/kernel_build.py, loaded by
track/compiled_kernel.py) give the tracks numba's JIT kernels give, load without importing
numba, and export every kernel the tracker calls from Python.

The built module is machine-specific and not in git: ``./quickstart`` (so CI) builds it.
The tests that need it skip, saying so, where it was not built. In-process tests use the JIT
kernels (tests/conftest.py), so the built module runs here in subprocesses.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from skywarden.cli.track import detection_scans
from skywarden.config import tracker_params
from skywarden.simulate.planar import HELD_OUT_LIKE, planar_scenario
from skywarden.tables import write_detections
from skywarden.track import compiled_kernel, kernel_build
from skywarden.track.kernel_choice import AOT_COMPILED_ABOVE_S, choose_kernels
from skywarden.track.params import TrackerParams
from skywarden.track.run import run_tracker

SRC = Path(__file__).resolve().parents[2] / "src"
RUNS = {  # name: (scenario, scans, seed, tracker options)
    "dense": ("dense", 15, 0, {}),
    "heavy": ("heavy", 12, 1, {}),
    "manoeuvring": ("manoeuvring", 40, 2, {}),
    "m_of_n": ("dense", 12, 4, {"confirmation": "m_of_n"}),
    "cv": ("dense", 12, 4, {"models": "cv"}),
}
AOT_SNIPPET = """
import sys
import numpy as np
from skywarden.cli.track import detection_scans
from skywarden.config import tracker_params
from skywarden.tables import read_detections
from skywarden.track import compiled_kernel
from skywarden.track.run import run_tracker
options = eval(sys.argv[2])
params = tracker_params(options, "test")
history, last = run_tracker(
    detection_scans(read_detections(sys.argv[1]), params.default_sigma), params
)
np.savez(sys.argv[3], t=history.t, id=history.id, x=history.x, last_id=last.id,
         status=last.status, P=last.P, mu=last.mu, score=last.score)
print("AOT", compiled_kernel.using_aot(), "NUMBA", "numba" in sys.modules)
"""


def _built() -> Path:
    path = kernel_build.built_path()
    if path is None:
        pytest.skip(
            "tracker kernels not built ahead of time for this source: run "
            "`python -m skywarden.track.kernel_build` (./quickstart does)"
        )
    return path


@pytest.mark.parametrize("run", sorted(RUNS))
def test_the_built_kernels_give_the_jit_kernels_tracks(run, tmp_path) -> None:
    """Same ids in the same rows, same statuses; positions, covariances, mode weights and
    scores equal to 1e-9 (the same code compiled by the same compiler: in practice equal),
    on clutter, IMM manoeuvres, births, deaths, M-of-N and a one-model filter; and the
    subprocess never imported numba."""
    _built()
    name, n_scans, seed, options = RUNS[run]
    table = planar_scenario(replace(HELD_OUT_LIKE[name], n_scans=n_scans), seed).detections
    dets = tmp_path / "dets.csv"
    write_detections(dets, table)
    env = {k: v for k, v in os.environ.items() if k != compiled_kernel.AOT_ENV}
    env["PYTHONPATH"] = str(SRC)
    out = subprocess.run(
        [sys.executable, "-c", AOT_SNIPPET, str(dets), repr(options), str(tmp_path / "aot.npz")],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "AOT True NUMBA False" in out.stdout, out.stdout
    got = np.load(tmp_path / "aot.npz")
    params = replace(tracker_params(options, "test"), compiled_kernels=True)
    assert not compiled_kernel.using_aot()  # this process: the JIT kernels
    from skywarden.tables import read_detections

    read_back = read_detections(dets)
    want, last = run_tracker(detection_scans(read_back, params.default_sigma), params)
    assert len(want) > 0
    np.testing.assert_array_equal(got["t"], want.t)
    np.testing.assert_array_equal(got["id"], want.id)
    np.testing.assert_allclose(got["x"], want.x, rtol=0.0, atol=1e-9)
    np.testing.assert_array_equal(got["last_id"], last.id)
    np.testing.assert_array_equal(got["status"], last.status)
    np.testing.assert_allclose(got["P"], last.P, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got["mu"], last.mu, rtol=0.0, atol=1e-9)
    np.testing.assert_allclose(got["score"], last.score, rtol=0.0, atol=1e-9)


def test_the_built_module_exports_every_kernel_the_tracker_calls() -> None:
    """Every JIT kernel that Python calls after warm (with the one signature warm gives it;
    listed in a fresh process, as the build does) is exported, under
    compiled_kernel.export_name. (A helper that numba compiled afresh for a kernel that
    calls it also carries a signature, so the build may export it too: harmless, never
    called.)"""
    _built()
    module = importlib.import_module(compiled_kernel.aot_module_name())
    listing = subprocess.run(
        [sys.executable, "-c", "from skywarden.track import kernel_build\n"
         "print(' '.join(sorted(kernel_build.entry_points())))"],
        env=dict(os.environ, PYTHONPATH=str(SRC)), capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert listing.returncode == 0, listing.stderr
    entries = listing.stdout.split()
    assert len(entries) >= 14, sorted(entries)
    exported = {n for n in dir(module) if "__" in n and not n.startswith("_")}
    assert set(entries) <= exported
    modules = {n.split("__", 1)[0] for n in exported}
    assert modules == set(compiled_kernel.KERNEL_MODULES)


def test_the_module_name_follows_the_source(tmp_path, monkeypatch) -> None:
    """A module built from other source is not loaded: its name carries the digest of the
    kernel modules' source, which changes with one byte of any of them."""
    for name in (*compiled_kernel.KERNEL_MODULES, "compiled_kernel"):
        (tmp_path / f"{name}.py").write_bytes(
            Path(compiled_kernel.__file__).with_name(f"{name}.py").read_bytes()
        )
    monkeypatch.setattr(compiled_kernel, "_HERE", str(tmp_path))
    same = compiled_kernel.source_digest()
    (tmp_path / "gate_kernels.py").write_bytes((tmp_path / "gate_kernels.py").read_bytes() + b" ")
    assert compiled_kernel.source_digest() != same
    monkeypatch.undo()
    assert compiled_kernel.source_digest() == same


def test_auto_takes_the_built_kernels_from_a_few_dozen_scans(monkeypatch) -> None:
    """With the built module (a ~10 ms load) the break-even is ~20 scans: 100-scan files take
    the compiled path, a 5-scan file NumPy; without it (the JIT's ~0.5 s) 100 scans NumPy."""
    assert not choose_kernels(100, 100 * 64).compiled  # this process: no built module
    monkeypatch.setattr(compiled_kernel, "_loaded", object())
    for per_scan in (64, 190, 340):
        choice = choose_kernels(100, 100 * per_scan)
        assert choice.compiled, choice
        assert "ahead of time" in choice.reason
    assert not choose_kernels(5, 5 * 64).compiled
    assert AOT_COMPILED_ABOVE_S < 0.1
    assert TrackerParams().compiled_kernels


def test_a_kernel_missing_from_the_build_raises_when_called(tmp_path) -> None:
    """With the built module loaded, a kernel it does not export (a helper that only kernels
    call) is a stand-in that raises SkywardenError naming it, never pure Python. (A kernel
    defined here: which helpers a build exports depends on whether numba compiled them
    afresh in the building process, so no helper of the package is surely left out.)"""
    _built()
    env = {k: v for k, v in os.environ.items() if k != compiled_kernel.AOT_ENV}
    env["PYTHONPATH"] = str(SRC)
    code = (
        "import numpy as np\n"
        "from skywarden.errors import SkywardenError\n"
        "from skywarden.track import compiled_kernel\n"
        "assert compiled_kernel.using_aot()\n"
        "@compiled_kernel.kernel()\n"
        "def left_out(a):\n"
        "    return a\n"
        "try:\n"
        "    left_out(np.zeros((6, 6)))\n"
        "except SkywardenError as e:\n"
        "    print('RAISED', e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "RAISED tracker kernel __main____left_out is not in the module" in out.stdout, out.stdout


def test_the_jit_cache_is_named_by_every_kernel_module_s_source(tmp_path, monkeypatch):
    """numba checks a cached kernel against its own file only: the fused step's cache kept
    an edited callee's (lifecycle_kernels._close) old code. The JIT cache's folder is named
    by the digest of every kernel module, so an edit to any of them starts a fresh one."""
    import shutil

    from skywarden.track import fused_kernels, lifecycle_kernels

    if compiled_kernel.using_aot():
        pytest.skip("the kernels are the ahead-of-time module's here, not numba's JIT")
    folder = compiled_kernel.jit_cache_dir()
    for dispatcher in (fused_kernels.associate_and_manage, lifecycle_kernels._close):
        assert dispatcher._cache._cache_path.startswith(folder + os.sep)
    for name in (*compiled_kernel.KERNEL_MODULES, "compiled_kernel"):
        shutil.copy(Path(compiled_kernel.__file__).with_name(f"{name}.py"), tmp_path)
    monkeypatch.setattr(compiled_kernel, "_HERE", str(tmp_path))
    assert Path(compiled_kernel.jit_cache_dir()).name == Path(folder).name
    with (tmp_path / "lifecycle_kernels.py").open("a") as f:
        f.write("\n# an edit to a kernel that the fused step calls\n")
    assert Path(compiled_kernel.jit_cache_dir()).name != Path(folder).name


def test_the_warm_script_runs_with_the_built_module_present() -> None:
    """`python -m skywarden.track.imm_kernels --warm` (./quickstart's set-up step) once the
    module is built: run as a script, the file is module __main__, whose kernels are not in
    the build under that name; a second ./quickstart stopped here with SkywardenError."""
    _built()
    env = {k: v for k, v in os.environ.items() if k != compiled_kernel.AOT_ENV}
    env["PYTHONPATH"] = str(SRC)
    done = subprocess.run(
        [sys.executable, "-m", "skywarden.track.imm_kernels", "--warm"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "tracker kernels compiled or loaded" in done.stdout
