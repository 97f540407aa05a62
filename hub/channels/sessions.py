"""The provider sessions held by this node, and the rule of one live session per provider.

Opening a session claims the provider in the presence store; whoever held it before is
closed with ``session_replaced``: directly when it is on this node, through the bus when it
is on another.  A housekeeping tick closes sessions silent for longer than idle_timeout_s.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import msgspec
from starlette.websockets import WebSocket

from hub import wire
from hub.channels.provider import ProviderSession
from hub.clock import now_ms
from hub.errors import Close
from hub.ingest.acks import AckWindow
from hub.ingest.filtering import FixFilter
from hub.ingest.flood import FloodGuard
from hub.ingest.intake import FixIntake, error
from hub.operations.providers import Provider
from hub.state.live import Owner, PresenceNote

if TYPE_CHECKING:
    from hub.context import Hub

log = logging.getLogger(__name__)


class Kick(msgspec.Struct, frozen=True, tag="kick"):
    """Bus message to a node: close this session of this provider, for this reason."""

    provider_id: int
    session_id: str
    reason: str = "session_replaced"


class Push(msgspec.Struct, frozen=True, tag="push"):
    """Bus message to a node: send this frame on the provider's session there."""

    provider_id: int
    frame: wire.HubFrame


NodeMessage = Kick | Push


KICK_CLOSE = {
    "session_replaced": Close.SESSION_REPLACED,
    "token_revoked": Close.TOKEN_REVOKED,
    "provider_inactive": Close.PROVIDER_INACTIVE,
}


_node_decoder = msgspec.json.Decoder(NodeMessage)


def node_channel(node: str) -> str:
    return f"node:{node}"


class SessionRegistry:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.local: dict[int, ProviderSession] = {}

    async def open(self, websocket: WebSocket, provider: Provider) -> ProviderSession:
        hub, settings = self.hub, self.hub.settings
        position = await hub.live.positions.get(provider.id)
        anchor = (position.t_ms, position.lat, position.lng) if position else None
        intake = FixIntake(
            provider.id,
            FixFilter(hub.filter_rules, anchor),
            AckWindow(settings.seq_window),
            FloodGuard(
                settings.max_fixes_per_s, settings.fix_burst, settings.flood_strikes, time.time()
            ),
        )
        session = ProviderSession(hub, websocket, provider.id, intake)
        previous_here = self.local.get(provider.id)
        self.local[provider.id] = session
        if previous_here is not None:
            previous_here.close_soon(Close.SESSION_REPLACED, error("session_replaced"))
        previous = await hub.live.presence.claim(
            provider.id, Owner(session.session_id, hub.node), now_ms()
        )
        if previous is not None and previous.node != hub.node:
            await self.kick(Kick(provider.id, previous.session_id), previous.node)
        # The record was just read to authenticate: matching takes it too, so a provider
        # registered elsewhere (the CLI, another node) is matchable from its first session.
        hub.matching.provider_changed(provider)
        hub.matching.session(provider.id, session.session_id, True)
        await hub.live.presence.note(
            PresenceNote(hub.node, provider.id, session.session_id, opened=True)
        )
        hub.metrics.sessions.inc()
        hub.metrics.connections.inc()
        session.reply(
            wire.Welcome(
                session_id=session.session_id,
                provider_id=provider.id,
                server_time=now_ms(),
                limits=hub.limits,
            )
        )
        await hub.dispatcher.resend(provider.id)
        log.info(
            "provider session opened",
            extra={"provider": provider.id, "session": session.session_id},
        )
        return session

    async def closed(self, session: ProviderSession) -> None:
        """Forget a session whose socket ended (whoever ended it)."""
        session.outbox.stop()
        self.hub.metrics.connections.dec()
        pid = session.provider_id
        if self.local.get(pid) is session:
            del self.local[pid]
        self.hub.matching.session(pid, session.session_id, False)
        await self.hub.live.presence.release(pid, session.session_id)
        await self.hub.live.presence.note(
            PresenceNote(self.hub.node, pid, session.session_id, opened=False)
        )

    async def kick(self, kick: Kick, node: str) -> None:
        """Close a session wherever it lives: here directly, elsewhere through the bus."""
        if node == self.hub.node:
            self._close_local(kick)
        else:
            await self.hub.live.bus.publish(node_channel(node), msgspec.json.encode(kick))

    async def end(self, provider_id: int, reason: str) -> None:
        """Close the provider's live session, if any, for ``reason`` (revoked, inactive)."""
        owner = (await self.hub.live.presence.view(provider_id, now_ms())).owner
        if owner is not None:
            await self.kick(Kick(provider_id, owner.session_id, reason), owner.node)

    def _close_local(self, kick: Kick) -> None:
        session = self.local.get(kick.provider_id)
        if session is not None and session.session_id == kick.session_id:
            session.close_soon(KICK_CLOSE[kick.reason], error(kick.reason))

    async def push(self, provider_id: int, frame: wire.HubFrame, *, now: bool = False) -> bool:
        """Send a frame on the provider's session wherever it is; False when it has none
        (the frame is not kept: offers are re-sent from the records when it reconnects).
        ``now``: a session here writes it at once, not at the end of the loop iteration."""
        session = self.local.get(provider_id)
        if session is not None:
            session.reply(frame, now=now)
            return True
        owner = (await self.hub.live.presence.view(provider_id, now_ms())).owner
        if owner is None or owner.node == self.hub.node:
            return False
        message = msgspec.json.encode(Push(provider_id, frame))
        await self.hub.live.bus.publish(node_channel(owner.node), message)
        return True

    async def on_bus_message(self, payload: bytes) -> None:
        try:
            message = _node_decoder.decode(payload)
        except msgspec.DecodeError:
            log.warning("ignored undecodable bus message", extra={"bytes": len(payload)})
            return
        if isinstance(message, Push):
            session = self.local.get(message.provider_id)
            if session is not None:
                session.reply(message.frame)
            return
        kick = message
        if kick.reason not in KICK_CLOSE:
            log.warning("ignored kick with an unknown reason", extra={"reason": kick.reason})
            return
        self._close_local(kick)

    async def sweep(self) -> None:
        """Close every session that has been silent past idle_timeout_s."""
        limit = time.monotonic() - self.hub.settings.idle_timeout_s
        for session in [s for s in self.local.values() if s.last_rx < limit]:
            session.close_soon(Close.IDLE_TIMEOUT, error("idle_timeout"))

    async def close_all(self, code: Close) -> None:
        """Close every session at once (shutdown); each close is bounded in time."""
        await asyncio.gather(*(s.close(code) for s in list(self.local.values())))
