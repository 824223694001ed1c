"""Which path a tracking run takes, NumPy or the compiled kernels, chosen once per run.

The compiled kernels (numba, :mod:`skywarden.track.imm_kernels` and its siblings) make a
scan about twice as fast as the batched NumPy path at the tracker's usual sizes, but a
process pays ~0.5 s to use them (``import numba`` ~0.2-0.3 s, then loading the kernels
from numba's cache ~0.3 s). A short file is tracked in less than that, so for it the NumPy
path is faster through the whole command; a long one gains seconds from the kernels.

Cost model (fitted to the NumPy tracker loop on issue 12's three 100-scan planar scenarios,
one core, load ~4.5: 64 detections/scan 0.94 ms, 190 1.39 ms, 340 1.58 ms per scan)::

    expected NumPy tracking time = n_scans * 0.85 ms + n_detections * 2.3 us

The compiled loop took 0.39-0.72 ms/scan on the same scenarios (0.41-0.47 of NumPy's), so
it saves about half the expected time. The kernels are chosen when that expected time is at
least :data:`COMPILED_ABOVE_S` = 2 s, about twice the break-even (a clear margin, as the
model is rough and machines differ). The 100-scan scenarios expect ~0.1 s and track with
NumPy; ~1,500 scans of 190 detections reach 2 s. Measured through the whole command (the
dense scenario, CPU user + system, least of 3, load ~4.3): 600 scans (expected 0.77 s)
NumPy 1.07 s, compiled 1.31 s; 2,000 scans (expected 2.6 s) NumPy 3.07 s, compiled 2.41 s:
the break-even is near 1,000 scans (expected ~1.3 s).

With the kernels built ahead of time (:mod:`skywarden.track.compiled_kernel`, built by
``./quickstart``) the load is ~10 ms instead of ~0.5 s (numba is not imported): importing
the kernel modules and the extension module. Measured through the whole command
(manoeuvring scenario, CPU, least of 7, ``taskset -c 1``, load ~2.1): 1 scan NumPy 192 ms,
compiled 202 ms; 10 scans 202 / 207 ms; 100 scans 290 / 251 ms: the break-even is near 20
scans (expected NumPy time ~0.02 s), so with that module the kernels are chosen from
:data:`AOT_COMPILED_ABOVE_S` = 0.04 s (again about twice the break-even).
"""

from __future__ import annotations

from dataclasses import dataclass

NUMPY_S_PER_SCAN = 0.85e-3
NUMPY_S_PER_DETECTION = 2.3e-6
COMPILED_ABOVE_S = 2.0
AOT_COMPILED_ABOVE_S = 0.04
KERNEL_CHOICES = ("auto", "numpy", "compiled")


@dataclass(frozen=True, slots=True)
class KernelChoice:
    """The path of one run: ``compiled`` (True: the numba kernels) and why, in words."""

    compiled: bool
    reason: str

    @property
    def name(self) -> str:
        """``"compiled"`` or ``"numpy"``."""
        return "compiled" if self.compiled else "numpy"


def expected_numpy_seconds(n_scans: int, n_detections: int) -> float:
    """Expected time of the NumPy tracker loop over n_scans scans holding n_detections
    detections in all, seconds (the module's cost model)."""
    return n_scans * NUMPY_S_PER_SCAN + n_detections * NUMPY_S_PER_DETECTION


def choose_kernels(n_scans: int, n_detections: int, requested: str = "auto") -> KernelChoice:
    """The path for a run of n_scans scans and n_detections detections: ``requested``
    ``"numpy"`` or ``"compiled"`` as asked; ``"auto"`` compiled only when the expected NumPy
    time is at least :data:`AOT_COMPILED_ABOVE_S` (kernels built ahead of time) or
    :data:`COMPILED_ABOVE_S` (numba's JIT)."""
    if requested not in KERNEL_CHOICES:
        from skywarden.errors import ConfigError

        raise ConfigError(f"kernels: one of {', '.join(KERNEL_CHOICES)}, not {requested!r}")
    if requested != "auto":
        return KernelChoice(requested == "compiled", f"--kernels {requested}")
    from skywarden.track.compiled_kernel import aot_module

    expected = expected_numpy_seconds(n_scans, n_detections)
    aot = aot_module() is not None
    above, load = (AOT_COMPILED_ABOVE_S, "~10 ms") if aot else (COMPILED_ABOVE_S, "~0.5 s")
    compiled = expected >= above
    reason = (
        f"auto: expected {expected:.2g} s of NumPy tracking "
        f"{'>=' if compiled else '<'} {above:g} s, "
        f"{'worth' if compiled else 'not worth'} the kernels' {load} load "
        f"({'built ahead of time' if aot else 'numba JIT cache'})"
    )
    return KernelChoice(compiled, reason)
