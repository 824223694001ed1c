"""Readers of the real trajectories, checked against independent decoders where one exists."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from skywarden.classify.trajectories import (
    cat048_trajectories,
    harrier_flight_samples,
    parrot_trajectory,
    read_tlog_positions,
    sbs_trajectories,
    tlog_trajectories,
    x25_crc,
)
from tests.conftest import recording

TLOG = "phoenix-uav-tlog/2018-09-17_16-44-06.tlog"


def test_x25_crc_check_value():
    assert x25_crc(b"123456789") == 0x6F91  # CRC-16/MCRF4XX check value


def test_tlog_positions_match_pymavlink(shared_data):
    mavutil = pytest.importorskip("pymavlink.mavutil")  # LGPL: test oracle only
    path = recording(shared_data, TLOG)
    rejects = Counter()
    ours = read_tlog_positions(path.read_bytes(), rejects)
    log = mavutil.mavlink_connection(str(path))
    theirs = []
    while (m := log.recv_match(type="GLOBAL_POSITION_INT")) is not None:
        theirs.append(
            (m.time_boot_ms / 1e3, m.lat / 1e7, m.lon / 1e7, m.alt / 1e3, m.relative_alt / 1e3)
        )
    assert ours.shape == (782, 5)
    assert np.allclose(ours, np.array(theirs))


def test_tlog_flight_is_a_slow_low_drone(shared_data):
    trajs = tlog_trajectories(recording(shared_data, TLOG))
    assert len(trajs) >= 3 and all(t.label == "drone" for t in trajs)
    p = np.concatenate([t.p for t in trajs])
    assert p[:, 2].min() >= 1.5 and p[:, 2].max() < 25.0


def test_parrot_and_sbs_and_harrier(shared_data):
    parrot = parrot_trajectory(
        recording(shared_data, "cdc-remoteidreceiver/parrot_anafi4_real.pcapng")
    )
    assert len(parrot) == 1 and parrot[0].p[:, 2].max() <= 11.0
    sbs = sbs_trajectories(recording(shared_data, "beastblackbox/beast_decoded_sbs.txt"))
    assert len({t.group for t in sbs}) == 11
    assert min(np.median(t.p[:, 2]) for t in sbs) > 150.0
    h = harrier_flight_samples(
        recording(shared_data, "inbo-bird-tracking/MH_WATERLAND_gps_586.csv")
    )
    assert h.shape[1] == 2 and 100 < h.shape[0] < 1000 and h[:, 0].min() >= 2.0


def test_cat048_trajectories_are_smooth_aircraft(shared_data):
    path = recording(shared_data, "upc-pgta-lebl/230502-est-080001_BCN_60MN_08_09.ast")
    trajs = cat048_trajectories(path, keep=lambda g: g.endswith(("0", "1")))
    assert 5 < len(trajs) < 60
    for tr in trajs:
        v = np.diff(tr.p, axis=0) / np.diff(tr.t)[:, None]
        speed = np.hypot(v[:, 0], v[:, 1])
        assert 30.0 < np.median(speed) < 320.0
