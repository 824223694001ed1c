"""Mode-S Beast binary framing: bytes -> frames (pure, streaming) and frames -> bytes.

A Beast frame is ``0x1A``, a type byte, a 6-byte big-endian 12 MHz MLAT counter, a 1-byte
signal level and the payload. Every ``0x1A`` after the type byte is sent doubled (escaped).

=====  =========================  ==============
type   meaning                    payload bytes
=====  =========================  ==============
'1'    Mode A/C reply             2
'2'    Mode S short (56 bit)      7
'3'    Mode S long (112 bit)      14
'4'    receiver status            14 (counted, not returned)
=====  =========================  ==============

:class:`BeastDecoder` keeps a partial frame between :meth:`BeastDecoder.feed` calls, so the
frames it returns do not depend on how the byte stream was cut into chunks. Anything that is
not a frame is skipped to the next ``0x1A`` and counted in ``rejects`` by reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from skywarden.sources.limits import BEAST_MAX_PARTIAL_BYTES
from skywarden.units import FloatArray, IntArray

ESC = 0x1A
MODE_AC = 1
MODE_S_SHORT = 2
MODE_S_LONG = 3
STATUS = 4
MLAT_HZ = 12_000_000.0
# type byte -> (frame type, payload length)
_TYPES = {0x31: (MODE_AC, 2), 0x32: (MODE_S_SHORT, 7), 0x33: (MODE_S_LONG, 14), 0x34: (STATUS, 14)}
_HEADER = 7  # 6 timestamp bytes + 1 signal byte
_ESC_BYTE = b"\x1a"
_ESC_PAIR = b"\x1a\x1a"


@dataclass(frozen=True, slots=True)
class BeastFrames:
    """A batch of N Beast frames (struct of arrays, in stream order).

    Attributes:
        frame_type: (N,) uint8, 1 = Mode A/C, 2 = Mode S short, 3 = Mode S long.
        mlat_ticks: (N,) int64 receiver 12 MHz counter (48 bit).
        signal: (N,) uint8 raw signal level byte.
        payload: N de-escaped payloads (2, 7 or 14 bytes).
    """

    frame_type: np.ndarray
    mlat_ticks: IntArray
    signal: np.ndarray
    payload: list[bytes]

    def __len__(self) -> int:
        return len(self.payload)

    @staticmethod
    def from_lists(types: list[int], ticks: list[int], signal: list[int], payload: list[bytes]):
        """Build a batch from parallel Python lists."""
        return BeastFrames(
            frame_type=np.asarray(types, dtype=np.uint8),
            mlat_ticks=np.asarray(ticks, dtype=np.int64),
            signal=np.asarray(signal, dtype=np.uint8),
            payload=list(payload),
        )

    @staticmethod
    def concat(batches: list[BeastFrames]) -> BeastFrames:
        """Concatenate batches, keeping their order."""
        if not batches:
            return BeastFrames.from_lists([], [], [], [])
        return BeastFrames(
            frame_type=np.concatenate([b.frame_type for b in batches]),
            mlat_ticks=np.concatenate([b.mlat_ticks for b in batches]),
            signal=np.concatenate([b.signal for b in batches]),
            payload=[p for b in batches for p in b.payload],
        )

    def mode_s(self) -> BeastFrames:
        """Only the Mode S frames (types 2 and 3)."""
        keep = np.flatnonzero(self.frame_type >= MODE_S_SHORT)
        return BeastFrames(
            frame_type=self.frame_type[keep],
            mlat_ticks=self.mlat_ticks[keep],
            signal=self.signal[keep],
            payload=[self.payload[i] for i in keep],
        )

    def times(self, t0: float, tick0: int | None = None) -> FloatArray:
        """POSIX seconds of each frame: ``t0`` at counter ``tick0`` (default: the first frame).

        The 48-bit counter is unwrapped modulo 2**48 relative to ``tick0``.
        """
        if len(self) == 0:
            return np.zeros(0)
        ref = int(self.mlat_ticks[0]) if tick0 is None else int(tick0)
        delta = (self.mlat_ticks - ref) % (1 << 48)
        delta = np.where(delta >= (1 << 47), delta - (1 << 48), delta)
        return t0 + delta / MLAT_HZ


@dataclass
class BeastDecoder:
    """Streaming Beast deframer. Feed chunks, then :meth:`flush` at end of stream.

    ``rejects`` counts skipped input by reason (``garbage_bytes`` counts bytes, the others
    count frames); ``status_frames`` counts type '4' frames, which are dropped. The partial
    frame kept between chunks is at most one escaped long frame (44 bytes).
    """

    rejects: Counter = field(default_factory=Counter)
    status_frames: int = 0
    _buffer: bytes = b""

    def feed(self, chunk: bytes) -> BeastFrames:
        """Deframe the complete frames now available; keep any partial frame for later."""
        data = self._buffer + bytes(chunk) if self._buffer else bytes(chunk)
        frames, used = self._scan(data)
        self._buffer = data[used:]
        if len(self._buffer) > BEAST_MAX_PARTIAL_BYTES:  # cannot happen: _scan keeps <= 1 frame
            self.rejects["truncated_frame"] += 1
            self._buffer = b""
        return frames

    def reset(self) -> None:
        """Drop a partial frame (the stream was cut); the reject counts stay."""
        self._buffer = b""

    @property
    def partial_bytes(self) -> int:
        """Bytes of the partial frame kept for the next chunk (at most
        :data:`~skywarden.sources.limits.BEAST_MAX_PARTIAL_BYTES`)."""
        return len(self._buffer)

    def flush(self) -> BeastFrames:
        """End of stream: frames still pending are returned, a partial frame is rejected."""
        data, self._buffer = self._buffer, b""
        frames, used = self._scan(data)
        if used < len(data):
            self.rejects["truncated_frame"] += 1
        return frames

    def _scan(self, data: bytes) -> tuple[BeastFrames, int]:
        """Frames in ``data`` and how many bytes were consumed (the rest is a partial frame)."""
        types: list[int] = []
        ticks: list[int] = []
        signal: list[int] = []
        payload: list[bytes] = []
        rejects = self.rejects
        find = data.find
        n = len(data)
        p = 0
        while p < n:
            if data[p] != ESC:
                q = find(_ESC_BYTE, p)
                q = n if q < 0 else q
                rejects["garbage_bytes"] += q - p
                p = q
                continue
            if p + 1 >= n:
                break  # need the type byte
            kind = _TYPES.get(data[p + 1])
            if kind is None:
                if data[p + 1] == ESC:  # an escaped 0x1A outside any frame
                    rejects["garbage_bytes"] += 2
                    p += 2
                else:
                    rejects["bad_frame_type"] += 1
                    p += 1
                continue
            frame_type, length = kind
            size = _HEADER + length
            end = p + 2 + size
            body = data[p + 2 : end]
            if _ESC_BYTE in body:
                body, end = _unescape(data, p + 2, size)
                if body is None:  # the frame is cut here: incomplete or a new frame starts
                    if end < 0:
                        break  # need more bytes
                    rejects["truncated_frame"] += 1
                    p = end
                    continue
            elif end > n:
                break  # need more bytes
            p = end
            if frame_type == STATUS:
                self.status_frames += 1
                continue
            types.append(frame_type)
            ticks.append(int.from_bytes(body[:6], "big"))
            signal.append(body[6])
            payload.append(body[_HEADER:])
        return BeastFrames.from_lists(types, ticks, signal, payload), p


def _unescape(data: bytes, start: int, size: int) -> tuple[bytes | None, int]:
    """De-escape ``size`` bytes from ``data[start:]``.

    Returns (body, end) on success; (None, -1) when the data ends first; (None, q) when an
    unescaped 0x1A at ``q`` starts a new frame before this one is complete.
    """
    out = bytearray()
    p = start
    n = len(data)
    while len(out) < size:
        if p >= n:
            return None, -1
        b = data[p]
        if b == ESC:
            if p + 1 >= n:
                return None, -1
            if data[p + 1] != ESC:
                return None, p
            p += 2
        else:
            p += 1
        out.append(b)
    return bytes(out), p


def decode_beast(data: bytes) -> tuple[BeastFrames, Counter]:
    """Deframe a whole Beast byte string; returns the frames and the reject counts."""
    decoder = BeastDecoder()
    frames = BeastFrames.concat([decoder.feed(data), decoder.flush()])
    counts = Counter(decoder.rejects)
    if decoder.status_frames:
        counts["status_frames"] = decoder.status_frames
    return frames, counts


def encode_beast(
    payloads: list[bytes], mlat_ticks: IntArray, signal: np.ndarray | int = 0xC0
) -> bytes:
    """Beast-frame Mode S (7 or 14 byte) or Mode A/C (2 byte) payloads into one byte string.

    Args:
        payloads: N messages; the frame type follows from each length.
        mlat_ticks: (N,) 12 MHz counter values (taken modulo 2**48).
        signal: (N,) or scalar signal level byte.
    """
    n = len(payloads)
    ticks = np.broadcast_to(np.asarray(mlat_ticks, dtype=np.int64), (n,)) % (1 << 48)
    sig = np.broadcast_to(np.asarray(signal, dtype=np.int64), (n,)) & 0xFF
    type_of = {2: b"1", 7: b"2", 14: b"3"}
    parts = []
    for payload, tick, level in zip(payloads, ticks.tolist(), sig.tolist(), strict=True):
        kind = type_of.get(len(payload))
        if kind is None:
            raise ValueError(f"Beast payload must be 2, 7 or 14 bytes, not {len(payload)}")
        body = tick.to_bytes(6, "big") + bytes((level,)) + bytes(payload)
        parts.append(b"\x1a" + kind + body.replace(_ESC_BYTE, _ESC_PAIR))
    return b"".join(parts)
