"""The vectorised CAT062 path gives record-for-record what libasterix gives, on every real
CAT062 file in ../shared/data (the national feed on a slice: libasterix is the slow side)."""

from __future__ import annotations

import numpy as np
import pytest

from skywarden.sources.asterix.decoder import AsterixDecoder
from skywarden.sources.asterix.records import Cat062Records
from skywarden.sources.recordings.pcap import iter_frames, udp_datagrams
from tests.conftest import recording


def assert_same_records(fast: Cat062Records, reference: Cat062Records) -> None:
    assert len(fast) == len(reference)
    for name, dtype in Cat062Records.dtypes().items():
        a, b = getattr(fast, name), getattr(reference, name)
        if dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-9, err_msg=name)
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)


def _both(decode) -> tuple[AsterixDecoder, AsterixDecoder, Cat062Records, Cat062Records]:
    fast, slow = AsterixDecoder(fast=True), AsterixDecoder(fast=False)
    a, b = decode(fast).cat062, decode(slow).cat062
    assert_same_records(a, b)
    assert fast.rejects == slow.rejects
    assert fast.memory == slow.memory  # the same editions (number and class name) chosen
    return fast, slow, a, b


@pytest.mark.parametrize(
    ("name", "limit", "at_least"),
    [
        ("jmatiasbro-decoderasterix/fds260429.pcap", 700, 3000),
        ("croatiacontrol-asterix/asterix.pcap", None, 0),  # an old edition: rejected alike
        ("croatiacontrol-asterix/cat_062_065.pcap", None, 2),
    ],
)
def test_pcaps_record_for_record(shared_data, name, limit, at_least) -> None:
    data = recording(shared_data, name).read_bytes()
    grams = [d for d in udp_datagrams(iter_frames(data)) if d.payload[:1] == b"\x3e"][:limit]
    payloads, times = [d.payload for d in grams], [d.t for d in grams]
    *_, a, _ = _both(lambda dec: dec.decode_datagrams(payloads, times))
    assert len(a) >= at_least


@pytest.mark.parametrize(
    "name",
    [
        "croatiacontrol-asterix/cat062cat065.raw",
        "hpuhr-jasterix/cat062ed1.12.bin",
        "hpuhr-jasterix/cat062ed1.16.bin",
        "goasterix/sample.ast",
    ],
)
def test_raw_files_record_for_record(shared_data, name) -> None:
    data = recording(shared_data, name).read_bytes()
    _both(lambda dec: dec.decode(data))


def test_national_feed_fields(shared_data) -> None:
    """The evidence the issue names is there: Mode 3/A codes, flight levels, flight plans."""
    data = recording(shared_data, "jmatiasbro-decoderasterix/fds260429.pcap").read_bytes()
    grams = [d for d in udp_datagrams(iter_frames(data))][:700]
    r = AsterixDecoder().decode_datagrams([d.payload for d in grams], [d.t for d in grams]).cat062
    assert (r.mode3a_valid & (r.mode3a >= 0)).mean() > 0.9
    assert np.isfinite(r.pressure_altitude_m).mean() > 0.9
    assert np.isfinite(r.barometric_altitude_m).mean() > 0.9
    plan = r.has_flight_plan
    assert 0.1 < plan.mean() < 0.9 and (r.plan_callsign[plan] != "").all()
    assert set(r.wake_category[plan]) <= {"L", "M", "H", "J"}
    assert (r.plan_correlated == plan).all()
    assert not r.simulated.any()
