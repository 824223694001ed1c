"""The ``skywarden`` command: a thin parser over one module per command group.

* :mod:`~skywarden.cli.simulate`: ``simulate``, ``offline-demo``
* :mod:`~skywarden.cli.track`: ``track``
* :mod:`~skywarden.cli.recordings`: ``inspect``
* :mod:`~skywarden.cli.evaluate`: ``evaluate``, ``evaluate-classifier``
* :mod:`~skywarden.cli.service`: ``run``, ``demo``, ``offline-demo``, ``replay``, ``export``
* :mod:`~skywarden.cli.users`: ``user add|remove|list`` (the users file of authentication)

Only this package and pipeline.py import every stage. User errors (bad files, bad options)
print one clear line naming the file, line and problem, and exit with status 2; never a
traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from skywarden import __version__
from skywarden.allocator import recycle_large_allocations
from skywarden.cli import evaluate, recordings, service, simulate, track, users
from skywarden.errors import SkywardenError

COMMAND_GROUPS = (simulate, track, recordings, evaluate, service, users)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit status."""
    parser = _parser()
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skywarden", description="Drone early warning and airspace surveillance."
    )
    parser.add_argument("--version", action="version", version=f"skywarden {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.add_parsers(sub)
    return parser
