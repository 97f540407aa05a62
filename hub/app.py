"""The Starlette app factory. Its lifespan is the one place that builds engines."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from hub.api import (
    admin,
    attendances,
    auth,
    beneficiaries,
    clients,
    console,
    dispatch,
    events,
    health,
    match,
    openapi,
    osmand,
    places,
    portal,
)
from hub.api.idempotency import Idempotency
from hub.api.openapi import Operation
from hub.api.responses import error_handlers
from hub.background import cancel, every, follow_other_nodes, forget_keys, listen_bus
from hub.channels.dashboard import DASHBOARD_PATH, dashboard_endpoint
from hub.channels.provider import provider_endpoint
from hub.config import Settings, load_settings
from hub.context import Hub
from hub.demo import simulate
from hub.engines import (
    build_live,
    filter_rules,
    limits,
    load_engaged,
    load_matching,
    notifier,
    open_records,
    token_issuer,
)
from hub.errors import Close
from hub.geocoders import Nominatim, ViaCep
from hub.ingest.writer import TrackWriter
from hub.matching.routing import OsrmRouter
from hub.metrics import Metrics

log = logging.getLogger(__name__)

HEARTBEAT_S = 2.0
PROVIDER_PATH = "/ws/provider"


@contextlib.contextmanager
def settled_heap() -> Iterator[None]:
    """What startup built (modules, routes, the matching index) lives as long as the hub
    serves: collected once, then frozen out of the cycle collector's sight, so a full
    collection walks only what came after (bench offer: 40 ms -> 7 ms).  Given back to
    the collector when the hub stops (tests start many hubs in one process)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


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
        hub.notifier = notifier(settings, records)
        stack.push_async_callback(hub.notifier.close)
        if settings.geocoder_url:
            hub.geocoder = Nominatim(settings.geocoder_url, settings.outside_timeout_s)
            stack.push_async_callback(hub.geocoder.close)
        if settings.cep_url:
            hub.cep = ViaCep(settings.cep_url, settings.outside_timeout_s)
            stack.push_async_callback(hub.cep.close)
        stack.push_async_callback(hub.sessions.close_all, Close.GOING_AWAY)
        stack.push_async_callback(hub.dispatcher.close)
        await load_engaged(hub)
        await hub.dispatcher.resume()
        await live.presence.heartbeat(hub.node, HEARTBEAT_S * 3)
        tasks = [
            asyncio.create_task(listen_bus(hub), name="bus-listener"),
            asyncio.create_task(follow_other_nodes(hub), name="other-nodes"),
            asyncio.create_task(
                every(HEARTBEAT_S, lambda: live.presence.heartbeat(hub.node, HEARTBEAT_S * 3)),
                name="node-heartbeat",
            ),
            asyncio.create_task(every(1.0, hub.sessions.sweep), name="idle-sweeper"),
            asyncio.create_task(
                every(settings.sweep_interval_s, hub.dispatcher.sweep), name="deadline-sweeper"
            ),
            asyncio.create_task(hub.dashboards.follow_status(), name="status-follower"),
            asyncio.create_task(hub.dashboards.map_ticks(), name="map-ticks"),
            asyncio.create_task(
                every(3600, lambda: forget_keys(records, settings.idempotency_ttl_s)),
                name="idempotency-expiry",
            ),
        ]
        if settings.demo:
            tasks.append(asyncio.create_task(simulate(hub), name="demo-gps"))
        stack.push_async_callback(cancel, tasks)
        stack.enter_context(settled_heap())
        log.info(
            "hub started",
            extra={"node": hub.node, "live": live.name, "records": settings.records_engine},
        )
        yield {"hub": hub}


OPENAPI = Operation("GET", "/openapi.json", "This document", dict[str, Any])


def rest_operations() -> list[Operation]:
    """Every REST operation, as /openapi.json documents it."""
    return [
        *health.operations,
        *auth.operations,
        *admin.operations,
        *clients.operations,
        *beneficiaries.operations,
        *events.operations,
        *attendances.operations,
        *dispatch.operations,
        *portal.operations,
        *osmand.operations,
        *match.operations,
        *console.operations,
        *places.operations,
        OPENAPI,
    ]


def routes(settings: Settings | None = None) -> list[BaseRoute]:
    document = openapi.render(rest_operations()).encode()

    async def openapi_json(request: Request) -> Response:
        return Response(document, media_type="application/json")

    return [
        *health.routes,
        *auth.routes,
        *admin.routes,
        *clients.routes,
        *beneficiaries.routes,
        *events.routes,
        *attendances.routes,
        *dispatch.routes,
        *portal.routes,
        *osmand.routes,
        *match.routes,
        *places.routes,
        Route(OPENAPI.path, openapi_json),
        # Reached only when HubApp does not take the socket first (same handler).
        WebSocketRoute(PROVIDER_PATH, provider_endpoint),
        WebSocketRoute(DASHBOARD_PATH, dashboard_endpoint),
        *console.routes(settings or Settings()),
    ]


class HubApp:
    """The ASGI app: provider and console sockets go straight to their handlers, the rest
    to Starlette.

    Provider sockets are held by the ten thousand; skipping Starlette's middleware and
    router saves ~4 KiB of coroutine frames per socket (measured with tracemalloc).  Console
    sockets receive pre-framed updates written to uvicorn's protocol, which needs the ASGI
    send uvicorn gave (hub/channels/lean_ws.py).
    """

    def __init__(self, settings: Settings) -> None:
        self.starlette = Starlette(
            routes=routes(settings),
            middleware=[Middleware(Idempotency)],
            lifespan=lambda app: lifespan(settings),
            exception_handlers=error_handlers(),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == PROVIDER_PATH:
            await provider_endpoint(WebSocket(scope, receive, send))
        elif scope["type"] == "websocket" and scope["path"] == DASHBOARD_PATH:
            # Directly too: the console fan-out writes frames to uvicorn's protocol.
            await dashboard_endpoint(WebSocket(scope, receive, send))
        else:
            await self.starlette(scope, receive, send)


def create_app(settings: Settings | None = None) -> HubApp:
    return HubApp(settings or load_settings())
