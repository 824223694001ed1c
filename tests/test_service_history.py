"""The live service's history (skywarden.service_history) under a real failing disk: a
`skywarden run` whose file size limit (RLIMIT_FSIZE, standing in for a full disk) stops the
history's writes logs the failure at once, says "degraded" in /api/v1/health, holds a bounded
amount in memory and counts what it drops, and keeps warning."""

from __future__ import annotations

import os
import resource
import socket
from pathlib import Path

from tests.live_site import DroneSender, RunningSite, free_port, write_site

SERIAL = "DISKTEST-1"
LIMIT_BYTES = 1_500_000


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT_BYTES, LIMIT_BYTES))


def test_a_full_disk_is_degraded_logged_bounded_and_the_service_keeps_warning(
    tmp_path: Path,
) -> None:
    http, rid = free_port(), free_port(socket.SOCK_DGRAM)
    # 1 MB may wait in memory; garbage is stored at up to 10 MB/s so the file fills quickly
    site = write_site(tmp_path, http, rid, "max_pending_mb = 1\nraw_reject_kb_s = 10000\n")
    with DroneSender(rid, period_s=0.05) as sender:
        sender.drones[SERIAL] = (47.001, 8.001, 50.0)
        sender.extra = lambda: [os.urandom(1400) for _ in range(20)]  # ~560 kB/s
        run = RunningSite(site, http, preexec=_limit_file_size)
        try:
            health = run.wait_for(
                lambda: (h := run.get("/health"))["history"]["status"] == "degraded" and h
            )
            assert health["status"] == "degraded"
            assert any(d.startswith("history:") for d in health["degraded"])
            assert "too large" in health["history"]["error"].lower()
            assert "ERROR skywarden.service_history: history:" in run.output()
            dropped = run.wait_for(lambda: run.get("/health")["history"]["dropped_rows"])
            assert sum(dropped.values()) > 0
            held = run.get("/health")["history"]["pending_bytes"]
            assert held <= 2 * 1024 * 1024  # the bound (1 MB, twice for the audit tables)
            # still warning: the drone's alert is up and new snapshots keep coming
            seq = run.get("/health")["snapshot_seq"]
            run.wait_for(lambda: run.get("/health")["snapshot_seq"] > seq + 5)
            alerts = run.get("/alerts")["alerts"]
            assert any(SERIAL in a["object"] and a["state"] == "active" for a in alerts)
        finally:
            code = run.terminate()
    out = run.output()
    assert code == 0, out
    assert "the last flush failed" in out  # (SIGTERM's uvicorn traceback: issue 17 part A)


def test_the_live_service_stores_detections_and_rejects_and_caps_garbage(tmp_path: Path) -> None:
    import asyncio

    from skywarden.service import build_service, serve
    from skywarden.site_config import load_site_config
    from skywarden.store import HistoryReader

    http, rid = free_port(), free_port(socket.SOCK_DGRAM)
    site = write_site(tmp_path, http, rid, "raw_reject_kb_s = 2\n")
    service = build_service(load_site_config(site), with_server=False)
    garbage = [0]

    def junk() -> list[bytes]:
        garbage[0] += 10 * 1400
        return [os.urandom(1400) for _ in range(10)]

    async def run() -> dict:
        serving = asyncio.create_task(serve(service))
        with DroneSender(rid, period_s=0.05) as sender:
            sender.drones[SERIAL] = (47.001, 8.001, 50.0)
            await asyncio.sleep(1.0)
            sender.extra = junk
            while garbage[0] < 2_000_000 and not serving.done():
                await asyncio.sleep(0.1)
        health = service.pipeline.health()
        service.stop.set()
        await serving
        return health

    health = asyncio.run(asyncio.wait_for(run(), timeout=120))
    skipped = health["history"]["raw_inputs_skipped"]
    assert skipped["bytes"]["rid"] > 0
    with HistoryReader(tmp_path / "history.duckdb") as reader:
        dets = reader.detections()
        assert len(dets) > 0
        rejects = reader.reject_totals()["rid"]
        assert sum(rejects.values()) > 0
        stored = reader.cursor().execute("SELECT sum(octet_length(payload)) FROM raw_inputs")
        stored_bytes = stored.fetchone()[0]
    assert stored_bytes < garbage[0] / 2  # not every garbage byte (2 MB) went to disk
    assert stored_bytes + skipped["bytes"]["rid"] >= garbage[0] * 0.5  # and the rest counted
