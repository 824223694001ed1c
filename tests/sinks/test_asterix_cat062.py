"""CAT062 out: skywarden's tracks encoded as system tracks decode back to the same tracks
(libasterix and the fast path), over a loopback UDP socket too."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace

import numpy as np
import pytest

from skywarden.geo import LocalFrame
from skywarden.sinks.asterix_cat062 import Cat062Sink, snapshot_to_cat062
from skywarden.snapshot import Snapshot
from skywarden.sources.asterix.decoder import AsterixDecoder
from skywarden.sources.asterix.encode_cat062 import (
    HEIGHT_LSB_M,
    POSITION_LSB_DEG,
    VELOCITY_LSB_MPS,
    encode_cat062,
)
from skywarden.sources.asterix.records import Cat062Records
from tests.store.snapshot_builders import SITE, make_tracks

T0 = 1_700_000_000.25


def snapshot() -> Snapshot:
    tracks = make_tracks([1, 3, 4, 5, 70_001], T0, classes=[1, 2, 3, 4, 0])
    status = np.array([1, 1, 2, 1, 0], np.int8)  # 5 clutter, 70001 tentative: not sent
    tracks = replace(tracks, status=status)
    return Snapshot(seq=1, t=T0, site=SITE, tracks=tracks)


def decoded(blocks: list[bytes], fast: bool) -> Cat062Records:
    return Cat062Records.concat(
        [AsterixDecoder(fast=fast).decode(b, reference_t=T0).cat062 for b in blocks]
    )


@pytest.mark.parametrize("fast", [True, False])
def test_tracks_decode_back_the_same(fast: bool):
    snap = snapshot()
    records, coasting = snapshot_to_cat062(snap)
    assert list(records.track_number) == [1, 3, 4]
    assert list(coasting) == [False, False, True]
    back = decoded(encode_cat062(records, coasting=coasting), fast)
    assert list(back.track_number) == [1, 3, 4]
    tr = snap.tracks
    np.testing.assert_allclose(back.lat_deg, tr.lat[:3], atol=POSITION_LSB_DEG / 2 + 1e-12)
    np.testing.assert_allclose(back.lon_deg, tr.lon[:3], atol=POSITION_LSB_DEG / 2 + 1e-12)
    np.testing.assert_allclose(back.geometric_height_m, tr.alt_m[:3], atol=HEIGHT_LSB_M / 2)
    np.testing.assert_allclose(back.vx_mps, records.vx_mps, atol=VELOCITY_LSB_MPS / 2)
    np.testing.assert_allclose(back.vy_mps, records.vy_mps, atol=VELOCITY_LSB_MPS / 2)
    np.testing.assert_allclose(back.sigma_x_m, 12.5)
    assert list(back.address) == [-1, 3, -1]  # icao:000003 on track 3 only
    assert list(back.callsign) == ["", "CS3", ""]
    np.testing.assert_allclose(back.tod_s, T0 % 86400, atol=1 / 256)
    # the velocity is the track's, in its local east/north
    frame = LocalFrame(*SITE)
    local = np.einsum("nji,nj->ni", frame.rotation_at(tr.lat[:3], tr.lon[:3]), tr.enu[:3, 3:])
    np.testing.assert_allclose(records.vx_mps, local[:, 0], atol=1e-9)


@pytest.mark.parametrize("fast", [True, False])
def test_mode3a_and_track_numbers_past_16_bits(fast: bool):
    cols = {"sac": [7], "sic": [9], "tod_s": [100.0], "track_number": [65_537 & 0xFFFF],
            "lat_deg": [-33.9], "lon_deg": [151.2], "mode3a": [0o7421]}  # fmt: skip
    back = decoded(encode_cat062(Cat062Records.from_columns(cols, 1)), fast)
    assert back.mode3a[0] == 0o7421 and back.mode3a_valid[0]
    assert (back.sac[0], back.sic[0], back.track_number[0]) == (7, 9, 1)
    assert np.isnan(back.vx_mps[0])  # no velocity: item left out


def test_sink_sends_over_udp_loopback():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5.0)
    port = sock.getsockname()[1]

    async def run():
        sink = Cat062Sink("127.0.0.1", port)
        await sink.start()
        assert sink.submit_tracks(snapshot())
        assert not sink.submit_tracks(snapshot())  # within interval_s: not again
        assert await sink.drain(10.0)
        await sink.close()
        return sink

    sink = asyncio.run(run())
    data = sock.recv(65536)
    sock.close()
    back = decoded([data], fast=True)
    assert list(back.track_number) == [1, 3, 4]
    assert sink.counters.datagrams == 1 and sink.counters.records == 3
