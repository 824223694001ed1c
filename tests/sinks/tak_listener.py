"""A small TAK server stand-in for tests: a TCP listener on 127.0.0.1 that collects the CoT
``<event>`` documents each connection sends (usable by the end-to-end test too)."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET


class TakListener:
    """A TCP server that collects the ``<event>`` documents each connection sends."""

    def __init__(self) -> None:
        self.events: list[ET.Element] = []
        self.connections: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def start(self, port: int = 0) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", port)
        return self.server.sockets[0].getsockname()[1]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.append(writer)
        buffer = b""
        while data := await reader.read(65536):
            buffer += data
            while (end := buffer.find(b"</event>")) >= 0:
                document, buffer = buffer[: end + 8], buffer[end + 8 :]
                self.events.append(ET.fromstring(document.strip()))
        writer.close()

    async def drop_connections(self) -> None:
        for w in self.connections:
            w.close()

    async def close(self) -> None:
        await self.drop_connections()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
