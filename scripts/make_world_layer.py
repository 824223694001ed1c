"""Build the map's bundled offline world layer from Natural Earth 1:110m (public domain).

    pip install pyshp                   # dev only: reads the shapefiles
    python scripts/make_world_layer.py COUNTRIES.shp CITIES.shp

COUNTRIES: Natural Earth ``ne_110m_admin_0_countries`` (here taken from geopandas 0.14's
bundled copy, ``geopandas/datasets/naturalearth_lowres``); CITIES: ``ne_110m_populated_places``
(``naturalearth_cities``). Writes ``src/skywarden/server/web/world-110m.geojson``: the
countries as polygons (their outlines are the coastlines and borders) and the cities as points,
each with its ``name`` and ``kind`` ("country" | "city"), coordinates rounded to 0.01 degree
(1 km: the source is a 1:110 million map). Natural Earth is in the public domain
(https://www.naturalearthdata.com/about/terms-of-use/): see web/world-110m.LICENSE.txt.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = (
    Path(__file__).resolve().parents[1]
    / "src"
    / "skywarden"
    / "server"
    / "web"
    / "world-110m.geojson"
)


def _round(coords):
    if isinstance(coords[0], (int, float)):
        return [round(coords[0], 2), round(coords[1], 2)]
    return [_round(c) for c in coords]


def _dedupe(ring):
    out = [ring[0]]
    for p in ring[1:]:
        if p != out[-1]:
            out.append(p)
    return out


def features(path: Path, kind: str) -> list[dict]:
    import shapefile  # pyshp (MIT), dev only

    out = []
    with shapefile.Reader(str(path)) as shp:
        names = [f[0] for f in shp.fields[1:]]
        key = "name" if "name" in names else "NAME"
        for sr in shp.shapeRecords():
            geo = sr.shape.__geo_interface__
            geo = {"type": geo["type"], "coordinates": _round(geo["coordinates"])}
            if geo["type"] == "Polygon":
                geo["coordinates"] = [_dedupe(r) for r in geo["coordinates"]]
            elif geo["type"] == "MultiPolygon":
                geo["coordinates"] = [[_dedupe(r) for r in p] for p in geo["coordinates"]]
            name = sr.record.as_dict()[key]
            out.append(
                {"type": "Feature", "properties": {"name": name, "kind": kind}, "geometry": geo}
            )
    return out


if __name__ == "__main__":
    countries, cities = Path(sys.argv[1]), Path(sys.argv[2])
    doc = {"type": "FeatureCollection",
           "features": features(countries, "country") + features(cities, "city")}  # fmt: skip
    OUT.write_text(json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(doc['features'])} features)")
