"""Beast binary framing: the real dump1090 recording, escapes, resync, chunking, fuzzing."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skywarden.sources.modes.beast import (
    MLAT_HZ,
    MODE_AC,
    MODE_S_LONG,
    MODE_S_SHORT,
    BeastDecoder,
    BeastFrames,
    decode_beast,
    encode_beast,
)
from tests.conftest import recording

BEAST = "beastblackbox/ulss7-beast-bin-utc--1522782148.136310917--.log"


@pytest.fixture(scope="module")
def beast_bytes(shared_data) -> bytes:
    return recording(shared_data, BEAST).read_bytes()


def _chunked(data: bytes, cuts: list[int]) -> tuple[BeastFrames, Counter, int]:
    decoder = BeastDecoder()
    bounds = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    parts = [decoder.feed(data[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    parts.append(decoder.flush())
    return BeastFrames.concat(parts), decoder.rejects, decoder.status_frames


def _same(a: BeastFrames, b: BeastFrames) -> bool:
    return (
        a.payload == b.payload
        and np.array_equal(a.frame_type, b.frame_type)
        and np.array_equal(a.mlat_ticks, b.mlat_ticks)
        and np.array_equal(a.signal, b.signal)
    )


def test_real_recording_frame_counts(beast_bytes):
    frames, rejects = decode_beast(beast_bytes)
    counts = Counter(frames.frame_type.tolist())
    assert len(frames) == 13_954
    assert counts == {MODE_AC: 5_026, MODE_S_SHORT: 4_942, MODE_S_LONG: 3_986}
    assert sum(rejects.values()) == 0
    assert {len(p) for p, k in zip(frames.payload, frames.frame_type, strict=True) if k == 3} == {
        14
    }
    # about a minute of 12 MHz counter time; dump1090 forwards some frames up to ~0.3 s late
    t = frames.times(1522782148.136310917)
    assert t[0] == pytest.approx(1522782148.136310917)
    assert np.diff(t).min() > -0.5 and 60.0 < t[-1] - t[0] < 62.0


def test_real_recording_reencodes_to_the_same_bytes(beast_bytes):
    frames, _ = decode_beast(beast_bytes)
    assert encode_beast(frames.payload, frames.mlat_ticks, frames.signal) == beast_bytes


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(0, 300_000), max_size=12))
def test_real_recording_chunking_invariant(beast_bytes, cuts):
    data = beast_bytes[:30_000]
    whole, whole_rejects = decode_beast(data)
    frames, rejects, _ = _chunked(data, cuts)
    assert _same(frames, whole)
    assert rejects == whole_rejects


def test_escaped_bytes_round_trip():
    payloads = [b"\x1a" * 7, bytes([0x8D, 0x1A, 0x1A, 0x1A]) + b"\x1a" * 10, b"\x1a\x00"]
    ticks = np.array([0x1A1A1A1A1A1A, 0x1A, 1 << 47])
    data = encode_beast(payloads, ticks, np.array([0x1A, 0x1A, 7]))
    frames, rejects = decode_beast(data)
    assert frames.payload == payloads
    assert frames.mlat_ticks.tolist() == ticks.tolist()
    assert frames.signal.tolist() == [0x1A, 0x1A, 7]
    assert sum(rejects.values()) == 0
    for cut in range(len(data) + 1):
        assert _same(_chunked(data, [cut])[0], frames)


def test_resynchronises_after_garbage_and_counts_reasons():
    good = encode_beast([bytes(range(1, 8)), bytes(range(20, 34))], np.array([5, 6]))
    status = b"\x1a4" + bytes(7 + 14)
    truncated = b"\x1a3" + bytes(5)  # a long frame cut short by the next frame
    data = b"garbage" + b"\x1a\x1a" + b"\x1aZ" + truncated + good + status + good[:10]
    decoder = BeastDecoder()
    frames = BeastFrames.concat([decoder.feed(data), decoder.flush()])
    assert frames.payload == [bytes(range(1, 8)), bytes(range(20, 34))]
    assert decoder.rejects["garbage_bytes"] == len(b"garbage") + 2 + 1  # + the "Z"
    assert decoder.rejects["bad_frame_type"] == 1
    assert decoder.rejects["truncated_frame"] == 2  # the cut frame and the partial tail
    assert decoder.status_frames == 1


def test_times_unwrap_the_48_bit_counter():
    frames = BeastFrames.from_lists([2, 2], [(1 << 48) - 12, 12], [0, 0], [bytes(7)] * 2)
    assert frames.times(100.0).tolist() == pytest.approx([100.0, 100.0 + 24 / MLAT_HZ])


def test_encode_rejects_bad_lengths():
    with pytest.raises(ValueError):
        encode_beast([b"\x00" * 5], np.array([0]))


_STREAM_BYTES = st.lists(
    st.one_of(st.sampled_from([0x1A, 0x31, 0x32, 0x33, 0x34]), st.integers(0, 255)),
    max_size=400,
).map(bytes)


@settings(max_examples=150, deadline=None)
@given(_STREAM_BYTES, st.lists(st.integers(0, 400), max_size=6))
def test_random_bytes_never_raise_and_chunking_does_not_matter(data, cuts):
    whole, whole_rejects = decode_beast(data)
    frames, rejects, status = _chunked(data, cuts)
    assert _same(frames, whole)
    whole_rejects.pop("status_frames", None)
    assert rejects == whole_rejects
    assert all(len(p) in (2, 7, 14) for p in frames.payload)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.integers(0, 20_000), st.integers(1, 200), st.lists(st.integers(0, 7), max_size=8))
def test_damaged_real_stream_never_raises(beast_bytes, start, length, flips):
    data = bytearray(beast_bytes[start : start + length * 20])
    for k, bit in enumerate(flips):
        if data:
            data[(k * 7919) % len(data)] ^= 1 << bit
    frames, rejects = decode_beast(bytes(data))
    assert all(len(p) in (2, 7, 14) for p in frames.payload)
