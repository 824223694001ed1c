"""Build the tracker kernels' ahead-of-time module (see :mod:`skywarden.track.compiled_kernel`).

    python -m skywarden.track.kernel_build      # ./quickstart runs it after installing

Loads the kernel modules on numba's JIT path, warms them
(:func:`skywarden.track.imm_kernels.warm`: every entry point the tracker calls gets the
signature of the tracker's calls), then compiles each entry point with that signature into
one extension module with numba's ``pycc`` (for this machine's CPU, as the JIT does), named
after the source digest, next to the kernel modules. Modules built from older source are
removed. Needs numba and a C compiler; without them the tracker keeps the JIT path.
Takes ~20 s of CPU on the development machine (numba's JIT cache warm).
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import warnings
from pathlib import Path

from skywarden.track import compiled_kernel


def entry_points() -> dict[str, tuple[object, object]]:
    """Every warmed JIT kernel: export name -> (Python function, numba signature). A kernel
    with several signatures is left out (one export holds one): in a process that compiled
    the kernels afresh, a helper that two kernels call with different types has two; a
    kernel that Python calls has one (warm's; the no-compile test), so it is never left out
    unnoticed (the built module's stand-in raises, compiled_kernel.kernel)."""
    from numba.core.registry import CPUDispatcher

    from skywarden.track import imm_kernels

    imm_kernels.warm()
    found: dict[str, tuple[object, object]] = {}
    for short in compiled_kernel.KERNEL_MODULES:
        module = importlib.import_module(f"skywarden.track.{short}")
        for value in vars(module).values():
            if not isinstance(value, CPUDispatcher) or not value.signatures:
                continue  # a helper that only kernels call (compiled into them); one that
                # numba compiled afresh in this process also has a signature: exported too
            if len(value.signatures) != 1:  # a helper compiled afresh for two callers
                print(
                    f"not exported: {short}.{value.py_func.__name__} "
                    f"({len(value.signatures)} signatures; if Python calls it, the tracker "
                    "says so when it does)",
                    file=sys.stderr,
                )
                continue
            (signature,) = (s for s in value.nopython_signatures if s.args == value.signatures[0])
            name = compiled_kernel.export_name(value.py_func)
            found[name] = (value.py_func, signature)
    return found


def build(folder: Path | None = None) -> Path:
    """Compile the AOT module into ``folder`` (default: the kernel modules' folder), remove
    modules of other digests there, and return the built file's path."""
    if any(f"skywarden.track.{m}" in sys.modules for m in compiled_kernel.KERNEL_MODULES):
        from skywarden.errors import SkywardenError

        raise SkywardenError("build the AOT module in a fresh process (the JIT kernels)")
    os.environ[compiled_kernel.AOT_ENV] = "0"  # this process compiles with numba's JIT
    compiled_kernel._loaded = None
    folder = Path(compiled_kernel.__file__).resolve().parent if folder is None else folder
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pycc's pending-deprecation warning
        from numba.pycc import CC

        name = compiled_kernel.aot_module_name().rsplit(".", 1)[-1]
        cc = CC(name)
        cc.output_dir = str(folder)
        cc.target_cpu = "host"  # as numba's JIT compiles (this machine's CPU)
        cc.verbose = False
        for export, (func, signature) in sorted(entry_points().items()):
            cc.export(export, signature)(func)
        cc.compile()
    built = next(folder.glob(f"{name}.*"))
    for old in folder.glob("_kernels_aot_*"):
        if not old.name.startswith(name):
            old.unlink()
    return built


def built_path(folder: Path | None = None) -> Path | None:
    """The AOT module built from the present source, if there is one."""
    folder = Path(compiled_kernel.__file__).resolve().parent if folder is None else folder
    name = compiled_kernel.aot_module_name().rsplit(".", 1)[-1]
    return next(folder.glob(f"{name}.*"), None)


def main() -> None:
    """Build (unless the present source's module exists; ``--force`` rebuilds), and print
    where and in how long."""
    existing = built_path()
    if existing is not None and sys.argv[1:] != ["--force"]:
        print(f"tracker kernels already built ahead of time: {existing}")
        return
    start = time.perf_counter()
    path = build()
    print(f"tracker kernels built ahead of time in {time.perf_counter() - start:.1f} s: {path}")


if __name__ == "__main__":
    main()
