"""Site TOML files for the bus tests (a minimal TOML writer: tables, arrays of tables,
scalars and lists of scalars)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML here")


def _table(lines: list[str], header: str, table: dict[str, Any]) -> None:
    lines.append(header)
    lines.extend(f"{k} = {_value(v)}" for k, v in table.items() if v is not None)
    lines.append("")


def write_site(path: Path, doc: dict[str, Any]) -> Path:
    """Write ``doc`` ({table: {...}} or {array: [{...}]}) as TOML; returns path."""
    lines: list[str] = []
    for name, value in doc.items():
        if isinstance(value, dict):
            _table(lines, f"[{name}]", value)
        else:
            for item in value:
                _table(lines, f"[[{name}]]", item)
    path.write_text("\n".join(lines))
    return path
