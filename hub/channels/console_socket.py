"""``/ws/dashboard``: the console's live stream (the async shell around Dashboards).

The page's Origin must be allowed (Starlette's CORS middleware does not cover websockets);
the first frame signs in with the console session token; then the console subscribes to
topics.  Frames are JSON; every frame to one socket goes through its byte-capped outbox,
and a console that stops reading is cut off with ``slow_consumer`` (4008) while everyone
else carries on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect

from hub import wire
from hub.auth import Actor, Authenticator
from hub.channels.fanout import Dashboards
from hub.channels.lean_ws import close_or_drop, frame_writer, text_frame
from hub.channels.outbox import Outbox
from hub.channels.panels import TOPIC_ROLES, topic_kind
from hub.channels.provider import payload
from hub.clock import now_ms
from hub.config import Settings
from hub.drain import Drain
from hub.errors import Close, FrameError, HubError, StoreUnavailable, TokenError
from hub.operations.users import Role

CLOSE_TIMEOUT_S = 5.0
DASHBOARD_PATH = "/ws/dashboard"


LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})


def origin_allowed(settings: Settings, websocket: WebSocket) -> bool:
    """No Origin (not a browser), one of HUB_DASHBOARD_ORIGINS, HUB_PUBLIC_URL's origin,
    or a page served on this machine's loopback (the Host, trusted only there: a Host
    header is the client's to write)."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    origin = origin.rstrip("/")
    allowed = {o.strip().rstrip("/") for o in settings.dashboard_origins.split(",")}
    public = urlsplit(settings.public_url)
    allowed |= {f"{public.scheme}://{public.netloc}", ""}
    host = websocket.headers.get("host", "")
    if urlsplit(f"//{host}").hostname in {h.strip("[]") for h in LOOPBACK}:
        allowed |= {f"http://{host}", f"https://{host}"}
    return origin in allowed - {""}


class DashboardSession:
    """One console socket.  Every frame to it goes one way, so they keep their order:
    written pre-framed to the transport (uvicorn with the hub's protocol), else through a
    bounded outbox on the ASGI path.  Either way a console that lets
    ``dashboard_queue_bytes`` pile up is cut off."""

    def __init__(
        self,
        dashboards: Dashboards,
        websocket: WebSocket,
        actor: Actor,
        queue_bytes: int,
        *,
        auth: Authenticator,
        token: str,
    ) -> None:
        self.dashboards = dashboards
        self.websocket = websocket
        self.actor = actor
        self.auth = auth
        self.token = token  # read again on every subscribe and every recheck
        self.cap = queue_bytes
        self.writer = frame_writer(websocket)
        self.outbox = Outbox(self._send, self.cap, self._overflow)
        self.closing = False
        self.closer: asyncio.Task[None] | None = None

    def __hash__(self) -> int:
        return id(self)

    async def _send(self, data: bytes, binary: bool) -> None:
        await self.websocket.send_text(data.decode())

    def send(self, messages: Sequence[bytes], framed: bytes) -> None:
        """Send JSON ``messages`` (``framed``: the same, as websocket frames)."""
        if self.closing:
            return
        if self.writer is None:
            for data in messages:
                self.outbox.push(data)
        elif self.writer.write_frame(framed) > self.cap:
            self._overflow(Close.SLOW_CONSUMER)

    def reply(self, frame: wire.DashboardFrame) -> None:
        data = wire.encode_json(frame)
        self.send((data,), text_frame(data))

    def _overflow(self, code: Close) -> None:
        self.close_soon(code)

    def close_soon(self, code: Close) -> None:
        """Start closing without waiting for it (the session owns the task)."""
        if self.closer is None:
            self.closer = asyncio.get_running_loop().create_task(self.close(code))

    async def close(self, code: Close) -> None:
        if self.closing:
            return
        self.closing = True
        self.dashboards.drop(self)
        self.outbox.stop()
        await close_or_drop(self.websocket, self.writer, code, CLOSE_TIMEOUT_S)

    async def run(self) -> None:
        while not self.closing:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                frame = wire.decode_dashboard(payload(message))
                await self.handle(frame)
            except HubError as exc:
                self.reply(wire.Error(code=exc.code, message=exc.message))

    async def still_allowed(self) -> bool:
        """Read the token again (expiry, the user's active flag, role and sessions): False,
        and the socket closing with 4001 or 4002, when it no longer holds; topics the
        user's role no longer reaches are closed too (4002)."""
        before = self.actor.role
        try:
            self.actor = await self.auth.actor(self.token, Role.OPERATOR)
        except TokenError as exc:
            revoked = exc.code == "token_revoked"  # deactivated, logged out: else expired
            self.close_soon(Close.TOKEN_REVOKED if revoked else Close.AUTH_FAILED)
            return False
        except StoreUnavailable:  # cannot tell now: the next recheck will
            return True
        except HubError:  # no longer any console role
            self.close_soon(Close.TOKEN_REVOKED)
            return False
        if self.actor.role.allows(before):  # not demoted: every topic it held is still allowed
            return True
        subscribed = self.dashboards.topics_of(self)  # a walk over every topic: demoted only
        if any(not self.actor.role.allows(TOPIC_ROLES[topic_kind(t)[0]]) for t in subscribed):
            self.close_soon(Close.TOKEN_REVOKED)
            return False
        return True

    async def handle(self, frame: wire.DashboardClientFrame) -> None:
        match frame:
            case wire.Subscribe(topic=topic, since=since):
                kind, ref = topic_kind(topic)
                if not await self.still_allowed():
                    return
                needed = TOPIC_ROLES[kind]
                if not self.actor.role.allows(needed):
                    raise TokenError(f"{topic} needs the {needed.value} role", code="forbidden")
                await self.dashboards.open(self, topic, kind, ref, since)
            case wire.Unsubscribe(topic=topic):
                self.dashboards.close(self, topic)
            case wire.Ping(id=ping_id):
                self.reply(wire.Pong(id=ping_id, server_time=now_ms()))
            case wire.SignIn():
                raise FrameError("already signed in", code="already_authenticated")


async def sign_in(auth: Authenticator, timeout_s: float, websocket: WebSocket) -> tuple[Actor, str]:
    """The console user the first ``sign_in`` frame names, and its token."""
    async with asyncio.timeout(timeout_s):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            try:
                frame = wire.decode_dashboard(payload(message))
            except FrameError as exc:
                await _send_error(websocket, exc)
                continue
            if not isinstance(frame, wire.SignIn):
                await _send_error(websocket, FrameError("sign in first", code="not_authenticated"))
                continue
            return await auth.actor(frame.token, Role.OPERATOR), frame.token


async def recheck_consoles(dashboards: Dashboards) -> None:
    """Every console on this node, its token read again (a background tick): a user
    deactivated, demoted, logged out or whose token expired is closed within the tick."""
    for who in list(dashboards.consoles):
        if isinstance(who, DashboardSession) and not who.closing:
            await who.still_allowed()


async def _send_error(websocket: WebSocket, exc: HubError) -> None:
    await websocket.send_text(
        wire.encode_json(wire.Error(code=exc.code, message=exc.message)).decode()
    )


async def dashboard_endpoint(
    websocket: WebSocket,
    dashboards: Dashboards,
    auth: Authenticator,
    settings: Settings,
    drain: Drain,
) -> None:
    """``/ws/dashboard``: check the Origin, sign in, then serve subscriptions (not while
    the node drains: 1001, dial again)."""
    if not origin_allowed(settings, websocket):
        await websocket.close(Close.FORBIDDEN)  # before accept: the handshake gets 403
        return
    await websocket.accept()
    if drain.draining:
        await websocket.close(Close.GOING_AWAY)
        return
    try:
        actor, token = await sign_in(auth, settings.auth_timeout_s, websocket)
    except HubError as exc:
        await _send_error(websocket, exc)
        forbidden = exc.code in ("forbidden", "token_audience")
        await websocket.close(Close.FORBIDDEN if forbidden else Close.AUTH_FAILED)
        return
    except TimeoutError:
        await _send_error(websocket, FrameError("sign in first", code="not_authenticated"))
        await websocket.close(Close.AUTH_TIMEOUT)
        return
    except WebSocketDisconnect:
        return
    session = DashboardSession(
        dashboards,
        websocket,
        actor,
        settings.dashboard_queue_bytes,
        auth=auth,
        token=token,
    )
    session.reply(wire.SignedIn(user=actor.subject, role=actor.role.value, server_time=now_ms()))
    drain.sockets.add(session)
    dashboards.consoles.add(session)
    try:
        await session.run()
    except WebSocketDisconnect:
        pass
    finally:
        drain.sockets.discard(session)
        dashboards.drop(session)
        session.outbox.stop()
