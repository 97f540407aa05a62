"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.api.responses import JSON
from hub.errors import StoreUnavailable


async def healthz(request: Request) -> Response:
    """The process answers: nothing else is checked."""
    return JSON({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Both engines answer a query; 503 naming the one that does not."""
    hub = request.state.hub
    checks: dict[str, str] = {}
    for name, engine in (("records", hub.records), ("live", hub.live)):
        try:
            await engine.ping()
            checks[name] = "ok"
        except StoreUnavailable as exc:
            checks[name] = exc.message
    ready = all(v == "ok" for v in checks.values())
    return JSON(
        {"status": "ready" if ready else "unavailable", "node": hub.node, "checks": checks},
        status_code=200 if ready else 503,
    )


async def metrics(request: Request) -> Response:
    return Response(
        request.state.hub.metrics.exposition(),
        media_type="text/plain; version=0.0.4; charset=utf-8",
    )


routes = [
    Route("/healthz", healthz),
    Route("/readyz", readyz),
    Route("/metrics", metrics),
]
