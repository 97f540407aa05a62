"""A socket's bounded send queue.

Frames are queued as encoded bytes; acks are coalesced into one slot (only the newest
matters).  Two ways out:

- on the hub's own websocket protocol (``hub/channels/lean_ws.py``), what one loop
  iteration queued is framed here and written to the transport at once, at the end of
  the iteration: no task, no trip through the ASGI send, one system call however many
  frames.  The cap applies to the bytes the transport holds unsent.
- otherwise (another ASGI server), a drain task that exists only while there is
  something to send sends each frame through the ASGI interface; the cap applies to the
  bytes queued here.

A frame the app is waiting on (the assignment that answers its accept) can leave at once
instead (``push(..., now=True)``), taking what was queued before it along, in order.

Either way an idle session costs no task, and a reader that stops reading is cut off as a
slow consumer instead of holding memory or slowing the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from hub.channels.lean_ws import FrameWriter, binary_frame, text_frame
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
        "loop",
        "on_overflow",
        "scheduled",
        "send",
        "size",
        "writer",
    )

    def __init__(
        self,
        send: Send,
        cap_bytes: int,
        on_overflow: Callable[[Close], None],
        writer: FrameWriter | None = None,
    ) -> None:
        self.send = send
        self.cap = cap_bytes
        self.on_overflow = on_overflow
        self.writer = writer
        # Looked up once: asyncio.get_running_loop() makes a getpid() system call on
        # Python 3.11, a cost per frame on the ingest path.
        self.loop = asyncio.get_running_loop()
        self.frames: list[bytes] = []  # short; a deque would cost ~600 bytes per socket
        self.size = 0
        self.ack: bytes | None = None
        self.binary = False
        self.closed = False
        self.scheduled = False
        self._drain_task: asyncio.Task[None] | None = None

    def push(self, data: bytes, *, now: bool = False) -> None:
        """Queue a frame; ``now`` writes it and what is queued before it at once, on the
        hub's protocol, instead of at the end of the loop iteration."""
        if self.closed:
            return
        if self.size + len(data) > self.cap:
            self._overflow()
            return
        self.frames.append(data)
        self.size += len(data)
        if now and self.writer is not None:
            self._write()
        else:
            self._kick()

    def push_ack(self, data: bytes) -> None:
        if not self.closed:
            self.ack = data
            self._kick()

    def _kick(self) -> None:
        if self.writer is not None:
            if not self.scheduled:
                self.scheduled = True
                self.loop.call_soon(self._write)
        elif self._drain_task is None:
            self._drain_task = asyncio.create_task(self._drain())

    def _overflow(self) -> None:
        self.closed = True
        self.on_overflow(Close.SLOW_CONSUMER)

    def _write(self) -> None:
        """Frame and write everything queued, the newest ack last, in one write."""
        self.scheduled = False
        if self.closed or self.writer is None or not (self.frames or self.ack is not None):
            return  # (or written already, by a push that could not wait)
        frames, self.frames, self.size = self.frames, [], 0
        if self.ack is not None:
            frames.append(self.ack)
            self.ack = None
        frame = binary_frame if self.binary else text_frame
        framed = b"".join(map(frame, frames))
        waiting = self.writer.write_frame(framed)
        if waiting < 0:  # the socket is closing: nothing left to deliver to
            self.closed = True
        elif waiting > self.cap:
            self._overflow()

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
        if self.scheduled:
            self._write()
        task = self._drain_task
        if task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), timeout_s)

    def stop(self) -> None:
        self.closed = True
        if self._drain_task is not None:
            self._drain_task.cancel()
