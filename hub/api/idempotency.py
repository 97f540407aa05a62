"""``Idempotency-Key``: a request sent again with the same key is answered, not redone.

An operator double-clicks "register", a phone on a bad network retries a POST whose answer
it never saw: with an ``Idempotency-Key`` header (any printable ASCII, up to 255
characters) on a POST, PUT, PATCH or DELETE, the first request runs and its answer is
kept for ``HUB_IDEMPOTENCY_TTL_S``; the same request with the same key gets that answer
again (marked ``Idempotent-Replayed: true``) without acting twice.  Keys belong to the
credentials that sent them.  The same key with another request (method, path, query or
body) is ``idempotency_key_reused``; while the first request still runs, a second gets
``idempotency_key_in_flight``.  An answer of 5xx is not kept: the key is free for a retry.
Requests without the header are untouched, and so are the routes whose answers carry
credentials (logins, a provider's record with its new device key, app tokens): their
answers are never stored; and so are requests whose credentials do not authenticate:
nobody without a valid token makes the hub store anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.api.responses import send_error
from hub.auth import Authenticator
from hub.clock import now_ms
from hub.errors import CODES, HubError
from hub.operations.users import Role
from hub.services import services_in
from hub.state.idempotency import IdempotencyRecords

log = logging.getLogger(__name__)

KEY_HEADER = b"idempotency-key"
MAX_KEY_CHARS = 255
MAX_KEPT_BYTES = 1 << 20  # a bigger answer is not kept (the key is freed instead)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STALE_MS = 60_000  # a claimed key whose request has not answered by then was orphaned
# Answers with credentials in them: never kept, so the header does nothing there.
CREDENTIALS = re.compile(
    r"/auth/login|/portal/login|/admin/providers(/\d+(/token|/profile|/revoke|/device-key)?)?"
)


class Idempotency:
    """ASGI middleware around the REST routes (the lifespan's ``hub`` in scope state)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in UNSAFE
            or CREDENTIALS.fullmatch(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw_key = headers.get(KEY_HEADER)
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not (0 < len(key) <= MAX_KEY_CHARS and key.isascii() and key.isprintable()):
            await send_error(
                send,
                "bad_request",
                f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable ASCII characters",
            )
            return
        authorization = headers.get(b"authorization", b"")
        if not await authenticated(services_in(scope).auth, authorization):
            await self.app(scope, receive, send)  # the route refuses it; nothing is kept
            return
        body = await _whole_body(receive)
        who = caller(authorization)
        request = fingerprint(scope["method"], scope["raw_path"], scope["query_string"], body)
        keys = services_in(scope).records.idempotency
        try:
            refusal = await _claim(keys, who, key, request, send)
        except HubError as exc:  # the store failed: say so, as the routes would
            await send_error(send, exc.code, exc.message)
            return
        if refusal:
            return
        answer = _Answer(send)
        try:
            await self.app(scope, _replaying(body), answer.send)
        except BaseException:
            with contextlib.suppress(HubError):  # the failure to report is the app's
                await keys.release(who, key)
            raise
        try:
            if answer.status < 500 and len(answer.body) <= MAX_KEPT_BYTES:
                await keys.finish(who, key, answer.status, answer.content_type, bytes(answer.body))
            else:
                await keys.release(who, key)
        except HubError as exc:  # answered already; the key frees itself after STALE_MS
            log.warning("idempotency key not settled", extra={"err": exc.message})


async def _claim(keys: IdempotencyRecords, who: str, key: str, request: str, send: Send) -> bool:
    """Claim the key for this request; True when it was answered here instead (a replay,
    or a refusal)."""
    now = now_ms()
    found = await keys.claim(who, key, request, now)
    if found is None:
        return False
    if found.fingerprint != request:
        await send_error(send, "idempotency_key_reused", CODES["idempotency_key_reused"].meaning)
    elif found.status is not None:
        await _replay(send, found.status, found.content_type, found.body)
    elif await keys.take_over(who, key, now, now - STALE_MS):
        return False
    else:
        await send_error(
            send, "idempotency_key_in_flight", CODES["idempotency_key_in_flight"].meaning
        )
    return True


async def authenticated(auth: Authenticator, authorization: bytes) -> bool:
    """Whether the request's credentials name a console user, a CLI admin or a provider:
    keys of anyone else are never stored."""
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    try:
        await auth.actor(token, Role.OPERATOR)
        return True
    except HubError:
        pass
    try:
        await auth.provider(token)
        return True
    except HubError:
        return False


def caller(authorization: bytes) -> str:
    """Whose key: the credentials the request came with, hashed."""
    return hashlib.sha256(authorization).hexdigest()


def fingerprint(method: str, raw_path: bytes, query: bytes, body: bytes) -> str:
    """The request a key was sent with, hashed: another request under the key is refused."""
    return hashlib.sha256(b"\n".join((method.encode(), raw_path, query, body))).hexdigest()


class _Answer:
    """Passes the response on, keeping its status, content type and body."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 500
        self.content_type = ""
        self.body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            for name, value in message.get("headers", ()):
                if name.lower() == b"content-type":
                    self.content_type = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")
        await self._send(message)


async def _whole_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes) -> Receive:
    """A receive that gives the app the body already read, then waits for the disconnect."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _replay(send: Send, status: int, content_type: str, body: bytes) -> None:
    headers = [(b"content-length", str(len(body)).encode()), (b"idempotent-replayed", b"true")]
    if content_type:
        headers.append((b"content-type", content_type.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
