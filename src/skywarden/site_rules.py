"""The warning settings of a site configuration: ``[[alert_rules]]`` and ``[[allow]]`` tables
to :class:`~skywarden.warn.rules.AlertRule` / :class:`~skywarden.warn.rules.AllowEntry` and
back, for the site file and for the runtime API's documents (bounded in count). Errors name
the file (or document) and the key."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from skywarden.config import ConfigKeys
from skywarden.detections import icao_identity, remote_id_identity
from skywarden.errors import ConfigError
from skywarden.warn.rules import (
    UNKNOWN_MIN_DRONE_PROBABILITY,
    AlertRule,
    AllowEntry,
    TargetClass,
)

CLASS_BY_NAME = {c.name.lower(): c for c in TargetClass}
MAX_RULES, MAX_ALLOW = 100, 10_000  # bounds of a runtime rule or allow-list document


def rules_from_list(items: Any, source: str = "alert rules") -> tuple[AlertRule, ...]:
    """Alert rules from a list of ``[[alert_rules]]`` tables (the runtime API's document);
    ConfigError naming the rule and the problem."""
    where = ConfigKeys(source)
    if not isinstance(items, list) or not all(isinstance(r, dict) for r in items):
        where.fail("alert_rules", "must be a list of rule objects")
    if len(items) > MAX_RULES:
        where.fail("alert_rules", f"{len(items)} rules; at most {MAX_RULES}")
    return tuple(rule_from_table(r, i, where) for i, r in enumerate(items))


def rules_to_list(rules: tuple[AlertRule, ...]) -> list[dict[str, Any]]:
    """The inverse of :func:`rules_from_list` (JSON-safe: unbounded edges left out)."""
    return [_rule_to_dict(r) for r in rules]


def allow_from_list(items: Any, source: str = "allow-list") -> tuple[AllowEntry, ...]:
    """Allow-list entries from a list of ``[[allow]]`` tables; ConfigError on a bad one."""
    where = ConfigKeys(source)
    if not isinstance(items, list) or not all(isinstance(a, dict) for a in items):
        where.fail("allow", "must be a list of allow-list objects")
    if len(items) > MAX_ALLOW:
        where.fail("allow", f"{len(items)} entries; at most {MAX_ALLOW}")
    try:
        return tuple(allow_from_table(a, i, where) for i, a in enumerate(items))
    except (TypeError, ValueError, OverflowError) as exc:
        where.fail("allow", f"bad value: {exc}")


def allow_to_list(allow: tuple[AllowEntry, ...]) -> list[dict[str, Any]]:
    """The inverse of :func:`allow_from_list` (JSON-safe: open time bounds left out)."""
    out = []
    for a in allow:
        d: dict[str, Any] = {"identity_key": a.identity, "note": a.note}
        if a.zone_ids:
            d["zones"] = sorted(a.zone_ids)
        if math.isfinite(a.valid_from_s):
            d["valid_from"] = a.valid_from_s
        if math.isfinite(a.valid_until_s):
            d["valid_until"] = a.valid_until_s
        out.append(d)
    return out


def _rule_to_dict(r: AlertRule) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": r.name,
        "classes": sorted(c.name.lower() for c in r.classes),
        "min_height_m": r.altitude_band_m[0], "max_height_m": r.altitude_band_m[1],
        "min_speed_mps": r.speed_band_mps[0], "max_speed_mps": r.speed_band_mps[1],
        "horizon_s": r.horizon_s, "min_probability": r.min_probability,
        "utc_offset_h": r.utc_offset_s / 3600.0,
        "unknown_min_drone_probability": r.unknown_min_drone_probability,
    }  # fmt: skip
    if r.zone_ids is not None:
        d["zones"] = sorted(r.zone_ids)
    if r.priority is not None:
        d["priority"] = r.priority
    if not r.exempt_ground_and_test:
        d["include_ground_and_test"] = True
    if r.time_of_day_s is not None:
        a, b = (int(x) for x in r.time_of_day_s)
        d["active_hours"] = (
            f"{a // 3600:02d}:{a % 3600 // 60:02d}-{b // 3600:02d}:{b % 3600 // 60:02d}"
        )
    return {k: v for k, v in d.items() if not (isinstance(v, float) and math.isinf(v))}


def _classes(names: Any, where: ConfigKeys, key: str) -> frozenset[TargetClass]:
    if not isinstance(names, list) or not names:
        where.fail(key, "must be a non-empty list of class names")
    bad = [n for n in names if str(n).lower() not in CLASS_BY_NAME]
    if bad:
        where.fail(key, f"unknown class(es) {bad}; known: {', '.join(CLASS_BY_NAME)}")
    return frozenset(CLASS_BY_NAME[str(n).lower()] for n in names)


def rule_from_table(r: Any, i: int, where: ConfigKeys) -> AlertRule:
    prefix = f"alert_rules[{i}]"
    where.unknown(
        r,
        {"name", "zones", "classes", "min_height_m", "max_height_m", "min_speed_mps",
         "max_speed_mps", "horizon_s", "min_probability", "priority", "active_hours",
         "utc_offset_h", "include_ground_and_test", "unknown_min_drone_probability"},
        prefix,
    )  # fmt: skip
    include = r.get("include_ground_and_test", False)
    if not isinstance(include, bool):
        where.fail(f"{prefix}.include_ground_and_test", "must be true or false")
    tod = None
    if "active_hours" in r:
        tod = _hours(str(r["active_hours"]), where, f"{prefix}.active_hours")
    try:
        return AlertRule(
            name=str(r.get("name", f"rule-{i}")),
            zone_ids=frozenset(map(str, r["zones"])) if "zones" in r else None,
            classes=_classes(r.get("classes", ["drone", "unknown"]), where, f"{prefix}.classes"),
            altitude_band_m=(
                float(r.get("min_height_m", -math.inf)),
                float(r.get("max_height_m", math.inf)),
            ),
            speed_band_mps=(
                float(r.get("min_speed_mps", 0.0)),
                float(r.get("max_speed_mps", math.inf)),
            ),
            time_of_day_s=tod,
            utc_offset_s=float(r.get("utc_offset_h", 0.0)) * 3600.0,
            min_probability=float(r.get("min_probability", 0.5)),
            horizon_s=float(r.get("horizon_s", 180.0)),
            priority=int(r["priority"]) if "priority" in r else None,
            exempt_ground_and_test=not include,
            unknown_min_drone_probability=float(
                r.get("unknown_min_drone_probability", UNKNOWN_MIN_DRONE_PROBABILITY)
            ),
        )
    except ConfigError as exc:
        where.fail(prefix, exc.problem)
    except (TypeError, ValueError) as exc:
        where.fail(prefix, f"bad value: {exc}")
    raise AssertionError("unreachable")


def _hours(text: str, where: ConfigKeys, key: str) -> tuple[float, float]:
    try:
        start, end = (datetime.strptime(part.strip(), "%H:%M") for part in text.split("-"))
    except ValueError:
        where.fail(key, f"must look like '07:00-19:30', not {text!r}")
        raise
    return start.hour * 3600.0 + start.minute * 60.0, end.hour * 3600.0 + end.minute * 60.0


def allow_from_table(a: Any, i: int, where: ConfigKeys) -> AllowEntry:
    prefix = f"allow[{i}]"
    where.unknown(
        a, {"identity", "identity_key", "zones", "valid_from", "valid_until", "note"}, prefix
    )
    kind, _, value = str(a.get("identity", "")).partition(":")
    if "identity_key" in a:
        identity = int(a["identity_key"])
    elif kind == "icao":
        try:
            identity = icao_identity(int(value, 16))
        except ValueError:
            where.fail(f"{prefix}.identity", f"'icao:' needs a hex address, not {value!r}")
    elif kind == "rid" and value:
        identity = remote_id_identity(value)
    else:
        where.fail(f"{prefix}.identity", "must be 'icao:HEX' or 'rid:SERIAL'")
    if not -(2**63) <= identity < 2**63:
        where.fail(f"{prefix}.identity_key", f"{identity} is not a 64-bit identity key")
    return AllowEntry(
        identity=identity,
        zone_ids=frozenset(map(str, a["zones"])) if a.get("zones") else None,
        valid_from_s=_time(a.get("valid_from"), -math.inf, where, f"{prefix}.valid_from"),
        valid_until_s=_time(a.get("valid_until"), math.inf, where, f"{prefix}.valid_until"),
        note=str(a.get("note", "")),
    )


def _time(value: Any, default: float, where: ConfigKeys, key: str) -> float:
    if value is None:
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        where.fail(key, f"must be ISO 8601 (2026-11-25T08:00:00Z) or POSIX seconds, not {value!r}")
    raise AssertionError("unreachable")
