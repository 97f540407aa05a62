"""The Starlette app factory. Its lifespan is the one place that builds engines."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from hub import wire
from hub.api import admin, health, match, openapi, osmand
from hub.api.openapi import Operation
from hub.api.responses import error_handlers
from hub.channels.provider import provider_endpoint
from hub.channels.sessions import SessionRegistry, node_channel
from hub.config import ConfigError, Settings, load_settings
from hub.errors import Close, StoreUnavailable, TokenError
from hub.ingest.filter import FilterRules, FixFilter
from hub.ingest.writer import TrackWriter
from hub.matching.routing import OsrmRouter, RoadRouter
from hub.matching.service import MatchService, parse_weights
from hub.metrics import Metrics
from hub.operations.providers import Provider
from hub.state.live import Connectivity, LivePosition, LiveState
from hub.state.memory import MemoryLive
from hub.state.postgres import PostgresRecords
from hub.state.records import Records
from hub.state.redis import RedisLive
from hub.state.sqlite import SqliteRecords
from hub.tokens import PROVIDER_AUDIENCE, TokenIssuer, new_secret, provider_claims

log = logging.getLogger(__name__)

HEARTBEAT_S = 2.0
PROVIDER_PATH = "/ws/provider"
REGISTRY_CHANNEL = "registry"  # provider ids whose records changed


async def open_records(settings: Settings, *, migrate: bool = True) -> Records:
    """Open the records engine the settings name, migrated unless told otherwise."""
    records: Records
    if settings.database_url:
        records = await PostgresRecords(
            settings.database_url,
            schema=settings.postgres_schema,
            pool_size=settings.postgres_pool_size,
        ).open()
    else:
        records = await SqliteRecords(settings.sqlite_path).open()
    try:
        if migrate:
            await records.migrate()
    except BaseException:
        await records.close()
        raise
    return records


def build_live(settings: Settings) -> LiveState:
    stale_ms = int(settings.stale_after_s * 1000)
    if settings.redis_url:
        return RedisLive(
            settings.redis_url,
            prefix=settings.redis_prefix,
            node=settings.node_name,
            stale_after_ms=stale_ms,
            flush_interval_s=settings.live_flush_ms / 1000,
            resolution=settings.h3_resolution,
            region_resolution=settings.h3_region_resolution,
        )
    return MemoryLive(stale_after_ms=stale_ms)


async def token_issuer(settings: Settings, records: Records) -> TokenIssuer:
    if settings.token_secret and len(settings.token_secret) < 32:
        raise ConfigError("HUB_TOKEN_SECRET must be at least 32 characters (HS256 key length)")
    secret = settings.token_secret or await records.secret("token_secret", new_secret())
    return TokenIssuer(
        secret,
        provider_ttl_s=settings.provider_token_ttl_s,
        admin_ttl_s=settings.admin_token_ttl_s,
    )


@dataclass
class Hub:
    """Everything the lifespan built, handed to every route through request state."""

    settings: Settings
    node: str
    records: Records
    live: LiveState
    tokens: TokenIssuer
    metrics: Metrics
    writer: TrackWriter
    filter_rules: FilterRules
    limits: wire.Limits
    matching: MatchService
    router: RoadRouter | None = None  # road ETAs for the candidates shown
    sessions: SessionRegistry = field(init=False)
    http_filters: dict[int, FixFilter] = field(default_factory=dict)  # OsmAnd ingest

    def __post_init__(self) -> None:
        self.sessions = SessionRegistry(self)

    async def provider_changed(self, provider: Provider) -> None:
        """A registry change: this node's matching follows, and the other nodes are told."""
        self.matching.provider_changed(provider)
        await self.live.bus.publish(REGISTRY_CHANNEL, str(provider.id).encode())

    def position_changed(self, position: LivePosition) -> None:
        """A provider moved (ingest): the live state and the matching index follow."""
        self.live.positions.put(position)
        self.matching.position(position)

    async def provider_from_token(self, token: str) -> Provider:
        """The active provider a valid, unrevoked provider token names."""
        provider_id, version = provider_claims(self.tokens.verify(token, PROVIDER_AUDIENCE))
        provider = await self.records.providers.get(provider_id)
        if provider is None:
            raise TokenError("token names no provider", code="token_invalid")
        if version != provider.token_version:
            raise TokenError("token was revoked", code="token_revoked")
        if not provider.active:
            raise TokenError("provider is deactivated", code="provider_inactive")
        return provider


async def load_matching(settings: Settings, records: Records, live: LiveState) -> MatchService:
    """The matching index of every registered provider at its last known position."""
    matching = MatchService(
        resolution=settings.h3_resolution,
        stale_after_ms=int(settings.stale_after_s * 1000),
        road_factor=settings.road_factor,
        timezone=settings.timezone,
        weights=parse_weights(settings.ranking_weights),
    )
    after = 0
    now_ms = int(time.time() * 1000)
    while page := await records.providers.page(after_id=after, limit=1000):
        ids = [p.id for p in page]
        for provider in page:
            matching.provider_changed(provider)
        for position in (await live.positions.get_many(ids)).values():
            matching.position(position)
        for pid, view in (await live.presence.views(ids, now_ms)).items():
            matching.duty(pid, view.on_duty)
            if view.owner is not None and view.connectivity is not Connectivity.OFFLINE:
                matching.session(pid, view.owner.session_id, True)
        after = page[-1].id
    return matching


def filter_rules(settings: Settings) -> FilterRules:
    return FilterRules(
        future_tolerance_ms=int(settings.future_tolerance_s * 1000),
        max_age_ms=int(settings.max_fix_age_s * 1000),
        max_speed_mps=settings.max_speed_kmh / 3.6,
    )


def limits(settings: Settings) -> wire.Limits:
    return wire.Limits(
        max_frame_bytes=settings.max_frame_bytes,
        max_fixes_per_s=settings.max_fixes_per_s,
        fix_burst=settings.fix_burst,
        seq_window=settings.seq_window,
        idle_timeout_s=settings.idle_timeout_s,
    )


async def _every(seconds: float, work: Callable[[], Awaitable[None]]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await work()
        except StoreUnavailable as exc:
            log.warning("housekeeping failed", extra={"err": exc.message})


async def _listen_bus(hub: Hub) -> None:
    """Kicks addressed to this node's sessions."""
    while True:
        try:
            async for payload in hub.live.bus.listen(node_channel(hub.node)):
                await hub.sessions.on_bus_message(payload)
        except StoreUnavailable as exc:
            log.warning("bus listener failed; resubscribing", extra={"err": exc.message})
            await asyncio.sleep(1.0)


async def _follow_other_nodes(hub: Hub) -> None:
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
            provider = await hub.records.providers.get(int(payload))
            if provider is not None:
                hub.matching.provider_changed(provider)

    async def forever(follow: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await follow()
            except StoreUnavailable as exc:
                log.warning("stream follower failed; resubscribing", extra={"err": exc.message})
                await asyncio.sleep(1.0)

    await asyncio.gather(forever(positions), forever(presence), forever(registry))


@contextlib.asynccontextmanager
async def lifespan(settings: Settings) -> AsyncIterator[dict[str, Any]]:
    async with contextlib.AsyncExitStack() as stack:
        records = await open_records(settings)
        stack.push_async_callback(records.close)
        live = build_live(settings)
        await live.start()
        stack.push_async_callback(live.close)
        metrics = Metrics()
        writer = TrackWriter(
            records.tracks,
            metrics,
            batch_max=settings.track_batch_max,
            queue_max=settings.track_queue_max,
        )
        writer.start()
        stack.push_async_callback(writer.close)
        router = None
        if settings.routing_url:
            router = OsrmRouter(settings.routing_url, settings.routing_timeout_s)
            stack.push_async_callback(router.close)
        hub = Hub(
            settings=settings,
            node=settings.node_name,
            records=records,
            live=live,
            tokens=await token_issuer(settings, records),
            metrics=metrics,
            writer=writer,
            filter_rules=filter_rules(settings),
            limits=limits(settings),
            matching=await load_matching(settings, records, live),
            router=router,
        )
        stack.push_async_callback(hub.sessions.close_all, Close.GOING_AWAY)
        await live.presence.heartbeat(hub.node, HEARTBEAT_S * 3)
        tasks = [
            asyncio.create_task(_listen_bus(hub), name="bus-listener"),
            asyncio.create_task(_follow_other_nodes(hub), name="other-nodes"),
            asyncio.create_task(
                _every(HEARTBEAT_S, lambda: live.presence.heartbeat(hub.node, HEARTBEAT_S * 3)),
                name="node-heartbeat",
            ),
            asyncio.create_task(_every(1.0, hub.sessions.sweep), name="idle-sweeper"),
        ]
        stack.push_async_callback(_cancel, tasks)
        log.info(
            "hub started",
            extra={"node": hub.node, "live": live.name, "records": settings.records_engine},
        )
        yield {"hub": hub}


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


OPENAPI = Operation("GET", "/openapi.json", "This document", dict[str, Any])


def rest_operations() -> list[Operation]:
    """Every REST operation, as /openapi.json documents it."""
    return [
        *health.operations,
        *admin.operations,
        *osmand.operations,
        *match.operations,
        OPENAPI,
    ]


def routes() -> list[BaseRoute]:
    document = openapi.render(rest_operations()).encode()

    async def openapi_json(request: Request) -> Response:
        return Response(document, media_type="application/json")

    return [
        *health.routes,
        *admin.routes,
        *osmand.routes,
        *match.routes,
        Route(OPENAPI.path, openapi_json),
        # Reached only when HubApp does not take the socket first (same handler).
        WebSocketRoute(PROVIDER_PATH, provider_endpoint),
    ]


class HubApp:
    """The ASGI app: provider sockets go straight to their handler, the rest to Starlette.

    Provider sockets are held by the ten thousand; skipping Starlette's middleware and
    router saves ~4 KiB of coroutine frames per socket (measured with tracemalloc).
    """

    def __init__(self, settings: Settings) -> None:
        self.starlette = Starlette(
            routes=routes(),
            lifespan=lambda app: lifespan(settings),
            exception_handlers=error_handlers(),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == PROVIDER_PATH:
            await provider_endpoint(WebSocket(scope, receive, send))
        else:
            await self.starlette(scope, receive, send)


def create_app(settings: Settings | None = None) -> HubApp:
    return HubApp(settings or load_settings())
