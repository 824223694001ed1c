"""ADS-B (CAT021, Beast, SBS) and Remote ID recordings decoded back and compared with truth.

Each decoded report is matched to the truth row of its target (from the ICAO address or the
Remote ID serial) at its report time, and must equal it within the wire quantisation.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from skywarden.simulate import build_scenario
from skywarden.simulate.emit import write_scenario_recordings
from skywarden.simulate.emit_radar import height_to_pressure_altitude_m
from skywarden.simulate.emit_site import (
    ADSB_ASTERIX,
    BEAST,
    NON_COOPERATIVE_KINDS,
    REMOTE_ID,
    SBS,
    SiteSetup,
    target_of_serial,
)
from skywarden.sources.asterix.decoder import decode_capture
from skywarden.sources.asterix.detections import cat021_to_detections
from skywarden.sources.modes.beast import decode_beast
from skywarden.sources.modes.messages import decode_messages
from skywarden.sources.modes.sbs import decode_sbs, sbs_to_detections
from skywarden.sources.modes.state import ModeSState, modes_to_detections
from skywarden.sources.remote_id import transports as remote_id_transport
from skywarden.sources.remote_id.reports import assemble_reports, remote_id_to_detections
from skywarden.units import FT

SCENARIOS = {"mixed": dict(seed=4, n_scans=40), "swarm": dict(seed=6, n_scans=30)}
CHANNELS = [ADSB_ASTERIX, BEAST, SBS, REMOTE_ID]


class Recorded:
    def __init__(self, name: str, out) -> None:
        self.scenario = build_scenario(name, **SCENARIOS[name])
        self.setup = SiteSetup(lat_deg=-33.86, lon_deg=151.21, h_m=35.0, start_posix=1.7e9 + 0.5)
        self.paths = write_scenario_recordings(self.scenario, self.setup, out, CHANNELS)
        sc = self.scenario
        self._row = {
            (int(k), round(float(t), 3)): i
            for i, (k, t) in enumerate(zip(sc.truth_id, self.setup.posix(sc.truth_t), strict=True))
        }

    def truth_rows(self, target: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Truth row of each (target, POSIX time); KeyError if there is none."""
        return np.array(
            [self._row[(int(k), round(float(x), 3))] for k, x in zip(target, t, strict=True)],
            dtype=np.int64,
        )

    def rows_of(self, target_class: str) -> np.ndarray:
        """Truth rows of one class that emit (the mixed scenario has aircraft and drones;
        swarm only drones, so its ADS-B recordings are empty; munitions, gliders and
        ultralights emit nothing)."""
        sc = self.scenario
        silent = np.isin(sc.target_kind[sc.truth_id], NON_COOPERATIVE_KINDS)
        rows = np.flatnonzero((sc.target_class[sc.truth_id] == target_class) & ~silent)
        assert rows.size > 0 or (sc.name, target_class) == ("swarm", "aircraft")
        return rows


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def recorded(request, tmp_path_factory) -> Recorded:
    return Recorded(request.param, tmp_path_factory.mktemp(request.param))


def horizontal_and_vertical(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    if a.size == 0:
        return 0.0, 0.0
    return float(np.linalg.norm(a[:, :2] - b[:, :2], axis=1).max()), float(
        np.abs(a[:, 2] - b[:, 2]).max()
    )


def test_cat021_reports_every_aircraft_truth_row(recorded):
    sc, setup = recorded.scenario, recorded.setup
    records, decoder = decode_capture(recorded.paths[ADSB_ASTERIX].read_bytes())
    reports = records.cat021
    assert not decoder.rejects
    assert len(reports) == recorded.rows_of("aircraft").size
    target = setup.target_of_icao(reports.address)
    assert np.all(sc.target_class[target] == "aircraft")
    assert reports.callsign.tolist() == [f"SWD{k:04d}" for k in target]
    assert set(reports.nacp) <= {setup.nacp}
    det = cat021_to_detections(reports, setup.frame)
    rows = recorded.truth_rows(target, det.t)  # report time = truth time (I021/071)
    assert sorted(rows) == recorded.rows_of("aircraft").tolist()
    h, v = horizontal_and_vertical(det.z, sc.truth_state[rows, :3])
    assert h < 0.02  # 180/2^30 deg
    assert v <= 3.125 * FT + 1e-3  # half of 6.25 ft
    assert np.array_equal(setup.icao_address(target) | (1 << 60), det.identity)


def decode_beast_file(recorded) -> tuple:
    frames, rejects = decode_beast(recorded.paths[BEAST].read_bytes())
    t = frames.times(recorded.setup.start_posix, 0)
    messages = decode_messages(frames.mode_s().payload, t, rejects)
    state = ModeSState()
    return state.update(messages), state, rejects


def test_beast_positions_resolve_to_the_truth(recorded):
    sc, setup = recorded.scenario, recorded.setup
    reports, state, rejects = decode_beast_file(recorded)
    assert sum(rejects.values()) == 0 and sum(state.rejects.values()) == 0
    aircraft_rows = recorded.rows_of("aircraft")
    n_aircraft = np.unique(sc.truth_id[aircraft_rows]).size
    # the first position of each aircraft waits for its opposite-parity CPR partner
    assert len(reports) == aircraft_rows.size - n_aircraft
    assert state.unresolved == n_aircraft
    det = modes_to_detections(reports, setup.frame)
    rows = recorded.truth_rows(setup.target_of_icao(reports.icao), reports.t)
    h, v = horizontal_and_vertical(det.z, sc.truth_state[rows, :3])
    assert h < 4.0  # CPR: 360/60/2^17 deg of latitude ~ 5.1 m per LSB
    assert v <= 25 * FT + 1e-3  # 25 ft baro + 25 ft GNSS-minus-baro steps
    assert np.all(reports.altitude_geometric)


def test_sbs_lines_give_the_truth_at_the_pressure_altitude(recorded):
    sc, setup = recorded.scenario, recorded.setup
    records, rejects = decode_sbs(recorded.paths[SBS].read_bytes())
    assert sum(rejects.values()) == 0
    assert len(records) == 2 * recorded.rows_of("aircraft").size
    det = sbs_to_detections(records, setup.frame)
    assert len(det) == recorded.rows_of("aircraft").size
    target = setup.target_of_icao(det.identity & 0xFFFFFF)
    rows = recorded.truth_rows(target, det.t)
    truth = sc.truth_state[rows, :3]
    lat, lon, h_truth = setup.frame.enu_to_geodetic(truth)
    # SBS altitude is the pressure altitude, used as height: compare with that height
    at_pressure = setup.frame.geodetic_to_enu(lat, lon, height_to_pressure_altitude_m(h_truth))
    h, v = horizontal_and_vertical(det.z, at_pressure)
    assert h < 0.8  # 1e-5 deg
    assert v <= 0.5 * FT + 0.01
    assert np.all(np.isfinite(det.v))


def test_remote_id_serials_and_positions(recorded):
    sc, setup = recorded.scenario, recorded.setup
    rejects: Counter[str] = Counter()
    messages = remote_id_transport.decode_capture(recorded.paths[REMOTE_ID].read_bytes(), rejects)
    reports = assemble_reports(messages, rejects)
    assert not rejects
    drone_rows = recorded.rows_of("drone")
    assert len(messages) == 3 * drone_rows.size  # Basic ID + Location + System per beacon
    assert len(reports) == drone_rows.size
    target = np.array([target_of_serial(r.uas_id) for r in reports])
    assert np.all(sc.target_class[target] == "drone")
    assert {r.address for r in reports if target_of_serial(r.uas_id) == 0} <= {"02:53:49:4d:00:00"}
    t = np.array([r.t for r in reports])
    rows = recorded.truth_rows(target, t)  # report time = Location timestamp = truth time
    assert sorted(rows) == drone_rows.tolist()
    lat, lon, h = setup.frame.enu_to_geodetic(sc.truth_state[rows, :3])
    np.testing.assert_allclose([r.lat_deg for r in reports], lat, rtol=0, atol=0.5e-7 + 1e-12)
    np.testing.assert_allclose([r.lon_deg for r in reports], lon, rtol=0, atol=0.5e-7 + 1e-12)
    np.testing.assert_allclose(
        [r.geodetic_altitude_m for r in reports], h, rtol=0, atol=0.25 + 1e-9
    )
    assert all(r.eu_class == 2 and math.isfinite(r.operator_lat_deg) for r in reports)
    det = remote_id_to_detections(reports, setup.frame)
    hor, ver = horizontal_and_vertical(det.z, sc.truth_state[rows, :3])
    assert hor < 0.015 and ver <= 0.25 + 1e-6
    speed = np.linalg.norm(sc.truth_state[rows, 3:5], axis=1)
    np.testing.assert_allclose(
        np.linalg.norm(np.nan_to_num(det.v[:, :2]), axis=1), speed, rtol=0, atol=0.8
    )


def test_recording_timestamps_are_send_times(recorded):
    sc, setup = recorded.scenario, recorded.setup
    rejects: Counter[str] = Counter()
    messages = remote_id_transport.decode_capture(recorded.paths[REMOTE_ID].read_bytes(), rejects)
    reports = assemble_reports(messages)
    delay = np.array([r.t_receive - r.t for r in reports])
    assert np.all((delay >= 0.02 - 0.05) & (delay <= 0.22 + 0.05))  # 0.1 s timestamps
    assert np.all(np.diff([m.t for m in messages]) >= 0)
    start = setup.posix(sc.times[0])
    assert all(m.t >= start for m in messages)
