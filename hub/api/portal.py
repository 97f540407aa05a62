"""The provider's side over REST: the web portal (provider token) and offer links.

Both show an offer with only where and what until it is accepted; after that, the full
assignment.  A link carries ``<offer id>.<secret>``; the store keeps only the secret's
hash.  Opening a link (GET) never changes anything, because mail scanners open links;
answers are POSTs.  After an accept the same link reports the provider's steps until the
attendance is done.
"""

from __future__ import annotations

import string
import time
from typing import Annotated

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from hub import wire
from hub.api.auth import address_key, bearer_token
from hub.api.openapi import Operation
from hub.api.responses import JSON, body_as, path_id
from hub.clock import now_ms
from hub.dispatch.delivery import assignment_frame
from hub.dispatch.jobs import assistance
from hub.dispatch.lifecycle import FINAL, Step, provider_step
from hub.dispatch.links import LINK_PATH
from hub.dispatch.offers import EtaMin, Offer, OfferState, RefusalReason
from hub.errors import BadRequest, Forbidden, FrameError, NotFound, Unauthorized
from hub.operations.attendances import AttendanceState
from hub.operations.link_tokens import parse_token
from hub.operations.providers import SESSION_MODES
from hub.services import Services, services_of

DIGITS = frozenset(string.digits)  # ASCII only: str.isdigit also takes "²" and "٣"


class OfferView(msgspec.Struct, kw_only=True):
    offer_id: int
    attendance_id: int
    state: OfferState
    service: str
    district: str
    city: str
    deadline: int
    server_time: int
    attendance_state: AttendanceState
    assignment: wire.Assignment | None  # only once this offer won


class OfferViews(msgspec.Struct):
    offers: list[OfferView]


class AcceptBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    eta_min: EtaMin


class RefuseBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: RefusalReason = "other"


class StepBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    step: Annotated[str, msgspec.Meta(max_length=20)]
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


async def view(hub: Services, offer: Offer) -> OfferView:
    attendance = await hub.records.attendances.get(offer.attendance_id)
    assert attendance is not None  # a foreign key
    origin, code = assistance(attendance)
    won = offer.state is OfferState.ACCEPTED and attendance.provider_id == offer.provider_id
    assignment = assignment_frame(offer, attendance) if won else None
    if assignment is not None and attendance.state in FINAL:  # the job is over: who and
        assignment = msgspec.structs.replace(  # where to call is no longer the link's
            assignment, requester_name="", requester_phone="", notes=""
        )
    return OfferView(
        offer_id=offer.id,
        attendance_id=attendance.id,
        state=offer.state,
        service=code,
        district=origin.address.district,
        city=origin.address.city,
        deadline=offer.deadline_ms,
        server_time=now_ms(),
        attendance_state=attendance.state,
        assignment=assignment,
    )


# --- the web portal (provider token) -------------------------------------------------------


class PortalLogin(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A provider without the app signs in with its phone and its access key (the device
    key the registry issued, the same secret OsmAnd-style apps use)."""

    phone: Annotated[str, msgspec.Meta(min_length=8, max_length=32)]
    key: Annotated[str, msgspec.Meta(min_length=8, max_length=200)]


class PortalSession(msgspec.Struct):
    token: str
    provider_id: int
    name: str


async def portal_login(request: Request) -> Response:
    body = await body_as(request, PortalLogin)
    hub: Services = services_of(request)
    typed = "".join(ch for ch in body.phone if ch in DIGITS)
    keys = (f"portal:{typed[-10:]}", address_key(request))
    await hub.logins.check(*keys)
    provider = await hub.records.providers.by_device_key(body.key.strip())
    stored = "" if provider is None else "".join(ch for ch in provider.phone if ch in DIGITS)
    # the country code may be left out: "11 98888-0000" is "+55 11 98888-0000"
    if provider is None or len(typed) < 10 or not stored.endswith(typed):
        await hub.logins.failed(*keys)
        raise Unauthorized("phone or access key is wrong", code="login_failed")
    await hub.logins.succeeded(*keys)
    if not provider.active:
        raise Unauthorized("the provider is deactivated", code="provider_inactive")
    token = hub.tokens.provider_token(provider.id, provider.token_version, int(time.time()))
    return JSON(PortalSession(token, provider.id, provider.name))


async def provider_id(request: Request) -> int:
    hub: Services = services_of(request)
    return (await hub.auth.provider(bearer_token(request, "provider token"))).id


async def portal_offers(request: Request) -> Response:
    pid = await provider_id(request)
    hub: Services = services_of(request)
    pending = await hub.records.dispatch.pending_of(pid)
    return JSON(OfferViews([await view(hub, o) for o in pending if o.mode in SESSION_MODES]))


async def portal_accept(request: Request) -> Response:
    pid = await provider_id(request)
    body = await body_as(request, AcceptBody)
    hub: Services = services_of(request)
    won = await hub.dispatcher.accept(
        path_id(request, "offer_id"), pid, body.eta_min, f"provider:{pid}"
    )
    return JSON(await view(hub, won))


async def portal_refuse(request: Request) -> Response:
    pid = await provider_id(request)
    body = await body_as(request, RefuseBody)
    hub: Services = services_of(request)
    refused = await hub.dispatcher.refuse(
        path_id(request, "offer_id"), pid, body.reason, f"provider:{pid}"
    )
    return JSON(await view(hub, refused))


async def portal_step(request: Request) -> Response:
    pid = await provider_id(request)
    body = await body_as(request, StepBody)
    hub: Services = services_of(request)
    done = await hub.dispatcher.step(
        path_id(request, "attendance_id"),
        _step(body.step),
        f"provider:{pid}",
        provider_id=pid,
        reason=body.reason,
    )
    return JSON(wire.Status(attendance_id=done.id, state=done.state.value))


# --- links (the token is the credential) ---------------------------------------------------


async def linked_offer(request: Request) -> Offer:
    """The offer a link names, if its provider may still act on it (an inactive provider's
    links are refused, as its portal and socket are)."""
    offer_id, digest = parse_token(request.path_params["token"])
    hub: Services = services_of(request)
    offer = await hub.records.dispatch.offer_by_link(offer_id, digest)
    if offer is None:
        raise NotFound("this link is not valid", code="link_invalid")
    provider = await hub.records.providers.get(offer.provider_id)
    if provider is None or not provider.active:
        raise Forbidden("the provider is deactivated", code="provider_inactive")
    return offer


async def link_view(request: Request) -> Response:
    return JSON(await view(services_of(request), await linked_offer(request)))


async def link_accept(request: Request) -> Response:
    offer = await linked_offer(request)
    body = await body_as(request, AcceptBody)
    hub: Services = services_of(request)
    won = await hub.dispatcher.accept(
        offer.id, offer.provider_id, body.eta_min, f"link:{offer.provider_id}"
    )
    return JSON(await view(hub, won))


async def link_refuse(request: Request) -> Response:
    offer = await linked_offer(request)
    body = await body_as(request, RefuseBody)
    hub: Services = services_of(request)
    refused = await hub.dispatcher.refuse(
        offer.id, offer.provider_id, body.reason, f"link:{offer.provider_id}"
    )
    return JSON(await view(hub, refused))


async def link_step(request: Request) -> Response:
    offer = await linked_offer(request)
    body = await body_as(request, StepBody)
    hub: Services = services_of(request)
    if offer.state is not OfferState.ACCEPTED:
        raise NotFound("this link's offer was not accepted", code="offer_unknown")
    done = await hub.dispatcher.step(
        offer.attendance_id,
        _step(body.step),
        f"link:{offer.provider_id}",
        provider_id=offer.provider_id,
        reason=body.reason,
    )
    return JSON(wire.Status(attendance_id=done.id, state=done.state.value))


def _step(name: str) -> Step:
    try:
        return provider_step(name)
    except FrameError as exc:
        raise BadRequest(exc.message) from None


LINK = LINK_PATH + "{token}"
PROVIDER_TOKEN = (401, 403)  # the portal's routes: no valid provider token, an inactive provider


operations = [
    Operation(
        "POST",
        "/portal/login",
        "A provider token for the web portal, from the phone and the access key",
        PortalSession,
        body=PortalLogin,
        errors=(400, 401, 429),
        endpoint=portal_login,
    ),
    Operation(
        "GET",
        "/portal/offers",
        "The provider's pending app and portal offers (provider token)",
        OfferViews,
        errors=PROVIDER_TOKEN,
        endpoint=portal_offers,
    ),
    Operation(
        "POST",
        "/portal/offers/{offer_id}/accept",
        "Accept an offer with an ETA; the assignment comes back (provider token)",
        OfferView,
        body=AcceptBody,
        errors=(*PROVIDER_TOKEN, 404, 409, 410),
        endpoint=portal_accept,
    ),
    Operation(
        "POST",
        "/portal/offers/{offer_id}/refuse",
        "Refuse an offer with a reason from the catalogue (provider token)",
        OfferView,
        body=RefuseBody,
        errors=(*PROVIDER_TOKEN, 400, 404, 409, 410),
        endpoint=portal_refuse,
    ),
    Operation(
        "POST",
        "/portal/attendances/{attendance_id}/steps",
        "Report a step on an assigned attendance (provider token)",
        wire.Status,
        body=StepBody,
        errors=(*PROVIDER_TOKEN, 404, 409),
        endpoint=portal_step,
    ),
    Operation(
        "GET",
        LINK,
        "An offer behind a link; opening it changes nothing",
        OfferView,
        errors=(403, 404),
        endpoint=link_view,
    ),
    Operation(
        "POST",
        LINK + "/accept",
        "Accept the link's offer with an ETA",
        OfferView,
        body=AcceptBody,
        errors=(403, 404, 409, 410),
        endpoint=link_accept,
    ),
    Operation(
        "POST",
        LINK + "/refuse",
        "Refuse the link's offer",
        OfferView,
        body=RefuseBody,
        errors=(400, 403, 404, 409, 410),
        endpoint=link_refuse,
    ),
    Operation(
        "POST",
        LINK + "/steps",
        "Report a step on the attendance the link's offer won",
        wire.Status,
        body=StepBody,
        errors=(403, 404, 409),
        endpoint=link_step,
    ),
]
