"""Floods of every input-side buffer and table: state stays within the stated limits
(sources/limits.py) and what is dropped is counted as a reject of the feed and logged."""

from __future__ import annotations

import logging
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skywarden.geo import LocalFrame
from skywarden.sources.feeds import BeastFeed, RemoteIdFeed, SbsFeed
from skywarden.sources.limits import (
    BEAST_MAX_PARTIAL_BYTES,
    LABEL_TABLE_FULL,
    LINE_TOO_LONG,
    MAX_LABELS,
    MODES_MAX_AIRCRAFT,
    MODES_TABLE_FULL,
    REMOTE_ID_IDLE_S,
    REMOTE_ID_MAX_TRANSMITTERS,
    REMOTE_ID_TABLE_FULL,
    SBS_MAX_LINE_BYTES,
    BoundedLabels,
    OverflowLog,
)
from skywarden.sources.modes.beast import encode_beast
from skywarden.sources.modes.encode import airborne_position, as_payloads, identification
from skywarden.sources.modes.sbs import SbsDecoder, encode_sbs_positions
from skywarden.sources.remote_id.encode import encode_message_pack, encode_wifi_beacon
from skywarden.sources.remote_id.messages import BasicId, Location

FRAME = LocalFrame(47.0, 8.0, 400.0)
T0 = 1.7e9
CHUNK = 65_536  # what the TCP transport reads at once


def _sbs_line(t: float, icao: int = 0x4B1234) -> bytes:
    return encode_sbs_positions(
        np.array([t]), np.array([icao]), np.array([47.01]), np.array([8.01]), np.array([3000.0])
    )


def test_sbs_40_mb_without_newline_keeps_at_most_one_line_and_counts_it() -> None:
    feed = SbsFeed(FRAME, 0)
    junk = b"A" * CHUNK
    largest = 0
    for k in range(40 * 2**20 // CHUNK):
        feed.feed(T0 + k * 1e-3, junk, connection=1)
        largest = max(largest, feed.decoder.partial_bytes)
    assert largest <= SBS_MAX_LINE_BYTES
    assert feed.counters.rejects[LINE_TOO_LONG] == 1
    # the stream recovers at the next newline: the following line decodes
    dets = feed.feed(T0 + 60.0, b"tail of the long line\n" + _sbs_line(T0 + 60.0), connection=1)
    assert len(dets) == 1
    assert feed.counters.as_dict()["rejects"] == {LINE_TOO_LONG: 1}


def test_sbs_reject_counts_survive_a_reconnect_but_the_partial_line_does_not() -> None:
    feed = SbsFeed(FRAME, 0)
    feed.feed(T0, b"garbage\nMSG,3,half a li", connection=1)
    assert feed.counters.rejects["not_sbs"] == 1
    dets = feed.feed(T0 + 1.0, _sbs_line(T0 + 1.0), connection=2)  # new connection
    assert len(dets) == 1  # the half line of connection 1 was dropped, not glued on
    feed.feed(T0 + 2.0, b"more garbage\n", connection=2)
    assert feed.counters.rejects["not_sbs"] == 2


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(
        st.sampled_from([b"x" * 10, b"y" * 40, b"z" * 41, b"w" * 300, b""]), max_size=12
    ),
    cuts=st.lists(st.integers(0, 4000), max_size=8),
)
def test_sbs_long_lines_are_rejected_however_the_text_is_cut(lines, cuts) -> None:
    text = b"\n".join(lines) + b"\n"
    whole = SbsDecoder(max_line_bytes=40)
    whole.feed(text)
    split = SbsDecoder(max_line_bytes=40)
    bounds = [0, *sorted(c % (len(text) + 1) for c in cuts), len(text)]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        split.feed(text[a:b])
        assert split.partial_bytes <= 40
    assert split.rejects == whole.rejects
    assert whole.rejects[LINE_TOO_LONG] == sum(len(line) > 40 for line in lines)


def test_beast_flood_of_garbage_and_cut_frames_keeps_one_partial_frame_at_most() -> None:
    rng = np.random.default_rng(7)
    feed = BeastFeed(FRAME, 0)
    frame = encode_beast([bytes(14)], np.array([0x1A1A1A1A1A1A]), 0x1A)  # every byte escaped
    largest = 0
    for k in range(600):
        data = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes() + frame[: k % len(frame)]
        feed.feed(T0 + k, data, connection=1)
        largest = max(largest, feed.decoder.partial_bytes)
    assert 0 < largest <= BEAST_MAX_PARTIAL_BYTES
    assert feed.counters.rejects["garbage_bytes"] > 0


def _df17_flood(feed: BeastFeed, icao: np.ndarray, t: float) -> None:
    """Identification, then an even and an odd position (they resolve) of each address."""
    n = len(icao)
    ident = identification(icao, [f"F{i % 10**7:07d}" for i in icao.tolist()])
    lat, lon, alt = np.full(n, 47.1), np.full(n, 8.1), np.full(n, 30000.0)
    even = airborne_position(icao, lat, lon, alt, np.zeros(n, dtype=bool))
    odd = airborne_position(icao, lat, lon, alt, np.ones(n, dtype=bool))
    payloads = as_payloads(np.concatenate([ident, even, odd]))
    feed.feed(t, encode_beast(payloads, np.zeros(len(payloads), np.int64)), connection=1)


def test_modes_flood_of_new_addresses_is_bounded_and_counted() -> None:
    feed = BeastFeed(FRAME, 0)
    n = MODES_MAX_AIRCRAFT + 5_000
    for k, start in enumerate(range(0, n, 5_000)):
        _df17_flood(
            feed, np.arange(start, min(n, start + 5_000), dtype=np.int64) + 0x100000, T0 + k
        )
    assert feed.counters.detections == n  # every aircraft is reported
    assert feed.state.aircraft <= MODES_MAX_AIRCRAFT
    assert feed.counters.rejects[MODES_TABLE_FULL] >= 5_000
    assert len(feed.callsigns) <= MAX_LABELS
    assert feed.counters.rejects[LABEL_TABLE_FULL] == n - MAX_LABELS
    # the newest aircraft are the ones kept: a known one still resolves its next position
    assert feed.state.known_address_mask(_one_message(n - 1 + 0x100000, T0 + 10)).all()


def _one_message(icao: int, t: float):
    from skywarden.sources.modes.messages import decode_messages

    pos = airborne_position(np.array([icao]), np.array([47.1]), np.array([8.1]),
                            np.array([30000.0]), np.array([True]))  # fmt: skip
    return decode_messages(as_payloads(pos), np.array([t]))


def _rid_frame(k: int) -> bytes:
    mac = f"02:{(k >> 24) & 255:02x}:{(k >> 16) & 255:02x}:{(k >> 8) & 255:02x}:{k & 255:02x}:01"
    stamp = (T0 + k * 1e-3) % 3600.0  # seconds since the hour, as the receive times below
    location = Location(2, 2, 0, 0.0, 5.0, 0.0, 47.01, 8.01, math.nan, 600.0, 120.0, 10, 4, 4,
                        3, stamp, 0.2)  # fmt: skip
    pack = encode_message_pack([BasicId(2, 1, 2, f"SN{k:010d}"), location])
    return encode_wifi_beacon(pack, mac, k & 255)


def test_remote_id_flood_of_new_serials_and_macs_is_bounded_and_counted() -> None:
    feed = RemoteIdFeed(FRAME, 0)
    n = REMOTE_ID_MAX_TRANSMITTERS + 2_000
    for k in range(n):
        feed.feed(T0 + k * 1e-3, _rid_frame(k))
    assert feed.counters.detections == n  # every frame is a real position: all reported
    assert feed.assembler.transmitters == REMOTE_ID_MAX_TRANSMITTERS
    assert feed.counters.rejects[REMOTE_ID_TABLE_FULL] == n - REMOTE_ID_MAX_TRANSMITTERS
    assert len(feed.names) == n  # below the label limit, every serial keeps its name


def test_remote_id_feed_forgets_silent_transmitters() -> None:
    feed = RemoteIdFeed(FRAME, 0)
    for k in range(50):
        feed.feed(T0 + k * 0.01, _rid_frame(k))
    assert feed.assembler.transmitters == 50
    feed.feed(T0 + REMOTE_ID_IDLE_S + 5.0, _rid_frame(99))
    assert feed.assembler.transmitters == 1
    assert REMOTE_ID_TABLE_FULL not in feed.counters.rejects  # ageing is not a reject


def test_bounded_labels_forget_the_least_recently_set_and_report_what_is_new() -> None:
    labels = BoundedLabels(3)
    labels.update({1: "a", 2: "b", 3: "c"})
    assert labels.take_new() == {1: "a", 2: "b", 3: "c"}
    labels[1] = "a"  # refreshed: now the most recent, not new
    labels[4] = "d"  # evicts 2, the least recently set
    assert dict(labels) == {3: "c", 1: "a", 4: "d"}
    assert labels.evicted == 1
    assert labels.take_new() == {4: "d"}
    assert labels.take_new() == {}


def test_overflow_log_is_rate_limited(caplog) -> None:
    overflow = OverflowLog("radar-1", interval_s=60.0)
    with caplog.at_level(logging.WARNING, logger="skywarden.sources"):
        for k in range(100):
            overflow.note(T0 + k, {LINE_TOO_LONG: k + 1})
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2  # t = 0 and t = 60
    assert "radar-1" in lines[0] and LINE_TOO_LONG in lines[0]
    assert "60 more" in lines[1]


def test_asterix_edition_memory_is_a_bounded_cache() -> None:
    from skywarden.sources.asterix.decoder import MAX_REMEMBERED_SOURCES, AsterixDecoder

    decoder = AsterixDecoder()
    decoder.memory.update({(48, k >> 8, k & 255): object for k in range(5000)})
    decoder.decode(b"\x30\x00\x03")  # an empty CAT048 block
    assert len(decoder.memory) <= MAX_REMEMBERED_SOURCES
