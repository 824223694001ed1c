"""Tracker parameters: one frozen, validated value passed to every step."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from skywarden.errors import ConfigError
from skywarden.track.chi_square import chi2_quantile


@dataclass(frozen=True, slots=True)
class MotionModel:
    """One IMM mode: turn rate in rad/s (0 = constant velocity) and white-acceleration sigma."""

    turn_rate: float = 0.0
    accel_sigma: float = 1.0  # m/s^2 per sqrt(Hz)


def default_models() -> tuple[MotionModel, ...]:
    """CV, a left and a right coordinated turn at 0.15 rad/s (~9 deg/s), and a quiet CV
    (0.1 m/s^2) for targets that fly straight, whose positions it estimates ~30 % more
    precisely than the 1 m/s^2 CV alone (measured on the 2-D benchmark scenarios)."""
    return (
        MotionModel(0.0, 1.0),
        MotionModel(0.15, 2.0),
        MotionModel(-0.15, 2.0),
        MotionModel(0.0, 0.1),
    )


@dataclass(frozen=True, slots=True)
class TrackerParams:
    """Everything the tracker needs; units are SI.

    Attributes:
        models: IMM modes; one model makes a plain Kalman filter.
        mode_switch_rate: probability per second of leaving the current mode (for updates
            more than 1 s apart, the probability of leaving it between two updates: see
            :func:`skywarden.track.imm.transition_matrix`).
        mode_topology: which modes a mode may switch to (:func:`skywarden.track.imm.mode_links`):
            ``"quiet_from_cv"`` (default): any, except that the quiet CV mode is entered only
            from the nominal CV mode (the first model), so the IMM's mixing never pours a
            turn mode's estimate (spread by its 0.15 rad/s turn and 2 m/s^2 noise) straight
            into the quiet one, which estimates straight-flying targets; a target may still
            leave the quiet mode for a turn at once. On the dense planar scenario (1,000
            scans, seed 0) the position error of straight-flying targets fell from 6.4 to
            5.7 m^2 per axis and GOSPA from 40.7 to 39.0 m (Stone Soup's matched CV: 39.9),
            with the swarm scenarios' identity switches and breaks unchanged.
            ``"uniform"``: every mode to every other alike (before issue 12).
        birth_quiet_probability: prior probability that a new target flies straight and
            steady: the IMM mode probabilities a track starts with at confirmation give the
            quiet modes (:func:`skywarden.track.imm.quiet_modes`) this much together, the
            other modes the rest in equal parts (every mode alike when there is no quiet
            mode). A prior, as ``pd`` and ``clutter_density`` are: the two to four detections
            that confirm a track cannot tell the modes apart (running the IMM from the
            track's first pair instead of from its confirmation changed the pd0.7 sweep's
            GOSPA by < 0.1 m), so the young track's estimate mixes its modes as this says.
            The quiet mode's share in the confirmed tracks' mode probabilities on the
            straight-flight scenarios is 0.83-0.86 (dense, heavy, pd0.7 after 100 scans);
            the uniform start (1/4 each) weighted the turn modes' estimates, wide in
            velocity, into every young track. Measured for issue 12 (100 scans, seed 0,
            GOSPA m, uniform -> 0.7 -> 0.85): pd0.7 70.42 -> 70.04 -> 69.98 (Stone Soup's
            GNN 70.30; seeds 1, 2: 69.42 -> 69.03, 70.51 -> 70.18 against 69.37, 70.82),
            manoeuvring 84.45 -> 84.23 -> 84.20, dense 69.21 -> 68.92 -> 68.87, heavy
            58.19 -> 57.01 -> 56.98, c300-s20 120.65 -> 118.47 -> 117.07. 0.7, not 0.85:
            the trained classifier (classify/classifier.npz) learnt its features from tracks
            started uniform, and at 0.85 young bird tracks flew smoothly enough for two more
            bird alerts on the mixed scenario (seeds 12 and 16: 1.8 false alerts per hour
            against 0.6 on seeds 0-19; at 0.8 too; 0.7 adds none on seeds 0-19: its
            warning metrics there equal those before it; on seeds 0-99 (8.3 h) two bird
            and one clutter false alert more, 0.36 -> 0.60 bird alerts per hour, under
            issue 11's 1: docs/warnings.md). A classifier retrained on tracks
            started at 0.7 (scripts/train_classifier.py, the shipped options) was worse:
            one bird labelled drone on 8 scans of seeds 50-51, and false alerts on mixed
            0-19 1.8 per hour, so the shipped model stays.
        pd: probability of detection of a target by a scan.
        clutter_density: false detections per cubic metre per scan.
        gate_probability: probability that a true detection falls inside the gate.
        initial_speed_sigma: 1-sigma of each velocity component of a new track, m/s.
        initial_vertical_speed_sigma: 1-sigma of the vertical velocity of a new track, m/s.
        confirm_m, confirm_n: a tentative track is confirmed after M hits in its first N scans.
        tentative_max_misses: consecutive misses that delete a tentative track.
        max_coast_s: a confirmed track not updated for this long is deleted, seconds.
        max_position_sigma: a track whose position 1-sigma exceeds this is deleted, metres.
        default_sigma: measurement 1-sigma used by readers that give none, metres.
        confirmation: ``"score"`` (default: sequential log-likelihood-ratio track scores, see
            track/score.py) or ``"m_of_n"`` (confirm_m hits in the first confirm_n scans).
        false_track_probability: score confirmation's alpha: the most a track started from
            clutter is confirmed with.
        target_lifetime_s: mean life of a target, seconds; decides how long a confirmed
            track that misses is still reported (score confirmation).
        clutter_cell_m: side of the clutter map's grid cells, and depth of a radar's range x
            azimuth cells, metres.
        clutter_azimuth_cell_deg: width of a radar's range x azimuth clutter cells, degrees.
        clutter_memory_scans: the clutter map's and the Pd estimate's memory, scans.
        clutter_prior_scans: weight of the configured clutter_density (the prior), in scans.
        learn: learn clutter density and Pd online (True) or use the configured values only.
        compiled_kernels: run the stages that have one through their compiled (numba)
            kernel (True: the live service, evaluate) or the NumPy reference (False: no
            numba import, for short runs; ``skywarden track`` chooses by
            :mod:`skywarden.track.kernel_choice`). Same tracks either way.
    """

    models: tuple[MotionModel, ...] = field(default_factory=default_models)
    mode_switch_rate: float = 0.05
    mode_topology: str = "quiet_from_cv"
    birth_quiet_probability: float = 0.7
    pd: float = 0.9
    clutter_density: float = 1e-9
    gate_probability: float = 0.9999
    initial_speed_sigma: float = 40.0
    initial_vertical_speed_sigma: float = 10.0
    confirm_m: int = 3
    confirm_n: int = 4
    tentative_max_misses: int = 2
    max_coast_s: float = 6.0
    max_position_sigma: float = 2000.0
    default_sigma: float = 10.0
    confirmation: str = "score"
    false_track_probability: float = 1e-4
    target_lifetime_s: float = 1000.0
    clutter_cell_m: float = 1000.0
    clutter_azimuth_cell_deg: float = 2.0
    clutter_memory_scans: float = 50.0
    clutter_prior_scans: float = 2.0
    learn: bool = True
    compiled_kernels: bool = True

    def __post_init__(self) -> None:
        checks = [
            (len(self.models) >= 1, "models: at least one motion model"),
            (0.0 <= self.mode_switch_rate < 1.0, "mode_switch_rate must be in [0, 1)"),
            (
                self.mode_topology in ("uniform", "quiet_from_cv"),
                "mode_topology: 'quiet_from_cv' or 'uniform'",
            ),
            (
                0.0 < self.birth_quiet_probability < 1.0,
                "birth_quiet_probability must be in (0, 1)",
            ),
            (0.0 < self.pd < 1.0, "pd (detection probability) must be in (0, 1)"),
            (self.clutter_density > 0.0, "clutter_density must be > 0 (false detections per m^3)"),
            (0.5 < self.gate_probability < 1.0, "gate_probability must be in (0.5, 1)"),
            (self.initial_speed_sigma > 0.0, "initial_speed_sigma must be > 0 m/s"),
            (self.initial_vertical_speed_sigma > 0.0, "initial_vertical_speed_sigma must be > 0"),
            (1 <= self.confirm_m <= self.confirm_n <= 32, "need 1 <= confirm_m <= confirm_n <= 32"),
            (self.tentative_max_misses >= 1, "tentative_max_misses must be >= 1"),
            (self.max_coast_s > 0.0, "max_coast_s must be > 0 s"),
            (self.max_position_sigma > 0.0, "max_position_sigma must be > 0 m"),
            (self.default_sigma > 0.0, "default_sigma must be > 0 m"),
            (self.confirmation in ("score", "m_of_n"), "confirmation: 'score' or 'm_of_n'"),
            (0.0 < self.false_track_probability < 0.5, "false_track_probability: in (0, 0.5)"),
            (self.target_lifetime_s > 0.0, "target_lifetime_s must be > 0 s"),
            (self.clutter_cell_m > 0.0, "clutter_cell_m must be > 0 m"),
            (0.0 < self.clutter_azimuth_cell_deg <= 90.0, "clutter_azimuth_cell_deg: (0, 90]"),
            (self.clutter_memory_scans > 1.0, "clutter_memory_scans must be > 1"),
            (self.clutter_prior_scans > 0.0, "clutter_prior_scans must be > 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        for m in self.models:
            if not m.accel_sigma > 0.0:
                raise ConfigError("every motion model needs accel_sigma > 0")

    @property
    def gate_threshold(self) -> float:
        """Chi-square gate on the 3-D squared Mahalanobis distance."""
        return _chi2_gate(self.gate_probability)


@lru_cache(maxsize=16)
def _chi2_gate(probability: float) -> float:
    return chi2_quantile(probability, 3)
