"""The learnt clutter map as a GeoJSON layer for the map page (``GET /api/v1/clutter``).

One polygon per clutter cell (a square of the ENU grid, or a range x azimuth cell around a
radar: see :mod:`skywarden.track.clutter_cells`), [lon, lat] degrees, with the sensor index
and the learnt rate of unexplained detections per km^2 per scan. At most ``max_cells`` cells,
the densest first, so the payload stays bounded however large the map grows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skywarden.geo import LocalFrame
from skywarden.track import clutter_map
from skywarden.track.clutter_cells import is_polar
from skywarden.track.clutter_map import ClutterMap

MAX_CELLS = 2000


def clutter_geojson(
    cmap: ClutterMap, cell_m: float, frame: LocalFrame, max_cells: int = MAX_CELLS
) -> dict[str, Any]:
    """FeatureCollection of the densest ``max_cells`` cells (properties: sensor,
    rate_per_km2_per_scan, range_azimuth) plus ``cells_total`` and ``cells_shown``."""
    sensor, outline, rate = clutter_map.cells(cmap, cell_m)
    polar = is_polar(cmap.keys)
    order = np.argsort(-rate, kind="stable")[:max_cells]
    features: list[dict[str, Any]] = []
    if order.size:
        ring = outline[order]
        enu = np.concatenate([ring.reshape(-1, 2), np.zeros((ring.shape[0] * ring.shape[1], 1))], 1)
        lat, lon, _ = frame.enu_to_geodetic(enu)
        lonlat = np.stack([lon, lat], axis=1).reshape(ring.shape[0], ring.shape[1], 2)
        lonlat = np.round(lonlat, 7).tolist()
        for k, idx in enumerate(order.tolist()):
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Polygon", "coordinates": [lonlat[k]]},
                    "properties": {
                        "sensor": int(sensor[idx]),
                        "rate_per_km2_per_scan": round(float(rate[idx]), 6),
                        "range_azimuth": bool(polar[idx]),
                    },
                }
            )
    return {
        "type": "FeatureCollection",
        "features": features,
        "cells_total": len(cmap),
        "cells_shown": len(features),
    }
