"""The lifespan's background work: housekeeping ticks and what other nodes stream."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from hub.clock import now_ms
from hub.errors import StoreUnavailable
from hub.matching.service import MatchService
from hub.state.live import Positions, Presence
from hub.state.records import Records

log = logging.getLogger(__name__)


async def every(seconds: float, work: Callable[[], Awaitable[None]]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await work()
        except StoreUnavailable as exc:
            log.warning("housekeeping failed", extra={"err": exc.message})


async def resubscribing(follow: Callable[[], Awaitable[None]]) -> None:
    """Follow a stream of the live state for as long as the hub runs, subscribing again
    a second after the engine fails."""
    while True:
        try:
            await follow()
        except StoreUnavailable as exc:
            log.warning("stream follower failed; resubscribing", extra={"err": exc.message})
            await asyncio.sleep(1.0)


async def forget_keys(records: Records, ttl_s: int) -> None:
    """Idempotency keys older than their time to live (hub/api/idempotency.py)."""
    await records.idempotency.expire(now_ms() - ttl_s * 1000)


async def follow_positions(positions: Positions, matching: MatchService) -> None:
    """Other nodes' positions, into this node's matching index."""
    async for batch in positions.changes():
        for position in batch:
            matching.position(position)


async def follow_presence(presence: Presence, matching: MatchService) -> None:
    """Other nodes' presence notes (sessions, duty), into this node's matching index."""
    async for note in presence.changes():
        matching.presence(note)


async def cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
