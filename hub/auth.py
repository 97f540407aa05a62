"""Who a token belongs to: the one place tokens are read, for every REST route and socket.

Provider tokens name a provider and the token version it had when they were issued
(revoking bumps it); operator tokens name a console user, whose current role and active
flag come from the store (a demotion or deactivation takes effect at once, and bumping
the user's token version ends every session).  CLI admin tokens (``hub admin token``) act
as an admin, for bootstrapping.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec

from hub.errors import Forbidden, TokenError
from hub.operations.providers import Provider
from hub.operations.records import ProviderRecords, UserRecords
from hub.operations.users import Role
from hub.tokens import (
    ADMIN_AUDIENCE,
    OPERATOR_AUDIENCE,
    PROVIDER_AUDIENCE,
    TokenIssuer,
    provider_claims,
)


async def _first_version() -> int:
    return 1


class Actor(msgspec.Struct, frozen=True):
    subject: str  # "user:<id>" or "cli:<subject>": what the audit log records
    role: Role


class Authenticator:
    def __init__(
        self,
        tokens: TokenIssuer,
        providers: ProviderRecords,
        users: UserRecords,
        admin_version: Callable[[], Awaitable[int]] = _first_version,
    ):
        self.tokens = tokens
        self.providers = providers
        self.users = users
        self.admin_version = admin_version  # CLI admin tokens of another version are revoked

    async def provider(self, token: str) -> Provider:
        """The active provider a valid, unrevoked provider token names."""
        provider_id, version = provider_claims(self.tokens.verify(token, PROVIDER_AUDIENCE))
        provider = await self.providers.get(provider_id)
        if provider is None:
            raise TokenError("token names no provider", code="token_invalid")
        if version != provider.token_version:
            raise TokenError("token was revoked", code="token_revoked")
        if not provider.active:
            raise TokenError("provider is deactivated", code="provider_inactive")
        return provider

    async def actor(self, token: str, needed: Role) -> Actor:
        """The console user (or CLI admin) a token names, if its role is at least
        ``needed``."""
        claims = self.tokens.verify(token, [OPERATOR_AUDIENCE, ADMIN_AUDIENCE])
        if claims["aud"] == ADMIN_AUDIENCE:
            if claims.get("ver", 1) != await self.admin_version():
                raise TokenError("admin tokens were revoked", code="token_revoked")
            actor = Actor(f"cli:{claims['sub']}", Role.ADMIN)
        else:
            user_id, version = provider_claims(claims)
            user = await self.users.get(user_id)
            if user is None or not user.active:
                raise TokenError("the user is unknown or deactivated", code="token_revoked")
            if user.token_version != version:
                raise TokenError("the session was ended", code="token_revoked")
            actor = Actor(f"user:{user.id}", user.role)
        if not actor.role.allows(needed):
            raise Forbidden(f"this needs the {needed.value} role; you are {actor.role.value}")
        return actor
