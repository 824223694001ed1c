"""Hypothesis: the decoder never raises on random, truncated or bit-flipped input, and a
stream of blocks gives the same records however it is split into chunks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skywarden.sources.asterix.decoder import AsterixDecoder, AsterixRecords
from skywarden.sources.recordings.pcap import iter_frames, udp_datagrams
from tests.conftest import SHARED_DATA

FUZZ = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])


def _real_blocks() -> bytes:
    parts = []
    path = SHARED_DATA / "croatiacontrol-asterix/cat_034_048.pcap"
    if path.is_file():
        parts += [d.payload for d in udp_datagrams(iter_frames(path.read_bytes()))][:12]
    for name in (
        "hpuhr-jasterix/cat021ed0.26.bin",
        "hpuhr-jasterix/cat021ed2.1.bin",
        "hpuhr-jasterix/cat062ed1.16.bin",
    ):
        if (SHARED_DATA / name).is_file():
            parts.append((SHARED_DATA / name).read_bytes())
    return b"".join(parts)


REAL = _real_blocks()
needs_real = pytest.mark.skipif(not REAL, reason="real recordings not found in ../shared/data")


def _records_equal(a: AsterixRecords, b: AsterixRecords) -> None:
    for cat in ("cat048", "cat021", "cat062", "cat034"):
        x, y = getattr(a, cat), getattr(b, cat)
        assert len(x) == len(y)
        for name, dtype in type(x).dtypes().items():
            if name == "block":
                continue
            u, v = getattr(x, name), getattr(y, name)
            if dtype.kind == "f":
                np.testing.assert_array_equal(np.isnan(u), np.isnan(v))
                np.testing.assert_allclose(u[~np.isnan(u)], v[~np.isnan(v)], rtol=1e-12, atol=1e-9)
            else:
                np.testing.assert_array_equal(u, v)


@FUZZ
@given(st.binary(max_size=400), st.booleans())
def test_random_bytes_never_raise(data, fast) -> None:
    decoder = AsterixDecoder(fast=fast)
    decoder.decode(data)
    decoder.feed(data)
    assert all(v > 0 for v in decoder.rejects.values())


@FUZZ
@given(st.binary(min_size=1, max_size=120), st.sampled_from([21, 34, 48, 62]), st.booleans())
def test_random_records_in_supported_categories_never_raise(body, cat, fast) -> None:
    block = bytes([cat]) + (len(body) + 3).to_bytes(2, "big") + body
    fast_dec, slow_dec = AsterixDecoder(fast=True), AsterixDecoder(fast=False)
    _records_equal(fast_dec.decode(block), slow_dec.decode(block))
    assert fast_dec.rejects == slow_dec.rejects


@needs_real
@FUZZ
@given(st.data())
def test_truncated_and_bit_flipped_real_blocks(data) -> None:
    cut = data.draw(st.integers(0, len(REAL)))
    flips = data.draw(st.lists(st.integers(0, len(REAL) * 8 - 1), max_size=6))
    buf = bytearray(REAL[:cut])
    for bit in flips:
        if bit // 8 < len(buf):
            buf[bit // 8] ^= 1 << (bit % 8)
    fast, slow = AsterixDecoder(fast=True), AsterixDecoder(fast=False)
    a, b = fast.decode(bytes(buf)), slow.decode(bytes(buf))
    _records_equal(a, b)  # the fast path agrees with libasterix even on damaged input
    assert fast.rejects == slow.rejects
    for batch in (a.cat048, a.cat021, a.cat062):
        lat = getattr(batch, "lat_deg", np.zeros(0))
        assert np.all(np.abs(np.nan_to_num(lat)) <= 90.0)


@needs_real
@FUZZ
@given(st.lists(st.integers(1, len(REAL) or 1), max_size=8, unique=True))
def test_stream_chunking_gives_same_records(cuts) -> None:
    whole = AsterixDecoder()
    expected = whole.decode(REAL)
    stream = AsterixDecoder()
    edges = [0, *sorted(cuts), len(REAL)]
    parts = [stream.feed(REAL[a:b]) for a, b in zip(edges, edges[1:], strict=False)]
    _records_equal(AsterixRecords.concat(parts), expected)
    assert stream.blocks == whole.blocks and stream.rejects == whole.rejects
