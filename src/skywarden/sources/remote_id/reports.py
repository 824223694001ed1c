"""Remote ID messages -> per-UA position reports -> :class:`~skywarden.detections.Detections`.

Broadcast Remote ID spreads one UA's state over several messages (BLE 4 sends one message per
advert; packs bundle them). :class:`RemoteIdAssembler` keeps, per transmitter address, the
latest Basic ID(s), System, Operator ID and Self-ID, and turns each Location message into a
:class:`PositionReport` keyed on ``(id_type, uas_id)``:

- Locations heard before the transmitter's first Basic ID wait (bounded) and are reported
  when it arrives; those never matched are counted.
- Identical Location messages (same bytes, timestamp known) repeated by one UA within
  ``duplicate_window_s`` - a Parrot ANAFI repeats each ~9 times, the opendroneid simulator
  sends each on Wi-Fi beacon and NAN - are reported once: they are one measurement.
- A Location with unknown lat/lon gives no report (no position is invented).
- The report time is the Location timestamp resolved to the hour nearest the receive time;
  when the timestamp is unknown or more than ``max_timestamp_offset_s`` from the receive time
  (the opendroneid simulator always sends 0), the receive time is used instead.

:func:`remote_id_to_detections` converts reports into ENU detections with covariance.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from skywarden.detections import Detections, SourceKind, make_detections, remote_id_identity
from skywarden.geo import (
    UNKNOWN_VERTICAL_SIGMA_M,
    LocalFrame,
    geodetic_to_enu_with_cov,
    remote_id_horizontal_accuracy_to_sigma_m,
    remote_id_vertical_accuracy_to_sigma_m,
)
from skywarden.sources.limits import REMOTE_ID_MAX_TRANSMITTERS, REMOTE_ID_TABLE_FULL
from skywarden.sources.remote_id.encode import encode_location
from skywarden.sources.remote_id.messages import (
    BasicId,
    Location,
    OperatorId,
    SelfId,
    System,
    resolve_hour_timestamp,
)
from skywarden.sources.remote_id.transports import ReceivedMessage

_ID_TYPE_PREFERENCE = (1, 2, 3, 4, 0)  # serial, CAA registration, UTM UUID, session ID, none


@dataclass(frozen=True, slots=True)
class PositionReport:
    """One Remote ID position of one UA, ready for the tracker. NaN / -1 / "" = unknown.

    Times are POSIX seconds (``t`` = position time, see module doc). Lat/lon in degrees,
    altitudes/heights in metres (geodetic = WGS-84 HAE; height above take-off or ground per
    ``height_type``), speeds in m/s, ``direction_rad`` clockwise from true north.
    ``eu_category`` / ``eu_class`` are the System codes (-1 before a System message or when
    the classification is not EU); operator position from the System message.
    """

    t: float
    t_receive: float
    transport: str
    address: str
    id_type: int
    uas_id: str
    ua_type: int
    status: int
    lat_deg: float
    lon_deg: float
    geodetic_altitude_m: float
    pressure_altitude_m: float
    height_m: float
    height_type: int
    horizontal_accuracy: int
    vertical_accuracy: int
    baro_accuracy: int
    speed_accuracy: int
    speed_m_s: float
    direction_rad: float
    vertical_speed_m_s: float
    operator_lat_deg: float = math.nan
    operator_lon_deg: float = math.nan
    operator_altitude_m: float = math.nan
    operator_location_type: int = -1
    eu_category: int = -1
    eu_class: int = -1
    operator_id: str = ""
    self_id: str = ""

    @property
    def identity(self) -> int:
        """The detection identity key of this UA."""
        return remote_id_identity(self.uas_id, self.id_type)


@dataclass
class _Transmitter:
    basic_ids: dict[int, BasicId] = field(default_factory=dict)
    system: System | None = None
    operator_id: OperatorId | None = None
    self_id: SelfId | None = None
    pending: deque[ReceivedMessage] = field(default_factory=deque)
    last_heard: float = -math.inf

    def primary_id(self) -> BasicId | None:
        for id_type in _ID_TYPE_PREFERENCE:
            if id_type in self.basic_ids:
                return self.basic_ids[id_type]
        return None


def _frame_key(r: ReceivedMessage) -> tuple[float, str, str, int]:
    return r.t, r.transport, r.address, r.counter


class RemoteIdAssembler:
    """Stateful grouping step: feed :class:`ReceivedMessage` in receive order, get reports.

    ``counts`` records why Locations gave no report: ``location_position_unknown``,
    ``location_duplicate``, ``location_without_basic_id`` (dropped from the pending queue),
    and ``location_timestamp_far`` (report kept, receive time used).

    Memory is bounded: at most ``max_transmitters`` transmitter addresses (beyond that the
    least recently heard is forgotten, counted as ``remote_id_table_full``) and as many UAs
    in the duplicate memory; :meth:`forget_before` ages out the silent ones (the live feed
    calls it).
    """

    def __init__(
        self,
        *,
        max_pending: int = 16,
        duplicate_window_s: float = 10.0,
        max_timestamp_offset_s: float = 10.0,
        max_transmitters: int = REMOTE_ID_MAX_TRANSMITTERS,
    ) -> None:
        self.max_pending = max_pending
        self.max_transmitters = max_transmitters
        self.duplicate_window_s = duplicate_window_s
        self.max_timestamp_offset_s = max_timestamp_offset_s
        self.counts: Counter[str] = Counter()
        self._transmitters: dict[str, _Transmitter] = {}
        self._recent: dict[tuple[int, str], deque[tuple[bytes, float]]] = {}

    def add(self, received: ReceivedMessage) -> list[PositionReport]:
        """Reports produced by one more message (usually 0 or 1; more when pending flush)."""
        tx = self._heard(received.address)
        tx.last_heard = max(tx.last_heard, received.t)
        m = received.message
        if isinstance(m, Location):
            if tx.primary_id() is None:
                self._hold(tx, received)
                return []
            report = self._report(tx, received)
            return [] if report is None else [report]
        if isinstance(m, BasicId):
            if not m.uas_id.strip("\0 "):
                self.counts["basic_id_empty"] += 1
                return []
            tx.basic_ids[m.id_type] = m
            pending, tx.pending = list(tx.pending), deque()
            return [r for r in (self._report(tx, p) for p in pending) if r is not None]
        if isinstance(m, System):
            tx.system = m
        elif isinstance(m, OperatorId):
            tx.operator_id = m
        elif isinstance(m, SelfId):
            tx.self_id = m
        return []

    def add_frame(self, messages: Sequence[ReceivedMessage]) -> list[PositionReport]:
        """Reports of the messages of one frame (one pack): identity and System first, so a
        Location packed before its System message already carries the operator data."""
        ordered = sorted(messages, key=lambda r: isinstance(r.message, Location))  # stable
        out: list[PositionReport] = []
        for received in ordered:
            out += self.add(received)
        return out

    def add_all(self, messages: Iterable[ReceivedMessage]) -> list[PositionReport]:
        """Reports of a message stream; consecutive messages of one frame (same receive time,
        transport, address and counter) are handled together by :meth:`add_frame`."""
        out: list[PositionReport] = []
        frame: list[ReceivedMessage] = []
        for received in messages:
            if frame and _frame_key(received) != _frame_key(frame[0]):
                out += self.add_frame(frame)
                frame = []
            frame.append(received)
        return out + self.add_frame(frame)

    def forget_before(self, t: float) -> None:
        """Drop transmitters not heard since ``t`` (bounds memory; their pending are counted)."""
        for address in [a for a, tx in self._transmitters.items() if tx.last_heard < t]:
            if pending := len(self._transmitters.pop(address).pending):
                self.counts["location_without_basic_id"] += pending
        for key in [k for k, q in self._recent.items() if not q or q[-1][1] < t]:
            del self._recent[key]

    @property
    def transmitters(self) -> int:
        """Transmitters with state (at most ``max_transmitters``)."""
        return len(self._transmitters)

    def _heard(self, address: str) -> _Transmitter:
        """The transmitter's state, now the most recently heard (least recently heard first
        in the table); a new one beyond ``max_transmitters`` evicts the least recent."""
        table = self._transmitters
        tx = table.pop(address, None)
        if tx is None:
            tx = _Transmitter()
            if len(table) >= self.max_transmitters:
                old = table.pop(next(iter(table)))
                self.counts[REMOTE_ID_TABLE_FULL] += 1
                if old.pending:
                    self.counts["location_without_basic_id"] += len(old.pending)
        table[address] = tx
        return tx

    def static_info(
        self, address: str
    ) -> tuple[BasicId | None, System | None, OperatorId | None, SelfId | None]:
        """Latest (primary Basic ID, System, Operator ID, Self-ID) heard from an address."""
        tx = self._transmitters.get(address, _Transmitter())
        return tx.primary_id(), tx.system, tx.operator_id, tx.self_id

    def _hold(self, tx: _Transmitter, received: ReceivedMessage) -> None:
        tx.pending.append(received)
        if len(tx.pending) > self.max_pending:
            tx.pending.popleft()
            self.counts["location_without_basic_id"] += 1

    def _is_duplicate(self, key: tuple[int, str], loc: Location, t: float) -> bool:
        if math.isnan(loc.timestamp_s):
            return False  # without a timestamp, equal content may be a new measurement
        wire = encode_location(loc)
        recent = self._recent.pop(key, None)
        if recent is None:
            recent = deque(maxlen=8)
            if len(self._recent) >= self.max_transmitters:  # (not counted: see limits.py)
                del self._recent[next(iter(self._recent))]
        self._recent[key] = recent  # most recently heard last
        if any(w == wire and abs(t - tr) <= self.duplicate_window_s for w, tr in recent):
            return True
        recent.append((wire, t))
        return False

    def _report_time(self, loc: Location, t_receive: float) -> float:
        t_msg = resolve_hour_timestamp(loc.timestamp_s, t_receive)
        if math.isnan(t_msg):
            return t_receive
        if abs(t_msg - t_receive) > self.max_timestamp_offset_s:
            self.counts["location_timestamp_far"] += 1
            return t_receive
        return t_msg

    def _report(self, tx: _Transmitter, received: ReceivedMessage) -> PositionReport | None:
        loc = received.message
        basic = tx.primary_id()
        assert isinstance(loc, Location) and basic is not None
        if math.isnan(loc.lat_deg) or math.isnan(loc.lon_deg):
            self.counts["location_position_unknown"] += 1
            return None
        if self._is_duplicate((basic.id_type, basic.uas_id), loc, received.t):
            self.counts["location_duplicate"] += 1
            return None
        system, eu = tx.system, tx.system is not None and tx.system.classification_type == 1
        return PositionReport(
            t=self._report_time(loc, received.t),
            t_receive=received.t,
            transport=str(received.transport),
            address=received.address,
            id_type=basic.id_type,
            uas_id=basic.uas_id,
            ua_type=basic.ua_type,
            status=loc.status,
            lat_deg=loc.lat_deg,
            lon_deg=loc.lon_deg,
            geodetic_altitude_m=loc.geodetic_altitude_m,
            pressure_altitude_m=loc.pressure_altitude_m,
            height_m=loc.height_m,
            height_type=loc.height_type,
            horizontal_accuracy=loc.horizontal_accuracy,
            vertical_accuracy=loc.vertical_accuracy,
            baro_accuracy=loc.baro_accuracy,
            speed_accuracy=loc.speed_accuracy,
            speed_m_s=loc.speed_m_s,
            direction_rad=loc.direction_rad,
            vertical_speed_m_s=loc.vertical_speed_m_s,
            operator_lat_deg=system.operator_lat_deg if system else math.nan,
            operator_lon_deg=system.operator_lon_deg if system else math.nan,
            operator_altitude_m=system.operator_altitude_m if system else math.nan,
            operator_location_type=system.operator_location_type if system else -1,
            eu_category=system.eu_category if system and eu else -1,
            eu_class=system.eu_class if system and eu else -1,
            operator_id=tx.operator_id.operator_id if tx.operator_id else "",
            self_id=tx.self_id.description if tx.self_id else "",
        )


def assemble_reports(
    messages: Iterable[ReceivedMessage], counts: Counter[str] | None = None
) -> list[PositionReport]:
    """Position reports of a whole message stream (one fresh :class:`RemoteIdAssembler`)."""
    assembler = RemoteIdAssembler()
    reports = assembler.add_all(messages)
    assembler.forget_before(math.inf)
    if counts is not None:
        counts.update(assembler.counts)
    return reports


# --- detections -----------------------------------------------------------------------------

TAKEOFF_HEIGHT_SIGMA_M = 50.0  # unknown take-off elevation vs the site origin + height error
PRESSURE_ALTITUDE_SIGMA_M = 100.0  # QNH and geoid offset of a standard-pressure altitude


def _height_and_sigma(
    reports: Sequence[PositionReport], frame: LocalFrame, takeoff_height_sigma_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Ellipsoidal height (m) and its 1-sigma for each report, best source first."""
    geodetic = np.array([r.geodetic_altitude_m for r in reports], dtype=np.float64)
    height = np.array([r.height_m for r in reports], dtype=np.float64)
    pressure = np.array([r.pressure_altitude_m for r in reports], dtype=np.float64)
    vertical_code = np.array([r.vertical_accuracy for r in reports], dtype=np.int64)
    baro_code = np.array([r.baro_accuracy for r in reports], dtype=np.int64)
    s_vertical = remote_id_vertical_accuracy_to_sigma_m(vertical_code)
    s_baro = remote_id_vertical_accuracy_to_sigma_m(baro_code)
    # Height above take-off/ground: the take-off point is assumed at the site origin height;
    # the declared accuracy (baro first) adds to the take-off uncertainty when known.
    s_height_meas = np.where(baro_code > 0, s_baro, np.where(vertical_code > 0, s_vertical, 0.0))
    s_height = np.hypot(takeoff_height_sigma_m, s_height_meas)
    s_pressure = np.hypot(PRESSURE_ALTITUDE_SIGMA_M, np.where(baro_code > 0, s_baro, 0.0))
    h = np.where(
        np.isfinite(geodetic),
        geodetic,
        np.where(
            np.isfinite(height),
            height + frame.h0_m,
            np.where(np.isfinite(pressure), pressure, frame.h0_m),
        ),
    )
    sigma = np.where(
        np.isfinite(geodetic),
        s_vertical,
        np.where(
            np.isfinite(height),
            s_height,
            np.where(np.isfinite(pressure), s_pressure, UNKNOWN_VERTICAL_SIGMA_M),
        ),
    )
    return h, sigma


def _velocity(reports: Sequence[PositionReport], frame: LocalFrame) -> np.ndarray:
    """(D, 3) site-ENU velocity (m/s); NaN where the report has no speed/direction/vertical."""
    speed = np.array([r.speed_m_s for r in reports], dtype=np.float64)
    direction = np.array([r.direction_rad for r in reports], dtype=np.float64)
    vertical = np.array([r.vertical_speed_m_s for r in reports], dtype=np.float64)
    direction = np.where(speed == 0.0, 0.0, direction)  # standing still needs no direction
    local = np.stack([speed * np.sin(direction), speed * np.cos(direction), vertical], axis=-1)
    lat = np.array([r.lat_deg for r in reports], dtype=np.float64)
    lon = np.array([r.lon_deg for r in reports], dtype=np.float64)
    site = np.einsum("nij,nj->ni", frame.rotation_at(lat, lon), np.nan_to_num(local))
    site[~np.isfinite(local[:, 0]), :2] = np.nan
    site[~np.isfinite(local[:, 2]), 2] = np.nan
    return site


def remote_id_to_detections(
    reports: Sequence[PositionReport],
    frame: LocalFrame,
    *,
    sensor: int = 0,
    takeoff_height_sigma_m: float = TAKEOFF_HEIGHT_SIGMA_M,
    unknown_horizontal_sigma_m: float | None = None,
) -> Detections:
    """Position reports -> :class:`Detections` (kind REMOTE_ID, identity from the UAS ID).

    Height: the geodetic altitude (WGS-84 HAE) with the vertical accuracy sigma when known;
    else height above take-off/ground + ``frame.h0_m`` (the take-off point is assumed at the
    site origin height) with sigma ``hypot(takeoff_height_sigma_m, declared accuracy)``; else
    the pressure altitude with a 100 m sigma; else ``frame.h0_m`` with geo's unknown sigma.
    Horizontal sigma comes from the accuracy enum via geo.py (code 0 = unknown gives geo's
    ~15 km unless ``unknown_horizontal_sigma_m`` is given). Velocity from speed, direction
    and vertical speed, rotated from the UA's local ENU into the site frame.
    """
    if not reports:
        return Detections.empty()
    lat = np.array([r.lat_deg for r in reports], dtype=np.float64)
    lon = np.array([r.lon_deg for r in reports], dtype=np.float64)
    horizontal_code = np.array([r.horizontal_accuracy for r in reports], dtype=np.int64)
    s_horizontal = remote_id_horizontal_accuracy_to_sigma_m(horizontal_code)
    if unknown_horizontal_sigma_m is not None:
        s_horizontal = np.where(horizontal_code == 0, unknown_horizontal_sigma_m, s_horizontal)
    h, s_vertical = _height_and_sigma(reports, frame, takeoff_height_sigma_m)
    z, R = geodetic_to_enu_with_cov(frame, lat, lon, h, s_horizontal, s_vertical)
    return make_detections(
        np.array([r.t for r in reports], dtype=np.float64),
        z,
        R,
        v=_velocity(reports, frame),
        sensor=sensor,
        kind=SourceKind.REMOTE_ID,
        identity=np.array([r.identity for r in reports], dtype=np.int64),
    )
