"""Where and how a scenario is put on the wire: :class:`SiteSetup`, :class:`WireMessage`.

The scenario lives in the site ENU frame with t = 0 at its start; the wire needs a WGS-84
site origin, a radar position and identifiers (SAC/SIC), the POSIX time of t = 0, and which
targets carry a transponder (Mode S / ADS-B) or broadcast Remote ID. Identities are fixed
functions of the target id, so that tests (and people) can map them back:

* ICAO address ``icao_base + id`` (24 bit), callsign ``SWD`` + 4-digit id, Mode 3/A code
  ``0o2000 + id`` (octal digits, 12 bit);
* Remote ID serial ``SIM`` + 5-digit id (ID type 1, serial number), Wi-Fi transmitter MAC
  ``02:53:49:4d:hi:lo`` (locally administered, "SIM" in ASCII, id in the last two bytes).

:func:`write_wire_site_config` writes the site configuration (``site.toml``) that replays
the written recordings through ``skywarden run``: the site origin, and per channel a file
sensor at the simulated sensor's position, the radar with its RCS calibration.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from skywarden.errors import ConfigError
from skywarden.geo import LocalFrame
from skywarden.simulate.simulator import Scenario
from skywarden.sources.asterix.detections import RadarSite
from skywarden.units import NM, IntArray

RADAR = "radar"  # ASTERIX CAT034 + CAT048 UDP payloads
ADSB_ASTERIX = "adsb-cat021"  # ASTERIX CAT021 UDP payloads
BEAST = "beast"  # Beast binary frames (dump1090 port 30005 style), one chunk per report
SBS = "sbs"  # SBS-1 BaseStation text lines (dump1090 port 30003 style)
REMOTE_ID = "remote-id"  # radiotap + 802.11 beacon frames carrying ODID message packs
CHANNELS = (RADAR, ADSB_ASTERIX, BEAST, SBS, REMOTE_ID)
SENSOR_KINDS = {RADAR: "asterix", ADSB_ASTERIX: "asterix", BEAST: "beast", SBS: "sbs",
                REMOTE_ID: "remote_id"}  # fmt: skip
SITE_CONFIG_NAME = "site.toml"

MAX_ENCODABLE_RANGE_M = 65535.0 / 256.0 * NM  # I048/040 RHO: 16 bits of 1/256 NM


class WireMessage(NamedTuple):
    """One message as a sensor sends it: send time (POSIX s), channel name, bytes."""

    t: float
    channel: str
    data: bytes


@dataclass(frozen=True)
class SiteSetup:
    """Geography, identifiers and timing used to put a scenario on the wire.

    Attributes:
        lat_deg, lon_deg, h_m: WGS-84 site origin (the scenario's ENU origin), HAE metres.
        radar: radar antenna position; None puts it at the site origin.
        radar_sac, radar_sic: the radar's I010 data source identifier.
        rotation_period_s: antenna rotation period; None = the scenario's scan period (one
            scenario scan is one rotation, so any other value is rejected).
        sectors: CAT034 sector crossing messages per rotation (north marker included);
            a divisor of 256 keeps their azimuths exact in I034/020.
        max_range_m: instrumented range; plots farther away are not sent (and counted).
        plots_per_datagram: CAT048 records per data block (one block per UDP datagram).
        transponder_classes: target classes that carry a Mode S transponder / ADS-B out.
        remote_id_classes: target classes that broadcast Remote ID.
        remote_id_kinds: if given, only targets of these kinds (of remote_id_classes) broadcast
            Remote ID (the ``site`` scenario: its inspection drone, not the swarm).
        start_posix: POSIX time of the scenario's t = 0.
        adsb_period_s, remote_id_period_s: report intervals (rounded to whole scans).
        adsb_sac, adsb_sic: the ADS-B ground station's I010 (CAT021).
        icao_base: ICAO address of target 0 (address = icao_base + target id).
        nacp: NACp sent in CAT021 I021/090 (9: < 30 m).
        radar_group, radar_port, adsb_group, adsb_port: UDP destinations in the pcap.
        rcs_calibration_dbm: the radar's I048/130 primary amplitude (dBm) for a 1 m^2 target
            at 1 km slant range (see :func:`~skywarden.sources.asterix.detections.
            rcs_from_amplitude`). The default, -20 dBm, is about what a 1 MW, 35 dB antenna
            S-band surveillance radar receives; it keeps the simulated plots (-50..+30 dBsm,
            100 m..100 km) mostly inside the signed byte of PAM (-128..127 dBm).
    """

    lat_deg: float = 50.8503
    lon_deg: float = 4.3517
    h_m: float = 100.0
    radar: RadarSite | None = None
    radar_sac: int = 0
    radar_sic: int = 1
    rotation_period_s: float | None = None
    sectors: int = 32
    max_range_m: float = 100_000.0
    plots_per_datagram: int = 40
    transponder_classes: frozenset[str] = frozenset({"aircraft"})
    remote_id_classes: frozenset[str] = frozenset({"drone"})
    start_posix: float = 1_750_000_000.0
    adsb_period_s: float = 1.0
    remote_id_period_s: float = 1.0
    adsb_sac: int = 0
    adsb_sic: int = 2
    icao_base: int = 0x3C6000
    nacp: int = 9
    radar_group: str = "239.0.0.1"
    radar_port: int = 8600
    adsb_group: str = "239.0.0.2"
    adsb_port: int = 8601
    rcs_calibration_dbm: float = -20.0
    remote_id_kinds: frozenset[str] | None = None

    def __post_init__(self) -> None:
        checks = [
            (0 <= self.radar_sac <= 255 and 0 <= self.radar_sic <= 255, "radar SAC/SIC 0..255"),
            (0 <= self.adsb_sac <= 255 and 0 <= self.adsb_sic <= 255, "ADS-B SAC/SIC 0..255"),
            (1 <= self.sectors <= 256, f"sectors must be 1..256, got {self.sectors}"),
            (
                0.0 < self.max_range_m <= MAX_ENCODABLE_RANGE_M,
                f"max_range_m must be in (0, {MAX_ENCODABLE_RANGE_M:.0f}] m",
            ),
            (1 <= self.plots_per_datagram <= 60, "plots_per_datagram must be 1..60"),
            (self.start_posix >= 0.0, "start_posix must be >= 0"),
            (self.adsb_period_s > 0.0 and self.remote_id_period_s > 0.0, "periods must be > 0"),
            (0 <= self.icao_base <= 0xFFFFFF, "icao_base must be a 24-bit address"),
            (0 <= self.nacp <= 11, "nacp must be 0..11"),
            (
                math.isfinite(self.rcs_calibration_dbm),
                f"rcs_calibration_dbm must be finite, got {self.rcs_calibration_dbm}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"site setup: {message}")
        _ = self.frame  # validates the origin (raises InputError)

    @cached_property
    def frame(self) -> LocalFrame:
        """The site ENU frame."""
        return LocalFrame(self.lat_deg, self.lon_deg, self.h_m)

    @property
    def radar_site(self) -> RadarSite:
        """The radar antenna position (the site origin when ``radar`` is None)."""
        return self.radar or RadarSite(self.lat_deg, self.lon_deg, self.h_m)

    def rotation_period(self, scenario: Scenario) -> float:
        """Seconds per antenna rotation for this scenario (= its scan period)."""
        period = scenario.sensor_params.scan_period
        if self.rotation_period_s is not None and not math.isclose(
            self.rotation_period_s, period, rel_tol=1e-9
        ):
            raise ConfigError(
                f"rotation period {self.rotation_period_s} s differs from the scenario's scan "
                f"period {period} s: build the scenario with scan_period={self.rotation_period_s}"
            )
        return period

    def every_n_scans(self, scenario: Scenario, period_s: float) -> int:
        """A report interval in whole scans (at least 1)."""
        return max(1, round(period_s / scenario.sensor_params.scan_period))

    def posix(self, t: np.ndarray | float) -> np.ndarray:
        """Scenario seconds -> POSIX seconds."""
        return self.start_posix + np.asarray(t, dtype=np.float64)

    def icao_address(self, target: IntArray | int) -> IntArray:
        """24-bit ICAO address of each target id."""
        return (self.icao_base + np.asarray(target, dtype=np.int64)) & 0xFFFFFF

    def target_of_icao(self, address: IntArray | int) -> IntArray:
        """Inverse of :meth:`icao_address` (target id; no check that it exists)."""
        return (np.asarray(address, dtype=np.int64) - self.icao_base) & 0xFFFFFF


# kinds that never emit anything cooperative, whatever their class: one-way attack drones
# (no Remote ID, no transponder) and gliders and ultralights flying without a transponder
NON_COOPERATIVE_KINDS = ("munition", "glider", "ultralight")


def carriers(scenario: Scenario, classes: frozenset[str]) -> np.ndarray:
    """(K,) bool: which targets are of one of ``classes`` and of no NON_COOPERATIVE_KINDS."""
    silent = np.isin(np.asarray(scenario.target_kind, dtype=str), NON_COOPERATIVE_KINDS)
    return np.isin(scenario.target_class, sorted(classes)) & ~silent


def callsigns(target: IntArray) -> np.ndarray:
    """Callsign of each simulated aircraft: ``SWD`` + 4-digit id (str array)."""
    digits = (np.asarray(target, dtype=np.int64) % 10000).astype(str)
    if digits.size == 0:
        return np.zeros(digits.shape, dtype="<U7")
    return np.char.add("SWD", np.char.zfill(digits, 4))


def mode3a_code(target: IntArray | int) -> IntArray:
    """Mode 3/A code (12 bits, four octal digits) of each target: 2000 octal + id."""
    return (0o2000 + np.asarray(target, dtype=np.int64)) & 0o7777


def remote_id_serial(target: int) -> str:
    """Remote ID serial number (Basic ID type 1) of a simulated drone."""
    return f"SIM{target:05d}"


def remote_id_mac(target: int) -> str:
    """Wi-Fi transmitter address of a simulated drone's Remote ID beacons."""
    return f"02:53:49:4d:{(target >> 8) & 0xFF:02x}:{target & 0xFF:02x}"


def target_of_serial(serial: str) -> int:
    """Inverse of :func:`remote_id_serial`; -1 for any other text."""
    digits = serial.removeprefix("SIM")
    return int(digits) if serial.startswith("SIM") and digits.isdigit() else -1


def wire_site_document(
    scenario: Scenario, setup: SiteSetup, files: Mapping[str, str], *, speed: float = 1.0
) -> dict[str, Any]:
    """The site configuration document (for :func:`skywarden.site_config.site_config_from_dict`)
    that receives the recordings ``files`` (channel -> path, relative to the configuration's
    folder): one file sensor per channel, replayed at ``speed`` (0: as fast as possible).

    The radar sensor sits at the simulated radar's position with its instrumented range and
    ``rcs_calibration_dbm``, so its plots' amplitudes give back their RCS; the CAT021 sensor
    (an asterix feed too) is placed at the site origin, where its position is unused.
    """
    unknown = sorted(set(files) - set(CHANNELS))
    if unknown:
        raise ValueError(f"unknown channel(s) {unknown}; valid: {', '.join(CHANNELS)}")
    radar = setup.radar_site
    sensors = []
    for channel in (c for c in CHANNELS if c in files):
        sensor: dict[str, Any] = {"name": channel, "kind": SENSOR_KINDS[channel],
                                  "transport": "file", "file": str(files[channel]),
                                  "speed": float(speed)}  # fmt: skip
        if channel == RADAR:
            sensor.update(lat=radar.lat_deg, lon=radar.lon_deg, height_m=radar.h_m,
                          range_m=setup.max_range_m,
                          rcs_calibration_dbm=setup.rcs_calibration_dbm)  # fmt: skip
        elif channel == ADSB_ASTERIX:
            sensor.update(lat=setup.lat_deg, lon=setup.lon_deg, height_m=setup.h_m)
        sensors.append(sensor)
    return {
        "site": {"name": f"simulated {scenario.name} (seed {scenario.seed})",
                 "lat": setup.lat_deg, "lon": setup.lon_deg, "height_m": setup.h_m},
        "service": {"scan_period_s": setup.rotation_period(scenario)},
        "sensors": sensors,
    }  # fmt: skip


def write_wire_site_config(
    scenario: Scenario,
    setup: SiteSetup,
    recordings: Mapping[str, Path],
    out_dir: Path,
    *,
    speed: float = 1.0,
) -> Path:
    """Write ``out_dir/site.toml`` for the recordings (channel -> path, e.g. what
    :func:`skywarden.simulate.emit.write_scenario_recordings` returns); see
    :func:`wire_site_document`. Paths inside ``out_dir`` are written relative to it."""
    out_dir = Path(out_dir)
    files = {}
    for channel, path in recordings.items():
        p = Path(path)
        files[channel] = str(p.relative_to(out_dir) if p.is_relative_to(out_dir) else p)
    path = out_dir / SITE_CONFIG_NAME
    path.write_text(site_toml(wire_site_document(scenario, setup, files, speed=speed)))
    return path


def site_toml(doc: Mapping[str, Any]) -> str:
    """TOML text of a document of tables (str -> scalar) and arrays of tables (lists of
    such tables); scalars are str, bool, int or finite float."""
    lines = ["# written by skywarden simulate: the site that receives these recordings"]
    for name, value in doc.items():
        tables = value if isinstance(value, list) else [value]
        header = f"[[{name}]]" if isinstance(value, list) else f"[{name}]"
        for table in tables:
            lines += ["", header]
            lines += [f"{key} = {_toml_scalar(v)}" for key, v in table.items()]
    return "\n".join(lines) + "\n"


def _toml_scalar(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise ValueError(f"TOML cannot hold {value}")
        return repr(float(value))
    return json.dumps(str(value))  # a TOML basic string (escapes as JSON does)
