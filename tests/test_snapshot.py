"""The snapshot encodes to strict JSON whatever the health numbers are."""

from __future__ import annotations

import json
import math

import numpy as np

from skywarden.snapshot import Snapshot, TrackArrays, json_safe


def test_health_with_nan_and_numpy_values_encodes() -> None:
    health = {"sources": {"radar": {"last_message_t": math.nan, "n": np.int64(3)}},
              "p99": np.float64(np.inf), "ok": np.bool_(True), "list": [1.0, math.nan]}  # fmt: skip
    snap = Snapshot(1, 0.0, (47.0, 8.0, 400.0), TrackArrays.empty(3, 2), health=health)
    doc = json.loads(snap.json_bytes)
    assert doc["health"] == {"sources": {"radar": {"last_message_t": None, "n": 3}},
                             "p99": None, "ok": True, "list": [1.0, None]}  # fmt: skip
    assert json_safe((1, 2)) == [1, 2]
