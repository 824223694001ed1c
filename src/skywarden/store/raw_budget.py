"""A cap on the raw input stored from sources that are sending garbage.

Every raw input is stored so that a run can be replayed; but a source that floods a port with
bytes its decoder rejects would fill the disk with them. While a source's latest decoded data
had more rejects than good records, its raw input is stored through a token bucket of
``rate_bytes_s`` (bursts up to one second's worth); what does not fit is counted (chunks and
bytes per source), not stored. A source whose data decodes (mostly) cleanly is stored in full,
so a replay of it is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RawSkipped:
    """Raw input not stored, per source."""

    chunks: dict[str, int] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)

    def add(self, source: str, nbytes: int) -> None:
        self.chunks[source] = self.chunks.get(source, 0) + 1
        self.bytes[source] = self.bytes.get(source, 0) + nbytes

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {"chunks": dict(self.chunks), "bytes": dict(self.bytes)}


class RawRejectBudget:
    """Decides per raw chunk whether it is stored (see the module docstring).

    Args:
        rate_bytes_s: bytes per second stored from a rejecting source (0: none).
    """

    def __init__(self, rate_bytes_s: float) -> None:
        self.rate = float(rate_bytes_s)
        self._tokens: dict[str, float] = {}
        self._t: dict[str, float] = {}
        self._totals: dict[str, tuple[int, int]] = {}
        self._rejecting: dict[str, bool] = {}
        self.skipped = RawSkipped()

    def note_rejects(self, source: str, rejects: int, records: int) -> None:
        """The source's running totals of rejects and good records after its latest decoded
        data (a reset to lower totals, a new connection, counts as a fresh start)."""
        previous = self._totals.get(source, (rejects, records))
        self._totals[source] = (rejects, records)
        d_rejects, d_records = rejects - previous[0], records - previous[1]
        self._rejecting[source] = d_rejects > 0 and d_rejects >= d_records

    def admit(self, source: str, t: float, nbytes: int) -> bool:
        """Store this chunk of nbytes received at t (s)? Counts it when not."""
        if not self._rejecting.get(source, False):
            return True
        last = self._t.get(source, t)
        refill = max(t - last, 0.0) * self.rate
        tokens = min(self.rate, self._tokens.get(source, self.rate) + refill)
        self._t[source] = t
        if nbytes <= tokens:
            self._tokens[source] = tokens - nbytes
            return True
        self._tokens[source] = tokens
        self.skipped.add(source, nbytes)
        return False
