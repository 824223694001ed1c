"""The allocator policy of the command line: accepted by glibc, harmless to repeat."""

from __future__ import annotations

import platform
import sys

import numpy as np
import pytest

from skywarden.allocator import recycle_large_allocations


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="the policy is glibc's mallopt; elsewhere it does nothing",
)
def test_glibc_accepts_the_policy_and_big_arrays_still_work() -> None:
    assert recycle_large_allocations() is True
    assert recycle_large_allocations() is True  # idempotent
    for _ in range(3):  # blocks over the old thresholds are allocated, freed and reused
        a = np.full((4, 1 << 20), 1.5)
        assert float(a.sum()) == 1.5 * 4 * (1 << 20)
        del a


def test_services_keep_glibcs_default_policy_batch_commands_get_it(monkeypatch, tmp_path) -> None:
    """`run` and `demo` must give memory back after a burst; `track`, `inspect` ... reuse it."""
    import skywarden.cli as cli

    calls: list[str] = []
    monkeypatch.setattr(cli, "recycle_large_allocations", lambda: calls.append("policy"))
    missing = str(tmp_path / "missing")
    assert cli.main(["run", missing + ".toml"]) == 2  # a clear error, and no policy
    assert calls == []
    assert cli.main(["inspect", missing + ".ast"]) == 2
    assert calls == ["policy"]
