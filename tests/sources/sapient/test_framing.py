"""SAPIENT TCP framing: little-endian length prefix, split invariance, bad lengths counted."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from skywarden.sources.sapient.framing import FrameDecoder, frame


def test_frame_is_little_endian_length_then_payload():
    assert frame(b"abc") == b"\x03\x00\x00\x00abc"


@given(st.lists(st.binary(min_size=1, max_size=300), max_size=8), st.data())
def test_same_payloads_however_the_stream_is_split(payloads, data):
    stream = b"".join(frame(p) for p in payloads)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    decoder, out, last = FrameDecoder(), [], 0
    for cut in [*cuts, len(stream)]:
        out += decoder.feed(stream[last:cut])
        last = cut
    assert out == payloads
    assert not decoder.rejects


@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(data):
    FrameDecoder(max_message_bytes=4096).feed(data)


def test_too_long_frame_is_counted_and_the_stream_waits_for_a_new_connection():
    decoder = FrameDecoder(max_message_bytes=100)
    assert decoder.feed(frame(b"ok") + struct.pack("<I", 101) + b"x" * 10) == [b"ok"]
    assert decoder.rejects["frame_too_long"] == 1
    assert decoder.feed(frame(b"later")) == []
    assert decoder.rejects["chunk_after_lost_frame"] == 1
    decoder.reset()
    assert decoder.feed(frame(b"again")) == [b"again"]


def test_empty_frame_is_counted():
    decoder = FrameDecoder()
    assert decoder.feed(frame(b"") + frame(b"x")) == [b"x"]
    assert decoder.rejects["frame_empty"] == 1
