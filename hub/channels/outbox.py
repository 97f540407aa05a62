"""A socket's bounded send queue.

Frames are queued as encoded bytes and sent by a drain task that exists only while there is
something to send, so an idle session costs no task.  Acks are coalesced into one slot: only
the newest matters.  When the queued bytes pass the cap, the socket is cut off as a slow
consumer instead of letting one reader hold memory or slow the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from hub.errors import Close

Send = Callable[[bytes, bool], Awaitable[None]]


class Outbox:
    __slots__ = (
        "_drain_task",
        "ack",
        "binary",
        "cap",
        "closed",
        "frames",
        "on_overflow",
        "send",
        "size",
    )

    def __init__(self, send: Send, cap_bytes: int, on_overflow: Callable[[Close], None]) -> None:
        self.send = send
        self.cap = cap_bytes
        self.on_overflow = on_overflow
        self.frames: list[bytes] = []  # short; a deque would cost ~600 bytes per socket
        self.size = 0
        self.ack: bytes | None = None
        self.binary = False
        self.closed = False
        self._drain_task: asyncio.Task[None] | None = None

    def push(self, data: bytes) -> None:
        if self.closed:
            return
        if self.size + len(data) > self.cap:
            self.closed = True
            self.on_overflow(Close.SLOW_CONSUMER)
            return
        self.frames.append(data)
        self.size += len(data)
        self._kick()

    def push_ack(self, data: bytes) -> None:
        if not self.closed:
            self.ack = data
            self._kick()

    def _kick(self) -> None:
        if self._drain_task is None:
            self._drain_task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while not self.closed and (self.frames or self.ack is not None):
                if self.frames:
                    data = self.frames.pop(0)
                    self.size -= len(data)
                else:
                    data, self.ack = self.ack or b"", None
                await self.send(data, self.binary)
        except Exception:  # the peer went away mid-send: nothing left to deliver to
            self.closed = True
        finally:
            self._drain_task = None

    async def flush(self, timeout_s: float) -> None:
        """Wait until everything queued is handed to the transport (bounded)."""
        task = self._drain_task
        if task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), timeout_s)

    def stop(self) -> None:
        self.closed = True
        if self._drain_task is not None:
            self._drain_task.cancel()
