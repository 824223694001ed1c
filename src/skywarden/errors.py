"""The one error family of skywarden.

Every error a user can cause (bad file, bad config, bad bytes) is a ``SkywardenError`` with a
message that names where the problem is; the command line prints it without a traceback.
"""

from __future__ import annotations

import errno


class SkywardenError(Exception):
    """Base of every error skywarden raises on purpose."""


class InputError(SkywardenError):
    """Bad user input: a file, a line in it, and what is wrong there."""

    def __init__(self, problem: str, *, path: str | None = None, line: int | None = None) -> None:
        self.problem = problem
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f", line {line}"
            where += ": "
        super().__init__(where + problem)


class ConfigError(InputError):
    """A bad configuration value (option or TOML key)."""


class DecodeError(SkywardenError):
    """A record or frame that cannot be decoded; ``reason`` is a short counter key."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        super().__init__(f"{reason}: {detail}" if detail else reason)


def bind_failure(exc: OSError, in_use: str) -> str:
    """Why binding a local port failed, in words; ``in_use`` says what EADDRINUSE means for
    this kind of socket."""
    if exc.errno == errno.EADDRINUSE:
        return in_use
    if exc.errno == errno.EADDRNOTAVAIL:
        return "no local interface has that address"
    if exc.errno == errno.EACCES:
        return "permission denied (a port below 1024 needs privileges)"
    return str(exc)
