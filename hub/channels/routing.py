"""Where a provider's session lives, and getting a frame or a kick to it: directly when it
is on this node, through the bus to its node otherwise.

The router holds this node's sessions (``local``, kept by the SessionRegistry) and reads
ownership from the presence store; it is what dispatch pushes offers through
(``ProviderPush``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import msgspec

from hub import wire
from hub.clock import now_ms
from hub.errors import Close
from hub.ingest.intake import error
from hub.state.live import Bus, Presence

if TYPE_CHECKING:
    from hub.channels.provider import ProviderSession

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


class SessionRouter:
    def __init__(self, node: str, presence: Presence, bus: Bus) -> None:
        self.node = node
        self.presence = presence
        self.bus = bus
        self.local: dict[int, ProviderSession] = {}

    async def kick(self, kick: Kick, node: str) -> None:
        """Close a session wherever it lives: here directly, elsewhere through the bus."""
        if node == self.node:
            self.close_local(kick)
        else:
            await self.bus.publish(node_channel(node), msgspec.json.encode(kick))

    async def end(self, provider_id: int, reason: str) -> None:
        """Close the provider's live session, if any, for ``reason`` (revoked, inactive)."""
        owner = (await self.presence.view(provider_id, now_ms())).owner
        if owner is not None:
            await self.kick(Kick(provider_id, owner.session_id, reason), owner.node)

    def close_local(self, kick: Kick) -> None:
        session = self.local.get(kick.provider_id)
        if session is not None and session.session_id == kick.session_id:
            session.close_soon(KICK_CLOSE[kick.reason], error(kick.reason))

    async def push(self, provider_id: int, frame: wire.HubFrame, *, now: bool = False) -> bool:
        """Send a frame on the provider's session wherever it is; False when it has none,
        or its node does not listen on the bus now (the frame is not kept here: offers are
        re-sent from the records when it reconnects).
        ``now``: a session here writes it at once, not at the end of the loop iteration."""
        session = self.local.get(provider_id)
        if session is not None:
            session.reply(frame, now=now)
            return True
        owner = (await self.presence.view(provider_id, now_ms())).owner
        if owner is None or owner.node == self.node:
            return False
        message = msgspec.json.encode(Push(provider_id, frame))
        return await self.bus.publish(node_channel(owner.node), message) > 0

    async def follow(self) -> None:
        """Kicks and pushes other nodes address to this node's sessions, until cancelled."""
        async for payload in self.bus.listen(node_channel(self.node)):
            self.on_bus_message(payload)

    def on_bus_message(self, payload: bytes) -> None:
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
        self.close_local(kick)
