"""Geometry: WGS-84 geodetic <-> ECEF <-> site ENU, and sensor measurements -> ENU + covariance.

Frames:
    * geodetic: latitude/longitude in degrees, height in metres above the WGS-84 ellipsoid (HAE).
    * ECEF: WGS-84 earth-centred earth-fixed, metres (EPSG:4978).
    * site ENU: east/north/up metres on the tangent plane at a :class:`LocalFrame` origin.
    * local ENU: the same construction at some other point (a radar, a reporting aircraft).

Geodetic <-> ECEF uses pyproj (EPSG:4979 <-> EPSG:4978); the ENU rotations are plain NumPy.
Everything is vectorised: inputs are scalars or (N,) arrays, outputs (N, 3) / (N, 3, 3).

Radar convention used by :func:`radar_plot_to_enu` (and its inverse :func:`enu_to_radar_plot`):
    * slant range is the straight-line distance radar -> target (the ray's extra path length from
      refraction, centimetres to a few metres, is ignored);
    * azimuth is clockwise from geodetic (true) north in the radar's local ENU plane;
    * a *measured elevation angle* is the apparent one: the ray bends with the standard
      atmosphere, so target height follows the 4/3-earth model
      ``h = sqrt(r^2 + A^2 + 2 r A sin(el)) - k*Re``, ``A = k*Re + h_radar``, ``k = 4/3``,
      with ``Re`` the ellipsoid's radius of curvature at the radar along the azimuth;
    * a *reported target height* (Mode C/S, treated as height above the ellipsoid: the caller
      converts barometric/MSL heights before calling) is used geometrically: the plot is the
      point at slant range r on the azimuth whose ellipsoidal height is exactly that height
      (sphere start, then Newton steps on the ellipsoid; agrees to far below a millimetre).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from skywarden.errors import InputError
from skywarden.units import DEG, NM, FloatArray, IntArray

if TYPE_CHECKING:  # pyproj (~50-90 ms) loads at the first conversion, not with every command
    from pyproj import Transformer

WGS84_A = 6378137.0  # semi-major axis, m
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)  # first eccentricity squared

REFRACTION_K = 4.0 / 3.0  # standard-atmosphere effective earth radius factor
DEFAULT_HEIGHT_ABOVE_RADAR_M = 300.0  # 2-D plots: assumed height above the radar ...
DEFAULT_SIGMA_HEIGHT_M = 1000.0  # ... with this 1-sigma
_MAX_ELEVATION_RAD = 89.5 * DEG  # geometry is clipped here (target right above the radar)
_CLIPPED_SIGMA_ELEVATION_RAD = 0.5  # elevation 1-sigma of plots with impossible geometry
_COVARIANCE_FLOOR_M2 = 1e-6  # added to every diagonal (plus 1e-12 of the trace): R stays
# numerically positive definite when r -> 0
_NEWTON_STEPS = 2

_thread_state = threading.local()


def _transformers() -> tuple[Transformer, Transformer]:
    """(geodetic -> ECEF, ECEF -> geodetic) pyproj transformers, one pair per thread."""
    pair = getattr(_thread_state, "transformers", None)
    if pair is None:
        from pyproj import Transformer

        forward = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
        inverse = Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True)
        pair = (forward, inverse)
        _thread_state.transformers = pair
    return pair


def _as_1d(x: FloatArray | float) -> FloatArray:
    return np.atleast_1d(np.asarray(x, dtype=np.float64))


def geodetic_to_ecef(
    lat_deg: FloatArray | float, lon_deg: FloatArray | float, h_m: FloatArray | float
) -> FloatArray:
    """WGS-84 geodetic (degrees, HAE metres) -> ECEF (N, 3) metres."""
    lat, lon, h = np.broadcast_arrays(_as_1d(lat_deg), _as_1d(lon_deg), _as_1d(h_m))
    x, y, z = _transformers()[0].transform(lon, lat, h)
    return np.stack([np.asarray(x), np.asarray(y), np.asarray(z)], axis=-1)


def ecef_to_geodetic(ecef: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """ECEF (N, 3) metres -> (lat_deg, lon_deg, h_m), each (N,)."""
    p = np.asarray(ecef, dtype=np.float64).reshape(-1, 3)
    lon, lat, h = _transformers()[1].transform(p[:, 0], p[:, 1], p[:, 2])
    return np.asarray(lat), np.asarray(lon), np.asarray(h)


def ecef_to_enu_matrices(lat_deg: FloatArray | float, lon_deg: FloatArray | float) -> FloatArray:
    """(N, 3, 3) rotations taking ECEF vectors to the local ENU frame at each (lat, lon).

    Rows are the local east, north and up unit vectors expressed in ECEF.
    """
    lat, lon = np.broadcast_arrays(_as_1d(lat_deg) * DEG, _as_1d(lon_deg) * DEG)
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    m = np.empty(lat.shape + (3, 3))
    m[:, 0] = np.stack([-so, co, np.zeros_like(so)], axis=-1)
    m[:, 1] = np.stack([-sl * co, -sl * so, cl], axis=-1)
    m[:, 2] = np.stack([cl * co, cl * so, sl], axis=-1)
    return m


@dataclass(frozen=True)
class LocalFrame:
    """Site ENU frame: tangent plane at (lat0_deg, lon0_deg, h0_m WGS-84 ellipsoidal height)."""

    lat0_deg: float
    lon0_deg: float
    h0_m: float = 0.0
    _origin_ecef: FloatArray = field(init=False, repr=False, compare=False)
    _rotation: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        values = (self.lat0_deg, self.lon0_deg, self.h0_m)
        if not all(math.isfinite(float(v)) for v in values):
            raise InputError(f"site origin must be finite numbers, got {values}")
        if not -90.0 <= self.lat0_deg <= 90.0:
            raise InputError(f"site latitude {self.lat0_deg} is outside -90..90 degrees")
        if not -180.0 <= self.lon0_deg <= 360.0:
            raise InputError(f"site longitude {self.lon0_deg} is outside -180..360 degrees")
        if not -12000.0 <= self.h0_m <= 100000.0:
            raise InputError(f"site height {self.h0_m} m is not a plausible ellipsoidal height")
        origin = geodetic_to_ecef(self.lat0_deg, self.lon0_deg, self.h0_m)[0]
        rotation = ecef_to_enu_matrices(self.lat0_deg, self.lon0_deg)[0]
        object.__setattr__(self, "_origin_ecef", origin)
        object.__setattr__(self, "_rotation", rotation)

    def origin_ecef(self) -> FloatArray:
        """(3,) ECEF position of the site origin, metres."""
        return self._origin_ecef.copy()

    def ecef_to_enu_rotation(self) -> FloatArray:
        """(3, 3) rotation taking ECEF vectors to site ENU vectors."""
        return self._rotation.copy()

    def ecef_to_enu(self, ecef: FloatArray) -> FloatArray:
        """ECEF positions (N, 3) -> site ENU (N, 3), metres; a row with a non-finite value
        comes out non-finite (NaN or inf) for the caller to reject, without a warning (an
        out-of-range latitude in corrupted input gives pyproj's inf)."""
        d = np.asarray(ecef, dtype=np.float64).reshape(-1, 3) - self._origin_ecef
        with np.errstate(invalid="ignore"):
            return d @ self._rotation.T

    def enu_to_ecef(self, enu: FloatArray) -> FloatArray:
        """Site ENU positions (N, 3) -> ECEF (N, 3), metres."""
        e = np.asarray(enu, dtype=np.float64).reshape(-1, 3)
        return e @ self._rotation + self._origin_ecef

    def geodetic_to_enu(
        self, lat_deg: FloatArray | float, lon_deg: FloatArray | float, h_m: FloatArray | float
    ) -> FloatArray:
        """Geodetic (degrees, HAE metres; scalars or (N,)) -> site ENU (N, 3) metres."""
        return self.ecef_to_enu(geodetic_to_ecef(lat_deg, lon_deg, h_m))

    def enu_to_geodetic(self, enu: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Site ENU (N, 3) metres -> (lat_deg, lon_deg, h_m), each (N,)."""
        return ecef_to_geodetic(self.enu_to_ecef(enu))

    def rotation_at(self, lat_deg: FloatArray | float, lon_deg: FloatArray | float) -> FloatArray:
        """(N, 3, 3) rotations taking vectors in the local ENU at each point to site ENU.

        Use it for velocities and covariances: ``v_site = M @ v_local``,
        ``R_site = M @ R_local @ M.T``.
        """
        local = ecef_to_enu_matrices(lat_deg, lon_deg)
        return np.einsum("ij,nkj->nik", self._rotation, local)


def _radius_along_azimuth(lat_deg: float, azimuth_rad: FloatArray) -> FloatArray:
    """Ellipsoid radius of curvature (m) at a latitude in the direction of each azimuth."""
    s2 = math.sin(lat_deg * DEG) ** 2
    w = 1.0 - WGS84_E2 * s2
    meridian = WGS84_A * (1.0 - WGS84_E2) / w**1.5
    prime_vertical = WGS84_A / math.sqrt(w)
    return 1.0 / (np.cos(azimuth_rad) ** 2 / meridian + np.sin(azimuth_rad) ** 2 / prime_vertical)


def _sin_elevation(r: FloatArray, h_t: FloatArray, h_r: float, radius: FloatArray) -> FloatArray:
    """Sine of the elevation from the radar at h_r to a target at h_t, slant r, earth `radius`."""
    a = radius + h_r
    b = radius + h_t
    return (b * b - a * a - r * r) / (2.0 * a * r)


def _elevation_from_height(
    r: FloatArray, h_t: FloatArray, h_r: float, radius: FloatArray, sigma_h: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Geometric elevation (rad) and its partials d el/d r, d el/d h_t on a sphere.

    ``sigma_h`` (1-sigma of h_t, m) only sets the partials of clipped (impossible) plots.
    """
    a = radius + h_r
    b = radius + h_t
    s_max = math.sin(_MAX_ELEVATION_RAD)
    s_raw = _sin_elevation(r, h_t, h_r, radius)
    s = np.clip(s_raw, -s_max, s_max)
    c = np.sqrt(1.0 - s * s)
    ds_dr = -(b * b - a * a) / (2.0 * a * r * r) - 1.0 / (2.0 * a)
    ds_dh = b / (a * r)
    # Impossible geometry (height difference beyond the range): straight up/down, and the
    # elevation is then known only to about _CLIPPED_SIGMA_ELEVATION_RAD whatever the height.
    clipped = np.abs(s_raw) > s_max
    del_dr = np.where(clipped, 0.0, ds_dr / c)
    del_dh = np.where(clipped, _CLIPPED_SIGMA_ELEVATION_RAD / sigma_h, ds_dh / c)
    return np.arcsin(s), del_dr, del_dh


def _height_from_apparent_elevation(
    r: FloatArray, el: FloatArray, h_r: float, radius: FloatArray, k: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """4/3-earth (factor k) target height (m) and its partials d h/d r, d h/d el."""
    ke = k * radius
    a = ke + h_r
    root = np.sqrt(r * r + a * a + 2.0 * r * a * np.sin(el))
    return root - ke, (r + a * np.sin(el)) / root, r * a * np.cos(el) / root


def _polar_to_local(r: FloatArray, az: FloatArray, el: FloatArray) -> FloatArray:
    ce = np.cos(el)
    return np.stack([r * ce * np.sin(az), r * ce * np.cos(az), r * np.sin(el)], axis=-1)


def _polar_jacobian(r: FloatArray, az: FloatArray, el: FloatArray) -> FloatArray:
    """(N, 3, 3) d(e, n, u)/d(r, az, el) of the local polar -> Cartesian map."""
    sa, ca, se, ce = np.sin(az), np.cos(az), np.sin(el), np.cos(el)
    j = np.empty(r.shape + (3, 3))
    j[:, 0] = np.stack([ce * sa, r * ce * ca, -r * se * sa], axis=-1)
    j[:, 1] = np.stack([ce * ca, -r * ce * sa, -r * se * ca], axis=-1)
    j[:, 2] = np.stack([se, np.zeros_like(r), r * ce], axis=-1)
    return j


def _refine_to_height(
    r: FloatArray,
    az: FloatArray,
    el: FloatArray,
    h_t: FloatArray,
    radar_ecef: FloatArray,
    radar_rot: FloatArray,
    radius: FloatArray,
    h_r: float,
) -> FloatArray:
    """Newton steps on the ellipsoid so the plot's ellipsoidal height is exactly h_t."""
    limit = _MAX_ELEVATION_RAD
    for _ in range(_NEWTON_STEPS):
        ecef = _polar_to_local(r, az, el) @ radar_rot + radar_ecef
        h_now = ecef_to_geodetic(ecef)[2]
        dh_del = (radius + h_r) * r * np.cos(el) / (radius + h_now)
        step = (h_t - h_now) / np.maximum(dh_del, 1e-9)
        el = np.where(np.abs(el) < limit, np.clip(el + step, -limit, limit), el)
    return el


def radar_plot_to_enu(
    frame: LocalFrame,
    radar_lat_deg: float,
    radar_lon_deg: float,
    radar_h_m: float,
    range_m: FloatArray | float,
    azimuth_rad: FloatArray | float,
    height_m: FloatArray | float | None = None,
    elevation_rad: FloatArray | float | None = None,
    sigma_range_m: FloatArray | float = 50.0,
    sigma_azimuth_rad: FloatArray | float = 0.1 * DEG,
    sigma_height_m: FloatArray | float = 30.0,
    sigma_elevation_rad: FloatArray | float = 0.5 * DEG,
    *,
    refraction_k: float = REFRACTION_K,
    default_height_above_radar_m: float = DEFAULT_HEIGHT_ABOVE_RADAR_M,
    default_sigma_height_m: float = DEFAULT_SIGMA_HEIGHT_M,
) -> tuple[FloatArray, FloatArray]:
    """Radar plots (slant range, azimuth, height or elevation) -> site ENU z (N,3), R (N,3,3).

    Args:
        frame: the site frame.
        radar_lat_deg, radar_lon_deg, radar_h_m: radar antenna position (degrees, HAE metres).
        range_m: (N,) slant range, metres.
        azimuth_rad: (N,) clockwise from true north at the radar, radians.
        height_m: (N,) target ellipsoidal height in metres (Mode C/S, already converted), or
            None; NaN entries fall back to the elevation, then to the default height.
        elevation_rad: (N,) apparent elevation angle (4/3 earth), radians, or None / NaN.
        sigma_*: 1-sigma measurement noise (scalars or (N,)), in the units above.
        refraction_k: effective-earth factor for measured elevations (4/3 standard).
        default_height_above_radar_m, default_sigma_height_m: used for plots with neither
            height nor elevation (2-D radar); the height above the radar is capped at r/2
            (elevation <= 30 deg) so that short-range plots stay geometrically possible.

    Returns:
        z: (N, 3) site ENU metres; R: (N, 3, 3) m^2, symmetric positive definite (Jacobian of
        the polar -> Cartesian map, rotated from the radar's ENU into the site frame).
    """
    r, az = np.broadcast_arrays(_as_1d(range_m), _as_1d(azimuth_rad))
    r = np.maximum(r, 1e-3)
    n = r.shape[0]
    h_meas = np.broadcast_to(_as_1d(np.nan if height_m is None else height_m), (n,))
    el_meas = np.broadcast_to(_as_1d(np.nan if elevation_rad is None else elevation_rad), (n,))
    use_h = np.isfinite(h_meas)
    use_el = ~use_h & np.isfinite(el_meas)
    s_r = np.broadcast_to(_as_1d(sigma_range_m), (n,))
    s_az = np.broadcast_to(_as_1d(sigma_azimuth_rad), (n,))
    s_h = np.broadcast_to(_as_1d(sigma_height_m), (n,))
    s_el = np.broadcast_to(_as_1d(sigma_elevation_rad), (n,))

    radius = _radius_along_azimuth(radar_lat_deg, az)
    el_safe = np.where(use_el, el_meas, 0.0)
    h_from_el, dh_dr_el, dh_del = _height_from_apparent_elevation(
        r, el_safe, radar_h_m, radius, refraction_k
    )
    h_default = radar_h_m + np.minimum(default_height_above_radar_m, 0.5 * r)
    h_t = np.where(use_h, h_meas, np.where(use_el, h_from_el, h_default))

    s_x = np.where(use_h, s_h, np.where(use_el, s_el, default_sigma_height_m))
    s_h_total = np.where(use_el, np.abs(dh_del) * s_el, s_x)
    el, del_dr, del_dh = _elevation_from_height(
        r, h_t, radar_h_m, radius, np.maximum(s_h_total, 1e-9)
    )
    radar_ecef = geodetic_to_ecef(radar_lat_deg, radar_lon_deg, radar_h_m)[0]
    radar_rot = ecef_to_enu_matrices(radar_lat_deg, radar_lon_deg)[0]
    el = _refine_to_height(r, az, el, h_t, radar_ecef, radar_rot, radius, radar_h_m)

    # (r, az, x) -> (r, az, el_geo), x the third measured quantity of each plot.
    d_el_d_r = np.where(use_el, del_dr + del_dh * dh_dr_el, del_dr)
    d_el_d_x = np.where(use_el, del_dh * dh_del, del_dh)
    j = _polar_jacobian(r, az, el)
    j[:, :, 0] += j[:, :, 2] * d_el_d_r[:, None]
    j[:, :, 2] *= d_el_d_x[:, None]
    sigmas = np.stack([s_r, s_az, s_x], axis=-1)
    j_scaled = j * sigmas[:, None, :]
    r_local = j_scaled @ np.swapaxes(j_scaled, 1, 2)

    local_to_site = frame.ecef_to_enu_rotation() @ radar_rot.T
    z = frame.ecef_to_enu(_polar_to_local(r, az, el) @ radar_rot + radar_ecef)
    R = np.einsum("ij,njk,lk->nil", local_to_site, r_local, local_to_site)
    return z, _symmetric_with_floor(R)


def enu_to_radar_plot(
    frame: LocalFrame,
    radar_lat_deg: float,
    radar_lon_deg: float,
    radar_h_m: float,
    enu: FloatArray,
    *,
    refraction_k: float = REFRACTION_K,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Inverse of :func:`radar_plot_to_enu` (noise-free), for simulators and tests.

    Site ENU (N, 3) -> (range_m, azimuth_rad in [0, 2pi), apparent elevation_rad with the
    4/3-earth model, target ellipsoidal height_m), each (N,).
    """
    ecef = frame.enu_to_ecef(enu)
    radar_ecef = geodetic_to_ecef(radar_lat_deg, radar_lon_deg, radar_h_m)[0]
    local = (ecef - radar_ecef) @ ecef_to_enu_matrices(radar_lat_deg, radar_lon_deg)[0].T
    r = np.linalg.norm(local, axis=1)
    az = np.mod(np.arctan2(local[:, 0], local[:, 1]), 2.0 * np.pi)
    h_t = ecef_to_geodetic(ecef)[2]
    radius = _radius_along_azimuth(radar_lat_deg, az)
    s = _sin_elevation(r, h_t, radar_h_m, refraction_k * radius)
    el_apparent = np.arcsin(np.clip(s, -1.0, 1.0))
    return r, az, el_apparent, h_t


def _symmetric_with_floor(R: FloatArray) -> FloatArray:
    R = 0.5 * (R + np.swapaxes(R, 1, 2))
    floor = _COVARIANCE_FLOOR_M2 + 1e-12 * np.trace(R, axis1=1, axis2=2)
    return R + np.eye(3) * floor[:, None, None]


def geodetic_to_enu_with_cov(
    frame: LocalFrame,
    lat_deg: FloatArray | float,
    lon_deg: FloatArray | float,
    h_m: FloatArray | float,
    sigma_horizontal_m: FloatArray | float,
    sigma_vertical_m: FloatArray | float,
) -> tuple[FloatArray, FloatArray]:
    """Cooperative positions (ADS-B, Remote ID) -> site ENU z (N, 3) and R (N, 3, 3).

    The 1-sigma horizontal error applies to each of the local east and north axes, the
    vertical one to local up; the covariance is rotated from the local ENU at the reported
    point into the site frame.
    """
    lat, lon, h = np.broadcast_arrays(_as_1d(lat_deg), _as_1d(lon_deg), _as_1d(h_m))
    n = lat.shape[0]
    sh = np.broadcast_to(_as_1d(sigma_horizontal_m), (n,))
    sv = np.broadcast_to(_as_1d(sigma_vertical_m), (n,))
    z = frame.geodetic_to_enu(lat, lon, h)
    m = frame.rotation_at(lat, lon)
    scaled = m * np.stack([sh, sh, sv], axis=-1)[:, None, :]
    R = scaled @ np.swapaxes(scaled, 1, 2)
    return z, _symmetric_with_floor(R)


def ground_velocity_to_enu(
    frame: LocalFrame,
    lat_deg: FloatArray | float,
    lon_deg: FloatArray | float,
    ground_speed_mps: FloatArray | float,
    track_rad: FloatArray | float,
    vertical_rate_mps: FloatArray | float = 0.0,
) -> FloatArray:
    """Reported velocity (ground speed, track clockwise from true north at the reporting point,
    vertical rate up-positive) -> site ENU velocity (N, 3) in m/s.

    A NaN vertical rate gives NaN in the up component only (the horizontal ones use 0 for it).
    """
    lat, lon, gs, trk, vr = np.broadcast_arrays(
        _as_1d(lat_deg),
        _as_1d(lon_deg),
        _as_1d(ground_speed_mps),
        _as_1d(track_rad),
        _as_1d(vertical_rate_mps),
    )
    local = np.stack([gs * np.sin(trk), gs * np.cos(trk), np.nan_to_num(vr)], axis=-1)
    v = np.einsum("nij,nj->ni", frame.rotation_at(lat, lon), local)
    v[~np.isfinite(vr), 2] = np.nan
    return v


def enu_velocity_to_ground(
    frame: LocalFrame, enu: FloatArray, velocity_enu: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Site ENU position (N, 3) and velocity (N, 3) -> (ground_speed_mps, track_rad in
    [0, 2pi) from true north at that position, vertical_rate_mps); for simulators."""
    lat, lon, _ = frame.enu_to_geodetic(enu)
    v_site = np.asarray(velocity_enu, dtype=np.float64).reshape(-1, 3)
    local = np.einsum("nji,nj->ni", frame.rotation_at(lat, lon), v_site)
    track = np.mod(np.arctan2(local[:, 0], local[:, 1]), 2.0 * np.pi)
    return np.hypot(local[:, 0], local[:, 1]), track, local[:, 2]


# --- accuracy categories -> 1-sigma ---------------------------------------------------------
# The categories bound the 95 % error. Horizontal bounds are radial (EPU): for a circular 2-D
# Gaussian with per-axis sigma s the 95 % radius is s * sqrt(-2 ln 0.05) = 2.4477 s, so the
# per-axis 1-sigma is bound / 2.4477. Vertical and speed bounds are 1-D: sigma = bound / 1.96.
# The bound itself is used (conservative: the true error is anywhere below it).
HORIZONTAL_95_TO_SIGMA = 1.0 / math.sqrt(-2.0 * math.log(0.05))
VERTICAL_95_TO_SIGMA = 1.0 / 1.959963984540054
UNKNOWN_HORIZONTAL_SIGMA_M = 20.0 * NM * HORIZONTAL_95_TO_SIGMA  # ~15 km: "no information"
UNKNOWN_VERTICAL_SIGMA_M = 500.0
UNKNOWN_SPEED_SIGMA_MPS = 20.0

# Horizontal 95 % bounds (m), index = NACp (DO-260B) = F3411 horizontal accuracy enum.
_HORIZONTAL_BOUND_M = np.array(
    [np.nan, 10 * NM, 4 * NM, 2 * NM, 1 * NM, 0.5 * NM, 0.3 * NM, 0.1 * NM, 0.05 * NM]
    + [30.0, 10.0, 3.0, 1.0]
)
_VERTICAL_BOUND_M = np.array([np.nan, 150.0, 45.0, 25.0, 10.0, 3.0, 1.0])
_SPEED_BOUND_MPS = np.array([np.nan, 10.0, 3.0, 1.0, 0.3])  # F3411 speed accuracy = NACv


def _lookup(code: IntArray | int, bounds: FloatArray, scale: float, unknown: float) -> FloatArray:
    c = np.atleast_1d(np.asarray(code)).astype(np.int64)
    inside = (c >= 0) & (c < bounds.shape[0])
    bound = bounds[np.where(inside, c, 0)]
    return np.where(inside & np.isfinite(bound), bound * scale, unknown)


def nacp_to_sigma_m(nacp: IntArray | int) -> FloatArray:
    """ADS-B NACp (0..11, DO-260B EPU bounds) -> per-axis horizontal 1-sigma in metres.

    NACp 0 and out-of-range codes give UNKNOWN_HORIZONTAL_SIGMA_M.
    """
    c = np.atleast_1d(np.asarray(nacp)).astype(np.int64)
    return _lookup(
        np.where(c <= 11, c, -1),
        _HORIZONTAL_BOUND_M,
        HORIZONTAL_95_TO_SIGMA,
        UNKNOWN_HORIZONTAL_SIGMA_M,
    )


def remote_id_horizontal_accuracy_to_sigma_m(code: IntArray | int) -> FloatArray:
    """F3411 horizontal accuracy enum (0..12) -> per-axis 1-sigma metres (0/reserved: unknown)."""
    return _lookup(code, _HORIZONTAL_BOUND_M, HORIZONTAL_95_TO_SIGMA, UNKNOWN_HORIZONTAL_SIGMA_M)


def remote_id_vertical_accuracy_to_sigma_m(code: IntArray | int) -> FloatArray:
    """F3411 vertical (and baro-altitude) accuracy enum (0..6) -> 1-sigma metres."""
    return _lookup(code, _VERTICAL_BOUND_M, VERTICAL_95_TO_SIGMA, UNKNOWN_VERTICAL_SIGMA_M)


def speed_accuracy_to_sigma_mps(code: IntArray | int) -> FloatArray:
    """F3411 speed accuracy enum or ADS-B NACv (0..4) -> per-axis 1-sigma in m/s."""
    return _lookup(code, _SPEED_BOUND_MPS, VERTICAL_95_TO_SIGMA, UNKNOWN_SPEED_SIGMA_MPS)
