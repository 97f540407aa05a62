"""Admin REST API: the provider registry (the CLI's `hub provider ...` over HTTP).

Every route needs ``Authorization: Bearer <admin token>`` (from `hub admin token`).
"""

from __future__ import annotations

import time

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.api.responses import JSON, body_as, int_param
from hub.errors import BadRequest, Unauthorized
from hub.operations import registry
from hub.operations.providers import NewProvider
from hub.tokens import ADMIN_AUDIENCE


class ProviderPatch(msgspec.Struct, forbid_unknown_fields=True):
    active: bool


def require_admin(request: Request) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send Authorization: Bearer <admin token>", code="token_missing")
    request.state.hub.tokens.verify(token.strip(), ADMIN_AUDIENCE)


def path_id(request: Request) -> int:
    raw = request.path_params["provider_id"]
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"provider id must be an integer, got {raw!r}") from None
    if not 1 <= value <= 2**63 - 1:
        raise BadRequest(f"provider id out of range: {value}")
    return value


async def providers(request: Request) -> Response:
    require_admin(request)
    records = request.state.hub.records
    if request.method == "POST":
        created = await registry.register(records, await body_as(request, NewProvider))
        return JSON(created, status_code=201)
    after = int_param(request, "after", 0, 0, 2**63 - 1)
    limit = int_param(request, "limit", 100, 1, 1000)
    return JSON({"providers": await records.providers.page(after_id=after, limit=limit)})


async def one_provider(request: Request) -> Response:
    require_admin(request)
    records = request.state.hub.records
    if request.method == "PATCH":
        patch = await body_as(request, ProviderPatch)
        updated = await registry.set_active(records, path_id(request), patch.active)
        if not updated.active:
            await request.state.hub.sessions.end(updated.id, "provider_inactive")
        return JSON(updated)
    return JSON(await registry.provider(records, path_id(request)))


async def token(request: Request) -> Response:
    require_admin(request)
    hub = request.state.hub
    return JSON(await registry.issue_token(hub.records, hub.tokens, path_id(request)), 201)


async def revoke(request: Request) -> Response:
    """Revoke every token issued so far and close the provider's open session now."""
    require_admin(request)
    revoked = await registry.revoke_tokens(request.state.hub.records, path_id(request))
    await request.state.hub.sessions.end(revoked.id, "token_revoked")
    return JSON(revoked)


async def live(request: Request) -> Response:
    """Presence (connectivity, duty, owner node) and live position of one provider."""
    require_admin(request)
    hub = request.state.hub
    found = await registry.provider(hub.records, path_id(request))
    view = await hub.live.presence.view(found.id, int(time.time() * 1000))
    position = await hub.live.positions.get(found.id)
    return JSON({"presence": view, "position": position and msgspec.structs.asdict(position)})


async def track(request: Request) -> Response:
    require_admin(request)
    hub = request.state.hub
    found = await registry.provider(hub.records, path_id(request))
    since = int_param(request, "since_ms", 0, 0, 2**53)
    limit = int_param(request, "limit", 1000, 1, 10_000)
    points = await hub.records.tracks.history(found.id, since_ms=since, limit=limit)
    return JSON({"points": [msgspec.structs.asdict(p) for p in points]})


routes = [
    Route("/admin/providers", providers, methods=["GET", "POST"]),
    Route("/admin/providers/{provider_id}", one_provider, methods=["GET", "PATCH"]),
    Route("/admin/providers/{provider_id}/token", token, methods=["POST"]),
    Route("/admin/providers/{provider_id}/revoke", revoke, methods=["POST"]),
    Route("/admin/providers/{provider_id}/live", live),
    Route("/admin/providers/{provider_id}/track", track),
]
