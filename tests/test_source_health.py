"""The live service's per-sensor health with real loopback sockets: sensors[] shows
connected, messages, last message time and losses by reason; a UDP port already in use stops
`skywarden run` at start-up with one clear line."""

from __future__ import annotations

import asyncio
import math
import socket
from pathlib import Path

from skywarden.cli import main
from skywarden.service import build_service, serve
from skywarden.site_config import site_config_from_dict

GOOD = (
    b"MSG,3,1,1,4B1234,1,2024/01/01,12:00:00.000,2024/01/01,12:00:00.000,,3000,,,"
    b"47.01000,8.01000,,,,,,0\r\n"
)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _site(port: int) -> dict:
    return {
        "site": {"name": "health", "lat": 47.0, "lon": 8.0, "height_m": 400.0},
        "sensors": [
            {"name": "adsb", "kind": "sbs", "transport": "udp", "host": "127.0.0.1", "port": port}
        ],
    }


def test_sensors_show_live_connection_messages_and_losses(tmp_path: Path) -> None:
    config = site_config_from_dict(_site(_free_udp_port()), tmp_path, source="health test")
    service = build_service(config, with_server=False)
    views = []

    async def run() -> None:
        serving = asyncio.create_task(serve(service))
        port = config.sensors[0].port
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            for k in range(40):
                await asyncio.sleep(0.005)
                tx.sendto(GOOD if k % 4 else b"not an sbs line\n", ("127.0.0.1", port))
            for _ in range(200):  # bounded wait for the loop to take all 40
                await asyncio.sleep(0.05)
                if service.pipeline.sensors[0].messages >= 40:
                    break
            await asyncio.sleep(1.2)  # one more scan: the snapshot carries the live view
            views.append(service.pipeline.snapshot().sensors[0])
        service.stop.set()
        await serving

    asyncio.run(run())
    (view,) = views
    assert view.connected
    assert view.messages == 40
    assert math.isfinite(view.last_message_t)
    assert view.rejects == {"not_sbs": 10}
    health = service.pipeline.health()["sources"]["adsb"]
    assert health["transport"]["kernel_dropped"] == 0
    assert health["transport"]["receive_buffer_bytes"] > 0


def test_run_stops_at_start_up_when_a_udp_port_is_in_use(tmp_path: Path, capsys) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind(("127.0.0.1", 0))
        port = other.getsockname()[1]
        site = tmp_path / "site.toml"
        site.write_text(
            '[site]\nname = "busy"\nlat = 47.0\nlon = 8.0\nheight_m = 400.0\n'
            f'[[sensors]]\nname = "adsb"\nkind = "sbs"\ntransport = "udp"\n'
            f'host = "127.0.0.1"\nport = {port}\n'
        )
        status = main(["run", str(site)])
    err = capsys.readouterr().err
    assert status == 2
    assert f"cannot open UDP 127.0.0.1:{port}" in err and "in use" in err
    assert "Traceback" not in err


def test_the_receive_buffer_is_configurable_per_udp_sensor(tmp_path: Path) -> None:
    from skywarden.service import make_stream
    from skywarden.sources.udp_socket import DEFAULT_RECEIVE_BUFFER_BYTES

    doc = _site(_free_udp_port())
    default = site_config_from_dict(doc, tmp_path, source="t").sensors[0]
    assert default.receive_buffer_bytes == DEFAULT_RECEIVE_BUFFER_BYTES
    doc["sensors"][0]["receive_buffer_bytes"] = 1_048_576
    sensor = site_config_from_dict(doc, tmp_path, source="t").sensors[0]
    _, udp = make_stream(sensor)
    assert udp.receive_buffer_bytes == 1_048_576
