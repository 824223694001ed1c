"""Shared test fixtures: the real recordings in ../shared/data (read only, never copied)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Every default run (a newcomer's `./quickstart test`, CI with or without CI=true) checks the
# property tests on one fixed example sequence, so that a run is reproducible and a fresh
# clone passes or fails the same way everywhere. Developers explore new random examples with
# HYPOTHESIS_PROFILE=deep (more examples where a test does not fix its own count).
settings.register_profile("fixed", derandomize=True, print_blob=True)
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("deep", derandomize=False, max_examples=1000, print_blob=True)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "fixed")
)

# In-process tests use numba's JIT kernels, not the module built ahead of time
# (skywarden.track.compiled_kernel): the kernel tests compare each kernel with its NumPy
# oracle on arbitrary arrays, which the JIT dispatcher type-checks and the exported functions
# do not, and the no-compile test inspects the dispatchers. tests/track/test_kernel_build.py
# runs the built module in subprocesses and checks it gives the JIT's tracks.
os.environ["SKYWARDEN_TRACKER_AOT"] = "0"

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real recordings beside the repository; skips the test when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real recordings not found at {SHARED_DATA} (clone with ../shared beside it)")
    return SHARED_DATA


def recording(shared_data: Path, relative: str) -> Path:
    """Path of one recording under ../shared/data; skips the test if that file is absent."""
    path = shared_data / relative
    if not path.is_file():
        pytest.skip(f"recording {relative} not found in {shared_data}")
    return path
