"""walk_blocks guesses the next records of a block at the last record's length; what it keeps
must be exactly what a record-by-record walk finds, whatever mix of records, lengths,
truncations and garbage the blocks hold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.sources.asterix.structure import (
    WalkedRecords,
    _walk_records,
    compile_record,
    walk_blocks,
)
from tests.conftest import recording


def walk_one_by_one(layout, buf: np.ndarray, first: np.ndarray, end: np.ndarray):
    """The reference: the k-th record of every block in round k (no guessing). Also returns
    each record's start offset."""
    n = first.shape[0]
    block_ok, block_supported = np.ones(n, bool), np.ones(n, bool)
    pos, end = first.astype(np.int64).copy(), end.astype(np.int64)
    active = np.flatnonzero(pos < end)
    blocks, starts, record_at = [], [], []
    while active.size:
        p, ok, sup, s = _walk_records(layout, buf, pos[active], end[active])
        block_ok[active[~ok]] = False
        block_supported[active[~sup]] = False
        blocks.append(active)
        starts.append(s)
        record_at.append(pos[active].copy())
        pos[active] = p
        active = active[ok & sup & (p < end[active])]
    block = np.concatenate(blocks) if blocks else np.zeros(0, np.int64)
    order = np.argsort(block, kind="stable")
    s = np.concatenate(starts) if starts else np.zeros((0, len(layout.nodes)), np.int64)
    at = np.concatenate(record_at) if record_at else np.zeros(0, np.int64)
    return WalkedRecords(block[order], s[order], block_ok, block_supported), at[order]


def assert_same_walk(a: WalkedRecords, b: WalkedRecords) -> None:
    np.testing.assert_array_equal(a.block, b.block)
    np.testing.assert_array_equal(a.starts, b.starts)
    np.testing.assert_array_equal(a.block_ok, b.block_ok)
    np.testing.assert_array_equal(a.block_supported, b.block_supported)


def blocks_of(data: bytes, limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(buffer, first record byte, end) of the first ``limit`` CAT048 blocks of a .ast file."""
    first, end, at = [], [], 0
    while at + 3 <= len(data) and len(first) < limit:
        n = int.from_bytes(data[at + 1 : at + 3], "big")
        if n < 3:
            break
        if data[at] == 48:
            first.append(at + 3)
            end.append(at + n)
        at += n
    buf = np.frombuffer(data[:at] + bytes(16), np.uint8)
    return buf, np.array(first, np.int64), np.array(end, np.int64)


@pytest.fixture(scope="module")
def barcelona(shared_data):
    """The layout and the records (bytes, one per block in this file) of a real CAT048 file."""
    from asterix.generated import Cat_048_1_31

    path = recording(shared_data, "upc-pgta-lebl/230502-est-080001_BCN_60MN_08_09.ast")
    data = path.read_bytes()[:300_000]
    layout = compile_record(Cat_048_1_31.cv_record)
    buf, first, end = blocks_of(data, 2000)
    walked, at = walk_one_by_one(layout, buf, first, end)
    ends = np.append(at[1:], 0)
    last = np.append(walked.block[1:] != walked.block[:-1], True)
    ends[last] = end[walked.block[last]]
    records = [bytes(buf[s:e]) for s, e in zip(at, ends, strict=True)]
    assert len(records) >= 1000 and len({len(r) for r in records}) > 5
    return layout, buf, first, end, records


def test_real_blocks_walk_as_one_by_one(barcelona) -> None:
    layout, buf, first, end, _ = barcelona
    assert_same_walk(
        walk_blocks(layout, buf, first, end), walk_one_by_one(layout, buf, first, end)[0]
    )


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_mix_of_records_walks_as_one_by_one(barcelona, data) -> None:
    layout, _, _, _, records = barcelona
    n_blocks = data.draw(st.integers(1, 6))
    pieces, first, end = [], [], []
    at = 0
    for _ in range(n_blocks):
        # runs of one record (what guessing rewards) mixed with other records
        picks = data.draw(st.lists(st.integers(0, len(records) - 1), min_size=1, max_size=6))
        runs = data.draw(st.lists(st.integers(1, 60), min_size=len(picks), max_size=len(picks)))
        body = b"".join(records[i] * r for i, r in zip(picks, runs, strict=True))
        cut = data.draw(st.sampled_from([0, 0, 0, 1, 2, 5]))  # truncated blocks
        junk = data.draw(st.binary(max_size=8))  # garbage at the end
        body = body[: len(body) - cut] + junk
        first.append(at)
        end.append(at + len(body))
        pieces.append(body)
        at += len(body)
    buf = np.frombuffer(b"".join(pieces) + bytes(16), np.uint8)
    first_a, end_a = np.array(first, np.int64), np.array(end, np.int64)
    assert_same_walk(
        walk_blocks(layout, buf, first_a, end_a), walk_one_by_one(layout, buf, first_a, end_a)[0]
    )


@settings(max_examples=100, deadline=None)
@given(blob=st.binary(min_size=1, max_size=400), cuts=st.lists(st.integers(1, 399), max_size=5))
def test_random_bytes_walk_as_one_by_one(barcelona, blob, cuts) -> None:
    layout = barcelona[0]
    bounds = sorted({0, len(blob), *(c for c in cuts if c < len(blob))})
    first, end = np.array(bounds[:-1], np.int64), np.array(bounds[1:], np.int64)
    buf = np.frombuffer(blob + bytes(16), np.uint8)
    assert_same_walk(
        walk_blocks(layout, buf, first, end), walk_one_by_one(layout, buf, first, end)[0]
    )
