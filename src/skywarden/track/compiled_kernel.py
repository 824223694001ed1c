"""The decorator of the tracker's compiled kernels: an ahead-of-time built extension module
when one matches the kernels' source, else numba's JIT (``njit(cache=True)``).

The kernel modules (:mod:`skywarden.track.imm_kernels` and its siblings in
:data:`KERNEL_MODULES`, :mod:`skywarden.track.fused_kernels` last) mark each
compiled function with :func:`kernel` instead of ``numba.njit``. What a process pays to use
them, measured on the development machine (one core, ``taskset -c 1``, CPU seconds):

    JIT path:  import numba 0.13-0.15 + creating 29 dispatchers 0.05 + loading the 17
               entry points from numba's cache 0.28          = ~0.47 s CPU (~0.7 s wall)
    AOT path:  importing one extension module                = < 1 ms, numba not imported

The AOT module is built once per machine by ``./quickstart``
(``python -m skywarden.track.kernel_build``, :mod:`skywarden.track.kernel_build`) with
numba's ``pycc``: every entry point (a kernel that Python calls) exported with the one
signature that :func:`skywarden.track.imm_kernels.warm` gives it on the JIT path, and
compiled for this machine's CPU. Its name carries a digest of the kernel modules' source
(and of the Python and NumPy versions), so a module built from other source is simply not
found: then, or when ``SKYWARDEN_TRACKER_AOT=0`` is set, or when no module was built, the
kernels are numba's JIT dispatchers, as before (the fallback, and the path the unit tests of
each kernel take).

An exported function does not check its arguments' types as numba's dispatcher does: it
must be called with the warm signature's types (C-contiguous float64 / int64 arrays of the
stated dimensions). The tracker's callers do: the JIT path's test that a run compiles
nothing after warm proves every call matches that signature, and
``tests/track/test_kernel_build.py`` checks that both builds give the same tracks.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

KERNEL_MODULES = (
    "imm_kernels",
    "gate_kernels",
    "association_kernels",
    "association_pass_kernels",
    "candidate_kernels",
    "clutter_kernels",
    "hit_kernels",
    "lifecycle_kernels",
    "fused_kernels",
)
"""The modules whose :func:`kernel` functions the AOT module holds (in skywarden.track)."""
AOT_ENV = "SKYWARDEN_TRACKER_AOT"
"""``0`` turns the AOT module off in this process (numba's JIT is used)."""
_HERE = os.path.dirname(os.path.abspath(__file__))
_UNSET: Any = object()
_loaded: Any = _UNSET
_jit_cache_set = False


def source_digest() -> str:
    """Hex digest (16 characters) of what the AOT module's code depends on: the source of
    the kernel modules and this one, the Python version and NumPy's version."""
    h = hashlib.blake2b(digest_size=8)
    for name in (*KERNEL_MODULES, "compiled_kernel"):
        with open(os.path.join(_HERE, f"{name}.py"), "rb") as f:
            h.update(f.read())
    h.update(f"{sys.version_info[:2]} {np.__version__}".encode())
    return h.hexdigest()


def aot_module_name() -> str:
    """The import name of the AOT module built from the present source."""
    return f"skywarden.track._kernels_aot_{source_digest()}"


def export_name(func: Callable[..., Any]) -> str:
    """The name a kernel is exported under in the AOT module: ``<module>__<function>``."""
    return f"{func.__module__.rsplit('.', 1)[-1]}__{func.__name__}"


def aot_module() -> ModuleType | None:
    """The AOT module built from the present source (imported once per process), or None
    (not built, built from other source, or turned off by ``SKYWARDEN_TRACKER_AOT=0``)."""
    global _loaded
    if _loaded is _UNSET:
        _loaded = None
        if os.environ.get(AOT_ENV, "1") != "0":
            try:
                _loaded = importlib.import_module(aot_module_name())
            except ImportError:  # not built here, or from other source
                _loaded = None
    return _loaded


def kernel(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Decorator for a compiled kernel: its export from the AOT module when that is loaded
    (:func:`aot_module`), else ``numba.njit(cache=True, **options)`` (numba imported here,
    lazily). With the AOT module loaded, a kernel it does not export is a helper that only
    kernels call (compiled into them): calling it from Python raises SkywardenError (a
    kernel missing from the build is an error, never a silent fall to pure Python)."""

    def decorate(func: Callable[..., Any]) -> Any:
        aot = aot_module()
        if aot is not None:
            exported = getattr(aot, export_name(func), None)
            return _not_built(func) if exported is None else exported
        import numba

        _cache_by_source_digest(numba)
        return numba.njit(cache=True, **options)(func)

    return decorate


def jit_cache_dir() -> str:
    """Where numba's JIT caches the kernels: a folder named by :func:`source_digest`, under
    ``NUMBA_CACHE_DIR`` if that is set, else under this package's ``__pycache__``.

    numba checks a cached function against its own source file only, so a kernel that calls
    a kernel of another module (the fused step calls them all) kept the callee's old code
    after an edit there, and the JIT path silently ran it. With the digest of every kernel
    module in the folder's name, any edit starts a fresh cache. (If the folder cannot be
    written, numba falls back to its own places, as before.)"""
    base = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(_HERE, "__pycache__")
    return os.path.join(base, f"numba-kernels-{source_digest()}")


def _cache_by_source_digest(numba: ModuleType) -> None:
    """Points numba's cache at :func:`jit_cache_dir` before the first kernel is compiled."""
    global _jit_cache_set
    if not _jit_cache_set:
        numba.config.CACHE_DIR = jit_cache_dir()
        _jit_cache_set = True


def _not_built(func: Callable[..., Any]) -> Callable[..., Any]:
    """Stands for a kernel the AOT module does not export (see :func:`kernel`)."""

    def not_built(*args: Any, **kwargs: Any) -> Any:
        from skywarden.errors import SkywardenError

        raise SkywardenError(
            f"tracker kernel {export_name(func)} is not in the module built ahead of time: "
            f"rebuild it (python -m skywarden.track.kernel_build --force) or set {AOT_ENV}=0"
        )

    not_built.__name__ = func.__name__
    return not_built


def using_aot() -> bool:
    """True when the kernels in this process are the AOT module's."""
    return aot_module() is not None
