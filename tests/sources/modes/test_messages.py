"""Mode S / ADS-B decoding against independent oracles: dump1090's own decodes of the
beastblackbox recording, the pyModeS golden file and pyModeS itself (test-time only)."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict

import numpy as np
import pytest
import rs1090
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skywarden.detections import SourceKind, icao_identities
from skywarden.geo import LocalFrame
from skywarden.sources.modes import cpr
from skywarden.sources.modes import encode as modes_encode
from skywarden.sources.modes.beast import decode_beast, encode_beast
from skywarden.sources.modes.messages import ModeSMessages, decode_messages
from skywarden.sources.modes.sbs import decode_sbs
from skywarden.sources.modes.state import ModeSState, PositionReports, modes_to_detections
from tests.conftest import recording

BEAST = "beastblackbox/ulss7-beast-bin-utc--1522782148.136310917--.log"
BEAST_T0 = 1522782148.136310917  # the recording's start, from its file name


def _distance_m(lat1, lon1, lat2, lon2):
    """Haversine distance in metres (independent of the code under test)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - lon1)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * np.arcsin(np.sqrt(a))


@pytest.fixture(scope="module")
def beast_messages(shared_data) -> ModeSMessages:
    frames, _ = decode_beast(recording(shared_data, BEAST).read_bytes())
    mode_s = frames.mode_s()
    return decode_messages(mode_s.payload, mode_s.times(BEAST_T0))


@pytest.fixture(scope="module")
def beast_reports(beast_messages) -> PositionReports:
    return ModeSState().update(beast_messages)


def test_beast_positions_match_dump1090(shared_data, beast_reports):
    records, _ = decode_sbs(
        recording(shared_data, "beastblackbox/beast_decoded_sbs.txt").read_bytes()
    )
    ok = (records.transmission == 3) & ~np.isnan(records.lat_deg)
    theirs = defaultdict(list)
    for i in np.flatnonzero(ok):
        theirs[int(records.icao[i])].append((records.t[i], records.lat_deg[i], records.lon_deg[i]))
    r = beast_reports
    assert len(r) == np.count_nonzero(ok) == 1_456
    distances = []
    for i in range(len(r)):
        ref = np.array(theirs[int(r.icao[i])])
        j = np.argmin(np.abs(ref[:, 0] - r.t[i]))
        assert abs(ref[j, 0] - r.t[i]) < 0.01
        distances.append(_distance_m(r.lat_deg[i], r.lon_deg[i], ref[j, 1], ref[j, 2]))
    # dump1090 prints 5 decimals (<= 0.56 m in latitude, 0.28 m in longitude here)
    assert max(distances) < 1.0 and np.median(distances) < 0.5
    assert np.all(np.isfinite(r.altitude_m))
    # three aircraft send TC 18 (NUCp 0) and no operational status: accuracy unknown
    assert np.count_nonzero(r.nacp == 0) == 208 and set(r.nacp.tolist()) == {0, 7, 8, 9, 10}
    assert np.count_nonzero(~np.isnan(r.groundspeed_mps)) > 0.9 * len(r)
    assert "SDM6244" in set(r.callsign.tolist())


def test_all_icaos_of_the_recording_are_found(shared_data, beast_messages):
    text = recording(shared_data, "beastblackbox/ICAOs.txt").read_text()
    listed = {int(w, 16) for w in re.findall(r"\b[0-9A-F]{6}\b", text)}
    assert len(listed) == 11
    found = set(beast_messages.icao[beast_messages.address_verified].tolist())
    assert found == listed


def test_pymodes_golden_file(shared_data):
    golden = json.loads(recording(shared_data, "pymodes/golden_v2.json").read_text())
    hexes = list(golden)
    m = decode_messages([bytes.fromhex(h) for h in hexes], np.zeros(len(hexes)))
    assert len(m) == 600
    checked = defaultdict(int)
    for i, h in enumerate(hexes):
        g = golden[h]
        assert int(m.df[i]) == g["df"] and int(m.icao[i]) == int(g["icao"], 16)
        if "typecode" in g:
            assert int(m.tc[i]) == g["typecode"]
        if g.get("altitude") is not None:
            assert m.altitude_ft[i] == g["altitude"]
            checked["altitude"] += 1
        if g.get("callsign"):
            assert m.callsign[i] == g["callsign"].strip("_")
            checked["callsign"] += 1
        if g.get("typecode") == 11:
            assert int(m.cpr_odd[i]) == g["cpr_format"]
        if g.get("typecode") == 19:  # pyModeS truncates the speed to whole knots
            assert 0 <= m.groundspeed_kt[i] - g["groundspeed"] < 1
            assert m.track_deg[i] == pytest.approx(g["track"], abs=1e-9)
            assert m.vertical_rate_fpm[i] == g["vertical_rate"]
            checked["velocity"] += 1
        if g.get("squawk"):
            assert m.squawk[i] == int(g["squawk"])
            checked["squawk"] += 1
    assert checked == {"altitude": 385, "callsign": 13, "velocity": 14, "squawk": 200}


def _commb_agreement(golden: dict) -> dict:
    """Comm-B (DF20/21) fields where rs1090 and pyModeS infer the same register."""
    keys = {
        "bds50": [
            ("groundspeed", "groundspeed"),
            ("true_airspeed", "TAS"),
            ("true_track", "track"),
        ],
        "bds60": [("indicated_airspeed", "IAS"), ("mach", "Mach"), ("magnetic_heading", "heading")],
    }
    counts = defaultdict(int)
    decoded = rs1090.decode(list(golden))
    for g, ours in zip(golden.values(), decoded, strict=True):
        for register in (g.get("bds") or "").lower().replace("bds", "bds").split(","):
            sub = ours.get(register) if register in keys else None
            if not sub:
                continue
            for theirs, mine in keys[register]:
                if theirs in g:
                    assert sub[mine] == pytest.approx(g[theirs], abs=1e-9)
                    counts[register] += 1
            if register == "bds60":  # rs1090 gives 0 where pyModeS gives -32 (1 LSB)
                for theirs, mine in (
                    ("baro_vertical_rate", "vrate_barometric"),
                    ("inertial_vertical_rate", "vrate_inertial"),
                ):
                    if theirs in g:
                        assert abs(sub[mine] - g[theirs]) <= 32
    return counts


def test_pymodes_golden_comm_b_speeds(shared_data):
    golden = json.loads(recording(shared_data, "pymodes/golden_v2.json").read_text())
    counts = _commb_agreement(golden)
    assert counts["bds50"] >= 300 and counts["bds60"] >= 400


def _adsb_sample(shared_data):
    with recording(shared_data, "pymodes/sample_data_adsb.csv").open() as fh:
        rows = list(csv.reader(fh))
    t = np.array([float(r[0]) for r in rows])
    return [r[1].lower() for r in rows], t


def test_sample_adsb_positions_against_pymodes(shared_data):
    import pyModeS

    hexes, t = _adsb_sample(shared_data)
    m = decode_messages([bytes.fromhex(h) for h in hexes], t)
    positions = np.flatnonzero(m.is_airborne_position())
    assert len(positions) == 937
    state = ModeSState()
    causal = state.update(m)
    # Four odd frames arrive before the first even one: a causal decoder cannot place them
    # without a reference. pyModeS' batch mode resolves them after the fact (937).
    first_even = positions[~m.cpr_odd[positions]][0]
    assert np.count_nonzero(positions < first_even) == 4
    assert len(causal) == 933 and state.unresolved == 4
    with_receiver = ModeSState(receiver=(51.99, 4.37)).update(m)  # pyModeS' test receiver
    assert len(with_receiver) == 937
    # oracle: pyModeS decoding each frame alone against the receiver (~210 km away).
    # (pyModeS' batch mode, which resolves 937 too, reports for a frame the position of a
    # nearby frame when the 1-s timestamps tie, up to 2.5 km away, so it is not used here.)
    theirs = [pyModeS.decode(hexes[i], reference=(51.99, 4.37)) for i in positions]
    ref = np.array([(d["latitude"], d["longitude"]) for d in theirs])
    gap = _distance_m(with_receiver.lat_deg, with_receiver.lon_deg, ref[:, 0], ref[:, 1])
    assert gap.max() < 0.01
    # and rs1090's own pair resolution agrees wherever it places a frame
    rs = rs1090.decode(hexes, t.tolist())
    rs_pos = np.array(
        [(rs[i].get("latitude", np.nan), rs[i].get("longitude", np.nan)) for i in positions]
    )
    both = ~np.isnan(rs_pos[:, 0])
    assert np.count_nonzero(both) > 700
    gap = _distance_m(with_receiver.lat_deg[both], with_receiver.lon_deg[both], *rs_pos[both].T)
    assert gap.max() < 0.01


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(1, 8_927), max_size=6))
def test_state_gives_the_same_reports_however_batches_are_cut(beast_messages, beast_reports, cuts):
    state = ModeSState()
    bounds = [0, *sorted(cuts), len(beast_messages)]
    parts = [
        state.update(_slice(beast_messages, a, b))
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    for name in ("t", "icao", "lat_deg", "lon_deg", "altitude_m", "groundspeed_mps", "nacp"):
        got = np.concatenate([getattr(p, name) for p in parts])
        assert np.array_equal(got, getattr(beast_reports, name), equal_nan=True), name
    assert np.concatenate([p.callsign for p in parts]).tolist() == beast_reports.callsign.tolist()


def _slice(m: ModeSMessages, a: int, b: int) -> ModeSMessages:
    return ModeSMessages(**{k: getattr(m, k)[a:b] for k in ModeSMessages.__slots__})


_LAT = st.floats(-86.0, 86.0)
_LON = st.floats(-179.999, 179.999)
CPR_STEPS = 2**17  # airborne CPR: 17-bit fractions of a zone


def _cpr_error_bound_m(lat: float) -> float:
    """Largest distance (m) a 17-bit airborne CPR position can be from the true one: half a
    latitude step (6 deg / 2^17, the even zone: the larger one) and half a longitude step
    (360 deg / max(NL - 1, 1) / 2^17, shrinking with cos(lat)), plus 1 % for the sphere."""
    metres_per_deg = 2 * np.pi * 6_371_000.0 / 360.0
    lat_step = 360.0 / 59 / CPR_STEPS * metres_per_deg
    zones = max(int(cpr.number_of_longitude_zones(np.array([lat]))[0]) - 1, 1)
    lon_step = 360.0 / zones / CPR_STEPS * metres_per_deg * np.cos(np.radians(lat))
    return 1.01 * 0.5 * float(np.hypot(lat_step, lon_step))


@settings(max_examples=200, deadline=None)
@given(_LAT, _LON, st.floats(-1000, 50000), st.integers(0, 0xFFFFFF))
def test_position_encoding_round_trips_through_rs1090(lat, lon, alt, icao):
    even = modes_encode.airborne_position([icao], [lat], [lon], [alt], [False])
    odd = modes_encode.airborne_position([icao], [lat], [lon], [alt], [True])
    pair = modes_encode.as_payloads(np.vstack([even, odd]))
    decoded = rs1090.decode([p.hex() for p in pair], [0.0, 1.0])  # rs1090 resolves the pair
    assert decoded[1]["icao24"] == f"{icao:06x}"
    assert decoded[1]["altitude"] == pytest.approx(alt, abs=12.5)
    bound = _cpr_error_bound_m(lat)  # about 3.7 m at the equator, 5.3 m near 86 deg
    assert _distance_m(lat, lon, decoded[1]["latitude"], decoded[1]["longitude"]) < bound
    # and our own CPR maths, globally and locally
    m = decode_messages(pair, np.array([0.0, 1.0]))
    glat, glon = cpr.decode_global(m.cpr_lat[0], m.cpr_lon[0], m.cpr_lat[1], m.cpr_lon[1], True)
    assert _distance_m(lat, lon, glat, glon) < bound
    llat, llon = cpr.decode_local(m.cpr_lat, m.cpr_lon, m.cpr_odd, lat + 0.5, lon - 0.5)
    assert np.all(_distance_m(lat, lon, llat, llon) < bound)


@settings(max_examples=100, deadline=None)
@given(st.floats(-900, 900), st.floats(-900, 900), st.floats(-6000, 6000), st.floats(-3000, 3000))
def test_velocity_encoding_round_trips(east, north, vrate, gmb):
    msg = modes_encode.airborne_velocity([0x123456], [east], [north], [vrate], [gmb])
    m = decode_messages(modes_encode.as_payloads(msg), np.zeros(1))
    ve = m.groundspeed_kt[0] * np.sin(np.radians(m.track_deg[0]))
    vn = m.groundspeed_kt[0] * np.cos(np.radians(m.track_deg[0]))
    assert abs(ve - east) <= 0.5 + 1e-6 and abs(vn - north) <= 0.5 + 1e-6
    assert abs(m.vertical_rate_fpm[0] - vrate) <= 32.0 + 1e-6
    if abs(gmb) >= 12.5:  # rs1090 reports a zero difference as None
        assert abs(m.geo_minus_baro_ft[0] - gmb) <= 12.5 + 1e-6


@given(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=8))
@settings(max_examples=50, deadline=None)
def test_identification_round_trips(callsign):
    msg = modes_encode.identification([0xABCDEF], [callsign])
    assert decode_messages(modes_encode.as_payloads(msg), np.zeros(1)).callsign[0] == callsign


def test_simulated_beast_stream_decodes_to_the_truth():
    """The simulator path: truth -> DF17 -> Beast bytes -> deframe -> decode -> positions."""
    n = 40
    t = np.arange(n) * 0.5
    lat = 47.0 + 0.0005 * np.arange(n)
    lon = 8.0 + 0.0008 * np.arange(n)
    icao = np.full(n, 0x4B1234)
    pos = modes_encode.airborne_position(icao, lat, lon, np.full(n, 12000.0), np.arange(n) % 2 == 1)
    vel = modes_encode.airborne_velocity(icao, np.full(n, 200.0), np.full(n, 100.0), np.zeros(n))
    ident = modes_encode.identification(icao[:1], ["SWR123"])
    msgs = modes_encode.as_payloads(np.vstack([ident, pos, vel]))
    ticks = (np.r_[0.0, t, t + 0.1] * 12e6).astype(np.int64)
    order = np.argsort(ticks, kind="stable")
    data = encode_beast([msgs[i] for i in order], ticks[order])
    frames, _ = decode_beast(data)
    reports = ModeSState().update(decode_messages(frames.payload, frames.times(1000.0)))
    assert len(reports) == n - 1  # the first frame has no partner yet
    assert np.all(_distance_m(lat[1:], lon[1:], reports.lat_deg, reports.lon_deg) < 5.0)
    assert set(reports.callsign.tolist()) == {"SWR123"}
    frame = LocalFrame(47.0, 8.0, 400.0)
    det = modes_to_detections(reports, frame)
    assert len(det) == n - 1 and np.all(det.kind == SourceKind.ADSB)
    assert np.all(det.identity == icao_identities(np.array([0x4B1234]))[0])
    speed = np.hypot(det.v[1:, 0], det.v[1:, 1])
    assert speed == pytest.approx(np.hypot(200.0, 100.0) * 1852 / 3600, rel=0.01)


def test_beast_detections(beast_reports):
    det = modes_to_detections(beast_reports, LocalFrame(60.0, 33.0, 0.0), sensor=2)
    assert len(det) == len(beast_reports)
    assert np.all(np.linalg.eigvalsh(det.R) > 0) and np.all(det.sensor == 2)
    sigma_h = np.sqrt(det.R[:, 0, 0])
    known = beast_reports.nacp > 0
    assert np.all((sigma_h[known] > 1.0) & (sigma_h[known] < 300.0))  # NACp 6..10
    assert np.all(sigma_h[~known] > 10_000.0)  # NACp 0: geo's "no information" sigma


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.binary(min_size=0, max_size=16), max_size=30), st.integers(0, 2**32 - 1))
def test_random_and_damaged_messages_never_raise(beast_messages, junk, seed):
    rng = np.random.default_rng(seed)
    real = [bytes.fromhex(h) for h in ("8d406b9058b975870b738754f480", "5f4001594b0fbb")]
    damaged = []
    for p in real * 3:
        b = bytearray(p[: rng.integers(1, len(p) + 1)])
        b[rng.integers(len(b))] ^= 1 << int(rng.integers(8))
        damaged.append(bytes(b))
    payloads = junk + damaged + real
    m = decode_messages(payloads, np.arange(len(payloads), dtype=float))
    state = ModeSState(receiver=(52.0, 4.0))
    state.update(m)
    reports = state.update(m)
    assert np.all(np.abs(reports.lat_deg) <= 90.0)
