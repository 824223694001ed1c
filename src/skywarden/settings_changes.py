"""Runtime changes of the warning settings: zones, alert rules and the allow-list.

The API (admin role) replaces one of them as a whole; :func:`apply_setting` validates the
document, puts it in force in the pipeline and records a
:class:`~skywarden.warn.changes.SettingChange` (who, role, the setting in force afterwards,
the digest of the configured setting it replaced) for the audit, the history, the restart
(:mod:`skywarden.service` restores the latest of each kind) and replay (which applies them at
their recorded times). Documents are the site file's forms: a GeoJSON FeatureCollection of
zones, a list of ``[[alert_rules]]`` tables, a list of ``[[allow]]`` tables.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

from skywarden.site_config import SiteConfig
from skywarden.site_rules import allow_from_list, allow_to_list, rules_from_list, rules_to_list
from skywarden.warn.changes import KINDS, SettingChange, digest, restorable
from skywarden.warn.zones import ZoneLimits, parse_zones, zones_to_geojson


def zone_limits(config: SiteConfig) -> ZoneLimits:
    """The bounds of a zone document at this site: the configured counts, and a radius up to
    the longest sensor range (100 km without sensors)."""
    ranges = [s.range_m for s in config.sensors]
    return ZoneLimits(
        max_zones=config.security.max_zones,
        max_vertices=config.security.max_zone_vertices,
        max_radius_m=max(ranges, default=100_000.0),
    )


def configured_digests(config: SiteConfig) -> dict[str, str]:
    """kind -> digest of the setting as configured (the base every runtime change records)."""
    return {
        "zones": digest(config.zones_geojson),
        "rules": digest(rules_to_list(config.rules)),
        "allow": digest(allow_to_list(config.allow)),
    }


def setting_document(pipeline: Any, kind: str) -> Any:
    """The setting of ``kind`` in force, in its document form."""
    if kind == "zones":
        return zones_to_geojson(pipeline.zones, pipeline.frame)
    if kind == "rules":
        return rules_to_list(pipeline.config.rules)
    if kind == "allow":
        return allow_to_list(pipeline.config.allow)
    raise ValueError(f"unknown setting kind {kind!r} (one of {KINDS})")


def apply_setting(
    pipeline: Any, kind: str, document: Any, *, who: str = "", role: str = "", record: bool = True
) -> Any:
    """Validate ``document`` and put it in force (ConfigError, or ZoneLimitError for zones
    beyond their bounds, and nothing changes); record it unless ``record`` is False (restart
    and replay re-apply recorded changes). Returns the setting in force, as a document."""
    if kind == "zones":
        pipeline.zones = parse_zones(document, pipeline.frame, limits=pipeline.zone_limits)
    elif kind == "rules":
        rules = rules_from_list(document, "alert rules (API)")
        pipeline.config = dataclasses.replace(pipeline.config, rules=rules)
        horizon = max((r.horizon_s * r.hold_horizon_factor for r in rules), default=120.0)
        pipeline.entry_model = dataclasses.replace(pipeline.entry_model, horizon_s=horizon)
        pipeline.forecasts = type(pipeline.forecasts)()  # forecasts depend on the horizon
    elif kind == "allow":
        allow = allow_from_list(document, "allow-list (API)")
        pipeline.config = dataclasses.replace(pipeline.config, allow=allow)
    else:
        raise ValueError(f"unknown setting kind {kind!r} (one of {KINDS})")
    in_force = setting_document(pipeline, kind)
    if record:
        change = SettingChange(
            pipeline.clock(), who, role, kind, json.dumps(in_force), pipeline.settings_base[kind]
        )
        pipeline.changes.append(change)
        for listener in pipeline.change_listeners:
            listener(change)
    return in_force


def restore_settings(pipeline: Any, changes: list[SettingChange]) -> list[str]:
    """Zone, rule and allow-list changes survive a restart: re-apply the latest change of
    each kind that was made over the setting still configured (an edited file wins). Returns
    what it did, one line per kind, for the log."""
    report = []
    for kind in KINDS:
        change = restorable(changes, kind, pipeline.settings_base[kind])
        if change is not None:
            apply_setting(pipeline, kind, json.loads(change.document), record=False)
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(change.t))
            report.append(f"{kind}: restored the change of {when} by {change.who or '-'} "
                          f"({change.role or 'no auth'})")  # fmt: skip
        elif any(c.kind == kind for c in changes):
            report.append(f"{kind}: the configuration changed since the last runtime change; "
                          "using the configuration")  # fmt: skip
    return report
