"""What dispatch reads again and again, kept on this node once read.

An attendance's client never changes, nor does a beneficiary's plan or a plan through the
API, nor an offer's attendance and provider: each is read from the records once and kept
(the newest ``KEPT`` of each kind, oldest forgotten first).
"""

from __future__ import annotations

from typing import TypeVar

from hub.dispatch.offers import Offer
from hub.dispatch.records import DispatchRecords
from hub.errors import NotFound
from hub.matching.service import MatchService
from hub.operations.attendances import Attendance
from hub.operations.beneficiaries import Plan
from hub.operations.clients import DispatchRules
from hub.operations.records import OperationsRecords

KEPT = 100_000  # entries of each kind this node remembers (insertion order)

V = TypeVar("V")


class Lookups:
    def __init__(
        self, records: OperationsRecords, dispatch: DispatchRecords, matching: MatchService
    ) -> None:
        self.records = records
        self.dispatch = dispatch
        self.matching = matching
        self.clients: dict[int, int] = {}  # attendance id -> client id
        self.homes: dict[int, tuple[int, int]] = {}  # offer id -> (attendance, provider)
        self.plan_of: dict[int, int] = {}  # beneficiary id -> plan id
        self.plans: dict[int, Plan] = {}  # plan id -> plan

    async def rules(self, attendance_id: int) -> DispatchRules:
        """The dispatch rules of the attendance's client."""
        client_id = self.clients.get(attendance_id)
        if client_id is None:
            records = self.records
            attendance = await records.attendances.get(attendance_id)
            if attendance is None:
                raise NotFound(f"no attendance {attendance_id}")
            event = await records.events.get(attendance.event_id)
            assert event is not None  # a foreign key
            client_id = event.client_id
            _keep(self.clients, attendance_id, client_id)
        client = self.matching.clients.get(client_id)
        if client is None:
            client = await self.records.clients.get(client_id)
            assert client is not None  # a foreign key
            self.matching.client_changed(client)
        return client.rules

    def client_of(self, attendance_id: int) -> int | None:
        """The attendance's client, when ``rules`` read it already."""
        return self.clients.get(attendance_id)

    async def cap(self, a: Attendance) -> int | None:
        """What the plan pays at most for this attendance's service (None: no cap, or an
        avulso attendance, which the plan does not pay)."""
        if a.avulso or a.service is None:
            return None
        records = self.records
        plan_id = self.plan_of.get(a.beneficiary_id)
        if plan_id is None:
            beneficiary = await records.beneficiaries.get(a.beneficiary_id)
            if beneficiary is None:
                return None
            plan_id = beneficiary.plan_id
            _keep(self.plan_of, a.beneficiary_id, plan_id)
        plan = self.plans.get(plan_id)
        if plan is None:
            plan = await records.plans.get(plan_id)
            if plan is None:
                return None
            _keep(self.plans, plan_id, plan)
        limit = plan.coverage.get(a.service)
        return None if limit is None else limit.value_cap_cents

    async def offer_home(self, offer_id: int, provider_id: int | None) -> int:
        """The attendance of an offer made to ``provider_id`` (any provider when None);
        offer_unknown otherwise.  Offers this node made are known without a query."""
        home = self.homes.get(offer_id)
        if home is None:
            offer = await self.dispatch.offer(offer_id)
            if offer is not None:
                home = self.remember(offer)
        if home is None or (provider_id is not None and home[1] != provider_id):
            raise NotFound(f"no offer {offer_id} for you", code="offer_unknown")
        return home[0]

    def remember(self, offer: Offer) -> tuple[int, int]:
        home = (offer.attendance_id, offer.provider_id)
        _keep(self.homes, offer.id, home)
        return home


def _keep(cache: dict[int, V], key: int, value: V) -> None:
    """Remember ``value``, forgetting the oldest entry past KEPT (insertion order)."""
    cache[key] = value
    if len(cache) > KEPT:
        del cache[next(iter(cache))]
