"""Kinematic features of tracks from their recent states, vectorised over tracks.

Input: a window of the last W states of N tracks (:class:`~skywarden.classify.history.StateWindow`
or the arrays ``t (N, W)``, ``x (N, W, 6)``, ``measured (N, W)``), oldest column first, with
empty slots marked by a NaN time. Valid slots form a contiguous run ending at the newest
column (a track is present on every scan from its birth). Output: ``(N, F)`` floats in the
order of :data:`FEATURE_NAMES`; a feature that needs more states than a track has is NaN
(the model handles missing values).

Features (units; "horizontal" is the e-n plane of the site ENU frame; differences are taken
between consecutive stored states and divided by their time step):

==================== ======= ===============================================================
span_s               s       time covered by the stored states (track history, up to W scans)
hit_fraction         1       fraction of stored scans on which a detection updated the track
speed_mean           m/s     mean horizontal speed
speed_std            m/s     standard deviation of the horizontal speed
speed_max            m/s     largest horizontal speed
speed_last           m/s     horizontal speed of the newest state
height_mean          m       mean height above the site (see "Heights" below), never ENU u
height_std           m       standard deviation of the height
vz_mean              m/s     mean rate of change of that height (positive = climbing)
vz_std               m/s     standard deviation of the vertical speed
accel_h_mean         m/s^2   mean magnitude of the horizontal acceleration
accel_h_max          m/s^2   largest magnitude of the horizontal acceleration
accel_v_mean         m/s^2   mean magnitude of the vertical acceleration
turn_rate_abs_mean   rad/s   mean |d heading / dt| (only where speed >= 2 m/s at both ends)
turn_rate_net        rad/s   |mean signed d heading / dt| (steady turning in one direction)
turn_rate_std        rad/s   standard deviation of the signed turn rate
straightness         1       horizontal net displacement / horizontal path length
hover_fraction       1       fraction of states with horizontal speed < 2 m/s
speed_mean_short     m/s     mean horizontal speed over the newest 5 states
accel_h_mean_short   m/s^2   mean horizontal acceleration over the newest 5 states
turn_rate_abs_short  rad/s   mean |turn rate| over the newest 5 states
net_speed            m/s     horizontal net displacement / span_s (less noisy than speed_mean)
spread_major_m       m       RMS horizontal spread of the positions along their main axis
spread_minor_m       m       RMS horizontal spread across the main axis (wander off a line)
position_sigma_m     m       mean filtered position 1-sigma (the noise level the rest is seen at)
rcs_mean_dbsm        dBsm    mean radar cross-section of the plots that updated the track
                             (from the plot amplitude of a calibrated radar; NaN with < 3)
rcs_std_db           dB      standard deviation of those RCS values (NaN with < 3)
speed_wiggle ...     see :mod:`skywarden.classify.regularity`: flight regularity (speed,
                     height, heading and path wiggle about a 5-scan running mean, heading
                     persistence), which separates a steady drone from a flap-gliding bird
==================== ======= ===============================================================

Heights. ``height_*`` and ``vz_*`` use the height above the sphere of radius 6,371 km
through the site origin, ``sqrt(e² + n² + (R + u)²) - R`` (= u + (e² + n²)/2R near the site,
as the zone code's site height): above flat ground at the site this is the height above
ground, and 500 km away it is still the height, where ENU u is 20 km lower by the earth's
curvature. Which altitude the state holds is the source's (see
:mod:`skywarden.sources.asterix.detections`): barometric for Mode C plots (I048/090), CAT021
without I021/140 and CAT062 tracks (measured flight level I062/136, else I062/135), turned
into a height with the ISA; geometric for ADS-B I021/140, Remote ID and 3-D radar heights.

The RCS features are NaN for tracks seen only by radars that give no calibrated amplitude
(and by cooperative sources); the model is trained with and without them, so it works both
ways. Identity evidence (ADS-B, Remote ID) is fused separately
(:mod:`skywarden.classify.identity`).
"""

from __future__ import annotations

import numpy as np

from skywarden.classify.history import StateWindow
from skywarden.classify.regularity import REGULARITY_NAMES, regularity_features
from skywarden.units import BoolArray, FloatArray

SITE_SPHERE_RADIUS_M = 6_371_000.0


def height_above_site(
    pos: FloatArray, vel: FloatArray, earth_radius_m: float = SITE_SPHERE_RADIUS_M
) -> tuple[FloatArray, FloatArray]:
    """Height (m) above the site sphere and its rate (m/s) of site ENU positions (..., 3) m
    and velocities (..., 3) m/s (see "Heights" in the module docstring); an infinite
    ``earth_radius_m`` gives u and vu (a flat earth)."""
    r = earth_radius_m
    if not np.isfinite(r):
        return pos[..., 2], vel[..., 2]
    up = pos[..., 2] + r
    dist = np.sqrt(pos[..., 0] ** 2 + pos[..., 1] ** 2 + up**2)
    rate = (pos[..., 0] * vel[..., 0] + pos[..., 1] * vel[..., 1] + up * vel[..., 2]) / dist
    return dist - r, rate


FEATURE_NAMES: tuple[str, ...] = (
    "span_s",
    "hit_fraction",
    "speed_mean",
    "speed_std",
    "speed_max",
    "speed_last",
    "height_mean",
    "height_std",
    "vz_mean",
    "vz_std",
    "accel_h_mean",
    "accel_h_max",
    "accel_v_mean",
    "turn_rate_abs_mean",
    "turn_rate_net",
    "turn_rate_std",
    "straightness",
    "hover_fraction",
    "speed_mean_short",
    "accel_h_mean_short",
    "turn_rate_abs_short",
    "net_speed",
    "spread_major_m",
    "spread_minor_m",
    "position_sigma_m",
    "rcs_mean_dbsm",
    "rcs_std_db",
    *REGULARITY_NAMES,
)
N_FEATURES = len(FEATURE_NAMES)
HOVER_SPEED = 2.0  # m/s: below this a state counts as hovering
TURN_MIN_SPEED = 2.0  # m/s: heading is not defined below this
SHORT = 5  # newest states used by the *_short features
MIN_RCS_PLOTS = 3  # RCS features need at least this many plots with an amplitude


def _count(m: BoolArray) -> FloatArray:
    return m.sum(axis=1).astype(np.float64)


def _mean(a: FloatArray, m: BoolArray) -> FloatArray:
    """Row means of a over the mask m; NaN for rows with no valid entry."""
    n = _count(m)
    s = np.where(m, a, 0.0).sum(axis=1)
    return np.divide(s, n, out=np.full(n.shape, np.nan), where=n > 0)


def _std(a: FloatArray, m: BoolArray) -> FloatArray:
    """Row population standard deviations over the mask m; NaN with fewer than 2 entries."""
    mu = _mean(a, m)
    d = np.where(m, a - np.nan_to_num(mu)[:, None], 0.0)
    n = _count(m)
    var = np.divide((d * d).sum(axis=1), n, out=np.full(n.shape, np.nan), where=n > 1)
    return np.sqrt(var)


def _max(a: FloatArray, m: BoolArray) -> FloatArray:
    out = np.where(m, a, -np.inf).max(axis=1, initial=-np.inf)
    return np.where(np.isfinite(out), out, np.nan)


def _differences(t: FloatArray, x: FloatArray, valid: BoolArray) -> dict[str, FloatArray]:
    """Per-step rates between consecutive valid states: (N, W-1) arrays and their mask."""
    ok = valid[:, 1:] & valid[:, :-1]
    dt = np.where(ok, t[:, 1:] - t[:, :-1], 1.0)
    ok &= dt > 1e-6
    dt = np.where(ok, dt, 1.0)
    dv = np.nan_to_num(x[:, 1:, 3:] - x[:, :-1, 3:])
    accel_h = np.hypot(dv[..., 0], dv[..., 1]) / dt
    accel_v = np.abs(dv[..., 2]) / dt
    v = np.nan_to_num(x[:, :, 3:5])
    speed = np.hypot(v[..., 0], v[..., 1])
    heading = np.arctan2(v[..., 1], v[..., 0])
    dpsi = np.angle(np.exp(1j * (heading[:, 1:] - heading[:, :-1])))
    turning = ok & (speed[:, 1:] >= TURN_MIN_SPEED) & (speed[:, :-1] >= TURN_MIN_SPEED)
    dp = np.nan_to_num(x[:, 1:, :2] - x[:, :-1, :2])
    step = np.where(ok, np.hypot(dp[..., 0], dp[..., 1]), 0.0)
    return {
        "ok": ok,
        "accel_h": accel_h,
        "accel_v": accel_v,
        "turn": dpsi / dt,
        "turning": turning,
        "step": step,
    }


def _straightness(x: FloatArray, valid: BoolArray, step: FloatArray) -> FloatArray:
    """Net horizontal displacement from the oldest to the newest valid state / path length."""
    n, w = valid.shape
    first = np.argmax(valid, axis=1)
    rows = np.arange(n)
    p_first = x[rows, first, :2]
    p_last = x[:, w - 1, :2]
    net = np.hypot(*(np.nan_to_num(p_last - p_first)).T)
    path = step.sum(axis=1)
    return np.divide(net, path, out=np.full(n, np.nan), where=path > 1e-9)


def _spread(x: FloatArray, valid: BoolArray) -> tuple[FloatArray, FloatArray]:
    """RMS horizontal spread (m) of the positions along and across their principal axis."""
    e, n = np.nan_to_num(x[..., 0]), np.nan_to_num(x[..., 1])
    me, mn = _mean(e, valid), _mean(n, valid)
    de = np.where(valid, e - np.nan_to_num(me)[:, None], 0.0)
    dn = np.where(valid, n - np.nan_to_num(mn)[:, None], 0.0)
    count = np.maximum(_count(valid), 1.0)
    sxx, syy, sxy = (de * de).sum(1) / count, (dn * dn).sum(1) / count, (de * dn).sum(1) / count
    half_trace = 0.5 * (sxx + syy)
    root = np.sqrt(np.maximum(half_trace**2 - (sxx * syy - sxy * sxy), 0.0))
    few = _count(valid) < 2
    major = np.where(few, np.nan, np.sqrt(np.maximum(half_trace + root, 0.0)))
    minor = np.where(few, np.nan, np.sqrt(np.maximum(half_trace - root, 0.0)))
    return major, minor


def _rcs_features(rcs: FloatArray | None, n: int) -> tuple[FloatArray, FloatArray]:
    """(mean dBsm, std dB) of the finite RCS values of each row; NaN with too few."""
    if rcs is None:
        return np.full(n, np.nan), np.full(n, np.nan)
    have = np.isfinite(rcs)
    enough = _count(have) >= MIN_RCS_PLOTS
    values = np.nan_to_num(rcs)
    return (
        np.where(enough, _mean(values, have), np.nan),
        np.where(enough, _std(values, have), np.nan),
    )


def window_features(
    t: FloatArray,
    x: FloatArray,
    measured: BoolArray,
    sigma: FloatArray | None = None,
    rcs: FloatArray | None = None,
    earth_radius_m: float = SITE_SPHERE_RADIUS_M,
) -> FloatArray:
    """Features (N, F) from states x (N, W, 6) at times t (N, W) (NaN = empty slot).

    measured (N, W): detection updates; sigma (N, W): position 1-sigma in metres (optional);
    rcs (N, W): RCS in dBsm of the plot of each update, NaN where none (optional);
    earth_radius_m: radius of the site sphere for the heights (inf: a flat earth, u is the
    height, as in the training renders whose lanes lie 100 km apart on a flat earth).
    """
    t = np.asarray(t, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    valid = np.isfinite(t)
    n, w = valid.shape
    out = np.full((n, N_FEATURES), np.nan)
    if n == 0:
        return out
    newest = np.where(valid, t, -np.inf).max(axis=1)
    oldest = np.where(valid, t, np.inf).min(axis=1)
    has = valid.any(axis=1)
    v = np.nan_to_num(x[..., 3:])
    speed = np.hypot(v[..., 0], v[..., 1])
    height, vz = height_above_site(np.nan_to_num(x[..., :3]), v, earth_radius_m)
    d = _differences(t, x, valid)
    short = np.zeros(w, bool)
    short[-SHORT:] = True
    short_d = short[1:] & short[:-1]
    ok, turning = d["ok"], d["turning"]
    span = np.where(has, newest - oldest, np.nan)
    straight = _straightness(x, valid, d["step"])
    path = d["step"].sum(axis=1)
    major, minor = _spread(x, valid)
    rcs_mean, rcs_std = _rcs_features(rcs, n)
    columns = {
        "span_s": span,
        "hit_fraction": _mean(measured.astype(np.float64), valid),
        "speed_mean": _mean(speed, valid),
        "speed_std": _std(speed, valid),
        "speed_max": _max(speed, valid),
        "speed_last": np.where(valid[:, -1], speed[:, -1], np.nan),
        "height_mean": _mean(height, valid),
        "height_std": _std(height, valid),
        "vz_mean": _mean(vz, valid),
        "vz_std": _std(vz, valid),
        "accel_h_mean": _mean(d["accel_h"], ok),
        "accel_h_max": _max(d["accel_h"], ok),
        "accel_v_mean": _mean(d["accel_v"], ok),
        "turn_rate_abs_mean": _mean(np.abs(d["turn"]), turning),
        "turn_rate_net": np.abs(_mean(d["turn"], turning)),
        "turn_rate_std": _std(d["turn"], turning),
        "straightness": straight,
        "hover_fraction": _mean((speed < HOVER_SPEED).astype(np.float64), valid),
        "speed_mean_short": _mean(speed, valid & short),
        "accel_h_mean_short": _mean(d["accel_h"], ok & short_d),
        "turn_rate_abs_short": _mean(np.abs(d["turn"]), turning & short_d),
        "net_speed": np.divide(
            np.nan_to_num(straight) * path, span, out=np.full(n, np.nan), where=span > 0
        ),
        "spread_major_m": major,
        "spread_minor_m": minor,
        "position_sigma_m": (
            _mean(np.nan_to_num(sigma), valid) if sigma is not None else np.full(n, np.nan)
        ),
        "rcs_mean_dbsm": rcs_mean,
        "rcs_std_db": rcs_std,
        **regularity_features(
            valid, speed, height, np.arctan2(v[..., 1], v[..., 0]), np.nan_to_num(x[..., :2])
        ),
    }
    for j, name in enumerate(FEATURE_NAMES):
        out[:, j] = columns[name]
    return out


def features_from_window(
    window: StateWindow, earth_radius_m: float = SITE_SPHERE_RADIUS_M
) -> FloatArray:
    """Features (N, F) of every track in a :class:`StateWindow`, rows in the window's order
    (``earth_radius_m``: see :func:`window_features`)."""
    return window_features(
        window.t, window.x, window.measured, window.sigma, window.rcs, earth_radius_m
    )
