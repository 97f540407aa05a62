"""The REST routes, made from the operations each routes module declares once
(hub/api/openapi.py's ``Operation``: its path, method, endpoint and least role).

An operation that declares a role is answered only for a console token of that role or
above (hub/auth.py, checked before the endpoint runs; its ``actor_of`` is who called).
Operations on one path share a route, which answers 405 for other methods."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.api.auth import require
from hub.api.openapi import Endpoint, Operation


def routes_of(operations: Sequence[Operation]) -> list[Route]:
    by_path: dict[str, dict[str, Operation]] = {}
    for op in operations:
        if op.endpoint is None:
            continue  # served elsewhere (/openapi.json, the console's files)
        methods = by_path.setdefault(op.path, {})
        assert op.method not in methods, f"{op.method} {op.path} is declared twice"
        methods[op.method] = op
    return [Route(path, _served(ops), methods=list(ops)) for path, ops in by_path.items()]


def _served(ops: dict[str, Operation]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        op = ops["GET" if request.method == "HEAD" else request.method]
        if op.role is not None:
            request.state.actor = await require(request, op.role)
        assert op.endpoint is not None
        return await op.endpoint(request)

    return endpoint
