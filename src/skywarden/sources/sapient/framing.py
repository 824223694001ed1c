"""SAPIENT TCP framing: each serialised SapientMessage follows a 4-byte length.

BSI Flex 335 v2.0 sends protobuf messages over TCP, each preceded by its length as an
unsigned 32-bit **little-endian** integer (as the Dstl Apex SAPIENT middleware writes it,
``struct.pack("<I", n)``). A stream has no resynchronisation marker: a length beyond
``max_message_bytes`` means the stream is lost, so the decoder counts it, drops what it holds
and waits for the next connection (``reset``) rather than reading garbage as messages.
"""

from __future__ import annotations

import struct
from collections import Counter

LENGTH = struct.Struct("<I")
MAX_MESSAGE_BYTES = 1 << 20  # 1 MiB: far above any real report, far below a memory problem


def frame(payload: bytes) -> bytes:
    """One framed message: the 4-byte little-endian length, then the payload."""
    return LENGTH.pack(len(payload)) + payload


class FrameDecoder:
    """Chunks of a TCP stream -> whole message payloads (the same however the bytes split).

    Rejects are counted in ``rejects`` by reason: ``frame_too_long`` (the stream is then
    ignored until :meth:`reset`, a new connection) and ``frame_empty`` (a zero length).
    """

    def __init__(self, max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.max_message_bytes = max_message_bytes
        self.rejects: Counter[str] = Counter()
        self._buffer = bytearray()
        self._lost = False

    def reset(self) -> None:
        """A new connection: forget any partial frame and start reading again."""
        self._buffer.clear()
        self._lost = False

    def feed(self, data: bytes) -> list[bytes]:
        """The payloads completed by this chunk, in order."""
        if self._lost:
            if data:
                self.rejects["chunk_after_lost_frame"] += 1
            return []
        self._buffer += data
        out: list[bytes] = []
        pos, end = 0, len(self._buffer)
        while end - pos >= LENGTH.size:
            (n,) = LENGTH.unpack_from(self._buffer, pos)
            if n > self.max_message_bytes:
                self.rejects["frame_too_long"] += 1
                self._lost = True
                self._buffer.clear()
                return out
            if end - pos - LENGTH.size < n:
                break
            if n == 0:
                self.rejects["frame_empty"] += 1
            else:
                out.append(bytes(self._buffer[pos + LENGTH.size : pos + LENGTH.size + n]))
            pos += LENGTH.size + n
        del self._buffer[:pos]
        return out
