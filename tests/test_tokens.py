"""Signed tokens: audience, expiry, forgery, claims."""

import time

import jwt
import pytest

from hub.errors import TokenError
from hub.tokens import ADMIN_AUDIENCE, PROVIDER_AUDIENCE, TokenIssuer, provider_claims

SECRET = "s" * 64


def issuer() -> TokenIssuer:
    return TokenIssuer(SECRET, provider_ttl_s=60, admin_ttl_s=60)


def test_provider_token_round_trip():
    token = issuer().provider_token(42, 3, int(time.time()))
    assert provider_claims(issuer().verify(token, PROVIDER_AUDIENCE)) == (42, 3)


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda i: i.provider_token(1, 1, int(time.time()) - 3600), "token_expired"),
        (lambda i: i.admin_token("x", int(time.time())), "token_audience"),
        (lambda i: "not.a.token", "token_invalid"),
        (
            lambda i: TokenIssuer("t" * 64, provider_ttl_s=60, admin_ttl_s=60).provider_token(
                1, 1, int(time.time())
            ),
            "token_invalid",
        ),
        (
            lambda i: jwt.encode({"sub": "1", "aud": PROVIDER_AUDIENCE}, SECRET, "HS256"),
            "token_invalid",  # no exp, no iat
        ),
        (
            lambda i: jwt.encode({"sub": "1", "aud": PROVIDER_AUDIENCE}, SECRET, "HS512"),
            "token_invalid",  # an algorithm the hub does not accept
        ),
    ],
)
def test_untrustworthy_tokens_are_refused_with_their_code(make, code):
    with pytest.raises(TokenError) as caught:
        issuer().verify(make(issuer()), PROVIDER_AUDIENCE)
    assert caught.value.code == code


def test_admin_token_is_not_a_provider_token():
    token = issuer().admin_token("ops", int(time.time()))
    assert issuer().verify(token, ADMIN_AUDIENCE)["sub"] == "ops"
    with pytest.raises(TokenError):
        provider_claims(issuer().verify(token, ADMIN_AUDIENCE))
