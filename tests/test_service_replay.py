"""`skywarden run` on recorded files: a real dump1090 SBS recording replayed as fast as
possible through the whole service (no server), on a clock that follows the recording; and
`skywarden replay` of the history it writes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from skywarden.detections import identity_kind
from skywarden.service import build_service, replay_history, serve
from skywarden.site_config import site_config_from_dict
from tests.conftest import recording

SBS = "beastblackbox/beast_decoded_sbs.txt"


def test_recorded_sbs_replayed_through_the_service(shared_data: Path, tmp_path: Path) -> None:
    path = recording(shared_data, SBS)
    doc = {
        "site": {"name": "replay", "lat": 60.15, "lon": 34.25, "height_m": 0.0},
        "storage": {"path": str(tmp_path / "history.duckdb"), "flush_s": 0.5},
        "sensors": [
            {"name": "adsb", "kind": "sbs", "transport": "file", "file": str(path), "speed": 0}
        ],
    }
    config = site_config_from_dict(doc, tmp_path, source="replay test")
    service = build_service(config, with_server=False)
    identities: set[int] = set()

    async def run() -> None:
        serving = asyncio.create_task(serve(service))
        for _ in range(600):  # bounded: at most 60 s
            await asyncio.sleep(0.1)
            identities.update(int(i) for i in service.pipeline.tracks.identity if i >= 0)
            health = service.pipeline.source_health.get("adsb", {})
            if health.get("records", 0) >= 8622 and service.pipeline.queue_depth == 0:
                break
        await asyncio.sleep(0.5)
        service.stop.set()
        await serving

    asyncio.run(run())
    health = service.pipeline.source_health["adsb"]
    assert health["records"] == 8622  # every MSG line of the recording
    assert sum(health["rejects"].values()) == 3  # the blank line and two free-text notes
    assert health["detections"] > 1000
    # the aircraft of the recording were tracked under their ICAO addresses
    assert len(identities) >= 8 and {identity_kind(i) for i in identities} == {"icao"}
    # replay re-runs the recorded raw inputs through a fresh pipeline: same alerts (none here)
    diff = replay_history(tmp_path / "history.duckdb")
    assert diff.identical
