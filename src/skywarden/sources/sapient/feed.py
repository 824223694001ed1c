"""The ``kind = "sapient"`` sensor: a SAPIENT TCP stream -> Detections, with counters."""

from __future__ import annotations

from collections import Counter

from skywarden.detections import Detections
from skywarden.geo import LocalFrame
from skywarden.sources.feeds import Feed
from skywarden.sources.sapient.framing import FrameDecoder
from skywarden.sources.sapient.reports import SensorPlace, parse_messages, sapient_to_detections


class SapientFeed(Feed):
    """Length-prefixed SapientMessages (BSI Flex 335 v2.0) from one TCP connection.

    ``records`` counts whole messages; ``seen`` counts them by kind (detection_report,
    registration, status_report, ...); rejects are the framing's and the reports' reasons
    (skywarden.sources.sapient.framing, skywarden.sources.sapient.reports)."""

    def __init__(self, frame: LocalFrame, sensor: int, place: SensorPlace) -> None:
        super().__init__(frame, sensor)
        self.place = place
        self.framer = FrameDecoder()
        self.report_rejects: Counter[str] = Counter()
        self.seen: Counter[str] = Counter()

    def reset_stream(self) -> None:
        self.framer.reset()

    def _decode(self, t: float, data: bytes) -> Detections:
        payloads = self.framer.feed(data)
        self.counters.records += len(payloads)
        msgs = parse_messages(payloads, self.report_rejects, self.seen)
        dets = sapient_to_detections(
            msgs, t, self.frame, self.place, sensor=self.sensor, rejects=self.report_rejects
        )
        self.counters.rejects = self.framer.rejects + self.report_rejects
        return dets
