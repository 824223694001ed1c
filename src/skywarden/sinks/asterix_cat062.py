"""CAT062 sink: skywarden's tracks as ASTERIX system tracks over UDP, for ATC displays.

``[sinks] asterix_cat062 = "udp://HOST:PORT"``. Every ``interval_s`` of snapshot time the
confirmed and coasting tracks (not clutter) go out as CAT062 edition 1.21 records
(:mod:`skywarden.sources.asterix.encode_cat062`), up to 50 per data block, one block per
datagram: track number (skywarden's, modulo 65536: I062/040 has 16 bits), WGS-84 position,
velocity in the track's local east/north (what I062/185 means near the system reference),
geometric height above the ellipsoid, 1-sigma position accuracy, the ICAO address and callsign
where known, CST for coasting tracks, SAC/SIC ``sac``/``sic``. skywarden's snapshot carries no
Mode 3/A code, so I062/060 is left out.

It never blocks the pipeline: :meth:`submit_tracks` only keeps the newest snapshot (an older one
not yet sent is superseded, counted); one task encodes it in a worker thread and sends the
datagrams (non-blocking UDP; refusals counted). CAT062 has no alerts: :meth:`submit_alert`
sends nothing.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from skywarden.geo import LocalFrame
from skywarden.sinks.reconnecting import cancel, wait_idle
from skywarden.snapshot import CLASS_NAMES, AlertView, Snapshot
from skywarden.sources.asterix.encode_cat062 import encode_cat062
from skywarden.sources.asterix.records import Cat062Records
from skywarden.sources.senders import UdpSender

SECONDS_PER_DAY = 86400.0
CLUTTER = CLASS_NAMES.index("clutter")


def snapshot_to_cat062(
    snapshot: Snapshot, sac: int = 0, sic: int = 1
) -> tuple[Cat062Records, np.ndarray]:
    """The snapshot's confirmed and coasting tracks (not clutter, with a position) as CAT062
    record columns, and their (N,) coasting flags."""
    tr = snapshot.tracks
    keep = np.isin(tr.status, (1, 2)) & (tr.target_class != CLUTTER)
    keep &= np.isfinite(tr.lat) & np.isfinite(tr.lon)
    tr = tr.take(keep)
    n = len(tr)
    v = tr.enu[:, 3:6]
    if n:
        site_to_local = np.swapaxes(LocalFrame(*snapshot.site).rotation_at(tr.lat, tr.lon), 1, 2)
        v = np.einsum("nij,nj->ni", site_to_local, tr.enu[:, 3:6])
    identity = [str(x or "") for x in tr.identity]
    address = [int(x[5:], 16) if x.startswith("icao:") else -1 for x in identity]
    cols = {
        "sac": np.full(n, sac), "sic": np.full(n, sic),
        "tod_s": np.full(n, snapshot.t % SECONDS_PER_DAY), "t": np.full(n, snapshot.t),
        "track_number": tr.id.astype(np.int64) & 0xFFFF,
        "lat_deg": tr.lat, "lon_deg": tr.lon, "vx_mps": v[:, 0], "vy_mps": v[:, 1],
        "address": np.array(address, dtype=np.int64),
        "callsign": np.array([str(c or "") for c in tr.callsign], dtype=object),
        "geometric_height_m": tr.alt_m, "sigma_x_m": tr.sigma_m, "sigma_y_m": tr.sigma_m,
    }  # fmt: skip
    return Cat062Records.from_columns(cols, n), tr.status == 2


@dataclass
class Cat062Counters:
    """Running counts of the CAT062 sink (for /health)."""

    pictures: int = 0  # snapshots encoded and sent
    superseded: int = 0  # snapshots replaced by a newer one before they were sent
    records: int = 0
    datagrams: int = 0
    errors: int = 0  # datagrams the socket refused, and encoding failures
    last_error: str = ""

    def as_dict(self) -> dict[str, int | str]:
        return asdict(self)


class Cat062Sink:
    """Send the tracks as CAT062 to host:port over UDP, every ``interval_s`` of snapshot time."""

    def __init__(self, host: str, port: int, *, sac: int = 0, sic: int = 1,
                 interval_s: float = 1.0) -> None:  # fmt: skip
        self.sender = UdpSender(host, port)
        self.sac, self.sic, self.interval_s = sac, sic, interval_s
        self.counters = Cat062Counters()
        self._pending: Snapshot | None = None
        self._last_t = -math.inf
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    def submit_tracks(self, snapshot: Snapshot) -> bool:
        """Keep this snapshot for sending if interval_s has passed (never blocks)."""
        if snapshot.t - self._last_t < self.interval_s:
            return False
        self._last_t = snapshot.t
        if self._pending is not None:
            self.counters.superseded += 1
        self._pending = snapshot
        self._idle.clear()
        self._ready.set()
        return True

    def submit_alert(self, alert: AlertView, t: float, note: str = "") -> bool:
        """CAT062 carries no alerts: nothing is sent."""
        return False

    def encode(self, snapshot: Snapshot) -> list[bytes]:
        """The CAT062 data blocks of one snapshot."""
        records, coasting = snapshot_to_cat062(snapshot, self.sac, self.sic)
        self.counters.records += len(records)
        return encode_cat062(records, coasting=coasting)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="cat062 sink")

    async def _run(self) -> None:
        while True:
            if self._pending is None:
                self._idle.set()
                self._ready.clear()
                await self._ready.wait()
                continue
            snapshot, self._pending = self._pending, None
            try:
                blocks = await asyncio.to_thread(self.encode, snapshot)
            except Exception as exc:  # an encoder bug must not stop the service: count it
                self.counters.errors += 1
                self.counters.last_error = f"encode: {type(exc).__name__}: {exc}"
                continue
            for block in blocks:
                if self.sender.send(block):
                    self.counters.datagrams += 1
                else:
                    self.counters.errors += 1
                    self.counters.last_error = "send: the socket refused a datagram"
            self.counters.pictures += 1

    async def drain(self, timeout_s: float) -> bool:
        """Wait until the pending snapshot is sent; False on timeout."""
        return await wait_idle(self._idle, timeout_s)

    def health(self) -> dict[str, Any]:
        return self.counters.as_dict()

    def output_health(self) -> dict[str, dict[str, Any]]:
        """This output's counters under its label (skywarden.sinks.delivery_health)."""
        return {f"cat062 udp://{self.sender.host}:{self.sender.port}": self.health()}

    async def close(self, timeout_s: float = 2.0) -> None:
        if self._task is not None:
            await self.drain(timeout_s)
        await cancel(self._task)
        self._task = None
        self.sender.close()
