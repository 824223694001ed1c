"""Configuration: TOML files and command-line overrides -> frozen, validated dataclasses.

The only module that reads configuration files. Unknown keys and bad values are errors that
name the file and the key.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any, NoReturn

from skywarden.errors import ConfigError
from skywarden.track.params import MotionModel, TrackerParams, default_models

_MODEL_SETS = {
    "imm": default_models,
    "cv": lambda: (MotionModel(0.0, 1.0),),
}


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file; raises ConfigError naming the file on any problem."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError("config file not found", path=str(p)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=str(p)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=str(p)) from None


def tracker_params(values: dict[str, Any], source: str = "tracker config") -> TrackerParams:
    """TrackerParams from a mapping (the ``[tracker]`` table or CLI options).

    Keys are TrackerParams fields; ``models`` is ``"imm"`` (CV + left/right turns), ``"cv"``,
    or a list of ``{turn_rate, accel_sigma}`` tables (rad/s, m/s^2), and ``accel_sigma``
    (m/s^2) scales every model's process noise. :func:`tracker_params_to_dict` writes them.
    """
    allowed = {f.name for f in fields(TrackerParams)} | {"accel_sigma"}
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ConfigError(
            f"unknown tracker option(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}",
            path=source,
        )
    kwargs = dict(values)
    try:
        models = _models(kwargs.pop("models", "imm"))
        accel = kwargs.pop("accel_sigma", None)
        if accel is not None:
            accel = _number("accel_sigma", accel)
            if not models[0].accel_sigma > 0.0:
                raise ConfigError("every motion model needs accel_sigma > 0")
            models = tuple(
                MotionModel(m.turn_rate, accel * m.accel_sigma / models[0].accel_sigma)
                for m in models
            )
        typed = {k: _typed(k, v) for k, v in kwargs.items()}
        return TrackerParams(models=models, **typed)
    except ConfigError as exc:
        raise ConfigError(exc.problem, path=source) from None


def _models(value: Any) -> tuple[MotionModel, ...]:
    """The motion models of a ``models`` value: a set's name or a list of tables."""
    if isinstance(value, str) and value in _MODEL_SETS:
        return _MODEL_SETS[value]()
    if not isinstance(value, list):
        raise ConfigError(
            f"models must be one of {sorted(_MODEL_SETS)} or a list of "
            f"{{turn_rate, accel_sigma}} tables, not {value!r}"
        )
    models = []
    for i, table in enumerate(value):
        if not isinstance(table, dict) or set(table) != {"turn_rate", "accel_sigma"}:
            raise ConfigError(
                f"models[{i}] must be a table with turn_rate and accel_sigma, not {table!r}"
            )
        models.append(
            MotionModel(
                float(_number("turn_rate", table["turn_rate"])),
                float(_number("accel_sigma", table["accel_sigma"])),
            )
        )
    return tuple(models)


def tracker_params_to_dict(params: TrackerParams) -> dict[str, Any]:
    """The ``[tracker]`` table that :func:`tracker_params` reads back into ``params``: every
    field, the motion models by name (with ``accel_sigma`` when scaled) or as a list."""
    out: dict[str, Any] = {
        f.name: getattr(params, f.name) for f in fields(TrackerParams) if f.name != "models"
    }
    models = params.models
    for name, make in _MODEL_SETS.items():
        base = make()
        if len(base) != len(models) or any(
            b.turn_rate != m.turn_rate for b, m in zip(base, models, strict=True)
        ):
            continue
        accel = models[0].accel_sigma
        scaled = tuple(
            MotionModel(b.turn_rate, accel * b.accel_sigma / base[0].accel_sigma) for b in base
        )
        if scaled == models:
            out["models"] = name
            if accel != base[0].accel_sigma:
                out["accel_sigma"] = accel
            return out
    out["models"] = [{"turn_rate": m.turn_rate, "accel_sigma": m.accel_sigma} for m in models]
    return out


def _typed(key: str, value: Any) -> float | int | str | bool:
    """A tracker option's value: confirmation and mode_topology are names, learn and
    compiled_kernels booleans, the rest numbers."""
    if key == "confirmation":
        if not isinstance(value, str):
            raise ConfigError(f"confirmation must be 'score' or 'm_of_n', not {value!r}")
        return value
    if key == "mode_topology":
        if not isinstance(value, str):
            raise ConfigError(f"mode_topology must be 'quiet_from_cv' or 'uniform', not {value!r}")
        return value
    if key in ("learn", "compiled_kernels"):
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false, not {value!r}")
        return value
    return _number(key, value)


def _number(key: str, value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key} must be a number, not {value!r}")
    if key in ("confirm_m", "confirm_n", "tentative_max_misses"):
        if int(value) != value:
            raise ConfigError(f"{key} must be a whole number, not {value!r}")
        return int(value)
    return float(value)


class ConfigKeys:
    """Checks of one configuration document's keys: every error names the file and the key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ConfigError(f"{key}: {problem}", path=self.source)

    def unknown(self, table: dict[str, Any], known: set[str], name: str) -> None:
        extra = sorted(set(table) - known)
        if extra:
            self.fail(name, f"unknown key(s) {', '.join(extra)}; known: {', '.join(sorted(known))}")

    def table(self, doc: dict[str, Any], key: str, required: bool = True) -> dict[str, Any]:
        value = doc.get(key)
        if value is None:
            if required:
                self.fail(key, "missing table")
            return {}
        if not isinstance(value, dict):
            self.fail(key, "must be a table")
        return value

    def number(
        self, table: dict[str, Any], key: str, prefix: str, lo: float, hi: float,
        default: float | None = None,
    ) -> float:  # fmt: skip
        value = table.get(key, default)
        name = f"{prefix}.{key}"
        if value is None:
            self.fail(name, "missing")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(name, f"must be a number, not {value!r}")
        if not (lo <= float(value) <= hi) or not math.isfinite(float(value)):
            self.fail(name, f"{value} is outside [{lo}, {hi}]")
        return float(value)
