"""Signed tokens (HS256 JWT via PyJWT): provider app tokens and admin tokens.

A provider token carries ``ver``, the provider's token version when it was issued; bumping
the version in the records store revokes every earlier token at the next connection.
"""

from __future__ import annotations

import secrets
from typing import Any

import jwt

from hub.errors import TokenError

PROVIDER_AUDIENCE = "hub:provider"
ADMIN_AUDIENCE = "hub:admin"  # CLI-issued bootstrap tokens: act as an admin
OPERATOR_AUDIENCE = "hub:operator"  # session tokens of the console's users
_ALGORITHM = "HS256"


def new_secret() -> str:
    return secrets.token_urlsafe(48)


class TokenIssuer:
    def __init__(
        self, secret: str, *, provider_ttl_s: int, admin_ttl_s: int, operator_ttl_s: int = 43200
    ) -> None:
        self._secret = secret
        self.provider_ttl_s = provider_ttl_s
        self.admin_ttl_s = admin_ttl_s
        self.operator_ttl_s = operator_ttl_s

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def provider_token(self, provider_id: int, token_version: int, now_s: int) -> str:
        return self._sign(
            {
                "sub": str(provider_id),
                "aud": PROVIDER_AUDIENCE,
                "iat": now_s,
                "exp": now_s + self.provider_ttl_s,
                "ver": token_version,
            }
        )

    def operator_token(self, user_id: int, token_version: int, now_s: int) -> str:
        return self._sign(
            {
                "sub": str(user_id),
                "aud": OPERATOR_AUDIENCE,
                "iat": now_s,
                "exp": now_s + self.operator_ttl_s,
                "ver": token_version,
            }
        )

    def admin_token(self, subject: str, now_s: int, version: int = 1) -> str:
        """An admin token of the current admin version (``hub admin revoke`` bumps it)."""
        return self._sign(
            {
                "sub": subject,
                "aud": ADMIN_AUDIENCE,
                "iat": now_s,
                "exp": now_s + self.admin_ttl_s,
                "ver": version,
            }
        )

    def verify(self, token: str, audience: str | list[str]) -> dict[str, Any]:
        """The token's claims; TokenError with the precise code when it cannot be trusted."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=audience,
                options={"require": ["exp", "iat", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("token expired", code="token_expired") from None
        except jwt.InvalidAudienceError:
            raise TokenError(f"token is not for {audience}", code="token_audience") from None
        except jwt.PyJWTError as exc:
            raise TokenError(f"token invalid: {exc}", code="token_invalid") from None
        return claims


def provider_claims(claims: dict[str, Any]) -> tuple[int, int]:
    """(subject id, token version) from verified provider or operator claims."""
    try:
        return int(claims["sub"]), int(claims["ver"])
    except (KeyError, TypeError, ValueError):
        raise TokenError("token lacks provider claims", code="token_invalid") from None
