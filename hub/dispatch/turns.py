"""One decision at a time per attendance on this node.

Decisions on one attendance are serial anyway (the store's version guard makes the later of
two made on the same snapshot start again), but on one node they need not collide at all:
they take turns here, each starting from what the last one committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Turns:
    def __init__(self) -> None:
        self._queues: dict[int, tuple[asyncio.Lock, list[int]]] = {}  # lock, [holders]

    @asynccontextmanager
    async def take(self, key: int) -> AsyncIterator[None]:
        entry = self._queues.get(key)
        if entry is None:
            entry = self._queues[key] = (asyncio.Lock(), [0])
        lock, count = entry
        count[0] += 1
        try:
            async with lock:
                yield
        finally:
            count[0] -= 1
            if count[0] == 0:
                del self._queues[key]

    def __len__(self) -> int:
        """Attendances with a decision running or waiting."""
        return len(self._queues)
