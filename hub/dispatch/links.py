"""Offer links: a single-use token sent by SMS or e-mail to a provider without the app.

The token is the offer's id and a random secret (hub/operations/link_tokens.py); the store
keeps only the secret's hash, so the link itself exists only in the provider's phone or
mailbox.  A message that was sent (or failed) is recorded with its link's secret hidden
(``redacted``); one kept in the outbox (no gateway configured: somebody must pass it on)
keeps it, for admins only.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

LINK_PATH = "/links/"  # the API of a link; people open LINK_PAGE, which calls it
LINK_PAGE = "/console/link.html#"


_SECRET_IN_TEXT = re.compile(r"(#\d+\.)[\w-]{20,64}")
HIDDEN = "[hidden]"


def redacted(text: str) -> str:
    """A message with every link's secret hidden (the offer id stays)."""
    return _SECRET_IN_TEXT.sub(lambda m: m.group(1) + HIDDEN, text)


def link_text(service_name: str, place: str, deadline_ms: int, url: str, zone: ZoneInfo) -> str:
    """The message that carries a link offer."""
    until = datetime.fromtimestamp(deadline_ms / 1000, zone).strftime("%H:%M")
    return f"Acionamento: {service_name} em {place}. Responda até {until}: {url}"
