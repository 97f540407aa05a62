"""Who is calling a REST route: console sessions (operator tokens) and CLI admin tokens,
with roles (read by hub/auth.py).  Every route but login and health calls ``require`` with
the least role it needs."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from hub.api.openapi import Operation
from hub.api.responses import JSON, body_as
from hub.auth import Actor
from hub.errors import BadRequest, Unauthorized
from hub.operations import accounts
from hub.operations.users import Role
from hub.services import services_of


class Credentials(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    login: str
    password: str


def address_key(request: Request) -> str:
    """The throttle's key for the client's address (the proxy's X-Forwarded-For when
    uvicorn trusts it)."""
    return f"addr:{request.client.host if request.client else '?'}"


def bearer_token(request: Request, what: str = "token") -> str:
    """The token of an ``Authorization: Bearer`` header; token_missing without one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(f"send Authorization: Bearer <{what}>", code="token_missing")
    return token.strip()


async def require(request: Request, needed: Role) -> Actor:
    """The caller, if its token is valid and its role at least ``needed`` (hub/api/routes.py
    asks before every operation that declares a role)."""
    return await services_of(request).auth.actor(bearer_token(request), needed)


def actor_of(request: Request) -> Actor:
    """Who called an operation that declares a role (checked before it ran)."""
    actor = request.state.actor
    assert isinstance(actor, Actor), "actor_of is for operations that declare a role"
    return actor


async def login(request: Request) -> Response:
    credentials = await body_as(request, Credentials)
    hub = services_of(request)
    keys = (f"login:{credentials.login.casefold()}", address_key(request))
    await hub.logins.check(*keys)
    try:
        session = await accounts.log_in(
            hub.records, hub.tokens, credentials.login, credentials.password
        )
    except Unauthorized:
        await hub.logins.failed(*keys)
        raise
    await hub.logins.succeeded(*keys)
    await accounts.audit(
        hub.records, f"user:{session.user.id}", "user.login", f"user:{session.user.id}"
    )
    return JSON(session)


async def logout(request: Request) -> Response:
    """End every session of the calling user (its tokens stop working at once)."""
    actor = actor_of(request)
    hub = services_of(request)
    kind, _, user_id = actor.subject.partition(":")
    if kind != "user":
        raise BadRequest("a CLI admin token has no session to end: it expires on its own")
    await accounts.end_sessions(hub.records, int(user_id))
    await accounts.audit(hub.records, actor.subject, "user.logout", actor.subject)
    return Response(status_code=204)


async def me(request: Request) -> Response:
    return JSON(actor_of(request))


operations = [
    Operation(
        "POST",
        "/auth/login",
        "A session token for a console user",
        accounts.Session,
        body=Credentials,
        errors=(400, 401, 429),
        endpoint=login,
    ),
    Operation(
        "GET",
        "/auth/me",
        "Who the token belongs to, and its role",
        Actor,
        errors=(401, 403),
        endpoint=me,
        role=Role.OPERATOR,
    ),
    Operation(
        "POST",
        "/auth/logout",
        "End every session of the calling user: its tokens stop working, and its open"
        " console sockets close within seconds",
        None,
        204,
        errors=(400, 401),
        endpoint=logout,
        role=Role.OPERATOR,
    ),
]
