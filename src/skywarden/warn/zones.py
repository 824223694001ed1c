"""Zones: GeoJSON polygons and circles with an altitude band, in the site ENU frame.

A zone is a vertical prism: a horizontal shape (shapely polygon, or an exact circle) in site
ENU metres, between a bottom and a top height. Heights inside skywarden are *site heights*:
metres above the site origin's ellipsoidal height ``h0`` (:class:`~skywarden.geo.LocalFrame`),
measured along the local vertical. A position's site height is its ENU up corrected for the
earth's curvature, ``u + (e^2 + n^2) / (2 R)`` (R = 6,371 km; 8 m at 10 km), see
:func:`site_height`.

GeoJSON properties of a zone feature (``coordinates`` are ``[lon, lat]`` in degrees):

* ``role`` (required): ``protected`` (alerts are about entering it), ``warning`` (a warning ring:
  alerts too, usually at a lower priority) or ``ignore`` (objects inside raise no alerts).
* ``floor_m``, ``ceiling_m`` (required, metres, floor < ceiling) and ``altitude_ref``:
  ``agl`` (default) or ``amsl``. AGL heights are above the ground height ``ground_height_m``
  (metres AMSL) when the feature gives one, otherwise above the site ground, taken to be the site
  origin (site height 0). AMSL heights become ellipsoidal with ``geoid_undulation_m`` (the geoid's
  height above the ellipsoid at the site, an argument of :func:`parse_zones`, default 0).
* ``id`` (feature ``id`` or property; default ``zone-<index>``), ``name``, ``priority`` (an
  integer, 1 = most urgent; defaults 1 protected, 2 warning, 9 ignore).
* A ``Point`` geometry needs ``radius_m`` (> 0): a circle, tested exactly.

Bounds (:class:`ZoneLimits`, a value outside them is a :class:`ZoneLimitError`): ``priority``
1-9; ``floor_m``, ``ceiling_m`` and ``ground_height_m`` within +-20 km; ``radius_m`` up to
``max_radius_m`` (the service uses its longest sensor range); at most ``max_zones`` zones with
``max_vertices`` polygon positions in all. Values beyond them could not describe a real zone,
and some would overflow the warning arithmetic.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.validation import explain_validity

from skywarden.errors import ConfigError
from skywarden.geo import LocalFrame
from skywarden.units import BoolArray, FloatArray

EARTH_RADIUS_M = 6_371_000.0
MAX_ZONE_DISTANCE_M = 200_000.0  # the site ENU frame is a tangent plane: keep zones near it
ROLES = ("protected", "warning", "ignore")
ALTITUDE_REFS = ("agl", "amsl")
DEFAULT_PRIORITY = {"protected": 1, "warning": 2, "ignore": 9}
CIRCLE_QUAD_SEGMENTS = 32  # polygon approximation of circles (drawing, buffering only)
PRIORITY_RANGE = (1, 9)


class ZoneLimitError(ConfigError):
    """A zone document beyond the stated bounds (:class:`ZoneLimits`); the API answers 422."""


@dataclass(frozen=True)
class ZoneLimits:
    """Bounds on a zone document (metres; counts over the whole document)."""

    max_zones: int = 100
    max_vertices: int = 10_000
    max_radius_m: float = MAX_ZONE_DISTANCE_M
    max_height_m: float = 20_000.0


@dataclass(frozen=True, eq=False)
class Zone:
    """One zone in the site ENU frame.

    Attributes:
        id, name: identifiers (id is unique in a zone list).
        role: 'protected', 'warning' or 'ignore'.
        polygon: shapely Polygon/MultiPolygon in site ENU metres (for a circle, a fine polygon).
        floor_m, ceiling_m: the band as configured, in ``altitude_ref`` metres.
        altitude_ref: 'agl' or 'amsl'.
        priority: 1 = most urgent.
        bottom_m, top_m: the band in site heights (metres above the site origin), used by tests.
        circle: (east, north, radius) metres when the zone is a circle, else None.
        ground_height_m: the AGL reference (metres AMSL) if configured, else None.
        centre, radius_m: bounding circle (2,) metres and its radius (prefilters).
    """

    id: str
    name: str
    role: str
    polygon: Polygon | MultiPolygon
    floor_m: float
    ceiling_m: float
    altitude_ref: str
    priority: int
    bottom_m: float
    top_m: float
    circle: tuple[float, float, float] | None = None
    ground_height_m: float | None = None
    centre: FloatArray = field(init=False, repr=False)
    radius_m: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ConfigError(f"zone {self.id!r}: unknown role {self.role!r} (use one of {ROLES})")
        if not self.bottom_m < self.top_m:
            raise ConfigError(f"zone {self.id!r}: floor must be below ceiling")
        shapely.prepare(self.polygon)
        if self.circle is not None:
            centre, radius = np.array(self.circle[:2], dtype=float), float(self.circle[2])
        else:
            x0, y0, x1, y1 = self.polygon.bounds
            centre = np.array([(x0 + x1) / 2.0, (y0 + y1) / 2.0])
            radius = 0.5 * math.hypot(x1 - x0, y1 - y0)
        object.__setattr__(self, "centre", centre)
        object.__setattr__(self, "radius_m", radius)


def site_height(positions: FloatArray) -> FloatArray:
    """Site ENU positions (..., 3) metres -> site heights (...) metres (curvature corrected)."""
    p = np.asarray(positions, dtype=np.float64)
    return p[..., 2] + (p[..., 0] ** 2 + p[..., 1] ** 2) * (0.5 / EARTH_RADIUS_M)


def horizontal_contains(
    zone: Zone, e: FloatArray, n: FloatArray, margin_m: float = 0.0
) -> BoolArray:
    """Whether points (e, n) (any equal shapes, metres) are inside the zone's shape grown by
    ``margin_m`` (points on the boundary count as outside)."""
    if zone.circle is not None:
        ce, cn, r = zone.circle
        return (e - ce) ** 2 + (n - cn) ** 2 < (r + margin_m) ** 2
    shape = zone.polygon if margin_m == 0.0 else zone.polygon.buffer(margin_m)
    x0, y0, x1, y1 = shape.bounds
    out = np.zeros(np.shape(e), dtype=bool)
    near = (e > x0) & (e < x1) & (n > y0) & (n < y1)
    if near.any():
        out[near] = shapely.contains_xy(shape, e[near], n[near])
    return out


def inside(zones: Sequence[Zone], positions: FloatArray, margin_m: float = 0.0) -> BoolArray:
    """(N, Z) bool: position n inside zone z (shape and altitude band, both grown by margin_m).

    Args:
        zones: Z zones; positions: (N, 3) site ENU metres; margin_m: growth, metres.
    """
    p = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    h = site_height(p)
    out = np.zeros((p.shape[0], len(zones)), dtype=bool)
    for j, zone in enumerate(zones):
        band = (h >= zone.bottom_m - margin_m) & (h <= zone.top_m + margin_m)
        if band.any():
            out[band, j] = horizontal_contains(zone, p[band, 0], p[band, 1], margin_m)
    return out


def polygon_zone(
    zone_id: str,
    vertices_en: FloatArray,
    floor_m: float,
    ceiling_m: float,
    role: str = "protected",
    *,
    priority: int | None = None,
    name: str | None = None,
) -> Zone:
    """A polygon zone from (K, 2) site ENU vertices, with an AGL band above the site ground."""
    polygon = Polygon(np.asarray(vertices_en, dtype=np.float64))
    if not polygon.is_valid or polygon.area <= 0.0:
        raise ConfigError(f"zone {zone_id!r}: invalid polygon ({explain_validity(polygon)})")
    return _site_zone(zone_id, polygon, None, floor_m, ceiling_m, role, priority, name)


def circle_zone(
    zone_id: str,
    centre_en: Sequence[float],
    radius_m: float,
    floor_m: float,
    ceiling_m: float,
    role: str = "protected",
    *,
    priority: int | None = None,
    name: str | None = None,
) -> Zone:
    """A circular zone (site ENU centre, radius metres) with an AGL band above the site ground."""
    if not (math.isfinite(radius_m) and radius_m > 0.0):
        raise ConfigError(f"zone {zone_id!r}: radius_m must be a positive number")
    e, n = float(centre_en[0]), float(centre_en[1])
    polygon = shapely.Point(e, n).buffer(radius_m, quad_segs=CIRCLE_QUAD_SEGMENTS)
    return _site_zone(zone_id, polygon, (e, n, radius_m), floor_m, ceiling_m, role, priority, name)


def _site_zone(zone_id, polygon, circle, floor_m, ceiling_m, role, priority, name) -> Zone:
    return Zone(
        id=zone_id,
        name=name or zone_id,
        role=role,
        polygon=polygon,
        floor_m=float(floor_m),
        ceiling_m=float(ceiling_m),
        altitude_ref="agl",
        priority=DEFAULT_PRIORITY.get(role, 9) if priority is None else int(priority),
        bottom_m=float(floor_m),
        top_m=float(ceiling_m),
        circle=circle,
    )


# --- GeoJSON ---------------------------------------------------------------------------------


def parse_zones(
    geojson: dict | str,
    frame: LocalFrame,
    *,
    geoid_undulation_m: float = 0.0,
    limits: ZoneLimits = ZoneLimits(),
) -> list[Zone]:
    """GeoJSON FeatureCollection (dict or text) -> zones in the site frame.

    Raises:
        ConfigError naming the feature (index and id) and the problem; ZoneLimitError (a
        ConfigError) for a value or a size beyond ``limits``.
    """
    if isinstance(geojson, str):
        try:
            geojson = json.loads(geojson)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"zones: not valid JSON ({exc})") from exc
    if not isinstance(geojson, dict):
        raise ConfigError("zones: expected a GeoJSON object")
    if geojson.get("type") == "Feature":
        features = [geojson]
    elif geojson.get("type") == "FeatureCollection":
        features = geojson.get("features")
        if not isinstance(features, list):
            raise ConfigError("zones: FeatureCollection has no 'features' list")
    else:
        raise ConfigError(f"zones: expected a FeatureCollection, got type {geojson.get('type')!r}")
    if len(features) > limits.max_zones:
        raise ZoneLimitError(f"zones: {len(features)} zones; at most {limits.max_zones} allowed")
    vertices = sum(_vertex_count(f) for f in features)
    if vertices > limits.max_vertices:
        raise ZoneLimitError(
            f"zones: {vertices} polygon positions; at most {limits.max_vertices} allowed"
        )
    zones: list[Zone] = []
    seen: set[str] = set()
    for index, feature in enumerate(features):
        zone = _parse_feature(index, feature, frame, geoid_undulation_m, limits)
        if zone.id in seen:
            raise ConfigError(f"zone feature {index}: duplicate id {zone.id!r}")
        seen.add(zone.id)
        zones.append(zone)
    return zones


def _vertex_count(feature: Any) -> int:
    """Positions in a feature's polygon rings (0 for anything else; checked later)."""
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if not isinstance(coords, list):
        return 0
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    return sum(
        len(ring)
        for polygon in polygons
        if isinstance(polygon, list)
        for ring in polygon
        if isinstance(ring, list)
    )


def _parse_feature(
    index: int, feature: Any, frame: LocalFrame, undulation: float, limits: ZoneLimits
) -> Zone:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ConfigError(f"zone feature {index}: not a GeoJSON Feature")
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise ConfigError(f"zone feature {index}: 'properties' must be an object")
    raw_id = feature.get("id", props.get("id", f"zone-{index}"))
    zone_id = str(raw_id)
    where = f"zone feature {index} (id {zone_id!r})"

    def fail(problem: str) -> ConfigError:
        return ConfigError(f"{where}: {problem}")

    def bound(key: str, value: float | None, lo: float, hi: float) -> None:
        if value is not None and not lo <= value <= hi:
            raise ZoneLimitError(f"{where}: {key} {value!r} is outside [{lo:g}, {hi:g}]")

    role = props.get("role")
    if role not in ROLES:
        raise fail(f"unknown or missing role {role!r} (use one of {', '.join(ROLES)})")
    ref = props.get("altitude_ref", "agl")
    if ref not in ALTITUDE_REFS:
        raise fail(f"unknown altitude_ref {ref!r} (use 'agl' or 'amsl')")
    floor_m = _number(props, "floor_m", fail)
    ceiling_m = _number(props, "ceiling_m", fail)
    if floor_m is None or ceiling_m is None:
        raise fail("needs both floor_m and ceiling_m (metres)")
    if not floor_m < ceiling_m:
        raise fail(f"floor_m {floor_m} must be below ceiling_m {ceiling_m}")
    ground = _number(props, "ground_height_m", fail)
    for key, value in (("floor_m", floor_m), ("ceiling_m", ceiling_m), ("ground_height_m", ground)):
        bound(key, value, -limits.max_height_m, limits.max_height_m)
    priority = props.get("priority", DEFAULT_PRIORITY[role])
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise fail(f"priority must be an integer, got {priority!r}")
    bound("priority", priority, *PRIORITY_RANGE)
    bound("radius_m", _number(props, "radius_m", fail), 0.0, limits.max_radius_m)
    name = props.get("name", zone_id)
    if ref == "amsl":
        offset = undulation - frame.h0_m
    else:
        offset = 0.0 if ground is None else ground + undulation - frame.h0_m
    polygon, circle = _parse_geometry(feature.get("geometry"), props, frame, fail)
    return Zone(
        id=zone_id,
        name=str(name),
        role=role,
        polygon=polygon,
        floor_m=floor_m,
        ceiling_m=ceiling_m,
        altitude_ref=ref,
        priority=priority,
        bottom_m=floor_m + offset,
        top_m=ceiling_m + offset,
        circle=circle,
        ground_height_m=ground,
    )


def _number(props: dict, key: str, fail) -> float | None:
    if key not in props or props[key] is None:
        return None
    value = props[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise fail(f"{key} must be a finite number, got {value!r}")
    return float(value)


def _parse_geometry(geometry: Any, props: dict, frame: LocalFrame, fail):
    if not isinstance(geometry, dict):
        raise fail("missing geometry")
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Point":
        radius = _number(props, "radius_m", fail)
        if radius is None or radius <= 0.0:
            raise fail("a Point zone needs a positive radius_m (metres)")
        e, n = _to_enu([coords], frame, fail)[0]
        polygon = shapely.Point(e, n).buffer(radius, quad_segs=CIRCLE_QUAD_SEGMENTS)
        return polygon, (float(e), float(n), radius)
    if kind == "Polygon":
        polygon = _polygon(coords, frame, fail)
    elif kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise fail("MultiPolygon needs a list of polygons")
        polygon = MultiPolygon([_polygon(part, frame, fail) for part in coords])
    else:
        raise fail(f"unsupported geometry type {kind!r} (use Polygon, MultiPolygon or Point)")
    if not polygon.is_valid:
        raise fail(f"invalid polygon: {explain_validity(polygon)}")
    return polygon, None


def _polygon(rings: Any, frame: LocalFrame, fail) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise fail("Polygon coordinates must be a list of rings")
    enu_rings = []
    for ring in rings:
        if not isinstance(ring, list):
            raise fail("each polygon ring must be a list of [lon, lat] positions")
        points = _to_enu(ring, frame, fail)
        if len(points) > 1 and np.array_equal(points[0], points[-1]):
            points = points[:-1]
        if len(points) < 3 or len(np.unique(points, axis=0)) < 3:
            raise fail("a polygon ring needs at least 3 distinct positions")
        enu_rings.append(points)
    polygon = Polygon(enu_rings[0], enu_rings[1:])
    if not polygon.is_valid:
        raise fail(f"invalid polygon: {explain_validity(polygon)}")
    if polygon.area <= 0.0:
        raise fail("polygon has zero area")
    return polygon


def _to_enu(positions: list, frame: LocalFrame, fail) -> FloatArray:
    """[[lon, lat(, alt)], ...] degrees -> (K, 2) site east/north metres at the site height."""
    try:
        a = np.array([[float(p[0]), float(p[1])] for p in positions], dtype=np.float64)
    except (TypeError, ValueError, IndexError) as exc:
        raise fail("bad coordinates: positions must be [lon, lat] numbers") from exc
    if a.size == 0:
        raise fail("bad coordinates: no positions")
    lon, lat = a[:, 0], a[:, 1]
    if not np.all(np.isfinite(a)) or np.any(np.abs(lat) > 90.0) or np.any(np.abs(lon) > 180.0):
        raise fail("bad coordinates: need finite [lon, lat] with |lat| <= 90 and |lon| <= 180")
    en = frame.geodetic_to_enu(lat, lon, frame.h0_m)[:, :2]
    far = float(np.max(np.hypot(en[:, 0], en[:, 1])))
    if far > MAX_ZONE_DISTANCE_M:
        raise fail(f"bad coordinates: {far / 1000:.0f} km from the site (limit 200 km)")
    return en


def zones_to_geojson(zones: Sequence[Zone], frame: LocalFrame) -> dict:
    """Zones -> a GeoJSON FeatureCollection dict ([lon, lat] degrees; circles as Points)."""
    features = []
    for zone in zones:
        props: dict[str, Any] = {
            "name": zone.name,
            "role": zone.role,
            "floor_m": zone.floor_m,
            "ceiling_m": zone.ceiling_m,
            "altitude_ref": zone.altitude_ref,
            "priority": zone.priority,
        }
        if zone.ground_height_m is not None:
            props["ground_height_m"] = zone.ground_height_m
        if zone.circle is not None:
            e, n, r = zone.circle
            props["radius_m"] = r
            geometry = {"type": "Point", "coordinates": _to_lonlat(np.array([[e, n]]), frame)[0]}
        elif isinstance(zone.polygon, MultiPolygon):
            parts = [_polygon_coords(p, frame) for p in zone.polygon.geoms]
            geometry = {"type": "MultiPolygon", "coordinates": parts}
        else:
            geometry = {"type": "Polygon", "coordinates": _polygon_coords(zone.polygon, frame)}
        features.append(
            {"type": "Feature", "id": zone.id, "properties": props, "geometry": geometry}
        )
    return {"type": "FeatureCollection", "features": features}


def _polygon_coords(polygon: Polygon, frame: LocalFrame) -> list:
    rings = [polygon.exterior, *polygon.interiors]
    return [_to_lonlat(np.asarray(r.coords)[:, :2], frame) for r in rings]


def _to_lonlat(en: FloatArray, frame: LocalFrame) -> list[list[float]]:
    drop = -(en[:, 0] ** 2 + en[:, 1] ** 2) * (0.5 / EARTH_RADIUS_M)  # back at the site height
    enu = np.column_stack([en, drop])
    lat, lon, _ = frame.enu_to_geodetic(enu)
    return [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]
