"""Warning: zones, entry forecasts from track state and covariance, alert rules and lifecycle.

Pure and vectorised: the pipeline calls :func:`~skywarden.warn.alerts.assess` with the
tracker's arrays each tick, then :func:`~skywarden.warn.alerts.update_alerts`.
"""

from skywarden.warn.alerts import (
    Alert,
    AlertBook,
    AlertError,
    AlertParams,
    AlertState,
    Assessment,
    AuditEntry,
    acknowledge,
    assess,
    clear,
    ignore,
    object_keys,
    ordered,
    reject,
    track_key,
    update_alerts,
)
from skywarden.warn.rules import (
    AlertRule,
    AllowEntry,
    RuleDecision,
    TargetClass,
    evaluate_rules,
    is_cooperative_aircraft,
    target_classes,
)
from skywarden.warn.time_to_entry import EntryForecast, EntryModel, forecast_entry, make_entry_model
from skywarden.warn.zones import (
    Zone,
    circle_zone,
    inside,
    parse_zones,
    polygon_zone,
    site_height,
    zones_to_geojson,
)

__all__ = [
    "Alert",
    "AlertBook",
    "AlertError",
    "AlertParams",
    "AlertRule",
    "AlertState",
    "AllowEntry",
    "Assessment",
    "AuditEntry",
    "EntryForecast",
    "EntryModel",
    "RuleDecision",
    "TargetClass",
    "Zone",
    "acknowledge",
    "assess",
    "circle_zone",
    "clear",
    "evaluate_rules",
    "ignore",
    "inside",
    "is_cooperative_aircraft",
    "make_entry_model",
    "object_keys",
    "ordered",
    "parse_zones",
    "polygon_zone",
    "reject",
    "site_height",
    "target_classes",
    "forecast_entry",
    "track_key",
    "update_alerts",
    "zones_to_geojson",
]
