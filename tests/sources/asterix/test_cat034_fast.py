"""The vectorised CAT034 path gives record-for-record what libasterix gives, on the real
files with CAT034 (the long captures on a slice: libasterix is the slow side)."""

from __future__ import annotations

import numpy as np
import pytest

from skywarden.sources.asterix.decoder import AsterixDecoder
from skywarden.sources.asterix.records import Cat034Records
from skywarden.sources.recordings.pcap import iter_frames, udp_datagrams
from tests.conftest import recording


def _same(decode) -> Cat034Records:
    fast, slow = AsterixDecoder(fast=True), AsterixDecoder(fast=False)
    a, b = decode(fast).cat034, decode(slow).cat034
    assert len(a) == len(b)
    for name, dtype in Cat034Records.dtypes().items():
        x, y = getattr(a, name), getattr(b, name)
        if dtype.kind == "f":
            np.testing.assert_allclose(x, y, rtol=0, atol=1e-9, err_msg=name)
        else:
            np.testing.assert_array_equal(x, y, err_msg=name)
    assert fast.rejects == slow.rejects
    return a


@pytest.mark.parametrize(
    ("name", "limit", "at_least"),
    [
        ("jmatiasbro-decoderasterix/260429.pcap", 1500, 1000),
        ("jmatiasbro-decoderasterix/cba_010626.pcap", 1500, 1000),  # 8-byte vendor trailers
        ("jmatiasbro-decoderasterix/UIS.pcap", None, 1),
        ("croatiacontrol-asterix/cat_034_048.pcap", None, 1),
    ],
)
def test_pcaps_record_for_record(shared_data, name, limit, at_least) -> None:
    data = recording(shared_data, name).read_bytes()
    grams = [d for d in udp_datagrams(iter_frames(data))][:limit]
    payloads, times = [d.payload for d in grams], [d.t for d in grams]
    records = _same(lambda dec: dec.decode_datagrams(payloads, times))
    assert len(records) >= at_least


@pytest.mark.parametrize(
    "name",
    [
        "croatiacontrol-asterix/cat034.raw",
        "hpuhr-jasterix/cat034ed1.26.bin",
        "goasterix/sample.ast",
    ],
)
def test_raw_files_record_for_record(shared_data, name) -> None:
    _same(lambda dec: dec.decode(recording(shared_data, name).read_bytes()))


def test_radar_position_and_rotation_period_on_the_real_feed(shared_data) -> None:
    data = recording(shared_data, "jmatiasbro-decoderasterix/260429.pcap").read_bytes()
    grams = [d for d in udp_datagrams(iter_frames(data))][:3000]
    r = AsterixDecoder().decode_datagrams([d.payload for d in grams], [d.t for d in grams]).cat034
    assert set(np.unique(r.message_type)) <= {1, 2, 3, 4, 5, 6, 7}
    north = r.message_type == 1
    assert north.any() and np.all(
        np.abs(np.diff(r.t[north]) - np.nanmedian(np.diff(r.t[north]))) < 1.0
    )
