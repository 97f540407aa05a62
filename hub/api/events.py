"""Events over REST: open one for a beneficiary (with their history), finish the intake
(stopping the TMA clock), close and reopen with a reason; every change is logged."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from hub.api.auth import actor_of
from hub.api.openapi import Operation
from hub.api.responses import JSON, body_as, path_id
from hub.auth import Actor
from hub.clock import now_ms
from hub.errors import BadRequest, Conflict, NotFound
from hub.operations.events import (
    Change,
    Event,
    EventAction,
    EventLogEntry,
    NewEvent,
    apply,
    tma_ms,
)
from hub.operations.users import Role
from hub.services import services_of


class Opened(msgspec.Struct):
    event: Event
    tma_ms: int
    history: list[Event]  # the beneficiary's earlier events, newest first


class EventView(msgspec.Struct):
    event: Event
    tma_ms: int
    log: list[EventLogEntry]


class EventList(msgspec.Struct):
    events: list[Event]


async def open_event(request: Request) -> Response:
    actor = actor_of(request)
    records = services_of(request).records
    new = await body_as(request, NewEvent)
    beneficiary = await records.beneficiaries.get(new.beneficiary_id)
    if beneficiary is None:
        raise BadRequest(f"no beneficiary {new.beneficiary_id}")
    if new.vehicle_id is not None and new.vehicle_id not in {v.id for v in beneficiary.vehicles}:
        raise BadRequest(f"vehicle {new.vehicle_id} is not the beneficiary's")
    history = await records.events.of_beneficiary(beneficiary.id)
    event = await records.events.open(new, beneficiary.client_id, actor.subject, now_ms())
    return JSON(Opened(event, tma_ms(event, now_ms()), history), status_code=201)


async def _event(request: Request) -> Event:
    found: Event | None = await services_of(request).records.events.get(
        path_id(request, "event_id")
    )
    if found is None:
        raise NotFound("no such event")
    return found


async def one_event(request: Request) -> Response:
    event = await _event(request)
    log = await services_of(request).records.events.log(event.id)
    return JSON(EventView(event, tma_ms(event, now_ms()), log))


async def _act(request: Request, action: EventAction, actor: Actor, reason: str) -> Response:
    records = services_of(request).records
    before = await _event(request)
    when = now_ms()
    after = apply(before, action, reason, when)
    stored = await records.events.change(
        before, after, action.value, actor.subject, reason.strip(), when
    )
    if stored is None:
        raise Conflict("the event changed meanwhile; reload it")
    return JSON(EventView(stored, tma_ms(stored, when), await records.events.log(stored.id)))


def action_route(action: EventAction) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        actor = actor_of(request)
        change = await body_as(request, Change) if await request.body() else Change()
        return await _act(request, action, actor, change.reason)

    return handler


async def events_of_beneficiary(request: Request) -> Response:
    records = services_of(request).records
    return JSON(
        EventList(
            await records.events.of_beneficiary(path_id(request, "beneficiary_id"), limit=100)
        )
    )


_ONE = "/events/{event_id}"

operations = [
    Operation(
        "POST",
        "/events",
        "Open an event (starts the TMA clock); with the history",
        Opened,
        201,
        NewEvent,
        endpoint=open_event,
        role=Role.OPERATOR,
    ),
    Operation(
        "GET",
        _ONE,
        "An event with its TMA and its log",
        EventView,
        errors=(404,),
        endpoint=one_event,
        role=Role.OPERATOR,
    ),
    Operation(
        "POST",
        _ONE + "/finish-intake",
        "Stop the TMA clock",
        EventView,
        errors=(404, 409),
        endpoint=action_route(EventAction.FINISH_INTAKE),
        role=Role.OPERATOR,
    ),
    Operation(
        "POST",
        _ONE + "/close",
        "Close, with a reason",
        EventView,
        body=Change,
        errors=(404, 409),
        endpoint=action_route(EventAction.CLOSE),
        role=Role.OPERATOR,
    ),
    Operation(
        "POST",
        _ONE + "/reopen",
        "Reopen, with a reason",
        EventView,
        body=Change,
        errors=(404, 409),
        endpoint=action_route(EventAction.REOPEN),
        role=Role.OPERATOR,
    ),
    Operation(
        "GET",
        "/beneficiaries/{beneficiary_id}/events",
        "A beneficiary's events",
        EventList,
        endpoint=events_of_beneficiary,
        role=Role.OPERATOR,
    ),
]
