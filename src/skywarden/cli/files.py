"""Files and times named on the command line: checked once, with one clear error."""

from __future__ import annotations

from pathlib import Path

from skywarden.errors import ConfigError, InputError


def ensure_parent(path: Path) -> None:
    """Create the folder an output file goes into (ConfigError naming it if that fails)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create folder: {exc.strerror}", path=str(path.parent)) from None


def require_file(path: Path) -> None:
    """InputError unless ``path`` is an existing file."""
    if not path.is_file():
        raise InputError("no such file", path=str(path))


def default_shared_data() -> Path:
    """The real recordings beside the checkout (../shared/data)."""
    return Path(__file__).resolve().parents[4] / "shared" / "data"


def parse_time(text: str | None, default: float, option: str) -> float:
    from datetime import datetime

    if text is None:
        return default
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ConfigError(f"{option}: use ISO 8601 or POSIX seconds, not {text!r}") from None
