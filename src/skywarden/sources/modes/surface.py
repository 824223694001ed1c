"""ADS-B surface positions (TC 5-8) -> on-ground Detections.

An aircraft or vehicle on an airport surface sends surface position messages: a CPR position
over surface zones (a quarter the size of the airborne ones), its movement (ground speed)
and ground track, and no altitude. Surface CPR has four solutions 90 degrees apart, so it
is decoded locally, relative to the site (the frame origin, where the receiver stands). That
is right for a transmitter within half a surface zone (0.75 degrees of latitude, ~83 km) of
the site. A transmitter on the ground is heard over the radio horizon of two low antennas,
a few tens of km, so a decoded position farther than :data:`SURFACE_RECEPTION_RANGE_M`
(45 km) is a bad decode or a far, mis-flagged transmitter: it is counted
(``rejects['surface_beyond_reception']``), not used.

Height: the report says "on the ground", so the height is the site's ground, the frame
origin's ellipsoidal height, with a vertical sigma of :data:`SIGMA_VERTICAL_SURFACE_M`
(airport elevation differs from the site's by tens of metres at most). Every detection
carries the ON_GROUND evidence bit: the classifier's evidence table makes the track an
aircraft or vehicle on the ground, which the default rules leave out.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from skywarden import geo
from skywarden.detections import Detections
from skywarden.evidence import ON_GROUND
from skywarden.sources.modes import cpr
from skywarden.sources.modes.messages import NUCP_TO_NACP, ModeSMessages
from skywarden.sources.modes.state import adsb_detections, equirectangular_distance_m
from skywarden.units import DEG, KT

SURFACE_RECEPTION_RANGE_M = 45_000.0  # beyond a ground transmitter's radio horizon
SIGMA_VERTICAL_SURFACE_M = 30.0


def surface_detections(
    msgs: ModeSMessages,
    frame: geo.LocalFrame,
    *,
    sensor: int = 0,
    rejects: Counter | None = None,
) -> Detections:
    """Surface position messages with a proven address (DF17/18 CRC) -> ADSB detections on
    the ground, in the site ENU frame (metres); velocity from movement and ground track
    (vertical 0), NaN where either is unknown; identity the ICAO key."""
    pick = np.flatnonzero(msgs.is_surface_position() & msgs.address_verified)
    odd = msgs.cpr_odd[pick]
    lat, lon = cpr.decode_local(
        msgs.cpr_lat[pick],
        msgs.cpr_lon[pick],
        odd,
        np.full(pick.size, frame.lat0_deg),
        np.full(pick.size, frame.lon0_deg),
        surface=True,
    )
    far = ~(
        equirectangular_distance_m(frame.lat0_deg, frame.lon0_deg, lat, lon)
        <= SURFACE_RECEPTION_RANGE_M
    )
    if rejects is not None and far.any():
        rejects["surface_beyond_reception"] += int(np.count_nonzero(far))
    lat, lon = np.where(far, np.nan, lat), np.where(far, np.nan, lon)
    nucp = np.clip(msgs.nucp[pick].astype(np.int64), 0, len(NUCP_TO_NACP) - 1)
    sigma_h = geo.nacp_to_sigma_m(NUCP_TO_NACP[nucp])
    return adsb_detections(
        frame,
        msgs.t[pick],
        msgs.icao[pick],
        lat,
        lon,
        np.full(pick.size, frame.h0_m),
        sigma_h,
        np.full(pick.size, SIGMA_VERTICAL_SURFACE_M),
        (msgs.groundspeed_kt[pick] * KT, msgs.track_deg[pick] * DEG, np.zeros(pick.size)),
        sensor,
        evidence=ON_GROUND,
    )
