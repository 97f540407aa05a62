"""Dispatch over REST, the operator's side: automatic, a pick by hand, verbal, steps."""

from __future__ import annotations

from typing import Annotated

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from hub.api.auth import actor_of
from hub.api.openapi import PAGE_PARAMS, Operation
from hub.api.responses import JSON, body_as, page_params, path_id
from hub.dispatch.lifecycle import OPERATOR_STEPS, Step
from hub.dispatch.links import redacted
from hub.dispatch.offers import EtaMin, Offer
from hub.dispatch.records import Notification
from hub.errors import BadRequest
from hub.operations.attendances import Attendance
from hub.operations.bounds import RecordId
from hub.operations.providers import Channel
from hub.operations.users import Role
from hub.services import services_of

ProviderId = RecordId


class OfferRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    provider_id: ProviderId
    mode: Channel


class VerbalRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The provider accepted by phone, promising to arrive within eta_min."""

    provider_id: ProviderId
    eta_min: EtaMin


class StepRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    step: Step
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class OfferList(msgspec.Struct):
    offers: list[Offer]


class NotificationList(msgspec.Struct):
    notifications: list[Notification]


async def automatic(request: Request) -> Response:
    actor = actor_of(request)
    hub = services_of(request)
    return JSON(await hub.dispatcher.automatic(path_id(request, "attendance_id"), actor.subject))


async def offer(request: Request) -> Response:
    actor = actor_of(request)
    body = await body_as(request, OfferRequest)
    made = await services_of(request).dispatcher.offer(
        path_id(request, "attendance_id"), body.provider_id, body.mode, actor.subject
    )
    return JSON(made, status_code=201)


async def verbal(request: Request) -> Response:
    actor = actor_of(request)
    body = await body_as(request, VerbalRequest)
    won = await services_of(request).dispatcher.verbal(
        path_id(request, "attendance_id"), body.provider_id, body.eta_min, actor.subject
    )
    return JSON(won, status_code=201)


async def step(request: Request) -> Response:
    actor = actor_of(request)
    body = await body_as(request, StepRequest)
    if body.step not in OPERATOR_STEPS:
        raise BadRequest(f"{body.step.value} is dispatch's own step, not an operator's")
    done = await services_of(request).dispatcher.step(
        path_id(request, "attendance_id"), body.step, actor.subject, reason=body.reason
    )
    return JSON(done)


async def offers(request: Request) -> Response:
    hub = services_of(request)
    return JSON(OfferList(await hub.records.dispatch.offers_of(path_id(request, "attendance_id"))))


async def notifications(request: Request) -> Response:
    """Messages sent or kept; a link's secret (in the outbox) only for admins."""
    after, limit = page_params(request)
    found = await services_of(request).records.dispatch.notifications(after_id=after, limit=limit)
    return JSON(NotificationList(_shown(request, found)))


async def notifications_of(request: Request) -> Response:
    """The messages that carried an attendance's links: to whom, when, delivered or not."""
    records = services_of(request).records
    found = await records.dispatch.notifications_of(path_id(request, "attendance_id"))
    return JSON(NotificationList(_shown(request, found)))


def _shown(request: Request, found: list[Notification]) -> list[Notification]:
    """A link's secret stays hidden from all but admins."""
    if actor_of(request).role.allows(Role.ADMIN):
        return found
    return [msgspec.structs.replace(n, body=redacted(n.body)) for n in found]


operations = [
    Operation(
        "POST",
        "/attendances/{attendance_id}/auto",
        "Dispatch automatically by the client's rules (at the schedule minus its lead time)",
        Attendance,
        errors=(404, 409),
        endpoint=automatic,
        role=Role.OPERATOR,
    ),
    Operation(
        "POST",
        "/attendances/{attendance_id}/offers",
        "Offer the job to a provider picked by hand, by app, portal or link",
        Offer,
        201,
        OfferRequest,
        errors=(404, 409),
        endpoint=offer,
        role=Role.OPERATOR,
    ),
    Operation(
        "GET",
        "/attendances/{attendance_id}/offers",
        "Every offer of the attendance, oldest first",
        OfferList,
        endpoint=offers,
        role=Role.OPERATOR,
    ),
    Operation(
        "POST",
        "/attendances/{attendance_id}/verbal",
        "Record that a provider accepted by phone: assigned at once",
        Offer,
        201,
        VerbalRequest,
        errors=(404, 409),
        endpoint=verbal,
        role=Role.OPERATOR,
    ),
    Operation(
        "POST",
        "/attendances/{attendance_id}/steps",
        "Move the attendance along its lifecycle (cancel, or a step phoned in)",
        Attendance,
        body=StepRequest,
        errors=(403, 404, 409),
        endpoint=step,
        role=Role.OPERATOR,
    ),
    Operation(
        "GET",
        "/attendances/{attendance_id}/notifications",
        "The SMS and e-mail that carried the attendance's links: recipient, when, outcome"
        " (link secrets hidden, but for admins)",
        NotificationList,
        endpoint=notifications_of,
        role=Role.OPERATOR,
    ),
    Operation(
        "GET",
        "/notifications",
        "SMS and e-mail sent or kept in the outbox, oldest first (link secrets hidden, but"
        " for admins while the message waits in the outbox)",
        NotificationList,
        query=PAGE_PARAMS,
        endpoint=notifications,
        role=Role.OPERATOR,
    ),
]
