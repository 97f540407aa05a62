"""uvicorn's websockets-sansio protocol, minus what a held socket no longer needs, plus a
way to write pre-framed messages (the console fan-out) and a way for the app to take
messages straight from the protocol (a provider's fixes).

uvicorn keeps the handshake's request and response objects (and their headers, ~3 KiB)
for the life of every connection, though nothing reads them after the 101.  Provider links
are held by the ten thousand, so this subclass drops them once the handshake is sent.
The sessions benchmark guards the saving.

These are uvicorn's private internals (``send_receive_event_to_app``, ``frames``,
``read_paused``, ``curr_msg_data_type``, the protocol found through the ASGI send it gave):
pyproject.toml bounds uvicorn to the releases they were checked on, and
tests/channels/test_lean_ws.py fails, naming what moved, when a release changes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import Callable
from typing import Any, Protocol

from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

log = logging.getLogger(__name__)


class FrameWriter(Protocol):
    def write_frame(self, framed: bytes) -> int:
        """Write whole frames; the bytes waiting to be sent, or -1 once closing."""

    def abort(self) -> None:
        """Drop the connection now, whatever is unsent (a no-op once it is gone)."""


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    # Set by the app on an established session: called with each whole message (text or
    # bytes) as it is parsed, and when it returns True the message is handled.  Else, or
    # with none set, the message goes the ASGI way: queued for the app's receive(), with
    # reading paused until the app takes it.  That way costs a queue trip, a task switch
    # and two epoll_ctl calls per message: a sixth of what a frame of fixes cost the hub
    # in all (bench ingest: 3.2 -> 2.6 us of CPU per fix).
    listener: Callable[[str | bytes], bool] | None = None
    # The close code this layer sent for a message it could not take (1007, 1009), for
    # the app to count once the socket ends.
    refused_with: int | None = None

    def send_receive_event_to_app(self) -> None:
        listener = self.listener
        text = self.curr_msg_data_type == "text"
        # Not while a message queued earlier waits for the app (reading is paused until
        # the queue is empty): messages are handled in the order they came.
        if (
            listener is not None
            and not self.read_paused
            and not self.close_sent
            and len(self.frames) == 1
        ):
            data: str | bytes = self.frames[0]
            if text:
                try:
                    data = self.frames[0].decode()
                except UnicodeDecodeError:
                    return self._not_utf8()
            if listener(data):
                self.frames = []
                return
        elif text and not self.close_sent and not _utf8(self.frames):
            return self._not_utf8()
        super().send_receive_event_to_app()

    def _not_utf8(self) -> None:
        """A text message that is not UTF-8: closed with 1007, as uvicorn would, but as a
        client's fault (one debug line), not with a traceback."""
        log.debug("a websocket client sent text that is not UTF-8: closed with 1007")
        self.frames = []
        self.conn.send_close(1007)
        self.handle_parser_exception()

    def handle_parser_exception(self) -> None:
        if self.conn.close_sent is not None:
            self.refused_with = self.conn.close_sent.code
        super().handle_parser_exception()

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

    def abort(self) -> None:
        """Drop the connection without flushing (a close frame stuck behind frames the
        peer does not read would never arrive)."""
        if not self.disconnected:
            self.transport.abort()


async def close_or_drop(
    websocket: WebSocket, writer: FrameWriter | None, code: int, timeout_s: float
) -> None:
    """Send the close frame (bounded); on the hub's protocol, drop the connection if the
    peer has not answered it within ``timeout_s``.  A consumer too slow to read the close
    frame would otherwise hold its session until uvicorn's own close timer, 10 s on."""
    if writer is not None:
        asyncio.get_running_loop().call_later(timeout_s, writer.abort)
    # The peer may be gone, or never read: the close itself is bounded too.
    with contextlib.suppress(RuntimeError, OSError, TimeoutError):
        await asyncio.wait_for(websocket.close(code), timeout_s)


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


def _utf8(frames: list[bytes]) -> bool:
    try:
        (frames[0] if len(frames) == 1 else b"".join(frames)).decode()
    except UnicodeDecodeError:
        return False
    return True


def frame_writer(websocket: WebSocket) -> LeanWebSocketProtocol | None:
    """The protocol behind a socket the hub app took directly (its ASGI send is the
    protocol's own method), when it is ours; None otherwise (then use the ASGI path)."""
    protocol = getattr(websocket._send, "__self__", None)
    return protocol if isinstance(protocol, LeanWebSocketProtocol) else None
