"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from hub.api.openapi import Operation
from hub.api.responses import JSON
from hub.errors import StoreUnavailable, Unauthorized
from hub.services import services_of


class Health(msgspec.Struct):
    status: str


READY_TIMEOUT_S = 2.0  # an engine that has not answered by then is not ready


class Readiness(msgspec.Struct):
    status: str  # "ready", "unavailable", or "draining" (stopping: HUB_DRAIN_S)
    node: str
    # records, live: "ok" or what failed; background: "ok" or the loops failing now
    checks: dict[str, str]


async def healthz(request: Request) -> Response:
    """The process answers: nothing else is checked."""
    return JSON(Health("ok"))


async def _answers(ping: Callable[[], Awaitable[None]]) -> str:
    """ "ok", or why the engine did not answer (always within READY_TIMEOUT_S)."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            await ping()
    except TimeoutError:
        return f"no answer within {READY_TIMEOUT_S:g} s"
    except StoreUnavailable as exc:
        return exc.message
    except Exception as exc:  # a driver's own failure is still a failing check
        return f"{type(exc).__name__}: {exc}"
    return "ok"


async def readyz(request: Request) -> Response:
    """Both engines answer a query within READY_TIMEOUT_S and no background loop is
    failing; else 503 (always JSON) naming what is not."""
    hub = services_of(request)
    records, live = await asyncio.gather(_answers(hub.records.ping), _answers(hub.live.ping))
    failing = hub.supervisor.failing
    checks = {
        "records": records,
        "live": live,
        "background": "; ".join(f"{task}: {why}" for task, why in failing.items()) or "ok",
    }
    ready = all(v == "ok" for v in checks.values())
    if hub.drain.draining:  # stopping: take it out of rotation, whatever else holds
        return JSON(Readiness("draining", hub.node, checks), status_code=503)
    return JSON(
        Readiness("ready" if ready else "unavailable", hub.node, checks),
        status_code=200 if ready else 503,
    )


async def metrics(request: Request) -> Response:
    """The exposition; behind ``HUB_METRICS_TOKEN`` when one is set."""
    expected = services_of(request).settings.metrics_token
    if expected:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
            raise Unauthorized("send Authorization: Bearer <HUB_METRICS_TOKEN>")
    return Response(
        services_of(request).metrics.exposition(),
        media_type="text/plain; version=0.0.4; charset=utf-8",
    )


operations = [
    Operation("GET", "/healthz", "The process answers", Health, endpoint=healthz),
    Operation(
        "GET",
        "/readyz",
        "Both engines answer within 2 s and no background loop is failing",
        Readiness,
        errors=(503,),
        endpoint=readyz,
    ),
    Operation(
        "GET",
        "/metrics",
        "Prometheus exposition (with HUB_METRICS_TOKEN set: Authorization: Bearer <it>)",
        media_type="text/plain; version=0.0.4",
        errors=(401,),
        endpoint=metrics,
    ),
]
