"""uvicorn's websockets-sansio protocol, minus what a held socket no longer needs, plus a
way to write pre-framed messages (the console fan-out).

uvicorn keeps the handshake's request and response objects (and their headers, ~3 KiB)
for the life of every connection, though nothing reads them after the 101.  Provider links
are held by the ten thousand, so this subclass drops them once the handshake is sent.
The sessions benchmark guards the saving; if uvicorn changes these internals, the
subclass only stops saving memory (the attributes are re-read nowhere after accept).
"""

from __future__ import annotations

import struct
from typing import Any, Protocol

from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class FrameWriter(Protocol):
    def write_frame(self, framed: bytes) -> int:
        """Write whole frames; the bytes waiting to be sent, or -1 once closing."""


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            self.request = None  # type: ignore[assignment]
            self.response = None  # type: ignore[assignment]

    def write_frame(self, framed: bytes) -> int:
        """Write a whole frame (``text_frame``) straight to the transport; the bytes now
        waiting to be sent, or -1 once the socket is closing.

        The console fan-out frames an update once and writes it to every subscriber,
        where the ASGI path would frame it again for each (~20 us).  Valid because the hub
        configures no per-message deflate and never fragments: every frame on the socket
        is whole, whichever path wrote it, and writes are synchronous so they keep order.
        """
        if self.disconnected or self.close_sent:
            return -1
        self.transport.write(framed)
        return int(self.transport.get_write_buffer_size())


def text_frame(payload: bytes) -> bytes:
    """A server's unmasked, unfragmented text frame (RFC 6455, section 5.2)."""
    return _frame(0x81, payload)


def binary_frame(payload: bytes) -> bytes:
    """A server's unmasked, unfragmented binary frame."""
    return _frame(0x82, payload)


def _frame(first: int, payload: bytes) -> bytes:
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", first, size)
    elif size < 65536:
        head = struct.pack("!BBH", first, 126, size)
    else:
        head = struct.pack("!BBQ", first, 127, size)
    return head + payload


def frame_writer(websocket: WebSocket) -> LeanWebSocketProtocol | None:
    """The protocol behind a socket the hub app took directly (its ASGI send is the
    protocol's own method), when it is ours; None otherwise (then use the ASGI path)."""
    protocol = getattr(websocket._send, "__self__", None)
    return protocol if isinstance(protocol, LeanWebSocketProtocol) else None
