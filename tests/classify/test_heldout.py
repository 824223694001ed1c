"""`skywarden evaluate-classifier` on the held-out split, checked against the issue's targets.

The real held-out split holds drones (ArduPilot tlog 2018-09-25, UZH-FPV flights 7 and 10, the
Parrot hover) and aircraft (CAT048 and SBS addresses of the test split), each rendered at
radar noise 2, 5, 10, 15 and 20 m; no real radar-rate bird track exists. Targets: balanced
accuracy >= 0.92 on the held-out real trajectories at 10 s of track history and ECE <= 0.05;
the shipped model reaches 0.925 and 0.010 (measured when it was trained). Half of the rendered
chunks carry a simulated radar cross-section per plot: 0.943 at 10 s on those, 0.910 on the
others; with the RCS features removed from every sample (kinematics only) 0.927.
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from skywarden.cli import main


@pytest.fixture(scope="module")
def report(shared_data, tmp_path_factory):
    png = tmp_path_factory.mktemp("evc") / "reliability.png"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        args = ["evaluate-classifier", "--data", str(shared_data), "--plot", str(png), "--json"]
        assert main(args) == 0
    result = json.loads(out.getvalue())
    result["png_bytes"] = png.read_bytes()
    return result


def test_heldout_real_trajectories_meet_the_targets(report):
    real = report["real"]
    assert real["class_counts"]["drone"] > 5000 and real["class_counts"]["aircraft"] > 5000
    assert real["balanced_accuracy_10s"] >= 0.92
    assert real["ece"] <= 0.05 and real["ece_10s"] <= 0.05
    assert real["by_age"]["30s"]["balanced_accuracy"] >= 0.95
    confusion = real["confusion_10s"]
    assert len(confusion) == 4 and all(len(row) == 4 for row in confusion)
    aircraft = confusion[2]
    assert aircraft[2] / sum(aircraft) >= 0.98  # no aircraft called drone or bird
    assert set(real["by_noise_10s"]) == {"2m", "5m", "10m", "15m", "20m"}


def test_radar_amplitude_helps_and_kinematics_alone_still_work(report):
    """Amplitude is compared on the same samples, with and without their RCS features
    (``with_rcs`` against ``with_rcs_removed``): ``without_rcs`` holds other chunks, other
    trajectories, so it says how hard those were, not what amplitude adds. Measured (balanced
    accuracy at 10 s, with -> removed), main before issue 12's birth prior / with it: every
    held-out sample 0.895 -> 0.853 / 0.898 -> 0.856: amplitude helps, most where birds are;
    the real trajectories (a simulated RCS on real drone and aircraft tracks) 0.974 -> 0.986
    / 0.974 -> 0.980: there it does not help, and costs at most 0.02 (10 of the ~245 real
    drone samples at 10 s). (The disjoint chunks gave 0.974 against 0.971 / 0.976: a coin
    flip of which trajectories fell on which side.) Kinematics alone still meet the targets."""
    everything = report["all"]["by_amplitude_10s"]
    assert everything["with_rcs"]["n"] == everything["with_rcs_removed"]["n"] > 1000
    with_rcs = everything["with_rcs"]["balanced_accuracy"]
    assert with_rcs >= everything["with_rcs_removed"]["balanced_accuracy"] + 0.02
    real = report["real"]["by_amplitude_10s"]
    assert real["with_rcs"]["n"] == real["with_rcs_removed"]["n"] > 500
    assert real["without_rcs"]["n"] > 500
    with_rcs = real["with_rcs"]["balanced_accuracy"]
    assert with_rcs >= real["with_rcs_removed"]["balanced_accuracy"] - 0.02
    kinematic = report["real_kinematics_only"]
    assert kinematic["balanced_accuracy_10s"] >= 0.92 and kinematic["ece_10s"] <= 0.05


def test_report_covers_every_age_and_the_whole_held_out_split(report):
    for part in ("real", "all"):
        assert set(report[part]["by_age"]) == {"2s", "5s", "10s", "30s"}
    everything = report["all"]
    assert all(everything["class_counts"][c] > 1000 for c in ("drone", "bird", "aircraft"))
    assert everything["ece"] <= 0.05
    assert report["png_bytes"][:8] == b"\x89PNG\r\n\x1a\n"
    assert report["reliability_png"].endswith("reliability.png")


def test_heldout_real_flights_under_the_shipped_label_policy(report):
    """Issue 11's held-out targets at the default decision_confidence (0.9), per scan from
    10 s, model only (no identity evidence, no smoothing: harder than the pipeline). Measured:
    manned flights 0 of 64,291 scans and 0 of 1,479 tracks ever 'drone' (3 tracks at 0.5);
    real drones never 'bird' or 'aircraft', 0.629 of their scans 'drone' and 152 of 246 tracks
    'drone' on at least half of their scans. No real radar-rate bird track exists."""
    decision = report["decision"]
    assert decision["decision_confidence"] == 0.9
    manned = decision["by_source"]["real-aircraft/aircraft"]
    assert manned["tracks"] > 1000 and manned["ever"]["drone"] == 0
    drones = decision["by_source"]["real-drone/drone"]
    assert drones["tracks"] > 200
    assert drones["ever"]["bird"] == 0 and drones["ever"]["aircraft"] == 0
    assert drones["mostly"]["drone"] >= drones["tracks"] / 2
