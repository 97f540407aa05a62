"""Who is calling: console sessions (operator tokens) and CLI admin tokens, with roles.

Every REST route but login and health calls ``require`` with the least role it needs.  An
operator token names a user; the user's current role and active flag come from the store
(a demotion or deactivation takes effect at once), and bumping its token version ends every
session.  CLI admin tokens (``hub admin token``) act as an admin, for bootstrapping.
"""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.api.openapi import Operation
from hub.api.responses import JSON, body_as
from hub.context import Hub
from hub.errors import Forbidden, TokenError, Unauthorized
from hub.operations import accounts
from hub.operations.users import Role
from hub.tokens import ADMIN_AUDIENCE, OPERATOR_AUDIENCE, provider_claims


class Actor(msgspec.Struct, frozen=True):
    subject: str  # "user:<id>" or "cli:<subject>": what the audit log records
    role: Role


class Credentials(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    login: str
    password: str


def bearer_token(request: Request, what: str = "token") -> str:
    """The token of an ``Authorization: Bearer`` header; token_missing without one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(f"send Authorization: Bearer <{what}>", code="token_missing")
    return token.strip()


async def require(request: Request, needed: Role) -> Actor:
    """The caller, if its token is valid and its role at least ``needed``."""
    return await actor_from_token(request.state.hub, bearer_token(request), needed)


async def actor_from_token(hub: Hub, token: str, needed: Role) -> Actor:
    """The console user (or CLI admin) a token names, if its role is at least ``needed``."""
    claims = hub.tokens.verify(token, [OPERATOR_AUDIENCE, ADMIN_AUDIENCE])
    if claims["aud"] == ADMIN_AUDIENCE:
        actor = Actor(f"cli:{claims['sub']}", Role.ADMIN)
    else:
        user_id, version = provider_claims(claims)
        user = await hub.records.users.get(user_id)
        if user is None or not user.active:
            raise TokenError("the user is unknown or deactivated", code="token_revoked")
        if user.token_version != version:
            raise TokenError("the session was ended", code="token_revoked")
        actor = Actor(f"user:{user.id}", user.role)
    if not actor.role.allows(needed):
        raise Forbidden(f"this needs the {needed.value} role; you are {actor.role.value}")
    return actor


async def login(request: Request) -> Response:
    credentials = await body_as(request, Credentials)
    hub = request.state.hub
    session = await accounts.log_in(
        hub.records, hub.tokens, credentials.login, credentials.password
    )
    await accounts.audit(
        hub.records, f"user:{session.user.id}", "user.login", f"user:{session.user.id}"
    )
    return JSON(session)


async def me(request: Request) -> Response:
    return JSON(await require(request, Role.OPERATOR))


routes = [
    Route("/auth/login", login, methods=["POST"]),
    Route("/auth/me", me),
]

operations = [
    Operation(
        "POST",
        "/auth/login",
        "A session token for a console user",
        accounts.Session,
        body=Credentials,
        errors=(400, 401),
    ),
    Operation(
        "GET", "/auth/me", "Who the token belongs to, and its role", Actor, errors=(401, 403)
    ),
]
