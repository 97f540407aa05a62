"""Request bodies are bounded while they are read, before anything else looks at them: a
declared ``Content-Length`` over the route's limit is answered 413 without being kept, and
a body that grows past it while streaming is cut off with 413.  Nothing (no token check,
no idempotency row, no JSON decoding) ever holds more than a route's limit in memory.  Up
to ``DRAIN_BYTES`` more are read and dropped before the answer, so that a client still
sending reads the 413 rather than a reset; past that the connection is closed.

A query string or path with a NUL character (``%00``) is refused here too (400): no store
keeps one.

The limits: 4 KiB for the logins, 8 KiB for OsmAnd reports, the CSV limit for imports, 1 MiB
for everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.api.osmand import MAX_BODY_BYTES as OSMAND_BYTES
from hub.api.responses import MAX_CSV_BYTES, send_error
from hub.errors import HubError

DEFAULT_BYTES = 1 << 20
DRAIN_BYTES, DRAIN_S = 8 << 20, 1.0  # read (and dropped) past a cut-off body, at most
LIMITS: list[tuple[re.Pattern[str], int]] = [
    (re.compile(r"/auth/login|/portal/login"), 4096),
    (re.compile(r"/ingest/osmand"), OSMAND_BYTES),
    (re.compile(r"/admin/providers/import|/clients/[^/]+/beneficiaries/import"), MAX_CSV_BYTES),
]


class BodyTooLarge(HubError):
    code = "body_too_large"


def limit_of(path: str) -> int:
    for pattern, limit in LIMITS:
        if pattern.fullmatch(path):
            return limit
    return DEFAULT_BYTES


class BodyLimit:
    """ASGI middleware, outermost around the REST routes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope["query_string"] or "\x00" in scope["path"]:
            await send_error(send, "bad_request", "NUL characters are not accepted")
            return
        limit = limit_of(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            if declared.isdigit() and int(declared) <= limit + DRAIN_BYTES:
                await _drain(receive)  # a client still sending would read a reset
            await _refuse(send, limit)
            return
        seen = 0
        started = False

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    if message.get("more_body"):
                        await _drain(receive)
                    raise BodyTooLarge(_message(limit))
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded, watched)
        except BodyTooLarge:  # raised where no route's error handler catches it
            if not started:
                await _refuse(send, limit)


async def _drain(receive: Receive) -> None:
    """Read (and drop) more of a body cut off before answering (nothing can be read once
    the answer is out), so that a client still sending reads the 413 instead of a reset; a
    body too big even for that is left unread."""
    dropped = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(DRAIN_S):
            while dropped < DRAIN_BYTES:
                message = await receive()
                dropped += len(message.get("body", b""))
                if message["type"] != "http.request" or not message.get("more_body"):
                    return


def _message(limit: int) -> str:
    return f"the request body is over this route's limit of {limit} bytes"


async def _refuse(send: Send, limit: int) -> None:
    # The rest of the body is not read: the connection goes with the answer.
    await send_error(send, "body_too_large", _message(limit), {"connection": "close"})
