"""Live feeds: each sensor's byte stream -> Detections, statefully, with counters.

A feed keeps the decoder state its format needs between chunks (partial Beast frames and SBS
lines, CPR pairs per aircraft, Remote ID messages waiting for their Basic ID) and turns every
chunk into a Detections batch in the site frame. Pure apart from that state: the transport
hands it ``(receive_time_s, bytes, connection)``; a new connection number drops any partial
frame. Every reject is counted by reason in one counter per feed that lives as long as the
feed (across reconnects); identity labels (Remote ID serials) and callsigns are collected for
the operator's side table. All of that state is bounded (:mod:`skywarden.sources.limits`):
what goes beyond a limit is counted as a reject and logged (rate-limited).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from skywarden.detections import Detections, icao_identities, remote_id_identity
from skywarden.geo import LocalFrame
from skywarden.sources.asterix.decoder import AsterixDecoder
from skywarden.sources.asterix.detections import (
    RadarSigmas,
    RadarSite,
    cat021_to_detections,
    cat048_to_detections,
    cat062_to_detections,
)
from skywarden.sources.limits import (
    LABEL_TABLE_FULL,
    MAX_LABELS,
    REMOTE_ID_FORGET_EVERY_S,
    REMOTE_ID_IDLE_S,
    BoundedLabels,
    OverflowLog,
)
from skywarden.sources.modes.beast import BeastDecoder
from skywarden.sources.modes.messages import decode_messages
from skywarden.sources.modes.sbs import SbsDecoder, sbs_to_detections
from skywarden.sources.modes.state import ModeSState, modes_to_detections
from skywarden.sources.modes.surface import surface_detections
from skywarden.sources.recordings.pcap import LINKTYPE_IEEE802_11_RADIOTAP, Frame
from skywarden.sources.remote_id.reports import RemoteIdAssembler, remote_id_to_detections
from skywarden.sources.remote_id.transports import decode_frame

REMOTE_ID_UNDECLARED_SIGMA_M = 50.0  # F3411 requires <= 30 m (95%); used when none is declared


@dataclass
class FeedCounters:
    """What a feed has seen: chunks, bytes, decoded records, detections, rejects by reason."""

    chunks: int = 0
    bytes: int = 0
    records: int = 0
    detections: int = 0
    rejects: Counter[str] = field(default_factory=Counter)
    last_t: float = float("nan")

    def as_dict(self) -> dict[str, object]:
        return {
            "messages": self.chunks,
            "bytes": self.bytes,
            "records": self.records,
            "detections": self.detections,
            "rejects": {k: v for k, v in self.rejects.items() if v},
            "last_message_t": self.last_t,
        }


class Feed:
    """Base of the per-format feeds (one per configured sensor)."""

    def __init__(self, frame: LocalFrame, sensor: int) -> None:
        self.frame = frame
        self.sensor = sensor
        self.counters = FeedCounters()
        self.names = BoundedLabels(MAX_LABELS)
        self.callsigns = BoundedLabels(MAX_LABELS)
        self.overflow_log = OverflowLog(f"sensor {sensor}")
        self._connection = 0

    @property
    def name(self) -> str:
        """The sensor's name in log lines (the service sets it from the configuration)."""
        return self.overflow_log.name

    @name.setter
    def name(self, value: str) -> None:
        self.overflow_log.name = value

    def feed(self, t: float, data: bytes, connection: int = 0) -> Detections:
        """Decode one chunk received at POSIX time t; never raises on bad bytes."""
        self.counters.chunks += 1
        self.counters.bytes += len(data)
        self.counters.last_t = t
        if connection != self._connection:
            self._connection = connection
            self.reset_stream()
        try:
            dets = self._decode(t, data)
        except Exception as exc:  # a decoder bug must not stop the service: count it
            self.counters.rejects[f"decoder_error:{type(exc).__name__}"] += 1
            dets = Detections.empty()
        self.counters.detections += len(dets)
        self._note_limits(t)
        return dets

    def _note_limits(self, t: float) -> None:
        """Count label evictions and log limit rejects (rate-limited)."""
        evicted = self.names.evicted + self.callsigns.evicted
        if evicted:
            self.counters.rejects[LABEL_TABLE_FULL] = evicted
        self.overflow_log.note(t, self.counters.rejects)

    def feed_many(self, chunks: list[tuple[float, bytes, int]]) -> Detections:
        """Decode several chunks ``(t, bytes, connection)`` in arrival order (formats that
        decode faster in batches override this)."""
        parts = [self.feed(t, data, connection) for t, data, connection in chunks]
        return Detections.concat([p for p in parts if len(p)])

    def reset_stream(self) -> None:
        """Forget partial frames (a new TCP connection); counters stay."""

    def _decode(self, t: float, data: bytes) -> Detections:
        raise NotImplementedError

    def _label_icao(self, address: np.ndarray, callsign: np.ndarray) -> None:
        has = (address >= 0) & (np.asarray(callsign, dtype=object) != "")
        for key, cs in zip(icao_identities(address[has]), np.asarray(callsign)[has], strict=True):
            self.callsigns[int(key)] = str(cs).strip()


class AsterixFeed(Feed):
    """UDP datagrams of ASTERIX blocks (CAT048 plots of a radar at a known position, CAT021,
    CAT062; CAT034 counted).

    ``rcs_calibration_dbm``: the radar's I048/130 primary amplitude for a 1 m^2 target at
    1 km; with it the plots' detections carry an RCS (dBsm), without it their RCS is NaN.
    """

    def __init__(
        self,
        frame: LocalFrame,
        sensor: int,
        radar: RadarSite,
        sigmas: RadarSigmas | None = None,
        rcs_calibration_dbm: float | None = None,
    ) -> None:
        super().__init__(frame, sensor)
        self.radar = radar
        self.sigmas = sigmas or RadarSigmas()
        self.rcs_calibration_dbm = rcs_calibration_dbm
        self.decoder = AsterixDecoder(fast=True, rejects=self.counters.rejects)

    def feed_many(self, chunks: list[tuple[float, bytes, int]]) -> Detections:
        """All datagrams at once: the vectorised CAT048 decoder walks every block together."""
        if not chunks:
            return Detections.empty()
        self.counters.chunks += len(chunks)
        self.counters.bytes += sum(len(c[1]) for c in chunks)
        self.counters.last_t = chunks[-1][0]
        try:
            records = self.decoder.decode_datagrams([c[1] for c in chunks], [c[0] for c in chunks])
            dets = self._detections(records)
        except Exception as exc:  # a decoder bug must not stop the service: count it
            self.counters.rejects[f"decoder_error:{type(exc).__name__}"] += 1
            dets = Detections.empty()
        self.counters.detections += len(dets)
        self._note_limits(chunks[-1][0])
        return dets

    def _decode(self, t: float, data: bytes) -> Detections:
        return self._detections(self.decoder.decode(data, reference_t=t))

    def _detections(self, records) -> Detections:
        self.counters.records += sum(
            len(r) for r in (records.cat048, records.cat021, records.cat062, records.cat034)
        )
        self._label_icao(records.cat048.address, records.cat048.callsign)
        self._label_icao(records.cat021.address, records.cat021.callsign)
        parts = [
            cat048_to_detections(
                records.cat048,
                self.frame,
                self.radar,
                self.sigmas,
                sensor=self.sensor,
                rcs_calibration_dbm=self.rcs_calibration_dbm,
            ),
            cat021_to_detections(records.cat021, self.frame, sensor=self.sensor),
            cat062_to_detections(records.cat062, self.frame, sensor=self.sensor),
        ]
        return Detections.concat([p for p in parts if len(p)])


class SbsFeed(Feed):
    """SBS/BaseStation text (dump1090 port 30003)."""

    def __init__(self, frame: LocalFrame, sensor: int) -> None:
        super().__init__(frame, sensor)
        self.decoder = SbsDecoder(rejects=self.counters.rejects)

    def reset_stream(self) -> None:
        self.decoder.reset()

    def _decode(self, t: float, data: bytes) -> Detections:
        records = self.decoder.feed(data)
        self.counters.records += len(records)
        self._label_icao(records.icao, records.callsign)
        return sbs_to_detections(records, self.frame, sensor=self.sensor)


class BeastFeed(Feed):
    """Mode-S Beast binary (dump1090 / readsb port 30005); frames timed by receive time."""

    def __init__(self, frame: LocalFrame, sensor: int) -> None:
        super().__init__(frame, sensor)
        rejects = self.counters.rejects  # one cumulative count for framing, messages, state
        self.decoder = BeastDecoder(rejects=rejects)
        self.state = ModeSState(rejects=rejects)

    def reset_stream(self) -> None:
        self.decoder.reset()

    def _decode(self, t: float, data: bytes) -> Detections:
        frames = self.decoder.feed(data).mode_s()
        self.counters.records += len(frames)
        msgs = decode_messages(frames.payload, np.full(len(frames), t), self.counters.rejects)
        reports = self.state.update(msgs)
        self._label_icao(reports.icao, reports.callsign)
        airborne = modes_to_detections(reports, self.frame, sensor=self.sensor)
        surface = surface_detections(
            msgs, self.frame, sensor=self.sensor, rejects=self.counters.rejects
        )
        return Detections.concat([airborne, surface])


class RemoteIdFeed(Feed):
    """Remote ID: one captured link-layer frame per datagram (radiotap Wi-Fi by default).

    Transmitters silent for ``REMOTE_ID_IDLE_S`` (receive time) are forgotten, checked every
    ``REMOTE_ID_FORGET_EVERY_S``; the assembler's table is also capped (limits.py)."""

    def __init__(
        self, frame: LocalFrame, sensor: int, linktype: int = LINKTYPE_IEEE802_11_RADIOTAP
    ) -> None:
        super().__init__(frame, sensor)
        self.linktype = linktype
        self.assembler = RemoteIdAssembler()
        self.assembler.counts = self.counters.rejects
        self._aged_at = -math.inf

    def _decode(self, t: float, data: bytes) -> Detections:
        messages = decode_frame(Frame(t, self.linktype, data), self.counters.rejects)
        self.counters.records += len(messages)
        reports = self.assembler.add_all(messages)
        if not t - self._aged_at < REMOTE_ID_FORGET_EVERY_S:
            self.assembler.forget_before(t - REMOTE_ID_IDLE_S)
            self._aged_at = t
        for r in reports:
            self.names[remote_id_identity(r.uas_id, r.id_type)] = f"rid:{r.uas_id}"
        if not reports:
            return Detections.empty()
        return remote_id_to_detections(
            reports, self.frame, sensor=self.sensor,
            unknown_horizontal_sigma_m=REMOTE_ID_UNDECLARED_SIGMA_M,
        )  # fmt: skip
