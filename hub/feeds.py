"""What this node's in-process matching (and its arrival watch) learns, from here and from
the other nodes.

``PositionFeed`` takes a provider's new live position from ingest (a socket, an OsmAnd
report, the demo): the shared live state, the matching index and the arrival watch follow.
``MatchingFeed`` takes registry changes (a provider's or client's record), engagement (a
provider took a job, or is free) and KPI changes: this node's matching follows at once,
and the other nodes through the bus, as one tagged msgspec union.  The bus is
at-most-once: a lost message leaves a node's index behind until the next change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import msgspec

from hub.clock import now_ms
from hub.dispatch.arrivals import Arrivals
from hub.matching.service import MatchService
from hub.operations.attendances import Attendance
from hub.operations.clients import Client
from hub.operations.providers import Provider
from hub.presence import LivePosition
from hub.state.live import Bus, Positions
from hub.state.records import Records

log = logging.getLogger(__name__)

REGISTRY_CHANNEL = "registry"

Arrived = Callable[[int, int], Coroutine[Any, Any, None]]  # (provider id, attendance id)


class PositionFeed:
    def __init__(
        self, positions: Positions, matching: MatchService, arrivals: Arrivals, arrived: Arrived
    ) -> None:
        self.positions = positions
        self.matching = matching
        self.arrivals = arrivals
        self.arrived = arrived
        self.tasks: set[asyncio.Task[None]] = set()

    def changed(self, position: LivePosition) -> None:
        """A provider moved: the live state and the matching index follow, and an assigned
        provider inside the arrival radius of its origin has arrived (recorded in the
        background: ingest does not wait on a dispatch decision)."""
        self.positions.put(position)
        self.matching.position(position)
        attendance_id = self.arrivals.arrived(position)
        if attendance_id is not None:
            self._spawn(self.arrived(position.provider_id, attendance_id))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class ProviderChanged(msgspec.Struct, frozen=True, tag="provider"):
    provider_id: int


class ClientChanged(msgspec.Struct, frozen=True, tag="client"):
    client_id: int


class KpisChanged(msgspec.Struct, frozen=True, tag="kpis"):
    provider_id: int


class Engaged(msgspec.Struct, frozen=True, tag="engaged"):
    """The provider took this attendance (None: it is free again)."""

    provider_id: int
    attendance_id: int | None


RegistryNote = ProviderChanged | ClientChanged | KpisChanged | Engaged

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(RegistryNote).decode


class MatchingFeed:
    def __init__(
        self, matching: MatchService, bus: Bus, records: Records, arrivals: Arrivals
    ) -> None:
        self.matching = matching
        self.bus = bus
        self.records = records
        self.arrivals = arrivals

    async def provider_changed(self, provider: Provider) -> None:
        """A provider's record changed: this node's matching follows, and the others."""
        self.matching.provider_changed(provider)
        await self._tell(ProviderChanged(provider.id))

    async def client_changed(self, client: Client) -> None:
        self.matching.client_changed(client)
        await self._tell(ClientChanged(client.id))

    async def engaged(self, provider_id: int, attendance: Attendance | None) -> None:
        """The provider took a job (or is free again): matching and the arrival watch
        follow, here and on the other nodes."""
        self.engage_here(provider_id, attendance)
        await self._tell(Engaged(provider_id, None if attendance is None else attendance.id))

    def engage_here(self, provider_id: int, attendance: Attendance | None) -> None:
        self.matching.engaged(provider_id, attendance is not None)
        self.arrivals.watch(provider_id, attendance)

    async def kpis_changed(self, provider_id: int) -> None:
        await self.refresh_kpis(provider_id)
        await self._tell(KpisChanged(provider_id))

    async def refresh_kpis(self, provider_id: int | None = None) -> None:
        """Acceptance and on-time figures from history, into matching (one provider's or
        everyone's)."""
        found = await self.records.dispatch.kpis(now_ms(), provider_id)
        for pid, kpis in found.items():
            self.matching.kpis(pid, kpis.acceptance_pct(), kpis.on_time_pct(), kpis.rating_mean())

    async def load(self) -> None:
        """At start: who is on a job now (matching skips them; arrivals are watched), and
        everyone's KPIs."""
        records = self.records
        for provider_id, attendance_id in (await records.dispatch.engaged()).items():
            self.engage_here(provider_id, await records.attendances.get(attendance_id))
        await self.refresh_kpis()

    async def follow(self) -> None:
        """The other nodes' notes, into this node's matching, until cancelled."""
        async for payload in self.bus.listen(REGISTRY_CHANNEL):
            try:
                note = _decode(payload)
            except msgspec.DecodeError:
                log.warning("ignored undecodable registry note", extra={"bytes": len(payload)})
                continue
            await self._apply(note)

    async def _apply(self, note: RegistryNote) -> None:
        records = self.records
        match note:
            case ProviderChanged(provider_id=pid):
                provider = await records.providers.get(pid)
                if provider is not None:
                    self.matching.provider_changed(provider)
            case ClientChanged(client_id=cid):
                client = await records.clients.get(cid)
                if client is not None:
                    self.matching.client_changed(client)
            case KpisChanged(provider_id=pid):
                await self.refresh_kpis(pid)
            case Engaged(provider_id=pid, attendance_id=aid):
                attendance = None if aid is None else await records.attendances.get(aid)
                self.engage_here(pid, attendance)

    async def _tell(self, note: RegistryNote) -> None:
        await self.bus.publish(REGISTRY_CHANNEL, _encode(note))
