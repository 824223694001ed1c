"""Mode S CRC-24 (generator 0x1FFF409), vectorised over many messages with NumPy.

The last 24 bits of every Mode S message are parity over the bits before them. For DF17/18
the parity is sent as is (syndrome 0 when correct), for DF11 it is XORed with the
interrogator code (syndrome < 0x80), and for DF0/4/5/16/20/21 it is XORed with the aircraft
address (the syndrome *is* the address).
"""

from __future__ import annotations

import numpy as np

from skywarden.units import IntArray

GENERATOR = 0xFFF409  # the 24 low bits of the generator polynomial


def _table() -> np.ndarray:
    """Byte-wise CRC table: remainder of each byte value shifted into the register."""
    table = np.zeros(256, dtype=np.int64)
    for byte in range(256):
        crc = byte << 16
        for _ in range(8):
            crc = ((crc << 1) ^ GENERATOR) if crc & 0x800000 else (crc << 1)
            crc &= 0xFFFFFF
        table[byte] = crc
    return table


_TABLE = _table()


def parity(data: np.ndarray) -> IntArray:
    """CRC-24 parity of each row of ``data`` (M, K) uint8 -> (M,) int64."""
    data = np.asarray(data, dtype=np.uint8)
    crc = np.zeros(data.shape[0], dtype=np.int64)
    for k in range(data.shape[1]):
        crc = _TABLE[((crc >> 16) ^ data[:, k]) & 0xFF] ^ ((crc << 8) & 0xFFFFFF)
    return crc


def syndrome(messages: np.ndarray) -> IntArray:
    """Parity of the data bits XOR the transmitted parity: (M, 7 or 14) uint8 -> (M,)."""
    messages = np.asarray(messages, dtype=np.uint8)
    sent = (
        (messages[:, -3].astype(np.int64) << 16)
        | (messages[:, -2].astype(np.int64) << 8)
        | messages[:, -1].astype(np.int64)
    )
    return parity(messages[:, :-3]) ^ sent


def with_parity(data: np.ndarray) -> np.ndarray:
    """Append the 3 parity bytes to each row of ``data`` (M, 4 or 11) -> (M, 7 or 14) uint8."""
    data = np.asarray(data, dtype=np.uint8)
    crc = parity(data)
    tail = np.stack([(crc >> 16) & 0xFF, (crc >> 8) & 0xFF, crc & 0xFF], axis=1)
    return np.concatenate([data, tail.astype(np.uint8)], axis=1)
