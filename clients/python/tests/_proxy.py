"""A TCP relay in front of the real server: the tests read the upgrade requests it relays and cut its connections."""
from __future__ import annotations

import asyncio


class Relay:
    """Listens on 127.0.0.1:0 and relays every connection to ``upstream_port``; ``cut()`` aborts them all."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.requests: list[bytes] = []
        self._transports: list[asyncio.WriteTransport] = []
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    async def start(self) -> Relay:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._transports += [writer.transport, up_writer.transport]
        head = await reader.readuntil(b"\r\n\r\n")  # the HTTP upgrade request
        self.requests.append(head)
        up_writer.write(head)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))

    def cut(self) -> None:
        """Drops every relayed connection without a close frame (a network failure: the client sees 1006)."""
        for t in self._transports:
            t.abort()
        self._transports.clear()

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
