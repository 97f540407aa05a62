"""The ASGI app: Starlette's routes, and the two sockets taken before Starlette.  Its
lifespan (hub/lifespan.py) is the one place that builds engines."""

from __future__ import annotations

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
    reports,
    track_pages,
)
from hub.api.body_limit import BodyLimit
from hub.api.idempotency import Idempotency
from hub.api.openapi import Operation
from hub.api.responses import error_handlers
from hub.api.routes import routes_of
from hub.channels.console_socket import DASHBOARD_PATH, dashboard_endpoint
from hub.config import Settings, load_settings
from hub.lifespan import lifespan
from hub.services import services_of

PROVIDER_PATH = "/ws/provider"


async def provider_socket(websocket: WebSocket) -> None:
    await services_of(websocket).sessions.serve(websocket)


async def dashboard_socket(websocket: WebSocket) -> None:
    found = services_of(websocket)
    await dashboard_endpoint(websocket, found.dashboards, found.auth, found.settings, found.drain)


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
        *track_pages.operations,
        *reports.operations,
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
        *routes_of(rest_operations()),
        Route(OPENAPI.path, openapi_json),
        # Reached only when HubApp does not take the socket first (same handler).
        WebSocketRoute(PROVIDER_PATH, provider_socket),
        WebSocketRoute(DASHBOARD_PATH, dashboard_socket),
        *console.mounts(settings or Settings()),
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
            middleware=[Middleware(BodyLimit), Middleware(Idempotency)],
            lifespan=lambda app: lifespan(settings),
            exception_handlers=error_handlers(),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == PROVIDER_PATH:
            await provider_socket(WebSocket(scope, receive, send))
        elif scope["type"] == "websocket" and scope["path"] == DASHBOARD_PATH:
            # Directly too: the console fan-out writes frames to uvicorn's protocol.
            await dashboard_socket(WebSocket(scope, receive, send))
        else:
            await self.starlette(scope, receive, send)


def create_app(settings: Settings | None = None) -> HubApp:
    return HubApp(settings or load_settings())
