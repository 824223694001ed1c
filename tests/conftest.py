"""Shared test fixtures: the real recordings in ../shared/data (read only, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
