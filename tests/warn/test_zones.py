"""Zones: GeoJSON parsing and its errors, circles vs polygons, AGL vs AMSL, inside()."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from skywarden.errors import ConfigError
from skywarden.geo import LocalFrame
from skywarden.warn.zones import (
    circle_zone,
    inside,
    parse_zones,
    polygon_zone,
    site_height,
    zones_to_geojson,
)

FRAME = LocalFrame(52.0, 4.0, 100.0)
GEOD = Geod(ellps="WGS84")


def _offset(east_m: float, north_m: float) -> list[float]:
    """[lon, lat] of a point east/north of the site origin (pyproj.Geod: an independent oracle)."""
    lon, lat, _ = GEOD.fwd(4.0, 52.0, 90.0, east_m)
    lon, lat, _ = GEOD.fwd(lon, lat, 0.0, north_m)
    return [lon, lat]


def _square(half_m: float, centre=(0.0, 0.0)) -> list[list[float]]:
    e, n = centre
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)]
    return [_offset(e + a * half_m, n + b * half_m) for a, b in corners]


def _feature(geometry: dict, **props) -> dict:
    base = {"role": "protected", "floor_m": 0.0, "ceiling_m": 120.0}
    base.update(props)
    return {"type": "Feature", "properties": base, "geometry": geometry}


def _collection(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def _polygon(half_m: float = 500.0, **props) -> dict:
    return _feature({"type": "Polygon", "coordinates": [_square(half_m)]}, **props)


def test_polygon_zone_from_geojson_text_in_site_frame() -> None:
    text = json.dumps(_collection(_polygon(500.0, id="base", name="Base", priority=3)))
    (zone,) = parse_zones(text, FRAME)
    assert (zone.id, zone.name, zone.role, zone.priority) == ("base", "Base", "protected", 3)
    x0, y0, x1, y1 = zone.polygon.bounds
    np.testing.assert_allclose([x0, y0, x1, y1], [-500, -500, 500, 500], atol=0.5)
    points = np.array([[490.0, 0.0, 50.0], [510.0, 0.0, 50.0], [0, -490, 119], [0, 0, 121]])
    assert inside([zone], points)[:, 0].tolist() == [True, False, True, False]


def test_circle_is_exact_and_polygon_approximates_it() -> None:
    feature = _feature({"type": "Point", "coordinates": _offset(200.0, -300.0)}, radius_m=400.0)
    (zone,) = parse_zones(_collection(feature), FRAME)
    assert zone.circle is not None
    np.testing.assert_allclose(zone.circle, (200.0, -300.0, 400.0), atol=0.05)
    angles = np.linspace(0.0, 2 * np.pi, 37)
    for radius, expected in ((399.5, True), (400.5, False)):
        p = np.column_stack(
            [200 + radius * np.cos(angles), -300 + radius * np.sin(angles), np.full(37, 10.0)]
        )
        assert np.all(inside([zone], p)[:, 0] == expected)
    assert abs(zone.polygon.area - np.pi * 400.0**2) < 0.01 * np.pi * 400.0**2


def test_agl_amsl_and_ground_height() -> None:
    features = [
        _polygon(id="agl", floor_m=0.0, ceiling_m=120.0),
        _polygon(id="amsl", floor_m=150.0, ceiling_m=250.0, altitude_ref="amsl"),
        _polygon(id="ground", floor_m=0.0, ceiling_m=50.0, ground_height_m=130.0),
    ]
    zones = parse_zones(_collection(*features), FRAME, geoid_undulation_m=10.0)
    bands = {z.id: (z.bottom_m, z.top_m) for z in zones}
    # site origin: 100 m ellipsoidal; AMSL + 10 m undulation = ellipsoidal height
    assert bands == {"agl": (0.0, 120.0), "amsl": (60.0, 160.0), "ground": (40.0, 90.0)}
    heights = np.array([[0, 0, 30.0], [0, 0, 70.0], [0, 0, 140.0]])
    assert inside(zones, heights).tolist() == [
        [True, False, False],
        [True, True, True],
        [False, True, False],
    ]


def test_heights_are_corrected_for_earth_curvature() -> None:
    zone = circle_zone("far", (10_000.0, 0.0), 300.0, 0.0, 20.0)
    point = FRAME.geodetic_to_enu(*_offset(10_000.0, 0.0)[::-1], FRAME.h0_m + 10.0)
    assert point[0, 2] < 10.0 - 7.0  # ENU up is 7.8 m below the height at 10 km ...
    assert abs(site_height(point)[0] - 10.0) < 0.05  # ... the site height does not
    assert inside([zone], point)[0, 0]


def test_multipolygon_and_hole() -> None:
    outer = _square(1000.0)
    hole = _square(200.0)
    far = _square(100.0, centre=(5000.0, 0.0))
    geometry = {"type": "MultiPolygon", "coordinates": [[outer, hole[::-1]], [far]]}
    (zone,) = parse_zones(_collection(_feature(geometry)), FRAME)
    points = np.array([[500.0, 0, 10], [0.0, 0, 10], [5000.0, 0, 10], [3000.0, 0, 10]])
    assert inside([zone], points)[:, 0].tolist() == [True, False, True, False]


def test_round_trip_through_geojson() -> None:
    zones = parse_zones(
        _collection(
            _polygon(id="a", floor_m=10.0, ceiling_m=90.0, altitude_ref="amsl", priority=4),
            _feature({"type": "Point", "coordinates": _offset(-800, 900)}, id="c", radius_m=250.0),
            _polygon(id="i", role="ignore", ground_height_m=120.0),
        ),
        FRAME,
    )
    back = parse_zones(json.dumps(zones_to_geojson(zones, FRAME)), FRAME)
    for a, b in zip(zones, back, strict=True):
        assert (a.id, a.role, a.priority, a.altitude_ref) == (
            b.id,
            b.role,
            b.priority,
            b.altitude_ref,
        )
        assert (a.bottom_m, a.top_m, a.ground_height_m) == (b.bottom_m, b.top_m, b.ground_height_m)
        assert shapely.hausdorff_distance(a.polygon, b.polygon) < 0.01
    assert back[1].circle is not None


def _bad(**changes) -> dict:
    feature = _polygon(id="z1")
    for key, value in changes.items():
        if key == "geometry":
            feature["geometry"] = value
        elif value is None:
            feature["properties"].pop(key)
        else:
            feature["properties"][key] = value
    return _collection(_polygon(id="z0"), feature)


BOWTIE = [_offset(0, 0), _offset(100, 100), _offset(100, 0), _offset(0, 100), _offset(0, 0)]


@pytest.mark.parametrize(
    ("collection", "message"),
    [
        (_bad(floor_m=None), "needs both floor_m and ceiling_m"),
        (_bad(ceiling_m=None), "needs both floor_m and ceiling_m"),
        (_bad(floor_m=200.0), "must be below ceiling_m"),
        (_bad(floor_m="low"), "floor_m must be a finite number"),
        (_bad(role="keep-out"), "unknown or missing role"),
        (_bad(role=None), "unknown or missing role"),
        (_bad(altitude_ref="fl"), "unknown altitude_ref"),
        (_bad(priority=1.5), "priority must be an integer"),
        (_bad(geometry={"type": "Polygon", "coordinates": [BOWTIE]}), "Self-intersection"),
        (_bad(geometry={"type": "Polygon", "coordinates": [[[4.0, 95.0]] * 4]}), "bad coordinates"),
        (_bad(geometry={"type": "Polygon", "coordinates": [[["a", "b"]] * 4]}), "bad coordinates"),
        (_bad(geometry={"type": "Polygon", "coordinates": [_square(1.0)[:2]]}), "at least 3"),
        (_bad(geometry={"type": "Polygon", "coordinates": [[_offset(0, 0)] * 4]}), "at least 3"),
        (_bad(geometry={"type": "Point", "coordinates": _offset(0, 0)}), "positive radius_m"),
        (_bad(geometry={"type": "LineString", "coordinates": []}), "unsupported geometry"),
        (_bad(geometry=None), "missing geometry"),
        (_bad(geometry={"type": "Polygon", "coordinates": [_square(1.0, (3e5, 0))]}), "limit 200"),
        (_bad(id="z0"), "duplicate id 'z0'"),
    ],
)
def test_parse_errors_name_the_feature(collection: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_zones(collection, FRAME)
    assert "zone feature 1" in str(info.value)


def test_document_level_errors() -> None:
    for document, message in (
        ("{not json", "not valid JSON"),
        ({"type": "Polygon"}, "expected a FeatureCollection"),
        ({"type": "FeatureCollection"}, "no 'features' list"),
        (_collection({"type": "Nope"}), "zone feature 0: not a GeoJSON Feature"),
    ):
        with pytest.raises(ConfigError, match=message):
            parse_zones(document, FRAME)


def test_direct_constructors_validate() -> None:
    with pytest.raises(ConfigError, match="floor must be below ceiling"):
        polygon_zone("z", [(0, 0), (1, 0), (1, 1)], 10.0, 10.0)
    with pytest.raises(ConfigError, match="invalid polygon"):
        polygon_zone("z", [(0, 0), (1, 1), (1, 0), (0, 1)], 0.0, 10.0)
    with pytest.raises(ConfigError, match="radius_m"):
        circle_zone("z", (0, 0), -1.0, 0.0, 10.0)
    with pytest.raises(ConfigError, match="unknown role"):
        circle_zone("z", (0, 0), 1.0, 0.0, 10.0, role="nope")


@settings(max_examples=40, deadline=None)
@given(
    vertices=st.lists(
        st.tuples(st.floats(-2000, 2000), st.floats(-2000, 2000)), min_size=3, max_size=8
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_inside_agrees_with_point_by_point_shapely(vertices, seed) -> None:
    hull = shapely.MultiPoint(vertices).convex_hull
    if hull.geom_type != "Polygon" or hull.area < 1.0:
        return
    zone = polygon_zone("z", np.asarray(hull.exterior.coords), 20.0, 80.0)
    rng = np.random.default_rng(seed)
    p = np.column_stack([rng.uniform(-2500, 2500, (200, 2)), rng.uniform(0, 100, 200)])
    expected = [
        hull.contains(shapely.Point(e, n)) and 20.0 <= h <= 80.0
        for (e, n), h in zip(p[:, :2], site_height(p), strict=True)
    ]
    assert inside([zone], p)[:, 0].tolist() == expected
