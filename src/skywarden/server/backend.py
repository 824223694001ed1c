"""The one plug point between the service (REST, WebSocket, map) and whatever produces snapshots.

The pipeline implements :class:`ServiceBackend`; the server, the store and the sinks only call
it. Tests implement it with small fakes that return hand-made :class:`~skywarden.snapshot.Snapshot`
objects.

Errors the server maps to HTTP status codes (with a JSON ``{"detail": ...}`` body):

* ``KeyError`` from an alert action: unknown alert id -> 404.
* :class:`skywarden.warn.alerts.AlertError`: an action the alert cannot take -> 409.
* :class:`skywarden.errors.ConfigError` from :meth:`ServiceBackend.put_zones`: a bad zone
  document -> 400 (the message names the feature and the problem).
* ``None`` from :meth:`ServiceBackend.track_sources` or
  :meth:`ServiceBackend.explain_track`: nothing to show for that track id -> 404.
* ``NotImplementedError`` from :meth:`ServiceBackend.history_tracks` or
  :meth:`ServiceBackend.history_span` (no store) -> 501.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from skywarden.snapshot import AlertView, Snapshot


@runtime_checkable
class ServiceBackend(Protocol):
    """What the service needs from the running system (times are POSIX seconds)."""

    def snapshot(self) -> Snapshot:
        """The latest snapshot (never blocks)."""
        ...

    async def next_snapshot(self, after_seq: int) -> Snapshot:
        """Wait for, then return, the latest snapshot whose ``seq`` is greater than after_seq."""
        ...

    def acknowledge(self, alert_id: int, who: str, note: str = "", role: str = "") -> AlertView:
        """The operator ``who`` (with ``role``; '' without authentication) acknowledges an
        alert. KeyError: unknown id; AlertError: illegal."""
        ...

    def reject(self, alert_id: int, who: str, note: str = "", role: str = "") -> AlertView:
        """The operator rejects an alert (false alarm). Errors as :meth:`acknowledge`."""
        ...

    def ignore(self, alert_id: int, who: str, note: str = "", role: str = "") -> AlertView:
        """The operator ignores an alert (known, harmless). Errors as :meth:`acknowledge`."""
        ...

    def zones_geojson(self) -> dict[str, Any]:
        """The zones in force as a GeoJSON FeatureCollection ([lon, lat] degrees, WGS-84)."""
        ...

    def clutter_geojson(self) -> dict[str, Any]:
        """The learnt clutter map: one polygon per cell with its rate (see clutter_layer)."""
        ...

    def put_zones(self, geojson: dict[str, Any], who: str = "", role: str = "") -> dict[str, Any]:
        """Replace the zones (recorded with ``who`` and ``role``); returns the new
        FeatureCollection. ConfigError: a bad document (400); ZoneLimitError: a value beyond
        its bounds (422)."""
        ...

    def rules_json(self) -> list[dict[str, Any]]:
        """The alert rules in force ([[alert_rules]] tables of the site file, as JSON)."""
        ...

    def put_rules(self, rules: Any, who: str = "", role: str = "") -> list[dict[str, Any]]:
        """Replace the alert rules; ConfigError: a bad rule (-> 422)."""
        ...

    def allow_json(self) -> list[dict[str, Any]]:
        """The allow-list in force ([[allow]] tables, as JSON)."""
        ...

    def put_allow(self, allow: Any, who: str = "", role: str = "") -> list[dict[str, Any]]:
        """Replace the allow-list; ConfigError: a bad entry (-> 422)."""
        ...

    def health(self) -> dict[str, Any]:
        """Per-source counters, tick latency and queue depth.

        ``{"sources": {name: {"messages", "bytes", "rejects": {reason: n}, "connected", ...}},
        "tick_latency_ms": {"p50", "p99", "last"}, "tick_cpu_ms": {"p50", "p99", "last"},
        "tick_wall_ms": {"p50", "p99", "last"}, "queue_depth": int, "uptime_s": float,
        "snapshot_seq": int}``
        """
        ...

    def audit(self, since_t: float | None = None) -> list[dict[str, Any]]:
        """Operator and system actions on alerts (who, what, which alert, when), oldest first."""
        ...

    def history_tracks(
        self, t0: float, t1: float, step_s: float | None = None
    ) -> list[dict[str, Any]]:
        """Stored track states between t0 and t1 (for a replay slider), at most one sample per
        track per ``step_s`` seconds when given; NotImplementedError if no store is
        configured."""
        ...

    def track_sources(self, track_id: int) -> dict | None:
        """Which sensor reports fed a track and when (auditable fusion); None if unknown."""
        ...

    def explain_track(self, track_id: int) -> dict | None:
        """Why a track has its class (on demand): ``{"track_id", "t", "class", "p",
        "behaviour", "model_p": {drone, bird, aircraft, unknown}, "top_features": [{"name",
        "value", "contribution"}], "features": {name: value}}``; contributions are logit
        units, largest first, and ``model_p`` is the single-scan model output behind them
        (``p`` is the smoothed, identity-fused one the label uses). JSON-safe (NaN -> None).
        None for an unknown or not yet classified track, or when no trained classifier is in
        use."""
        ...

    def history_span(self) -> tuple[float, float] | None:
        """(first, last) stored time, None for an empty history; NotImplementedError if no
        store is configured."""
        ...
