"""``/ws/provider``: the provider app's socket (the async shell around FixIntake).

Per socket: authenticate (Authorization header, or a hello frame within auth_timeout_s),
take the provider over from any older session, send welcome, then read frames until the
socket closes.  Fixes go through the pure intake; their chunk goes to the track writer and
the ack follows the commit.  Replies go through the session's bounded outbox.

On the hub's own websocket protocol, frames of fixes are taken as the protocol parses them
(``on_frame``), when nothing is ahead of them and the writer has room; everything else, and
everything on another ASGI server, comes through ``receive()`` (``run``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from starlette.types import Message, Scope
from starlette.websockets import WebSocket, WebSocketDisconnect

from hub import wire
from hub.auth import Authenticator
from hub.channels.lean_ws import close_or_drop, frame_writer
from hub.channels.outbox import Outbox
from hub.clock import now_ms
from hub.dispatch.lifecycle import Step, provider_step
from hub.dispatch.offers import Offer
from hub.errors import CODES, Close, FrameError, HubError, TokenError
from hub.ingest.intake import FixIntake, error
from hub.ingest.writer import TrackWriter
from hub.matching.service import MatchService
from hub.metrics import Metrics
from hub.operations.attendances import Attendance
from hub.operations.providers import Provider
from hub.presence import LivePosition, PresenceNote
from hub.state.live import Presence

log = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 5.0


class Answers(Protocol):
    """Dispatch, as a provider's session reaches it (hub/dispatch/service.py)."""

    async def accept(
        self, offer_id: int, provider_id: int | None, eta_min: int, actor: str
    ) -> Offer: ...

    async def refuse(
        self, offer_id: int, provider_id: int | None, reason: str, actor: str
    ) -> Offer: ...

    async def step(
        self,
        attendance_id: int,
        step: Step,
        actor: str,
        *,
        provider_id: int | None = None,
        reason: str = "",
    ) -> Attendance: ...


@dataclass(frozen=True, slots=True)
class SessionContext:
    """What every provider session of this node shares (one object, not a copy each)."""

    node: str
    presence: Presence
    matching: MatchService
    metrics: Metrics
    writer: TrackWriter
    moved: Callable[[LivePosition], None]  # a new live position (hub/feeds.py)
    answers: Answers
    send_queue_bytes: int


class ProviderSession:
    __slots__ = (
        "busy",
        "closer",
        "closing",
        "context",
        "inflight",
        "intake",
        "last_rx",
        "outbox",
        "protocol",
        "provider_id",
        "session_id",
        "token_version",
        "websocket",
    )

    def __init__(
        self, context: SessionContext, websocket: WebSocket, provider_id: int, intake: FixIntake
    ):
        self.context = context
        self.websocket = websocket
        self.provider_id = provider_id  # the id only: the record is not needed after auth
        self.token_version = 0  # the token's, once authenticated (SessionRegistry.recheck)
        self.session_id = secrets.token_hex(8)
        self.intake = intake
        self.protocol = frame_writer(websocket)
        self.outbox = Outbox(self._send, context.send_queue_bytes, self._overflow, self.protocol)
        self.last_rx = time.monotonic()
        # (last seq of a frame, arrival), oldest first.  Lists, not deques, throughout the
        # session: an empty deque costs ~600 bytes, and ten thousand sessions are held.
        self.inflight: list[tuple[int, float]] = []
        self.closing = False
        self.closer: asyncio.Task[None] | None = None  # owns a close started by the outbox
        self.busy = False  # run() is handling a message: on_frame must not overtake it

    # --- sending -------------------------------------------------------------------------

    async def _send(self, data: bytes, binary: bool) -> None:
        if binary:
            await self.websocket.send_bytes(data)
        else:
            await self.websocket.send_text(data.decode())

    def reply(self, frame: wire.HubFrame, *, now: bool = False) -> None:
        encode = wire.encode_msgpack if self.outbox.binary else wire.encode_json
        self.outbox.push(encode(frame), now=now)

    def ack(self, seq: int) -> None:
        encode = wire.encode_msgpack if self.outbox.binary else wire.encode_json
        self.outbox.push_ack(encode(wire.Ack(seq=seq)))
        arrived = time.monotonic()
        inflight = self.inflight
        done = 0
        while done < len(inflight) and inflight[done][0] <= seq:
            self.context.metrics.ack_latency_s(arrived - inflight[done][1])
            done += 1
        del inflight[:done]

    def _overflow(self, code: Close) -> None:
        self.close_soon(code)

    def close_soon(self, code: Close, frame: wire.Error | None = None) -> None:
        """Start closing without waiting for it (the session owns the task)."""
        if self.closer is None and not self.closing:
            self.closer = asyncio.get_running_loop().create_task(self.close(code, frame))

    async def close(self, code: Close, frame: wire.Error | None = None) -> None:
        """Close with a named code, after what is queued and a last error frame if given.

        Idempotent.  A peer that has not answered the close within CLOSE_TIMEOUT_S is
        dropped, unsent bytes and all.
        """
        if self.closing:
            return
        self.closing = True
        if frame is not None:
            self.reply(frame)
        await self.outbox.flush(1.0)
        self.outbox.stop()
        self.context.metrics.closed(code)
        await close_or_drop(self.websocket, self.protocol, code, CLOSE_TIMEOUT_S)

    # --- receiving -----------------------------------------------------------------------

    async def run(self) -> None:
        if self.protocol is not None:
            self.protocol.listener = self.on_frame
        try:
            # Nothing of a message outlives its handling: the frame of this coroutine is
            # what an idle session keeps, ten thousand times over.
            while not self.closing and await self._handled(await self.websocket.receive()):
                pass
        finally:
            if self.protocol is not None:
                self.protocol.listener = None

    async def _handled(self, message: Message) -> bool:
        self.busy = True
        try:
            return await self.on_message(message)
        finally:
            self.busy = False

    def on_frame(self, data: str | bytes) -> bool:
        """A whole message, straight from the protocol: a frame of fixes is taken now if
        nothing is ahead of it and the writer has room.  False: it goes through run()."""
        if self.busy or self.closing or not self.context.writer.has_room:
            return False
        try:
            frame = wire.decode(data)
        except FrameError:
            return False  # run() decodes it again and answers with the error
        if isinstance(frame, wire.Fixes):
            fixes = frame.fixes
        elif isinstance(frame, wire.Fix):
            fixes = [frame]
        else:
            return False
        self.last_rx = time.monotonic()
        self.outbox.binary = isinstance(data, bytes)
        try:
            if self.take_fixes_now(fixes):
                self.close_soon(Close.RATE_LIMITED)
        except Exception:  # a bug: the socket goes, as an ASGI app's failure would close it
            log.exception("provider frame failed", extra={"provider": self.provider_id})
            self.close_soon(Close.INTERNAL_ERROR)
        return True

    async def on_message(self, message: Message) -> bool:
        """Handle one ASGI message; False once the socket is gone."""
        if message["type"] == "websocket.disconnect":
            return False
        self.last_rx = time.monotonic()
        data = payload(message)
        self.outbox.binary = isinstance(data, bytes)
        try:
            frame = wire.decode(data)
        except FrameError as exc:
            self.context.metrics.rejected(exc.code)
            self.reply(error(exc.code, message=exc.message))
            return True
        await self.handle(frame)
        return True

    async def handle(self, frame: wire.ClientFrame) -> None:
        if not isinstance(frame, wire.Fixes | wire.Fix):
            refusal = self.intake.spend(1, now_ms())
            if refusal is not None:
                self.context.metrics.rejected("rate_limited")
                self.reply(refusal)
                if self.intake.flooded:
                    await self.close(Close.RATE_LIMITED)
                return
        match frame:
            case wire.Fixes(fixes=fixes):
                await self.take_fixes(fixes)
            case wire.Fix():
                await self.take_fixes([frame])
            case wire.Duty(on=on):
                context = self.context
                await context.presence.set_duty(self.provider_id, on)
                context.matching.duty(self.provider_id, on)
                await context.presence.note(
                    PresenceNote(context.node, self.provider_id, on_duty=on)
                )
                self.reply(wire.Duty(on=on))
            case wire.Ping(id=ping_id):
                self.reply(wire.Pong(id=ping_id, server_time=now_ms()))
            case wire.Hello():
                self.reply(error("already_authenticated"))
            case wire.Accept() | wire.Refuse() | wire.StepFrame():
                await self.answer(frame)

    async def answer(self, frame: wire.Accept | wire.Refuse | wire.StepFrame) -> None:
        """An answer to an offer, or a step on an assigned attendance."""
        dispatcher, pid = self.context.answers, self.provider_id
        actor = f"provider:{pid}"
        try:
            match frame:
                case wire.Accept(offer_id=offer_id, eta_min=eta):
                    await dispatcher.accept(offer_id, pid, eta, actor)
                case wire.Refuse(offer_id=offer_id, reason=reason):
                    refused = await dispatcher.refuse(offer_id, pid, reason, actor)
                    self.reply(
                        wire.OfferClosed(offer_id=refused.id, state="refused", reason=reason)
                    )
                case wire.StepFrame(attendance_id=aid, step=name, reason=reason):
                    done = await dispatcher.step(
                        aid, provider_step(name), actor, provider_id=pid, reason=reason
                    )
                    self.reply(wire.Status(attendance_id=aid, state=done.state.value))
        except HubError as exc:
            ref = frame.attendance_id if isinstance(frame, wire.StepFrame) else frame.offer_id
            self.reply(wire.Error(code=exc.code, message=exc.message, ref=ref))

    async def take_fixes(self, fixes: list[wire.FixData]) -> None:
        await self.context.writer.room()
        if self.take_fixes_now(fixes):
            await self.close(Close.RATE_LIMITED)

    def take_fixes_now(self, fixes: list[wire.FixData]) -> bool:
        """Take a frame of fixes (the writer has room); True if the session is flooded."""
        arrival = time.monotonic()
        intake = self.intake.take(fixes, now_ms())
        metrics = self.context.metrics
        for code, count in intake.rejected.items():
            metrics.rejected(code, count)
        metrics.accepted(intake.accepted)
        for reply in intake.replies:
            self.reply(reply)
        if intake.flooded:  # the rate_limited error is among the replies
            return True
        if intake.live is not None:
            self.context.moved(intake.live)
        if intake.ack is not None or intake.reack:
            self.ack(self.intake.acked)
        if intake.chunk is not None:
            self.inflight.append((intake.seqs[-1], arrival))
            future = self.context.writer.put(intake.chunk)
            seqs = intake.seqs
            future.add_done_callback(lambda f: self._committed(f, seqs))
        return False

    def _committed(self, future: asyncio.Future[None], seqs: Sequence[int]) -> None:
        if future.cancelled() or future.exception() is not None:
            return  # not stored: never acked; the app resends after reconnecting
        acked = self.intake.committed(seqs)
        if acked is not None and not self.closing:
            self.ack(acked)


def payload(message: Message) -> str | bytes:
    """The data of a websocket.receive message: text (JSON) or bytes (MessagePack)."""
    text = message.get("text")
    return text if text is not None else message.get("bytes") or b""


def bearer_header(scope: Scope) -> str:
    """The Authorization header, read from the raw scope (no cached Headers object)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return ""


class Hello:
    """Authenticating a provider socket: by the header token, or by the first hello frame.
    ``binary`` is how the client spoke last (replies use the same encoding)."""

    def __init__(self, auth: Authenticator, timeout_s: float) -> None:
        self.auth = auth
        self.timeout_s = timeout_s
        self.binary = False

    async def provider(self, websocket: WebSocket) -> Provider:
        header = bearer_header(websocket.scope)
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise TokenError("Authorization must be 'Bearer <token>'", code="token_missing")
            return await self.auth.provider(token.strip())
        async with asyncio.timeout(self.timeout_s):
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    raise WebSocketDisconnect(message.get("code", 1000))
                data = payload(message)
                self.binary = isinstance(data, bytes)
                try:
                    frame = wire.decode(data)
                except FrameError as exc:
                    await send_quietly(websocket, error(exc.code), self.binary)
                    continue
                if not isinstance(frame, wire.Hello):
                    await send_quietly(websocket, error("not_authenticated"), self.binary)
                    continue
                if not frame.token:
                    raise TokenError(CODES["token_missing"].meaning, code="token_missing")
                return await self.auth.provider(frame.token)


async def send_quietly(websocket: WebSocket, frame: wire.HubFrame, binary: bool) -> None:
    """Send a frame to a client that may be gone already (it closed, or never read): a
    client's misbehaviour is not the hub's failure, and is not logged as one."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        if binary:
            await websocket.send_bytes(wire.encode_msgpack(frame))
        else:
            await websocket.send_text(wire.encode_json(frame).decode())


async def refuse(websocket: WebSocket, frame: wire.Error, code: Close, binary: bool) -> None:
    """Answer a socket that cannot have a session with an error frame, then close it."""
    await send_quietly(websocket, frame, binary)
    await refuse_quietly(websocket, code)


async def refuse_quietly(websocket: WebSocket, code: Close) -> None:
    """Close a socket the peer may have left already."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await websocket.close(code)
