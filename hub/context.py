"""``Hub``: everything the lifespan built, handed to every route and socket."""

from __future__ import annotations

from dataclasses import dataclass, field

from hub import wire
from hub.channels.sessions import SessionRegistry
from hub.config import Settings
from hub.errors import TokenError
from hub.ingest.filter import FilterRules, FixFilter
from hub.ingest.writer import TrackWriter
from hub.matching.routing import RoadRouter
from hub.matching.service import MatchService
from hub.metrics import Metrics
from hub.operations.clients import Client
from hub.operations.providers import Provider
from hub.state.live import LivePosition, LiveState
from hub.state.records import Records
from hub.tokens import PROVIDER_AUDIENCE, TokenIssuer, provider_claims

REGISTRY_CHANNEL = "registry"  # bus channel: "provider:<id>" or "client:<id>" that changed


@dataclass
class Hub:
    """Everything the lifespan built, handed to every route through request state."""

    settings: Settings
    node: str
    records: Records
    live: LiveState
    tokens: TokenIssuer
    metrics: Metrics
    writer: TrackWriter
    filter_rules: FilterRules
    limits: wire.Limits
    matching: MatchService
    router: RoadRouter | None = None  # road ETAs for the candidates shown
    sessions: SessionRegistry = field(init=False)
    http_filters: dict[int, FixFilter] = field(default_factory=dict)  # OsmAnd ingest

    def __post_init__(self) -> None:
        self.sessions = SessionRegistry(self)

    async def provider_changed(self, provider: Provider) -> None:
        """A registry change: this node's matching follows, and the other nodes are told."""
        self.matching.provider_changed(provider)
        await self.live.bus.publish(REGISTRY_CHANNEL, f"provider:{provider.id}".encode())

    async def client_changed(self, client: Client) -> None:
        self.matching.client_changed(client)
        await self.live.bus.publish(REGISTRY_CHANNEL, f"client:{client.id}".encode())

    def position_changed(self, position: LivePosition) -> None:
        """A provider moved (ingest): the live state and the matching index follow."""
        self.live.positions.put(position)
        self.matching.position(position)

    async def provider_from_token(self, token: str) -> Provider:
        """The active provider a valid, unrevoked provider token names."""
        provider_id, version = provider_claims(self.tokens.verify(token, PROVIDER_AUDIENCE))
        provider = await self.records.providers.get(provider_id)
        if provider is None:
            raise TokenError("token names no provider", code="token_invalid")
        if version != provider.token_version:
            raise TokenError("token was revoked", code="token_revoked")
        if not provider.active:
            raise TokenError("provider is deactivated", code="provider_inactive")
        return provider
