"""Telling the world what a dispatch decision changed, once it is committed.

Offers by app or portal go to the provider's session wherever it lives (this node directly,
another node through the bus); offers by link go out as SMS and e-mail carrying a
single-use token.  Assignments, closed offers and operators' steps follow the same road.
Every log entry is published on the status stream; matching learns who is engaged and the
providers' new acceptance and on-time figures.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import msgspec

from hub import wire
from hub.clock import now_ms
from hub.dispatch.after_commit import AfterCommit
from hub.dispatch.jobs import assistance
from hub.dispatch.links import LINK_PAGE, link_text
from hub.dispatch.notify import Notifier
from hub.dispatch.offers import Offer, OfferState
from hub.dispatch.told import EngagedNote, KpisNote, PushFrame, StreamAppend
from hub.errors import Conflict, NotFound
from hub.geo import distance_m
from hub.matching.service import MatchService
from hub.metrics import Metrics
from hub.operations.attendances import Attendance
from hub.operations.link_tokens import link_token
from hub.operations.providers import SESSION_MODES, Channel
from hub.operations.records import ProviderRecords
from hub.operations.services import service

if TYPE_CHECKING:
    from hub.dispatch.decisions import Outcome


def offer_frame(
    offer: Offer, attendance: Attendance, here: tuple[float, float] | None
) -> wire.OfferFrame:
    origin, code = assistance(attendance)
    return wire.OfferFrame(
        offer_id=offer.id,
        attendance_id=attendance.id,
        service=code,
        district=origin.address.district,
        city=origin.address.city,
        distance_m=None
        if here is None
        else round(distance_m(here[0], here[1], origin.lat, origin.lng)),
        deadline=offer.deadline_ms,
        server_time=now_ms(),
    )


def assignment_frame(offer: Offer, attendance: Attendance) -> wire.Assignment:
    origin, code = assistance(attendance)
    return wire.Assignment(
        attendance_id=attendance.id,
        offer_id=offer.id,
        service=code,
        requester_name=attendance.requester_name,
        requester_phone=attendance.requester_phone,
        origin=origin,
        destination=attendance.destination,
        notes=attendance.notes,
        eta_min=offer.eta_min or 0,
        promised=attendance.promised_ms or 0,
        state=attendance.state.value,
    )


class Delivery:
    def __init__(
        self,
        *,
        notifier: Notifier,
        matching: MatchService,
        providers: ProviderRecords,
        metrics: Metrics,
        after: AfterCommit,
        public_url: str,
    ) -> None:
        self.notifier = notifier
        self.matching = matching
        self.providers = providers
        self.metrics = metrics
        self.after = after
        self.link_base = public_url.rstrip("/") + LINK_PAGE

    async def reachable(self, provider_id: int, mode: Channel) -> None:
        """Refuse an operator's offer the provider cannot receive by this mode now."""
        provider = await self.providers.get(provider_id)
        if provider is None or not provider.active:
            raise NotFound(f"no active provider {provider_id}")
        if mode not in provider.profile.channels:
            raise Conflict(
                f"provider {provider_id} is not reached by {mode.value}",
                code="provider_unreachable",
                mode=mode.value,
            )
        if mode in SESSION_MODES:
            known = self.matching.known.get(provider_id)
            if known is None or not self.matching.in_session(known):
                raise Conflict(
                    f"provider {provider_id} has no open session for a {mode.value} offer",
                    code="provider_unreachable",
                    mode=mode.value,
                )

    async def deliver(self, out: Outcome) -> None:
        await self.tell(out)
        await self.follow(out)

    async def tell(self, out: Outcome) -> None:
        """The status stream and the providers' sessions, in the decision's order (the
        dispatcher holds the attendance's turn meanwhile, so decisions are told in the
        order they were made).  The decision is committed: a store failing now delays
        what it was to carry until the store is back (hub/dispatch/after_commit.py)."""
        offers = self.metrics.offers
        tell = self.after.tell
        a = out.attendance
        if out.changes:  # one stream entry per decision: its log entries, in order
            await tell(StreamAppend(msgspec.Raw(msgspec.json.encode(out.changes))))
        if a is None:
            return
        for offer, secret in out.made:
            offers.labels("made").inc()
            if offer.mode in SESSION_MODES:
                frame = offer_frame(offer, a, self.here(offer.provider_id))
                await tell(PushFrame(offer.provider_id, frame))
            elif offer.mode is Channel.LINK and secret is not None:
                link = partial(self.send_link, offer, a, secret)  # not journaled: the secret
                await self.after.carry("link", f"link:{offer.id}", link)
        for offer in out.closed:
            offers.labels(offer.state.value).inc()
            if offer.mode in SESSION_MODES:
                state = "taken" if offer.reason == "taken" else offer.state.value
                closed = wire.OfferClosed(offer_id=offer.id, state=state)
                await tell(PushFrame(offer.provider_id, closed))
        # The assignment answers an accept the app is waiting on: it leaves at once, not
        # at the end of the loop iteration.
        if out.assigned is not None:
            offers.labels(OfferState.ACCEPTED.value).inc()
            assignment = assignment_frame(out.assigned, a)
            await tell(PushFrame(out.assigned.provider_id, assignment, now=True))
        if out.again is not None:
            again = assignment_frame(out.again, a)
            await tell(PushFrame(out.again.provider_id, again, now=True))
        for provider_id, changed, reason in out.told:
            status = wire.Status(attendance_id=changed.id, state=changed.state.value, reason=reason)
            await tell(PushFrame(provider_id, status))

    async def follow(self, out: Outcome) -> None:
        """What follows a decision and needs no order: matching learns who is engaged
        (here and on the other nodes) and the providers' new figures."""
        a = out.attendance
        if a is None:
            return
        tell = self.after.tell
        if out.assigned is not None:
            await tell(EngagedNote(out.assigned.provider_id, a))
        if out.moved and a.provider_id is not None:
            await tell(EngagedNote(a.provider_id, a))
        if out.released is not None:
            await tell(EngagedNote(out.released, None))
        for provider_id in out.kpis:
            await tell(KpisNote(provider_id))

    async def push(self, provider_id: int, frame: wire.HubFrame) -> None:
        """Send a frame to the provider's session, in order with its other frames."""
        await self.after.tell(PushFrame(provider_id, frame))

    async def send_link(self, offer: Offer, attendance: Attendance, secret: str) -> None:
        provider = await self.providers.get(offer.provider_id)
        if provider is None:
            return
        url = self.link_base + link_token(offer.id, secret)
        origin, code = assistance(attendance)
        place = ", ".join(p for p in (origin.address.district, origin.address.city) if p)
        text = link_text(service(code).name_pt, place, offer.deadline_ms, url, self.matching.zone)
        await self.notifier.sms_to(provider.phone, text, offer.id)
        if provider.profile.email:
            await self.notifier.email_to(provider.profile.email, "Acionamento", text, offer.id)

    def here(self, provider_id: int) -> tuple[float, float] | None:
        here = self.matching.index.positions.get(provider_id)
        return None if here is None else (here.lat, here.lng)
