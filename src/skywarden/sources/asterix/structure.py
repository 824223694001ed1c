"""Vectorised structural walk of ASTERIX data blocks, compiled from libasterix's own specs.

libasterix parses one record at a time through Python objects (~5k records/s). This module
walks the *structure* of many records at once with NumPy: the FSPEC, then every present item
(fixed, extended, repetitive, explicit, compound), giving the byte offset where each item
starts. The layout of every item is read from libasterix's generated classes for a chosen
category edition, so the accept/reject decision is the same as libasterix's strict parse:
a block is accepted only if every record in it walks cleanly to the block's end.

libasterix is imported by the compile functions only: the decoder's default layouts are
compiled ahead of time (:mod:`skywarden.sources.asterix.compiled_editions`).

Items we cannot walk with arrays (random field sequencing, repetitive items of variable
elements) mark their records as unsupported; the caller hands those blocks to libasterix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

_FIXED, _EXTENDED, _REPETITIVE, _REPETITIVE_FX, _EXPLICIT, _COMPOUND, _UNSUPPORTED = range(7)


@dataclass(frozen=True)
class Node:
    """Compiled layout of one item variation (sizes in bytes)."""

    kind: int
    size: int = 0  # FIXED: bytes; REPETITIVE: counter bytes; REPETITIVE_FX: element bytes
    segments: tuple[tuple[int, bool], ...] = ()  # EXTENDED: (bytes, ends with FX)
    element: Node | None = None  # REPETITIVE: element layout
    fspec_max: int = 0  # COMPOUND: FSPEC bytes at most
    items: tuple[Node | None, ...] = ()  # COMPOUND: subitem layouts (None = undefined)


def _variation_of(nsp: type) -> type:
    from asterix.base import RuleVariationContextFree

    rule = nsp.cv_rule
    if issubclass(rule, RuleVariationContextFree):
        return rule.cv_variation
    return rule.cv_default_variation  # context-dependent items parse with the default


def compile_variation(var: type) -> Node:
    """Layout of a libasterix variation class."""
    from asterix.base import Compound, Element, Explicit, Extended, Group, Repetitive

    if issubclass(var, (Element, Group)):
        if var.cv_bit_size % 8:
            return Node(_UNSUPPORTED)
        return Node(_FIXED, size=var.cv_bit_size // 8)
    if issubclass(var, Extended):
        segments, bits = [], 0
        for entry in (e for group in var.cv_items_list for e in group):
            if entry is None:
                segments.append(((bits + 1) // 8, True))
                bits = 0
            else:
                bits += entry[1]
        if bits:
            segments.append((bits // 8, False))
        return Node(_EXTENDED, segments=tuple(segments))
    if issubclass(var, Repetitive):
        element = compile_variation(var.cv_variation)
        if element.kind != _FIXED:
            bits = getattr(var.cv_variation, "cv_bit_size", 0)
            if var.cv_rep_bytes is None and bits and (bits + 1) % 8 == 0:
                return Node(_REPETITIVE_FX, size=(bits + 1) // 8)
            return Node(_UNSUPPORTED)
        if var.cv_rep_bytes is None:
            bits = var.cv_variation.cv_bit_size
            if (bits + 1) % 8:
                return Node(_UNSUPPORTED)
            return Node(_REPETITIVE_FX, size=(bits + 1) // 8)
        return Node(_REPETITIVE, size=var.cv_rep_bytes, element=element)
    if issubclass(var, Explicit):
        return Node(_EXPLICIT)
    if issubclass(var, Compound):
        items = tuple(
            None if n is None else compile_variation(_variation_of(n)) for n in var.cv_items_list
        )
        return Node(_COMPOUND, fspec_max=var.cv_fspec_max_bytes, items=items)
    return Node(_UNSUPPORTED)


@dataclass(frozen=True)
class RecordLayout:
    """Compiled UAP of one category edition: item layouts by FRN (index 0 = FRN 1)."""

    fspec_max: int
    names: tuple[str | None, ...]  # item name per FRN; None for spare / RFS
    nodes: tuple[Node | None, ...]  # None: spare (error if its FSPEC bit is set)
    frn: dict[str, int]  # item name -> FRN index (0-based)


def compile_record(record_cls: type) -> RecordLayout:
    """Compile the UAP of a libasterix ``Record`` class (single-UAP categories)."""
    from asterix.base import UapItem, UapItemRFS, UapItemSpare

    names: list[str | None] = []
    nodes: list[Node | None] = []
    for uap_item in record_cls.cv_items_list:
        if issubclass(uap_item, UapItem):
            nsp = uap_item.cv_non_spare
            names.append(nsp.cv_name)
            nodes.append(compile_variation(_variation_of(nsp)))
        elif issubclass(uap_item, UapItemSpare):
            names.append(None)
            nodes.append(None)
        elif issubclass(uap_item, UapItemRFS):
            names.append(None)
            nodes.append(Node(_UNSUPPORTED))
        else:  # pragma: no cover - libasterix has no other kinds
            names.append(None)
            nodes.append(Node(_UNSUPPORTED))
    while len(nodes) < 7 * record_cls.cv_fspec_max_bytes:
        names.append(None)
        nodes.append(Node(_UNSUPPORTED))
    frn = {n: i for i, n in enumerate(names) if n is not None}
    return RecordLayout(record_cls.cv_fspec_max_bytes, tuple(names), tuple(nodes), frn)


def _read(buf: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Bytes at ``index`` (clipped into the buffer; callers check bounds separately)."""
    return buf[np.minimum(index, buf.shape[0] - 1)].astype(np.int64)


def _fspec(
    buf: np.ndarray, pos: np.ndarray, end: np.ndarray, max_bytes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FSPEC flags (N, 7*max_bytes) bool, position after the FSPEC, ok mask."""
    n = pos.shape[0]
    raw = np.zeros((n, max_bytes), dtype=np.uint8)
    cur = pos.copy()
    going = np.ones(n, dtype=bool)
    ok = np.ones(n, dtype=bool)
    for j in range(max_bytes):
        inside = cur < end
        ok &= ~going | inside
        going &= inside
        byte = _read(buf, cur)
        raw[going, j] = byte[going]
        cur[going] += 1
        going &= (byte & 1) == 1
    ok &= ~going  # FX still set after max_bytes: FSPEC too big or truncated
    flags = np.unpackbits(raw, axis=1).reshape(n, max_bytes, 8)[:, :, :7].reshape(n, -1)
    return flags.astype(bool), cur, ok


def walk(
    node: Node, buf: np.ndarray, pos: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walk one item at ``pos`` for each record. Returns (next position, ok, supported)."""
    n = pos.shape[0]
    ok = np.ones(n, dtype=bool)
    supported = np.ones(n, dtype=bool)
    kind = node.kind
    if kind == _FIXED:
        nxt = pos + node.size
    elif kind == _EXTENDED:
        nxt = pos.copy()
        going = np.ones(n, dtype=bool)
        last = len(node.segments) - 1
        for k, (size, fx) in enumerate(node.segments):
            nxt[going] += size
            ok &= ~going | (nxt <= end)
            going &= ok
            if not fx:
                break
            more = going & ((_read(buf, nxt - 1) & 1) == 1)
            if k == last:
                ok &= ~more  # the last FX bit must be zero
                break
            going = more
            if not going.any():
                break
    elif kind == _REPETITIVE:
        count = np.zeros(n, dtype=np.int64)
        for j in range(node.size):
            count = (count << 8) | _read(buf, pos + j)
        ok &= pos + node.size <= end
        nxt = pos + node.size + count * node.element.size
    elif kind == _REPETITIVE_FX:
        nxt = pos.copy()
        going = np.ones(n, dtype=bool)
        while going.any():
            nxt[going] += node.size
            ok &= ~going | (nxt <= end)
            going &= ok & ((_read(buf, nxt - 1) & 1) == 1)
    elif kind == _EXPLICIT:
        length = _read(buf, pos)
        ok &= (pos < end) & (length > 0)
        nxt = pos + length
    elif kind == _COMPOUND:
        flags, nxt, ok = _fspec(buf, pos, end, node.fspec_max)
        for k in range(flags.shape[1]):
            sub = node.items[k] if k < len(node.items) else None
            idx = np.flatnonzero(flags[:, k] & ok)
            if idx.size == 0:
                continue
            if sub is None:
                ok[idx] = False  # FSPEC bit set for an undefined subitem
                continue
            p, o, s = walk(sub, buf, nxt[idx], end[idx])
            nxt[idx] = p
            ok[idx] &= o
            supported[idx] &= s
    else:
        nxt = pos.copy()
        supported[:] = False
    ok &= nxt <= end
    return nxt, ok, supported


@dataclass(frozen=True)
class WalkedRecords:
    """Structure of R records found in a set of blocks.

    Attributes:
        block: (R,) index of each record's block (into the caller's block arrays).
        starts: (R, n_frn) byte offset in the buffer where each item starts, -1 where absent.
        block_ok: (B,) every record of the block walked cleanly to the block's end.
        block_supported: (B,) no record of the block holds an item the walker cannot handle.
    """

    block: np.ndarray
    starts: np.ndarray
    block_ok: np.ndarray
    block_supported: np.ndarray


SPECULATE_FIRST = 64  # records guessed per block in the first speculative round
SPECULATE_MAX = 4096  # at most this many guessed records per block and round


def walk_blocks(
    layout: RecordLayout, buf: np.ndarray, first: np.ndarray, end: np.ndarray
) -> WalkedRecords:
    """Walk every record of B blocks whose records span ``buf[first:end]`` (arrays (B,)).

    Records inside one block follow each other, so the walk runs in rounds. A round walks,
    for every block with bytes left, the record at its current position *and* guessed next
    records at multiples of the last record's length (a radar's records mostly have the same
    items, hence the same length). A guessed record is kept only when the chain of walked
    records before it reaches exactly its start, so what is kept is what a record-by-record
    walk finds; a wrong guess costs only wasted array work. The number of guesses per block
    doubles while they hold and shrinks when they fail. A live datagram of 40 records then
    takes two rounds instead of 40.
    """
    n_blocks = first.shape[0]
    block_ok = np.ones(n_blocks, dtype=bool)
    block_supported = np.ones(n_blocks, dtype=bool)
    pos = first.astype(np.int64).copy()
    end = end.astype(np.int64)
    stride = np.zeros(n_blocks, dtype=np.int64)  # last record's length (0: none yet)
    guesses = np.full(n_blocks, SPECULATE_FIRST, dtype=np.int64)
    active = np.flatnonzero(pos < end)
    blocks_out, starts_out = [], []
    while active.size:
        # candidates: for block b, pos + j * stride for j < count (count 1 without a stride)
        left = end[active] - pos[active]
        step = stride[active]
        count = np.where(step > 0, np.minimum(-(-left // np.maximum(step, 1)), guesses[active]), 1)
        owner = np.repeat(np.arange(active.size), count)
        j = np.arange(owner.size) - np.repeat(np.cumsum(count) - count, count)
        cand = pos[active][owner] + j * step[owner]
        nxt, ok, supported, starts = _walk_records(layout, buf, cand, end[active][owner])
        # a candidate is a true record when every one before it in its block chained to it
        last = j == count[owner] - 1
        chains = np.zeros(owner.size, dtype=bool)
        chains[:-1] = ok[:-1] & supported[:-1] & ~last[:-1] & (nxt[:-1] == cand[1:])
        broken = np.flatnonzero(~chains)  # each block's last kept record is its first break
        head = np.cumsum(count) - count
        stop_at = broken[np.searchsorted(broken, head)]
        kept = j <= (stop_at - head)[owner]
        blocks_out.append(active[owner[kept]])
        starts_out.append(starts[kept])
        m = stop_at  # (A,) index of each block's last kept record
        block_ok[active[~ok[m]]] = False
        block_supported[active[~supported[m]]] = False
        taken = m - head + 1
        guesses[active] = np.where(
            taken == count, np.minimum(2 * count, SPECULATE_MAX), np.maximum(2 * taken, 2)
        )
        stride[active] = nxt[m] - cand[m]
        pos[active] = nxt[m]
        active = active[ok[m] & supported[m] & (nxt[m] < end[active])]
    if blocks_out:
        block = np.concatenate(blocks_out)
        starts_all = np.concatenate(starts_out)
        order = np.argsort(block, kind="stable")  # rounds -> block order, records in order
        block, starts_all = block[order], starts_all[order]
    else:
        block = np.zeros(0, dtype=np.int64)
        starts_all = np.zeros((0, len(layout.nodes)), dtype=np.int64)
    return WalkedRecords(block, starts_all, block_ok, block_supported)


def _walk_records(
    layout: RecordLayout, buf: np.ndarray, p: np.ndarray, e: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Walk one record at each position p (N,) within its block's end e (N,): (position after
    it, ok, supported, (N, n_frn) item starts with -1 where absent)."""
    flags, p, ok = _fspec(buf, p, e, layout.fspec_max)
    supported = np.ones(p.size, dtype=bool)
    starts = np.full((p.size, len(layout.nodes)), -1, dtype=np.int64)
    # only the items present in at least one record of this round (most UAP slots are
    # empty in practice; skipping them is what makes multi-record blocks cheap)
    for k in np.flatnonzero(flags[:, : len(layout.nodes)].any(axis=0)).tolist():
        node = layout.nodes[k]
        idx = np.flatnonzero(flags[:, k] & ok & supported)
        if idx.size == 0:
            continue
        if node is None:
            ok[idx] = False  # FSPEC bit set for a spare item
            continue
        starts[idx, k] = p[idx]
        q, o, sup = walk(node, buf, p[idx], e[idx])
        p[idx] = q
        ok[idx] &= o
        supported[idx] &= sup
    return p, ok, supported, starts


def compound_subitem_starts(
    node: Node, buf: np.ndarray, pos: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """(N, n_subitems) byte offsets of each subitem of a compound item at ``pos`` (N,), -1
    where absent. For records that already walked cleanly (the bytes are not checked again).
    """
    n_sub = min(7 * node.fspec_max, len(node.items))
    starts = np.full((pos.shape[0], n_sub), -1, dtype=np.int64)
    if pos.shape[0] == 0:
        return starts
    flags, cur, ok = _fspec(buf, pos, end, node.fspec_max)
    for k in range(n_sub):
        sub = node.items[k]
        idx = np.flatnonzero(flags[:, k] & ok)
        if idx.size == 0 or sub is None:
            continue
        starts[idx, k] = cur[idx]
        cur[idx] = walk(sub, buf, cur[idx], end[idx])[0]
    return starts


class ColumnWriter:
    """The columns of R walked records being read: where an item starts, and values put at
    rows of a column (created on first use with the record type's fill value and dtype)."""

    def __init__(
        self, layout: RecordLayout, starts: np.ndarray, record_type: Any, block: np.ndarray
    ) -> None:
        self.layout, self.starts, self.n = layout, starts, starts.shape[0]
        self.fill, self.dtypes = record_type.fill_values(), record_type.dtypes()
        self.columns: dict[str, np.ndarray] = {"block": block}

    def present(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows that carry item ``name``, its start offset in each of them)."""
        s = self.starts[:, self.layout.frn[name]]
        idx = np.flatnonzero(s >= 0)
        return idx, s[idx]

    def put(self, name: str, idx: np.ndarray, values: np.ndarray) -> None:
        """Column ``name`` takes ``values`` at rows ``idx``."""
        col = self.columns.get(name)
        if col is None:
            col = self.columns[name] = np.full(self.n, self.fill[name], dtype=self.dtypes[name])
        col[idx] = values
