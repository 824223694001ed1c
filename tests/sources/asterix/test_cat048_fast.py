"""The vectorised CAT048 path gives record-for-record what libasterix gives, on real files."""

from __future__ import annotations

import numpy as np
import pytest

from skywarden.sources.asterix.decoder import AsterixDecoder
from skywarden.sources.asterix.records import Cat048Records
from skywarden.sources.asterix.structure import compile_record, walk_blocks
from skywarden.sources.recordings.pcap import iter_frames, udp_datagrams
from tests.conftest import recording


def assert_same_records(fast: Cat048Records, reference: Cat048Records) -> None:
    assert len(fast) == len(reference)
    for name, dtype in Cat048Records.dtypes().items():
        a, b = getattr(fast, name), getattr(reference, name)
        if dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-9, err_msg=name)
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)


def both_ways(
    payloads: list[bytes], times: list[float]
) -> tuple[AsterixDecoder, AsterixDecoder, Cat048Records, Cat048Records]:
    fast, slow = AsterixDecoder(fast=True), AsterixDecoder(fast=False)
    a = fast.decode_datagrams(payloads, times).cat048
    b = slow.decode_datagrams(payloads, times).cat048
    return fast, slow, a, b


def test_barcelona_record_for_record(shared_data) -> None:
    data = recording(shared_data, "upc-pgta-lebl/230502-est-080001_BCN_60MN_08_09.ast").read_bytes()
    part = data[:250_000]  # ~4,000 records (libasterix is the slow side)
    fast, slow = AsterixDecoder(fast=True), AsterixDecoder(fast=False)
    a = fast.decode(part, 1683028800.0).cat048
    b = slow.decode(part, 1683028800.0).cat048
    assert len(a) > 3000
    assert_same_records(a, b)
    assert fast.rejects == slow.rejects
    assert fast.memory == slow.memory  # the same editions (number and class name) chosen


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("croatiacontrol-asterix/cat_034_048.pcap", None),
        ("jmatiasbro-decoderasterix/UIS.pcap", None),
        ("jmatiasbro-decoderasterix/cba_010626.pcap", 1500),
        ("jmatiasbro-decoderasterix/260429.pcap", 1500),
    ],
)
def test_pcaps_record_for_record(shared_data, name, limit) -> None:
    data = recording(shared_data, name).read_bytes()
    datagrams = [d for d in udp_datagrams(iter_frames(data)) if d.payload[:1] == b"\x30"][:limit]
    fast, slow, a, b = both_ways([d.payload for d in datagrams], [d.t for d in datagrams])
    assert len(a) >= len(datagrams)
    assert_same_records(a, b)
    assert fast.rejects == slow.rejects


def test_sample_ast_record_for_record(shared_data) -> None:
    data = recording(shared_data, "goasterix/sample.ast").read_bytes()
    fast, slow = AsterixDecoder(fast=True), AsterixDecoder(fast=False)
    assert_same_records(fast.decode(data).cat048, slow.decode(data).cat048)
    assert fast.rejects == slow.rejects


def test_walker_rejects_what_libasterix_rejects(shared_data) -> None:
    """Truncating a real block's records by one byte fails both decoders alike."""
    data = recording(shared_data, "croatiacontrol-asterix/cat_034_048.pcap").read_bytes()
    payloads = [d.payload for d in udp_datagrams(iter_frames(data)) if d.payload[:1] == b"\x30"]
    broken = []
    for p in payloads[:20]:
        n = int.from_bytes(p[1:3], "big")
        body = p[3 : n - 1]
        broken.append(bytes([48]) + (len(body) + 3).to_bytes(2, "big") + body)
    fast, slow, a, b = both_ways(broken, [0.0] * len(broken))
    assert_same_records(a, b)
    assert fast.rejects == slow.rejects and fast.rejects["undecodable_block"] > 0


def test_walk_blocks_multiple_records_per_block() -> None:
    from asterix.generated import Cat_048_1_32

    rec = Cat_048_1_32.cv_record.create(
        {"010": (("SAC", 1), ("SIC", 2)), "040": (("RHO", 100), ("THETA", 7))}
    )
    block = Cat_048_1_32.create([rec, rec, rec]).unparse().to_bytes()
    layout = compile_record(Cat_048_1_32.cv_record)
    buf = np.frombuffer(block * 2 + bytes(16), np.uint8)
    first = np.array([3, len(block) + 3])
    walked = walk_blocks(layout, buf, first, first - 3 + len(block))
    assert walked.block.tolist() == [0, 0, 0, 1, 1, 1]
    assert walked.block_ok.all()
