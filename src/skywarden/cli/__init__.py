"""The ``skywarden`` command: a thin parser over one module per command group.

* :mod:`~skywarden.cli.simulate`: ``simulate``, ``offline-demo``
* :mod:`~skywarden.cli.track`: ``track``
* :mod:`~skywarden.cli.recordings`: ``inspect``
* :mod:`~skywarden.cli.evaluate`: ``evaluate``, ``evaluate-classifier``
* :mod:`~skywarden.cli.service`: ``run``, ``demo``, ``offline-demo``, ``replay``, ``export``
* :mod:`~skywarden.cli.users`: ``user add|remove|list`` (the users file of authentication)

Only this package and pipeline.py import every stage. A command named on the command line
builds the parser of its own group only (:data:`COMMAND_GROUPS`): ``skywarden track`` of a
CSV does not import the recording formats, the service or the users file; ``--help`` and an
unknown command build them all. User errors (bad files, bad options)
print one clear line naming the file, line and problem, and exit with status 2; never a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from skywarden import __version__
from skywarden.allocator import recycle_large_allocations
from skywarden.errors import SkywardenError

COMMAND_GROUPS = {
    "simulate": ("simulate",),
    "track": ("track",),
    "recordings": ("inspect",),
    "evaluate": ("evaluate", "evaluate-classifier"),
    "service": ("run", "demo", "offline-demo", "replay", "export"),
    "users": ("user",),
}
"""The modules of skywarden.cli that add commands, in ``--help``'s order, and the commands
each adds (tests/cli check this against what each module's ``add_parsers`` adds)."""
_GROUP_OF = {command: group for group, commands in COMMAND_GROUPS.items() for command in commands}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser(_GROUP_OF.get(argv[0]) if argv else None)
    args = parser.parse_args(argv)
    if not getattr(args, "long_running", False):  # batch commands: see skywarden.allocator
        recycle_large_allocations()  # (a service's memory must give back what a burst took)
    try:
        return int(args.run(args) or 0)
    except SkywardenError as exc:
        print(f"skywarden: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("skywarden: interrupted", file=sys.stderr)
        return 130


def command_modules(group: str | None = None) -> list[ModuleType]:
    """The command modules to build a parser from: ``group``'s alone, or all of them."""
    names = list(COMMAND_GROUPS) if group is None else [group]
    return [importlib.import_module(f"skywarden.cli.{name}") for name in names]


def _parser(group: str | None = None) -> argparse.ArgumentParser:
    """The command-line parser, with the commands of ``group`` only (the command given, so
    that only its module is imported) or of every group (``--help``, no or unknown command)."""
    parser = argparse.ArgumentParser(
        prog="skywarden", description="Drone early warning and airspace surveillance."
    )
    parser.add_argument("--version", action="version", version=f"skywarden {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in command_modules(group):
        module.add_parsers(sub)
    return parser
