"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from hub.api.openapi import Operation
from hub.api.responses import JSON
from hub.errors import StoreUnavailable
from hub.services import services_of


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    status: str  # "ready" or "unavailable"
    node: str
    checks: dict[str, str]  # engine -> "ok" or what failed


async def healthz(request: Request) -> Response:
    """The process answers: nothing else is checked."""
    return JSON(Health("ok"))


async def readyz(request: Request) -> Response:
    """Both engines answer a query; 503 naming the one that does not."""
    hub = services_of(request)
    checks: dict[str, str] = {}
    for name, engine in (("records", hub.records), ("live", hub.live)):
        try:
            await engine.ping()
            checks[name] = "ok"
        except StoreUnavailable as exc:
            checks[name] = exc.message
    ready = all(v == "ok" for v in checks.values())
    return JSON(
        Readiness("ready" if ready else "unavailable", hub.node, checks),
        status_code=200 if ready else 503,
    )


async def metrics(request: Request) -> Response:
    return Response(
        services_of(request).metrics.exposition(),
        media_type="text/plain; version=0.0.4; charset=utf-8",
    )


operations = [
    Operation("GET", "/healthz", "The process answers", Health, endpoint=healthz),
    Operation(
        "GET", "/readyz", "Both engines answer a query", Readiness, errors=(503,), endpoint=readyz
    ),
    Operation(
        "GET",
        "/metrics",
        "Prometheus exposition",
        media_type="text/plain; version=0.0.4",
        endpoint=metrics,
    ),
]
