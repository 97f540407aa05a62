"""A websocket client that stops reading: a slow consumer, played against the hub.

Its receive window is tiny (``SO_RCVBUF``), so the hub's frames fill the kernel's buffers
after a few kilobytes and then pile up in the hub's transport.  The handshake and the
(masked) frames are written by hand: a websocket library would read in the background.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class ShutWindow:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, port: int, path: str, headers: dict[str, str] | None = None
    ) -> AsyncIterator[ShutWindow]:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock)
        lines = [
            f"GET {path} HTTP/1.1",
            "Host: 127.0.0.1",
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Version: 13",
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
            *(f"{name}: {value}" for name, value in (headers or {}).items()),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            response = await reader.readuntil(b"\r\n\r\n")
            assert response.startswith(b"HTTP/1.1 101"), response
            yield cls(reader, writer)
        finally:
            writer.close()

    def send(self, text: str) -> None:
        self.writer.write(masked(text.encode()))

    async def read_until(self, marker: bytes) -> None:
        """Read (this once) until ``marker`` has come."""
        seen = b""
        while marker not in seen:
            chunk = await self.reader.read(4096)
            if not chunk:
                raise ConnectionError("closed before the marker came")
            seen += chunk

    async def flood(self, text: str, within_s: float) -> None:
        """Send ``text`` over and over, never reading, until the hub drops the connection
        (ConnectionError); TimeoutError if it has not within ``within_s``."""
        batch = masked(text.encode()) * 50
        async with asyncio.timeout(within_s):
            while True:
                self.writer.write(batch)
                await self.writer.drain()


def masked(payload: bytes) -> bytes:
    """A client's text frame (a client must mask; a zero mask leaves the bytes as they are)."""
    size = len(payload)
    if size < 126:
        head = bytes([0x81, 0x80 | size])
    else:
        head = bytes([0x81, 0x80 | 126]) + struct.pack("!H", size)
    return head + b"\0\0\0\0" + payload
