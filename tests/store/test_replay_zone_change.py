"""Runtime zone changes in the history: `skywarden replay` applies them at their recorded
times and reproduces the live alerts; without them it does not (so the test can fail)."""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
from pathlib import Path

import duckdb

from skywarden.classify.trained import identity_and_speed_classes
from skywarden.evaluate.demo_site import PROTECTED_ZONE_ID, default_demo_site
from skywarden.loop import replay_inputs
from skywarden.pipeline import Pipeline
from skywarden.service import make_feed, replay_history
from skywarden.simulate import build_scenario
from skywarden.simulate.emit_cooperative import remote_id_messages
from skywarden.simulate.emit_site import SiteSetup
from skywarden.site_config import SensorConfig, site_config_to_dict
from skywarden.store import HistoryReader, HistoryWriter


def record_live(path: Path, change_after_s: float) -> tuple[dict, float]:
    """Run the 'crossing' scenario's Remote ID frames through a pipeline that writes a
    history as the service does; ``change_after_s`` into the run an admin removes the
    protected zone. Returns the zones put and the change time."""
    scenario = build_scenario("crossing", 1)
    setup = SiteSetup()
    sensor = SensorConfig("remote-id", "remote_id", "udp", "127.0.0.1", 1)
    config = dataclasses.replace(default_demo_site(scenario), sensors=(sensor,))
    writer = HistoryWriter(path, site=(config.lat, config.lon, config.height_m),
                           config_text=json.dumps(site_config_to_dict(config)))  # fmt: skip
    now = [0.0]
    pipeline = Pipeline(config, clock=lambda: now[0], classifier=identity_and_speed_classes)
    pipeline.listeners.append(lambda snap, events: (writer.add_snapshot(snap),
                                                    writer.add_audit(events)))  # fmt: skip
    pipeline.change_listeners.append(writer.add_change)
    feeds = {"remote-id": make_feed(sensor, 0, pipeline.frame)}
    messages = remote_id_messages(scenario, setup)
    t_change = messages[0].t + change_after_s
    ring_only = copy.deepcopy(pipeline.zones_geojson())
    ring_only["features"] = [f for f in ring_only["features"] if f["id"] != PROTECTED_ZONE_ID]

    def inputs():
        changed = False
        for m in messages:
            now[0] = m.t
            if not changed and m.t >= t_change:  # the admin's PUT, between two ticks
                pipeline.put_zones(ring_only, who="alice", role="admin")
                changed = True
            writer.add_raw(m.t, "remote-id", m.data)
            yield m.t, "remote-id", m.data

    for _ in replay_inputs(pipeline, feeds, inputs()):
        pass
    writer.close()
    return ring_only, t_change


def test_replay_applies_a_runtime_zone_change_at_its_time(tmp_path: Path) -> None:
    path = tmp_path / "history.duckdb"
    ring_only, t_change = record_live(path, change_after_s=60.0)
    with HistoryReader(path) as reader:
        changes = reader.changes()
        recorded = reader.alerts()
    assert [(c["who"], c["role"], c["kind"]) for c in changes] == [("alice", "admin", "zones")]
    assert abs(changes[0]["t"] - t_change) < 1.0
    stored = json.loads(changes[0]["document"])["features"]
    assert [f["id"] for f in stored] == [f["id"] for f in ring_only["features"]] == ["ring"]
    zones = {r["zone_id"] for r in recorded}
    assert PROTECTED_ZONE_ID in zones and len(zones) == 2  # both zones alerted before the change

    diff = replay_history(path, classifier=identity_and_speed_classes)
    assert diff.identical, diff.format()
    assert len(diff.matched) >= 2

    # control: the same history without its recorded change does not replay to the same alerts
    bare = tmp_path / "bare.duckdb"
    shutil.copy(path, bare)
    with duckdb.connect(str(bare)) as con:
        con.execute("DELETE FROM changes")
    assert not replay_history(bare, classifier=identity_and_speed_classes).identical
