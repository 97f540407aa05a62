"""``Hub``: everything the lifespan built, handed to every route and socket."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hub import wire
from hub.channels.sessions import SessionRegistry
from hub.clock import now_ms
from hub.config import Settings
from hub.dispatch.lifecycle import Step
from hub.dispatch.punctuality import ON_THE_WAY, Punctuality, punctuality
from hub.errors import HubError, TokenError
from hub.geo import distance_m
from hub.ingest.filter import FilterRules, FixFilter
from hub.ingest.writer import TrackWriter
from hub.matching.routing import RoadRouter
from hub.matching.service import MatchService
from hub.metrics import Metrics
from hub.operations.attendances import Attendance
from hub.operations.clients import Client
from hub.operations.providers import Provider
from hub.operations.services import service
from hub.state.live import LivePosition, LiveState
from hub.state.records import Records
from hub.tokens import PROVIDER_AUDIENCE, TokenIssuer, provider_claims

if TYPE_CHECKING:
    from hub.channels.dashboards import Dashboards
    from hub.dispatch.notify import Notifier
    from hub.dispatch.service import Dispatcher
    from hub.geocoders import Nominatim, ViaCep

log = logging.getLogger(__name__)

# Bus channel of registry changes: "provider:<id>", "client:<id>", "kpis:<provider id>",
# "engaged:<provider id>:<attendance id, 0 when free>".
REGISTRY_CHANNEL = "registry"


@dataclass(slots=True)
class Job:
    """An assigned provider on its way: its fixes are watched for the arrival."""

    attendance_id: int
    lat: float
    lng: float
    arriving: bool = False


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
    dispatcher: Dispatcher = field(init=False)
    dashboards: Dashboards = field(init=False)
    notifier: Notifier | None = None
    geocoder: Nominatim | None = None
    cep: ViaCep | None = None
    jobs: dict[int, Job] = field(default_factory=dict)  # provider id -> its job on the way
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        from hub.channels.dashboards import Dashboards
        from hub.dispatch.service import Dispatcher

        self.sessions = SessionRegistry(self)
        self.dispatcher = Dispatcher(self)
        self.dashboards = Dashboards(self)

    async def provider_changed(self, provider: Provider) -> None:
        """A registry change: this node's matching follows, and the other nodes are told."""
        self.matching.provider_changed(provider)
        await self.live.bus.publish(REGISTRY_CHANNEL, f"provider:{provider.id}".encode())

    async def client_changed(self, client: Client) -> None:
        self.matching.client_changed(client)
        await self.live.bus.publish(REGISTRY_CHANNEL, f"client:{client.id}".encode())

    def position_changed(self, position: LivePosition) -> None:
        """A provider moved (ingest): the live state and the matching index follow, and an
        assigned provider inside the arrival radius of its origin has arrived."""
        self.live.positions.put(position)
        self.matching.position(position)
        job = self.jobs.get(position.provider_id)
        if job is not None and not job.arriving:
            radius = self.settings.arrival_radius_m
            if distance_m(job.lat, job.lng, position.lat, position.lng) <= radius:
                job.arriving = True
                self.spawn(self._arrived(position.provider_id, job))

    async def _arrived(self, provider_id: int, job: Job) -> None:
        try:
            await self.dispatcher.step(
                job.attendance_id, Step.ARRIVE, "gps", provider_id=provider_id
            )
        except HubError as exc:  # already declared, cancelled, reassigned
            log.info(
                "arrival not recorded", extra={"attendance": job.attendance_id, "err": exc.message}
            )

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def engaged(self, provider_id: int, attendance: Attendance | None) -> None:
        """The provider took a job (or is free again): matching and the other nodes follow."""
        self.engage_here(provider_id, attendance)
        ref = 0 if attendance is None else attendance.id
        await self.live.bus.publish(REGISTRY_CHANNEL, f"engaged:{provider_id}:{ref}".encode())

    def engage_here(self, provider_id: int, attendance: Attendance | None) -> None:
        self.matching.engaged(provider_id, attendance is not None)
        origin = None if attendance is None else attendance.origin
        if attendance is None or origin is None or attendance.state not in ON_THE_WAY:
            self.jobs.pop(provider_id, None)
        else:
            self.jobs[provider_id] = Job(attendance.id, origin.lat, origin.lng)

    def punctuality(self, attendance: Attendance, now_ms: int) -> Punctuality | None:
        """On time or late, and the late risk from the provider's live GPS; None until a
        provider has the attendance."""
        if attendance.provider_id is None or attendance.service is None:
            return None
        here = self.matching.index.positions.get(attendance.provider_id)
        return punctuality(
            attendance,
            None if here is None or not here.live else (here.lat, here.lng),
            now_ms,
            road_factor=self.settings.road_factor,
            speed_kmh=service(attendance.service).avg_speed_kmh,
        )

    async def kpis_changed(self, provider_id: int) -> None:
        await self.refresh_kpis(provider_id)
        await self.live.bus.publish(REGISTRY_CHANNEL, f"kpis:{provider_id}".encode())

    async def refresh_kpis(self, provider_id: int | None = None) -> None:
        """Acceptance and on-time figures from history, into matching (one provider's or
        everyone's)."""
        found = await self.records.dispatch.kpis(now_ms(), provider_id)
        for pid, kpis in found.items():
            self.matching.kpis(pid, kpis.acceptance_pct(), kpis.on_time_pct())

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
