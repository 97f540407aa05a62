"""Due-time timers on this node: an attendance whose due time comes is advanced.

The deciding node arms a timer when a decision leaves a due time (an offer's deadline, a
stagger, a schedule); the sweeper on every node catches what a node that died left armed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from hub.clock import now_ms

log = logging.getLogger(__name__)


class DueTimers:
    def __init__(self, advance: Callable[[int], Awaitable[None]]) -> None:
        self.advance = advance
        self.armed: dict[int, asyncio.TimerHandle] = {}
        self.running: set[asyncio.Task[None]] = set()

    def arm(self, attendance_id: int, due_ms: int) -> None:
        """Advance the attendance at ``due_ms`` (replacing any timer it had)."""
        self.disarm(attendance_id)
        loop = asyncio.get_running_loop()
        delay = max(0.0, (due_ms - now_ms()) / 1000)
        self.armed[attendance_id] = loop.call_at(loop.time() + delay, self._fire, attendance_id)

    def disarm(self, attendance_id: int) -> None:
        timer = self.armed.pop(attendance_id, None)
        if timer is not None:
            timer.cancel()

    async def close(self) -> None:
        for timer in self.armed.values():
            timer.cancel()
        self.armed.clear()
        for task in list(self.running):
            task.cancel()
        await asyncio.gather(*self.running, return_exceptions=True)

    def _fire(self, attendance_id: int) -> None:
        self.armed.pop(attendance_id, None)
        task = asyncio.get_running_loop().create_task(self._advance(attendance_id))
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def _advance(self, attendance_id: int) -> None:
        try:
            await self.advance(attendance_id)
        except Exception:  # the sweeper retries; a timer must not die silently
            log.exception("dispatch timer failed", extra={"attendance": attendance_id})
