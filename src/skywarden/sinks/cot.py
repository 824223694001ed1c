"""Cursor-on-Target sink: tracks and alerts as CoT XML events to a TAK server (TCP or UDP).

CoT XML is built here with ``xml.etree`` rather than with pytak (Apache-2.0, installs cleanly):
pytak stamps ``time``/``start``/``stale`` from the wall clock and truncates positions to four
decimals (~11 m), while skywarden passes time in and wants reproducible events; and its
transport is a ConfigParser-driven worker framework, where we need a bounded queue with counted
drops and a reconnecting writer that never blocks the pipeline. The format is small:
``<event version="2.0" uid type how time start stale><point lat lon hae ce le/><detail>...``.

Track types (MIL-STD-2525 atoms ``a-<affiliation>-<dimension>-<function>``, as in the MITRE
CoT type list ``CoTtypes.xml`` shipped with TAK clients):

=========  ==============================  ======================================================
class      type                            meaning
=========  ==============================  ======================================================
drone      ``a-u-A-M-F-Q``                 unknown affiliation, air, military fixed wing, drone
                                           (RPV/UAV) -- the usual "unknown UAS" symbol
aircraft   ``a-n-A-C-F`` / ``a-u-A-C-F``   civil fixed wing: neutral when cooperative (an ICAO
                                           address or callsign), unknown otherwise
unknown    ``a-u-A``                       unknown air track
bird       (not sent by default)           ``a-u-A`` if ``send_classes`` includes it
clutter    never sent
=========  ==============================  ======================================================

``how="m-f"`` (machine, fused). ``point``: WGS-84 lat/lon, ``hae`` metres above the ellipsoid,
``ce`` the 1-sigma horizontal error (m), ``le`` 9999999.0 (unknown). ``detail``: ``contact``
callsign, ``track`` course (degrees true) and speed (m/s), ``remarks``, and a ``skywarden``
element with the class probabilities and identity. ``stale`` = time + ``track_stale_s``.

Alerts use type ``b-a-g`` ("Geo-fence Breached", the ATAK alarm type for a zone breach; not
``b-a-o-tbl``, which is the personal 911 emergency), uid ``<prefix>.alert.<id>``, at the
object's position, with ``<emergency type="Geo-fence Breached">``, a ``link`` to the track's
event and remarks saying zone, object, probability, time to entry and state. A cleared alert
is sent once more with ``stale == time`` and ``<emergency cancel="true">`` so that clients drop
it. ``alert_type="b-m-p-s-p-i"`` (a plain point of interest) suits clients that should not
raise an alarm.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime
import math
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from typing import Any

from skywarden.sinks.reconnecting import ReconnectingSender
from skywarden.snapshot import CLASS_NAMES, AlertView, Snapshot

TRACK_TYPES = {
    "drone": "a-u-A-M-F-Q",
    "aircraft": "a-u-A-C-F",
    "unknown": "a-u-A",
    "bird": "a-u-A",
}
COOPERATIVE_AIRCRAFT_TYPE = "a-n-A-C-F"
ALERT_TYPE = "b-a-g"
UNKNOWN_ERROR = "9999999.0"
DEFAULT_CLASSES = ("drone", "aircraft", "unknown")


def cot_time(t: float) -> str:
    """POSIX seconds -> CoT time (ISO 8601 UTC with milliseconds and 'Z')."""
    stamp = datetime.datetime.fromtimestamp(t, tz=datetime.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def _f(v: float, digits: int) -> str:
    return f"{v:.{digits}f}" if math.isfinite(v) else UNKNOWN_ERROR


def _event(
    uid: str, cot_type: str, t: float, stale: float, lat: float, lon: float, hae: float, ce: float
) -> ET.Element:
    event = ET.Element(
        "event",
        {
            "version": "2.0",
            "uid": uid,
            "type": cot_type,
            "how": "m-f",
            "time": cot_time(t),
            "start": cot_time(t),
            "stale": cot_time(stale),
        },
    )
    ET.SubElement(
        event,
        "point",
        {
            "lat": f"{lat:.7f}",
            "lon": f"{lon:.7f}",
            "hae": _f(hae, 1),
            "ce": _f(ce, 1),
            "le": UNKNOWN_ERROR,
        },
    )
    return event


def track_type(target_class: str, identity: str, callsign: str) -> str:
    """The CoT type of a track of this class (see the module docstring)."""
    if target_class == "aircraft" and (identity.startswith("icao:") or callsign):
        return COOPERATIVE_AIRCRAFT_TYPE
    return TRACK_TYPES.get(target_class, "a-u-A")


def track_events(
    snapshot: Snapshot,
    *,
    uid_prefix: str = "skywarden",
    stale_s: float = 15.0,
    classes: tuple[str, ...] = DEFAULT_CLASSES,
) -> list[bytes]:
    """One CoT event per track of the given classes with a finite position (UTF-8 XML)."""
    tr = snapshot.tracks
    out = []
    for i in range(len(tr)):
        name = CLASS_NAMES[int(tr.target_class[i])]
        if name not in classes or name == "clutter":
            continue
        lat, lon = float(tr.lat[i]), float(tr.lon[i])
        if not (math.isfinite(lat) and math.isfinite(lon)):
            continue
        identity, callsign = str(tr.identity[i] or ""), str(tr.callsign[i] or "")
        track_id = int(tr.id[i])
        event = _event(
            f"{uid_prefix}.track.{track_id}",
            track_type(name, identity, callsign),
            snapshot.t,
            snapshot.t + stale_s,
            lat,
            lon,
            float(tr.alt_m[i]),
            float(tr.sigma_m[i]),
        )
        detail = ET.SubElement(event, "detail")
        ET.SubElement(detail, "contact", {"callsign": callsign or identity or f"T{track_id}"})
        ve, vn = float(tr.enu[i, 3]), float(tr.enu[i, 4])
        course = math.degrees(math.atan2(ve, vn)) % 360.0
        ET.SubElement(
            detail, "track", {"course": f"{course:.1f}", "speed": f"{math.hypot(ve, vn):.2f}"}
        )
        p = {
            k: float(tr.p_class[i, j])
            for j, k in enumerate(("drone", "bird", "aircraft", "unknown"))
        }
        remark = ET.SubElement(detail, "remarks")
        remark.text = (
            f"skywarden track {track_id}: {name} (p drone {p['drone']:.2f}, bird {p['bird']:.2f}, "
            f"aircraft {p['aircraft']:.2f})" + (f", {identity}" if identity else "")
        )
        ET.SubElement(
            detail,
            "skywarden",
            {
                "track_id": str(track_id),
                "class": name,
                "identity": identity,
                "behaviour": str(tr.behaviour[i] or ""),
                **{f"p_{k}": f"{v:.3f}" for k, v in p.items()},
            },
        )
        out.append(ET.tostring(event, encoding="utf-8", xml_declaration=False))
    return out


def alert_event(
    alert: AlertView,
    t: float,
    *,
    uid_prefix: str = "skywarden",
    stale_s: float = 300.0,
    alert_type: str = ALERT_TYPE,
    note: str = "",
) -> bytes:
    """The CoT event of one alert at time t (POSIX s); a cleared alert is stale at once."""
    cleared = alert.state.lower() in ("cleared", "removed")
    event = _event(
        f"{uid_prefix}.alert.{alert.id}",
        alert_type,
        t,
        t if cleared else t + stale_s,
        alert.lat,
        alert.lon,
        alert.alt_m,
        math.nan,
    )
    detail = ET.SubElement(event, "detail")
    ET.SubElement(detail, "contact", {"callsign": f"ALERT {alert.zone_id} #{alert.id}"})
    emergency = ET.SubElement(
        detail, "emergency", {"cancel": "true"} if cleared else {"type": "Geo-fence Breached"}
    )
    emergency.text = f"{alert.zone_id}: {alert.object}"
    ET.SubElement(
        detail,
        "link",
        {
            "uid": f"{uid_prefix}.track.{alert.track_id}",
            "relation": "p-p",
            "type": TRACK_TYPES.get(alert.target_class, "a-u-A"),
        },
    )
    tte = "inside" if alert.inside else f"time to entry {_f(alert.time_to_entry_s, 0)} s"
    remark = ET.SubElement(detail, "remarks")
    remark.text = (
        f"skywarden alert {alert.id} [{alert.state}] zone {alert.zone_id}: {alert.target_class} "
        f"{alert.object} (track {alert.track_id}), p={alert.probability:.2f}, {tte}, "
        f"priority {alert.priority}" + (f". {note}" if note else "")
    )
    return ET.tostring(event, encoding="utf-8", xml_declaration=False)


@dataclass
class CotCounters:
    """Running counts of the CoT sink (for /health)."""

    queued: int = 0
    sent: int = 0
    dropped: int = 0  # oldest events pushed out of a full queue
    connects: int = 0
    disconnects: int = 0
    errors: int = 0  # failed connects and writes
    skipped: int = 0  # alerts without a position (nothing to put on a map)
    last_error: str = ""  # the last failed connect or write

    def as_dict(self) -> dict[str, int | str]:
        return asdict(self)


class _Datagrams(asyncio.DatagramProtocol):
    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable etc.
        pass


class CotSink(ReconnectingSender):
    """Send CoT events to a TAK server at host:port over ``protocol`` "tcp" or "udp".

    :meth:`submit_tracks` and :meth:`submit_alert` build the XML and queue it (never block);
    a full queue drops its oldest event (a newer picture supersedes it). One task writes the
    queue, connecting (TCP) with capped exponential backoff and reconnecting when the server
    closes the connection; an event whose write fails is sent again on the new connection.
    Track events are sent at most every ``track_interval_s`` seconds of snapshot time.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        protocol: str = "tcp",
        max_queue: int = 5000,
        initial_backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        connect_timeout_s: float = 5.0,
        uid_prefix: str = "skywarden",
        track_interval_s: float = 1.0,
        track_stale_s: float = 15.0,
        alert_stale_s: float = 300.0,
        alert_type: str = ALERT_TYPE,
        classes: tuple[str, ...] = DEFAULT_CLASSES,
    ) -> None:
        if protocol not in ("tcp", "udp"):
            raise ValueError(f"CoT protocol must be 'tcp' or 'udp', not {protocol!r}")
        self.host, self.port, self.protocol = host, port, protocol
        self.initial_backoff_s, self.max_backoff_s = initial_backoff_s, max_backoff_s
        self.connect_timeout_s = connect_timeout_s
        self.uid_prefix, self.alert_type, self.classes = uid_prefix, alert_type, classes
        self.track_interval_s, self.track_stale_s = track_interval_s, track_stale_s
        self.alert_stale_s = alert_stale_s
        self.counters = CotCounters()
        self._queue: collections.deque[bytes] = collections.deque(maxlen=max_queue)
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._last_tracks_t = -math.inf
        self._task: asyncio.Task[None] | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._udp: asyncio.DatagramTransport | None = None

    # --- producing (called by the pipeline; never blocks) -----------------------------------

    def submit(self, event: bytes) -> None:
        """Queue one CoT event (UTF-8 XML); a full queue drops its oldest event."""
        if len(self._queue) == self._queue.maxlen:
            self.counters.dropped += 1
        self._queue.append(event)
        self.counters.queued += 1
        self._idle.clear()
        self._ready.set()

    def submit_tracks(self, snapshot: Snapshot) -> int:
        """Queue the snapshot's track events if track_interval_s has passed; returns how many."""
        if snapshot.t - self._last_tracks_t < self.track_interval_s:
            return 0
        self._last_tracks_t = snapshot.t
        events = track_events(
            snapshot, uid_prefix=self.uid_prefix, stale_s=self.track_stale_s, classes=self.classes
        )
        for e in events:
            self.submit(e)
        return len(events)

    def submit_alert(self, alert: AlertView, t: float, note: str = "") -> bool:
        """Queue the CoT event of an alert that was raised or changed at time t (POSIX s);
        False (counted in ``skipped``) for an alert without a finite position."""
        if not (math.isfinite(alert.lat) and math.isfinite(alert.lon)):
            self.counters.skipped += 1
            return False
        event = alert_event(
            alert,
            t,
            uid_prefix=self.uid_prefix,
            stale_s=self.alert_stale_s,
            alert_type=self.alert_type,
            note=note,
        )
        self.submit(event)
        return True

    # --- sending ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the writer task (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"cot {self.host}:{self.port}")

    @property
    def connected(self) -> bool:
        if self.protocol == "udp":
            return self._udp is not None
        return self._writer is not None and not self._writer.is_closing()

    async def _connect(self) -> bool:
        try:
            if self.protocol == "udp":
                loop = asyncio.get_running_loop()
                self._udp, _ = await loop.create_datagram_endpoint(
                    _Datagrams, remote_addr=(self.host, self.port)
                )
            else:
                reader, self._writer = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port), self.connect_timeout_s
                )
                self._reader_task = asyncio.create_task(self._watch(reader, self._writer))
        except (OSError, TimeoutError) as exc:
            self.counters.errors += 1
            self.counters.last_error = f"connect: {type(exc).__name__}: {exc}"
            return False
        self.counters.connects += 1
        return True

    async def _watch(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read (and discard) what the server sends; notice when it closes the connection."""
        with contextlib.suppress(OSError):
            while await reader.read(65536):
                pass
        if self._writer is writer:
            self._drop_connection()
        self._ready.set()

    async def _send(self, event: bytes) -> bool:
        if self.protocol != "udp":
            return await self._write(event + b"\n")
        try:
            assert self._udp is not None
            self._udp.sendto(event)
        except (OSError, AssertionError) as exc:
            return self._write_failed(exc)
        self.counters.sent += 1
        return True

    def health(self) -> dict[str, Any]:
        return self._link_health()

    def output_health(self) -> dict[str, dict[str, Any]]:
        """This output's counters under its label (skywarden.sinks.delivery_health)."""
        return {f"cot {self.protocol}://{self.host}:{self.port}": self.health()}

    async def close(self, timeout_s: float = 2.0) -> None:
        """Try to drain for up to timeout_s, then stop and close the connection."""
        await self._stop_tasks(timeout_s)
        self._drop_connection()
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    async def __aenter__(self) -> CotSink:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
