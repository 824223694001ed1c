"""ASTERIX decoding (pure: bytes in, column records out) for CAT048, CAT021, CAT062, CAT034.

Datagram -> data blocks (CAT, LEN) -> records. Records are decoded with libasterix (MIT):
for each block the editions libasterix ships are tried (the edition that last decoded the
same SAC/SIC first, then newest first) and the first one whose records are all plausible
is kept (see :func:`~skywarden.sources.asterix.records.implausible`; this is what tells a
CAT021 0.26 block from 2.x, and rejects the impossible positions of an old CAT062 edition).
CAT048, the bulk of radar data, CAT062, the bulk of ATC system-track feeds, and CAT034, the
radar service messages beside CAT048, go through vectorised fast paths that give the same
records (see :mod:`skywarden.sources.asterix.cat048_fast`, ``cat062_fast`` and
``cat034_fast``).

Nothing raises on bad input. ``AsterixDecoder.rejects`` counts, by reason:
``bad_block_length`` (a block length < 3 or past the end of the data),
``trailing_bytes`` (bytes after the last good block of a datagram that do not form a block,
e.g. a vendor trailer; the good blocks before them still decode),
``unsupported_category`` (a block of another category; ``blocks`` counts them per category),
``undecodable_block`` (no edition parses the block), ``implausible_values`` (an edition
parses it, but only into impossible values).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from skywarden.sources.asterix.cat034_fast import decode_cat034_blocks
from skywarden.sources.asterix.cat048_fast import decode_cat048_blocks
from skywarden.sources.asterix.cat062_fast import decode_cat062_blocks
from skywarden.sources.asterix.editions import (
    SUPPORTED_CATEGORIES,
    Edition,
    default_editions,
)
from skywarden.sources.asterix.records import (
    RECORD_TYPES,
    ROW_EXTRACTORS,
    Cat021Records,
    Cat034Records,
    Cat048Records,
    Cat062Records,
    ColumnRecords,
    implausible,
    resolve_time_of_day,
)
from skywarden.sources.recordings.pcap import iter_frames, udp_datagrams

TRAILER_MAX_BYTES = 16  # leftovers up to this size after good blocks count as a trailer
_PAD = b"\x00" * 16


@dataclass(frozen=True)
class AsterixRecords:
    """Decoded records of one input, per category (each a struct of arrays)."""

    cat048: Cat048Records
    cat021: Cat021Records
    cat062: Cat062Records
    cat034: Cat034Records

    def __len__(self) -> int:
        return len(self.cat048) + len(self.cat021) + len(self.cat062) + len(self.cat034)

    @staticmethod
    def empty() -> AsterixRecords:
        """No records."""
        return AsterixRecords(
            Cat048Records.empty(),
            Cat021Records.empty(),
            Cat062Records.empty(),
            Cat034Records.empty(),
        )

    @staticmethod
    def concat(parts: Sequence[AsterixRecords]) -> AsterixRecords:
        """Concatenate in order (the ``block`` column keeps each part's own numbering)."""
        return AsterixRecords(
            Cat048Records.concat([p.cat048 for p in parts]),
            Cat021Records.concat([p.cat021 for p in parts]),
            Cat062Records.concat([p.cat062 for p in parts]),
            Cat034Records.concat([p.cat034 for p in parts]),
        )


@dataclass(frozen=True)
class BlockIndex:
    """Data blocks found in a buffer: (B,) arrays of start offset, category and length."""

    start: np.ndarray
    category: np.ndarray
    length: np.ndarray


def split_blocks(
    data: bytes, rejects: Counter[str], *, base: int = 0
) -> tuple[list[int], list[int], list[int]]:
    """Start offsets (plus ``base``), categories and lengths of the blocks in one datagram.

    Stops at the first bad length; leftovers are counted (``trailing_bytes`` when short and
    after good blocks, else ``bad_block_length``).
    """
    starts, cats, lengths = [], [], []
    i, n = 0, len(data)
    while i < n:
        length = int.from_bytes(data[i + 1 : i + 3], "big") if i + 3 <= n else 0
        if length < 3 or i + length > n:
            left = n - i
            rejects[
                "trailing_bytes" if starts and left <= TRAILER_MAX_BYTES else "bad_block_length"
            ] += 1
            break
        starts.append(base + i)
        cats.append(data[i])
        lengths.append(length)
        i += length
    return starts, cats, lengths


def _source_of(buf: bytes, first: int, end: int) -> int:
    """SAC*256+SIC of a block's first record from its raw bytes, -1 when not at the front."""
    if first + 3 > end:
        return -1
    fspec0 = buf[first]  # I0xx/010 is FRN 1 in CAT021, 034, 048 and 062
    if fspec0 & 0x80:
        skip = 1
        while buf[first + skip - 1] & 0x01 and first + skip < end:
            skip += 1
        if first + skip + 2 <= end:
            return buf[first + skip] << 8 | buf[first + skip + 1]
    return -1


MAX_REMEMBERED_SOURCES = 4096  # (category, SAC, SIC) -> edition entries kept


@dataclass
class AsterixDecoder:
    """Decodes ASTERIX data blocks; keeps the edition chosen per (category, SAC, SIC) and the
    counters of blocks, records and rejections across calls.

    Args:
        fast: use the vectorised CAT048, CAT062 and CAT034 paths (same records as libasterix,
            one to two orders of magnitude faster).
        editions: category -> editions to try, in order (default: all libasterix ships;
            :func:`~skywarden.sources.asterix.editions.editions_of` makes them from a
            libasterix manifest).
    """

    fast: bool = True
    editions: Mapping[int, tuple[Edition, ...]] = field(default_factory=default_editions)
    rejects: Counter[str] = field(default_factory=Counter)
    blocks: Counter[int] = field(default_factory=Counter)
    records: Counter[int] = field(default_factory=Counter)
    memory: dict[tuple[int, int, int], Edition] = field(default_factory=dict)
    _stream: bytes = b""

    def decode(self, data: bytes, reference_t: float = math.nan) -> AsterixRecords:
        """Decode one datagram, or a buffer of concatenated blocks (an ``.ast`` file).

        ``reference_t`` (POSIX s) is any time within 12 h of the data; it turns the times of
        day into POSIX ``t`` (NaN when not given).
        """
        starts, cats, lengths = split_blocks(data, self.rejects)
        index = BlockIndex(
            np.asarray(starts, np.int64), np.asarray(cats, np.int64), np.asarray(lengths, np.int64)
        )
        return self.decode_blocks(data, index, np.full(len(starts), reference_t))

    def decode_datagrams(
        self, payloads: Iterable[bytes], reference_t: Iterable[float]
    ) -> AsterixRecords:
        """Decode many datagrams at once (each its own block list), one reference time each."""
        parts, starts, cats, lengths, refs = [], [], [], [], []
        base = 0
        for payload, ref in zip(payloads, reference_t, strict=True):
            s, c, n = split_blocks(payload, self.rejects, base=base)
            starts += s
            cats += c
            lengths += n
            refs += [ref] * len(s)
            parts.append(payload)
            base += len(payload)
        index = BlockIndex(
            np.asarray(starts, np.int64), np.asarray(cats, np.int64), np.asarray(lengths, np.int64)
        )
        return self.decode_blocks(b"".join(parts), index, np.asarray(refs, dtype=np.float64))

    def feed(self, chunk: bytes, reference_t: float = math.nan) -> AsterixRecords:
        """Streaming reader (TCP or a file read in pieces): decode every complete block.

        Incomplete tails wait for the next chunk. A length < 3 cannot be resynchronised:
        the buffered bytes are dropped and counted as ``bad_block_length``.
        """
        data = self._stream + chunk
        starts, cats, lengths = [], [], []
        i = 0
        while i + 3 <= len(data):
            length = int.from_bytes(data[i + 1 : i + 3], "big")
            if length < 3:
                self.rejects["bad_block_length"] += 1
                i = len(data)
                break
            if i + length > len(data):
                break
            starts.append(i)
            cats.append(data[i])
            lengths.append(length)
            i += length
        self._stream = data[i:]
        index = BlockIndex(
            np.asarray(starts, np.int64), np.asarray(cats, np.int64), np.asarray(lengths, np.int64)
        )
        return self.decode_blocks(data[:i], index, np.full(len(starts), reference_t))

    def decode_blocks(
        self, data: bytes, index: BlockIndex, reference_t: np.ndarray
    ) -> AsterixRecords:
        """Decode the blocks listed in ``index`` (offsets into ``data``); ``reference_t`` (B,)."""
        for cat, count in zip(*np.unique(index.category, return_counts=True), strict=True):
            self.blocks[int(cat)] += int(count)
            if int(cat) not in SUPPORTED_CATEGORIES:
                self.rejects["unsupported_category"] += int(count)
        out: dict[int, list[ColumnRecords]] = {cat: [] for cat in SUPPORTED_CATEGORIES}
        fast_paths = (
            (48, decode_cat048_blocks),
            (62, decode_cat062_blocks),
            (34, decode_cat034_blocks),
        )
        lib_blocks = np.flatnonzero(index.category == 21)
        if len(self.memory) > MAX_REMEMBERED_SOURCES:  # a cache: forgetting costs a retry
            self.memory.clear()  # (bit-flipped SAC/SIC of a fuzzed stream would fill it)
        buf = np.frombuffer(data + _PAD, dtype=np.uint8) if self.fast else None
        for cat, decode_fast in fast_paths:
            chosen = np.flatnonzero(index.category == cat)
            if chosen.size == 0:
                continue
            if buf is None:
                lib_blocks = np.concatenate([lib_blocks, chosen])
                continue
            first = index.start[chosen] + 3
            end = index.start[chosen] + index.length[chosen]
            source = np.array(
                [_source_of(data, int(f), int(e)) for f, e in zip(first, end, strict=True)]
            )
            fast = decode_fast(buf, first, end, source.reshape(-1), self.editions[cat], self.memory)
            if len(fast.records):  # a category none of whose blocks decode has no count
                self.records[cat] += len(fast.records)
            out[cat].append(_with_column(fast.records, "block", chosen[fast.records.block]))
            lib_blocks = np.concatenate([lib_blocks, chosen[fast.fallback]])
        for b in np.sort(lib_blocks):
            cat = int(index.category[b])
            recs = self._decode_with_libasterix(
                cat, data, int(index.start[b]), int(index.length[b])
            )
            if recs is not None:
                out[cat].append(_with_column(recs, "block", np.full(len(recs), b)))
        result = {}
        for cat in SUPPORTED_CATEGORIES:
            merged = RECORD_TYPES[cat].concat(out[cat])
            if np.any(np.diff(merged.block) < 0):  # blocks from the fast and slow paths
                merged = merged.take(np.argsort(merged.block, kind="stable"))
            t = (
                resolve_time_of_day(merged.tod_s, reference_t[merged.block])
                if len(merged)
                else merged.t
            )
            result[cat] = _with_column(merged, "t", t)
        return AsterixRecords(result[48], result[21], result[62], result[34])

    def _decode_with_libasterix(
        self, cat: int, data: bytes, start: int, length: int
    ) -> ColumnRecords | None:
        """One block through libasterix, trying editions; None (reason counted) if none fits."""
        payload = data[start + 3 : start + length]
        source = _source_of(data, start + 3, start + length)
        key = (cat, source >> 8, source & 0xFF)
        known = self.memory.get(key) if source >= 0 else None
        order = self.editions[cat]
        if known is not None and known in order:
            order = (known, *(e for e in order if e is not known))
        from asterix.base import Bits  # libasterix is imported only for a block that needs it

        bits = Bits.from_bytes(payload)
        parsed_any = False
        for edition in order:
            try:
                parsed = edition.spec.cv_uap.parse(bits)
            except (RecursionError, ValueError, TypeError, IndexError):
                continue
            if isinstance(parsed, ValueError):
                continue
            parsed_any = True
            recs = RECORD_TYPES[cat].from_rows([ROW_EXTRACTORS[cat](r) for r in parsed])
            if implausible(recs).any():
                continue
            if source >= 0:
                self.memory[key] = edition
            self.records[cat] += len(recs)
            return recs
        self.rejects["implausible_values" if parsed_any else "undecodable_block"] += 1
        return None


def _with_column(recs: ColumnRecords, name: str, values: np.ndarray) -> ColumnRecords:
    columns = {n: getattr(recs, n) for n in type(recs).dtypes()}
    columns[name] = values
    return type(recs).from_columns(columns, len(recs))


def decode_capture(
    data: bytes, decoder: AsterixDecoder | None = None, *, port: int | None = None
) -> tuple[AsterixRecords, AsterixDecoder]:
    """Decode every UDP datagram of a pcap/pcapng capture (optionally only one port).

    Each datagram's capture time is its reference time, so ``t`` is POSIX even across
    midnight. Container problems are counted in ``decoder.rejects`` too.
    """
    decoder = decoder or AsterixDecoder()
    datagrams = [
        d
        for d in udp_datagrams(iter_frames(data, decoder.rejects), decoder.rejects)
        if port is None or d.dport == port
    ]
    records = decoder.decode_datagrams([d.payload for d in datagrams], [d.t for d in datagrams])
    return records, decoder


def decode_ast(
    data: bytes, reference_t: float = math.nan, decoder: AsterixDecoder | None = None
) -> tuple[AsterixRecords, AsterixDecoder]:
    """Decode a raw ``.ast`` file (data blocks back to back)."""
    decoder = decoder or AsterixDecoder()
    return decoder.decode(data, reference_t), decoder
