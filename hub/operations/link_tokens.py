"""Links whose token is the credential: ``<record id>.<secret>`` (an offer's link, the
beneficiary's live page).  The secret is random; the store keeps only its SHA-256, so
the link itself exists only in the message that carried it."""

from __future__ import annotations

import hashlib
import secrets

from hub.errors import NotFound


def new_secret() -> str:
    """A link's secret: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def secret_hash(secret: str) -> str:
    """What the store keeps of a link's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def link_token(record_id: int, secret: str) -> str:
    return f"{record_id}.{secret}"


def parse_token(token: str) -> tuple[int, str]:
    """(record id, secret hash) of a link token; link_invalid when it cannot be one."""
    raw_id, dot, secret = token.partition(".")
    digits = raw_id.isascii() and raw_id.isdigit()  # "²" and "٣" are digits to Python
    if not dot or not digits or not 20 <= len(secret) <= 64 or len(raw_id) > 15:
        raise NotFound("this link is not valid", code="link_invalid")
    return int(raw_id), secret_hash(secret)
