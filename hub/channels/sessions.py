"""The provider sessions held by this node, and the rule of one live session per provider.

Opening a session claims the provider in the presence store; whoever held it before is
closed with ``session_replaced``: directly when it is on this node, through the bus when it
is on another (hub/channels/routing.py).  A housekeeping tick closes sessions silent for
longer than idle_timeout_s.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from starlette.websockets import WebSocket, WebSocketDisconnect

from hub import wire
from hub.auth import Authenticator
from hub.channels.lean_ws import frame_writer
from hub.channels.provider import (
    Hello,
    ProviderSession,
    SessionContext,
    refuse,
    refuse_quietly,
)
from hub.channels.routing import Kick, SessionRouter
from hub.clock import now_ms
from hub.config import Settings
from hub.drain import Drain
from hub.errors import Close, FrameError, HubError, StoreUnavailable, TokenError
from hub.ingest.acks import AckWindow
from hub.ingest.filter import FilterRules
from hub.ingest.filter_in_use import FixFilter
from hub.ingest.flood import FloodGuard
from hub.ingest.intake import FixIntake, error
from hub.operations.providers import Provider
from hub.operations.records import ProviderRecords
from hub.presence import Owner, PresenceNote
from hub.state.live import Positions

log = logging.getLogger(__name__)


class SessionRegistry:
    def __init__(
        self,
        *,
        context: SessionContext,
        router: SessionRouter,
        positions: Positions,
        filter_rules: FilterRules,
        limits: wire.Limits,
        settings: Settings,
        auth: Authenticator,
        providers: ProviderRecords,
        drain: Drain,
        on_open: Callable[[int], Awaitable[None]],
    ) -> None:
        self.drain = drain
        self.context = context
        self.auth = auth
        self.providers = providers
        self.router = router
        self.positions = positions
        self.filter_rules = filter_rules
        self.limits = limits
        self.settings = settings
        self.on_open = on_open  # a provider's session opened (its pending offers, again)
        self.epoch: str | None = None  # of the live state's contents, as last seen
        self.unreleased: dict[int, str] = {}  # provider -> session closed while Redis was down
        self.local = router.local

    async def serve(self, websocket: WebSocket) -> None:
        """``/ws/provider``: authenticate, open the session, read it until it ends.  A
        socket that cannot have a session gets an error frame and a close code: the
        token's (4001-4003), 4000 without authentication in time, or 1011 with
        ``store_unavailable`` while a store is down (retry later, with back-off)."""
        metrics = self.context.metrics
        await websocket.accept()
        if self.drain.draining:  # this node is stopping: dial another
            metrics.closed(Close.GOING_AWAY)
            return await refuse_quietly(websocket, Close.GOING_AWAY)
        hello = Hello(self.auth, self.settings.auth_timeout_s)
        try:
            provider = await hello.provider(websocket)
        except TokenError as exc:
            metrics.auth_failures.labels(exc.code).inc()
            return await self._refuse(websocket, exc, exc.close_code, hello.binary)
        except TimeoutError:
            unauthenticated = FrameError("no hello in time", code="not_authenticated")
            return await self._refuse(websocket, unauthenticated, Close.AUTH_TIMEOUT, False)
        except StoreUnavailable as exc:
            return await self._refuse(websocket, exc, Close.INTERNAL_ERROR, hello.binary)
        except WebSocketDisconnect:
            return self._counted(websocket)
        # Authenticated: the handshake headers (~1 KiB) are never read again, and this
        # socket may be held for hours alongside ten thousand others.
        websocket.scope["headers"] = []
        try:
            session = await self.open(websocket, provider, binary=hello.binary)
        except StoreUnavailable as exc:
            return await self._refuse(websocket, exc, Close.INTERNAL_ERROR, hello.binary)
        del provider  # the session keeps the id; the record would be held for nothing
        try:
            await session.run()
        except WebSocketDisconnect:
            pass
        finally:
            self._counted(websocket)
            await self.closed(session)
        return None

    def _counted(self, websocket: WebSocket) -> None:
        """A socket that ended: counted if the websocket layer closed it (1007, 1009)."""
        protocol = frame_writer(websocket)
        if protocol is not None and protocol.refused_with is not None:
            self.context.metrics.closed(protocol.refused_with)

    async def _refuse(self, websocket: WebSocket, exc: HubError, code: Close, binary: bool) -> None:
        self.context.metrics.closed(code)
        log.info("provider socket refused", extra={"err": exc.code, "close": int(code)})
        await refuse(websocket, error(exc.code, message=exc.message), code, binary)

    async def open(
        self, websocket: WebSocket, provider: Provider, *, binary: bool = False
    ) -> ProviderSession:
        """Take the provider over from any older session and welcome it (in the encoding
        it spoke).  StoreUnavailable leaves nothing of the session behind."""
        context, settings = self.context, self.settings
        position = await self.positions.get(provider.id)
        anchor = (position.t_ms, position.lat, position.lng) if position else None
        intake = FixIntake(
            provider.id,
            FixFilter(self.filter_rules, anchor),
            AckWindow(settings.seq_window),
            FloodGuard(
                settings.max_fixes_per_s, settings.fix_burst, settings.flood_strikes, time.time()
            ),
        )
        session = ProviderSession(context, websocket, provider.id, intake)
        session.token_version = provider.token_version
        session.outbox.binary = binary
        previous_here = self.local.get(provider.id)
        self.local[provider.id] = session
        try:
            previous = await context.presence.claim(
                provider.id, Owner(session.session_id, context.node), now_ms()
            )
        except StoreUnavailable:
            if self.local.get(provider.id) is session:
                del self.local[provider.id]
            session.outbox.stop()
            raise
        if previous_here is not None:
            previous_here.close_soon(Close.SESSION_REPLACED, error("session_replaced"))
        if previous is not None and previous.node != context.node:
            await self.router.kick(Kick(provider.id, previous.session_id), previous.node)
        # The record was just read to authenticate: matching takes it too, so a provider
        # registered elsewhere (the CLI, another node) is matchable from its first session.
        context.matching.provider_changed(provider)
        context.matching.session(provider.id, session.session_id, True, context.node)
        await context.presence.note(
            PresenceNote(context.node, provider.id, session.session_id, opened=True)
        )
        context.metrics.sessions.inc()
        context.metrics.connections.inc()
        session.reply(
            wire.Welcome(
                session_id=session.session_id,
                provider_id=provider.id,
                server_time=now_ms(),
                limits=self.limits,
            )
        )
        await self.on_open(provider.id)
        log.info(
            "provider session opened",
            extra={"provider": provider.id, "session": session.session_id},
        )
        return session

    async def closed(self, session: ProviderSession) -> None:
        """Forget a session whose socket ended (whoever ended it)."""
        context = self.context
        session.outbox.stop()
        context.metrics.connections.dec()
        pid = session.provider_id
        if self.local.get(pid) is session:
            del self.local[pid]
        context.matching.session(pid, session.session_id, False)
        try:
            await self._release(pid, session.session_id)
        except StoreUnavailable:  # released by the next reassert tick that reaches the store
            self.unreleased[pid] = session.session_id

    async def _release(self, provider_id: int, session_id: str) -> None:
        presence = self.context.presence
        await presence.release(provider_id, session_id)
        await presence.note(PresenceNote(self.context.node, provider_id, session_id, opened=False))

    async def reassert(self) -> None:
        """If the live state lost its data (Redis restarted empty), assert again what this
        node holds: its sessions' ownership, their duty and their live positions (unless a
        newer session claimed a provider since: then this one is replaced), and tell the
        other nodes.  Sessions that closed while the store was down are released first."""
        context = self.context
        for pid, session_id in list(self.unreleased.items()):
            await self._release(pid, session_id)
            if self.unreleased.get(pid) == session_id:
                del self.unreleased[pid]
        epoch = await context.presence.epoch()
        if epoch == self.epoch:
            return
        self.epoch = epoch  # also the first time: the sessions may have opened before a loss
        sessions = list(self.local.values())
        if not sessions:
            return
        log.warning(
            "the live state lost its data: asserting this node's sessions again",
            extra={"sessions": len(sessions)},
        )
        known = context.matching.known
        held = [
            (
                s.provider_id,
                Owner(s.session_id, context.node),
                p.on_duty if (p := known.get(s.provider_id)) is not None else False,
            )
            for s in sessions
        ]
        kept = []
        for session, (pid, mine, _), owner in zip(
            sessions, held, await context.presence.reassert(held), strict=True
        ):
            if owner != mine:  # a newer session took the provider over meanwhile
                session.close_soon(Close.SESSION_REPLACED, error("session_replaced"))
                continue
            kept.append(pid)
            await context.presence.note(
                PresenceNote(context.node, pid, session.session_id, opened=True)
            )
        self.positions.restore(kept)  # online again on every node, not at the next fix

    async def recheck(self) -> None:
        """Close the sessions whose provider was deactivated or whose tokens were revoked
        since they opened, however that happened (the REST API closes them at once; the
        CLI, or another process on the same records, only changes the store)."""
        sessions = list(self.local.values())
        if not sessions:
            return
        standing = await self.providers.standing([s.provider_id for s in sessions])
        for session in sessions:
            version, active = standing.get(session.provider_id, (None, False))
            if not active:
                session.close_soon(Close.PROVIDER_INACTIVE, error("provider_inactive"))
            elif version != session.token_version:
                session.close_soon(Close.TOKEN_REVOKED, error("token_revoked"))
            else:
                continue
            changed = await self.providers.get(session.provider_id)
            if changed is not None:  # this node's matching follows the store too
                self.context.matching.provider_changed(changed)

    async def sweep(self) -> None:
        """Close every session that has been silent past idle_timeout_s."""
        limit = time.monotonic() - self.settings.idle_timeout_s
        for session in [s for s in self.local.values() if s.last_rx < limit]:
            session.close_soon(Close.IDLE_TIMEOUT, error("idle_timeout"))

    async def close_all(self, code: Close) -> None:
        """Close every session at once (shutdown); each close is bounded in time."""
        await asyncio.gather(*(s.close(code) for s in list(self.local.values())))
