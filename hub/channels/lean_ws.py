"""uvicorn's websockets-sansio protocol, minus what a held socket no longer needs.

uvicorn keeps the handshake's request and response objects (and their headers, ~3 KiB)
for the life of every connection, though nothing reads them after the 101.  Provider links
are held by the ten thousand, so this subclass drops them once the handshake is sent.
The sessions benchmark guards the saving; if uvicorn changes these internals, the
subclass only stops saving memory (the attributes are re-read nowhere after accept).
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            self.request = None  # type: ignore[assignment]
            self.response = None  # type: ignore[assignment]
