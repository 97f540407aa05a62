"""The lifespan's background work: housekeeping ticks and what other nodes stream."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from hub.channels.sessions import node_channel
from hub.clock import now_ms
from hub.context import REGISTRY_CHANNEL, Hub
from hub.errors import StoreUnavailable
from hub.state.records import Records

log = logging.getLogger(__name__)


async def every(seconds: float, work: Callable[[], Awaitable[None]]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await work()
        except StoreUnavailable as exc:
            log.warning("housekeeping failed", extra={"err": exc.message})


async def forget_keys(records: Records, ttl_s: int) -> None:
    """Idempotency keys older than their time to live (hub/api/idempotency.py)."""
    await records.idempotency.expire(now_ms() - ttl_s * 1000)


async def listen_bus(hub: Hub) -> None:
    """Kicks addressed to this node's sessions."""
    while True:
        try:
            async for payload in hub.live.bus.listen(node_channel(hub.node)):
                await hub.sessions.on_bus_message(payload)
        except StoreUnavailable as exc:
            log.warning("bus listener failed; resubscribing", extra={"err": exc.message})
            await asyncio.sleep(1.0)


async def follow_other_nodes(hub: Hub) -> None:
    """Other nodes' positions and presence notes, into this node's matching index."""

    async def positions() -> None:
        async for batch in hub.live.positions.changes():
            for position in batch:
                hub.matching.position(position)

    async def presence() -> None:
        async for note in hub.live.presence.changes():
            hub.matching.presence(note)

    async def registry() -> None:
        async for payload in hub.live.bus.listen(REGISTRY_CHANNEL):
            kind, _, raw_id = payload.decode().partition(":")
            if kind == "provider":
                provider = await hub.records.providers.get(int(raw_id))
                if provider is not None:
                    hub.matching.provider_changed(provider)
            elif kind == "client":
                client = await hub.records.clients.get(int(raw_id))
                if client is not None:
                    hub.matching.client_changed(client)
            elif kind == "kpis":
                await hub.refresh_kpis(int(raw_id))
            elif kind == "engaged":
                provider_id, _, attendance_id = raw_id.partition(":")
                attendance = await hub.records.attendances.get(int(attendance_id or 0))
                hub.engage_here(int(provider_id), attendance)

    async def forever(follow: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await follow()
            except StoreUnavailable as exc:
                log.warning("stream follower failed; resubscribing", extra={"err": exc.message})
                await asyncio.sleep(1.0)

    await asyncio.gather(forever(positions), forever(presence), forever(registry))


async def cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
