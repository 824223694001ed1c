"""Scenario test from the issue: in 'mixed', after 10 s of track no airliner or bird has
p_drone > 0.5, and every drone does. Tracks are matched to truth by the majority class of
the detections that updated them (clutter-born tracks are left out)."""

from __future__ import annotations

import numpy as np

from skywarden.classify import classify_tracks, new_classifier_state
from skywarden.simulate import build_scenario
from skywarden.track.params import TrackerParams
from skywarden.track.step import new_tracks, step

CLASS_OF = {"drone": 0, "bird": 1, "aircraft": 2}


def run_mixed(seed: int, n_scans: int, classifier=None):
    """Per confirmed-track scan: rows (track id, age s, p_drone, labelled drone) and the map
    track -> truth class. ``classifier(tracks, t) -> (p (N, 4), drone (N,) bool)``; default:
    :func:`classify_tracks` (the core, no label policy)."""
    # the issue-5 clause's mixed: without the munition / ground-traffic layer, whose targets
    # the warning evaluation measures (tests/evaluate/test_warning_targets.py)
    sc = build_scenario("mixed", seed, n_scans=n_scans, confusers=0)
    params = TrackerParams()
    tracks = new_tracks(params, float(sc.times[0]))
    classifier = classifier or _core_classifier()
    rows, pairs = [], []
    for s, t in enumerate(sc.times):
        tracks, events = step(tracks, sc.detections_at(s), float(t), params)
        p, drone = classifier(tracks, float(t))
        assert np.allclose(p.sum(axis=1), 1.0)
        lo, hi = np.searchsorted(sc.scan_index, [s, s + 1])
        truth = sc.det_truth_id[lo:hi]
        used = (events.detection_track >= 0) & (truth >= 0)
        cls = [CLASS_OF[c] for c in sc.target_class[truth[used]]]
        pairs += list(zip(events.detection_track[used].tolist(), cls, strict=True))
        for i in np.flatnonzero(tracks.confirmed):
            age = float(t - tracks.t_birth[i])
            rows.append((int(tracks.id[i]), age, float(p[i, 0]), bool(drone[i])))
    ids, cls = np.array(pairs).T
    majority = {int(k): int(np.bincount(cls[ids == k]).argmax()) for k in np.unique(ids)}
    return np.array(rows), majority


def _core_classifier():
    state = new_classifier_state()

    def classify(tracks, t):
        nonlocal state
        state, result = classify_tracks(state, tracks)
        return result.p, result.label == "drone"

    return classify


def _pipeline_classifier():
    from skywarden.classify.trained import TrainedClassifier
    from skywarden.warn.rules import TargetClass

    classifier = TrainedClassifier()

    def classify(tracks, t):
        c = classifier(tracks, t)
        return c.p, c.target_class == TargetClass.DRONE

    return classify


def test_mixed_scenario_drones_vs_birds_and_airliners():
    """Per track, the median p_drone over its scans from 10 s of age on decides its label.

    (Per single scan the label still flickers now and then; see the report.) Drones: median
    p_drone above 0.5, except that one may sit between the alert rules' floor for 'unknown'
    tracks (0.4, so it is still warned of in a protected zone) and 0.5: seed 3's loitering
    multirotor (track 2, 8-13 m/s orbits, the model's drone/bird overlap) has a median of 0.54
    with the round-8 model and 0.47 with the round-9 (flock-trained) one; through the label
    policy it is drone or unknown (issue 11's per-scan targets: docs/warnings.md, round 9).
    """
    from skywarden.warn.rules import UNKNOWN_MIN_DRONE_PROBABILITY

    rows, majority = run_mixed(seed=3, n_scans=120)
    late = rows[rows[:, 1] >= 10.0]
    seen = {0: 0, 1: 0, 2: 0}
    undecided_drones = 0
    for track in np.unique(late[:, 0]):
        cls = majority.get(int(track))
        if cls is None:
            continue
        seen[cls] += 1
        p_drone = float(np.median(late[late[:, 0] == track, 2]))
        if cls == 0:
            assert p_drone > UNKNOWN_MIN_DRONE_PROBABILITY, f"drone track {int(track)}: {p_drone}"
            undecided_drones += p_drone <= 0.5
        else:
            assert p_drone <= 0.5, f"class {cls} track {int(track)}: median p_drone {p_drone:.2f}"
        if cls == 2:  # airliners: never drone on any scan
            assert late[late[:, 0] == track, 2].max() < 0.5
    assert all(n > 0 for n in seen.values()), seen
    assert undecided_drones <= 1


def test_scan_classifier_columns_align_with_run_tracker_rows():
    from skywarden.classify import ScanClassifier
    from skywarden.track.run import run_tracker

    sc = build_scenario("mixed", 4, n_scans=40)
    collect = ScanClassifier()
    scans = ((float(t), sc.detections_at(s)) for s, t in enumerate(sc.times))
    history, _ = run_tracker(scans, TrackerParams(), collect)
    cols = collect.columns()
    assert set(cols) == {"class", "p_drone", "p_bird", "p_aircraft", "p_unknown", "behaviour",
                         "reasons", "on_ground", "evidence"}  # fmt: skip
    assert all(len(v) == len(history) for v in cols.values())
    assert set(cols["class"]) <= {"drone", "bird", "aircraft", "unknown"}
    total = cols["p_drone"] + cols["p_bird"] + cols["p_aircraft"] + cols["p_unknown"]
    assert np.allclose(total, 1.0)
    # every row says its decision in words, starting with its class
    assert all(r.startswith(f"{c}: ") for c, r in zip(cols["class"], cols["reasons"], strict=True))
    assert any("no transponder or Remote ID" in r for r in cols["reasons"])


def test_mixed_scenario_per_scan_with_the_pipeline_label_policy():
    """Every scan after 10 s of track age, seeds 0-19: no bird or airliner is labelled drone
    (measured: none of 23,221 scans); drones are labelled drone (p_drone >= 0.5) on most
    scans and most drone tracks on most of their scans. Measured with the simulated radar's
    plot RCS and multirotor orbits in training: seeds 0-9 0.942 of drone scans, 67 of 70
    tracks (45 on every scan; two of the others loiter at about 8 m/s 190-240 m up, as birds
    fly); seeds 10-19, not looked at while choosing the model: 0.946, 69 of 70 (46). Before
    plots carried an RCS, seeds 0-9: 0.907 and 66 of 70 (33 on every scan). Training drones
    also flying at 150-300 m labelled all 140 drone tracks but 156 bird scans on seeds 10-19
    as drone, so it was not adopted. Some drones cannot be told from birds at all: see
    test_mixed_scenario_has_a_drone_that_flies_and_reflects_like_its_birds.

    The model trained with the loitering munitions and ground traffic (issue 11) gives up
    some of that for munitions it now calls drone: seeds 0-9 0.902 of drone scans, 65 of 70
    tracks (41 on every scan); seeds 10-19 0.910, 65 of 70 (41); still no bird or airliner
    scan labelled drone (0 of 23,408).

    Those numbers were taken with the classifier's default p_drone for 'drone' at 0.5, while
    ``skywarden evaluate`` measured the warnings at 0.7. The default is now the evaluated
    policy (0.7, and 0.8 under 30 s of track age: skywarden.classify.decision), so that the
    pipeline runs what was measured: seeds 0-9 0.848 of drone scans, 64 of 70 tracks (20 on
    every scan); seeds 10-19 0.863, 64 of 70 (30); p_drone > 0.5 unchanged (0.902 / 0.910);
    still no bird or airliner scan labelled drone. With the regularity features' model and
    the label policy that says 'unknown' when drone and bird are close (a young track needs
    p_bird 0.9 for 'bird'; a track once drone (bird) needs 0.9 to become bird (drone)),
    seeds 0-19: 0.838 of drone scans labelled drone (was 0.855) and 125 of 140 tracks drone
    on most of their scans (was 128 of 140): the scans given up are 'unknown', not 'bird'.
    With a new 'drone' label needing the drone decision on 2 scans in a row (issue 11, round
    5: one-scan p_drone spikes of young gull and thermal tracks raised warning-ring alerts):
    0.829 of drone scans labelled drone and 125 of 140 tracks; the scans given up are
    'unknown' again (a drone track that dips below p_drone 0.7 is 'drone' one scan later).
    With the default decision_confidence raised from 0.5 to 0.9 (issue 11: on 100 seeds of
    mixed and of loitering it labels fewer bird scans drone, with every drone still alerted):
    0.788 of drone scans labelled drone and 123 of 140 tracks; p_drone > 0.5 unchanged
    (0.902); still none of 23,408 bird or airliner scans labelled drone. The scans given up
    are 'unknown' (warned of in the protected zone), not 'bird'. With the young-drone bar at
    0.95 for tracks under 30 s at a bird's speed (issue 11, round 8: a young gull labelled
    drone on loitering seed 93): 0.773 of drone scans labelled drone, 123 of 140 tracks,
    p_drone > 0.5 0.902, none of 23,408 bird or airliner scans drone. The bounds below are
    these numbers, rounded down."""
    rows = []  # (seed, truth class, track id, p_drone, labelled drone) from 10 s of age
    for seed in range(20):
        scans, majority = run_mixed(seed, 120, _pipeline_classifier())
        for track, age, p_drone, drone in scans:
            if age >= 10.0 and int(track) in majority:
                rows.append((seed, majority[int(track)], int(track), p_drone, drone))
    birds_and_aircraft = [r for r in rows if r[1] != 0]
    drones = [r for r in rows if r[1] == 0]
    assert len(birds_and_aircraft) > 20_000 and len(drones) > 10_000
    assert not any(r[4] for r in birds_and_aircraft)
    assert np.mean([r[4] for r in drones]) >= 0.77
    assert np.mean([r[3] > 0.5 for r in drones]) >= 0.90
    keys = {r[:3:2] for r in drones}  # (seed, track id)
    labelled = [np.mean([r[4] for r in drones if r[:3:2] == key]) > 0.5 for key in keys]
    assert len(keys) >= 120 and np.mean(labelled) >= 0.87


def test_mixed_scenario_has_a_drone_that_flies_and_reflects_like_its_birds():
    """Why "every drone labelled drone" cannot hold together with "no bird labelled drone" in
    'mixed' (scripts/mixed_ambiguity.py): seed 16's straight-flying drone (target 6) has the
    flock birds' speed and height and an RCS the simulator's own class distributions give
    to a bird 7:1 over a drone. The shipped model gives its track p_drone 0.03-0.19 on every
    scan from 10 s of age. If the simulator changes so that no such drone is left, this
    fails: then look at the clause again."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parents[2] / "scripts" / "mixed_ambiguity.py"
    out = subprocess.run(
        [sys.executable, str(script), "--seeds", "0-19"], capture_output=True, text=True, check=True
    ).stdout
    assert "seed 16 target 6 (cv): 11.2 m/s, 113 m, straightness 1.00, RCS -29.1 dBsm" in out
    assert "p(drone | RCS) 0.12" in out
    assert out.rstrip().endswith(
        "1 of 140 drones in seeds 0-19 fly and reflect like the flock birds"
    )
