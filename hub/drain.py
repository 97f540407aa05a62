"""Stopping as a drain: readiness goes 503 ``draining`` at once, new sockets are turned away
with 1001, and the open ones are closed with 1001 spread over ``HUB_DRAIN_S``, so that the
apps and consoles of a stopping node dial the others a few at a time, not all in the same
instant.  Requests and decisions under way finish; then the server stops (hub/serving.py
starts it on SIGTERM)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from hub.errors import Close

log = logging.getLogger(__name__)


class Closable(Protocol):
    def close_soon(self, code: Close) -> None:
        """Start closing with ``code`` without waiting for it."""
        ...


class Drain:
    def __init__(self) -> None:
        self.draining = False
        self.sockets: set[Closable] = set()  # the consoles' (providers' are the registry's)

    async def run(
        self,
        seconds: float,
        providers: Callable[[], Sequence[Closable]],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Drain: every open socket closed with 1001, in a random order, at an even pace
        over ``seconds``; sockets opening meanwhile are turned away by their endpoints."""
        self.draining = True
        open_now: list[Closable] = [*providers(), *self.sockets]
        random.shuffle(open_now)
        log.info("draining", extra={"sockets": len(open_now), "seconds": seconds})
        pace = seconds / len(open_now) if open_now else 0.0
        for socket in open_now:
            socket.close_soon(Close.GOING_AWAY)
            await sleep(pace)
