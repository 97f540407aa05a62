"""Offer links: a single-use token sent by SMS or e-mail to a provider without the app.

The token is the offer's id and a random secret; the store keeps only the secret's hash,
so the link itself exists only in the provider's phone or mailbox.  A message that was
sent (or failed) is recorded with its link's secret hidden (``redacted``); one kept in the
outbox (no gateway configured: somebody must pass it on) keeps it, for admins only.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from hub.errors import NotFound

LINK_PATH = "/links/"  # the API of a link; people open LINK_PAGE, which calls it
LINK_PAGE = "/console/link.html#"


def link_hash(secret: str) -> str:
    """What the store keeps of a link's secret (the link itself is never stored)."""
    return hashlib.sha256(secret.encode()).hexdigest()


_SECRET_IN_TEXT = re.compile(r"(#\d+\.)[\w-]{20,64}")
HIDDEN = "[hidden]"


def redacted(text: str) -> str:
    """A message with every link's secret hidden (the offer id stays)."""
    return _SECRET_IN_TEXT.sub(lambda m: m.group(1) + HIDDEN, text)


def link_token(offer_id: int, secret: str) -> str:
    return f"{offer_id}.{secret}"


def parse_link(token: str) -> tuple[int, str]:
    """(offer id, secret hash) of a link token; link_invalid when it cannot be one."""
    raw_id, dot, secret = token.partition(".")
    digits = raw_id.isascii() and raw_id.isdigit()  # "²" and "٣" are digits to Python
    if not dot or not digits or not 20 <= len(secret) <= 64 or len(raw_id) > 15:
        raise NotFound("this link is not valid", code="link_invalid")
    return int(raw_id), link_hash(secret)


def link_text(service_name: str, place: str, deadline_ms: int, url: str, zone: ZoneInfo) -> str:
    """The message that carries a link offer."""
    until = datetime.fromtimestamp(deadline_ms / 1000, zone).strftime("%H:%M")
    return f"Acionamento: {service_name} em {place}. Responda até {until}: {url}"
