"""Attendances over REST: the form's plan usage, registering, reading with the log."""

from __future__ import annotations

import logging

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from hub.api.auth import actor_of
from hub.api.openapi import Operation
from hub.api.responses import JSON, body_as, path_id
from hub.api.track_pages import send_page
from hub.clock import now_ms
from hub.dispatch.punctuality import Punctuality
from hub.errors import Conflict, HubError, NotFound
from hub.operations.attendances import (
    Attendance,
    AttendanceLogEntry,
    Kind,
    NewAttendance,
    Usage,
    checked_attendance,
    first_state,
    usage,
)
from hub.operations.events import EventState
from hub.operations.providers import Provider
from hub.operations.records import OperationsRecords
from hub.operations.services import CATALOGUE, ServiceType
from hub.operations.track_pages import TrackStatus, status
from hub.operations.users import Role, User
from hub.services import services_of

log = logging.getLogger(__name__)


class UsageList(msgspec.Struct):
    plan_id: int
    usage: list[Usage]


class AttendanceView(msgspec.Struct):
    attendance: Attendance
    log: list[AttendanceLogEntry]
    punctuality: Punctuality | None = None  # once a provider has it
    # Who the attendance and its log name, by actor: "user:<id>" and "provider:<id>" (its
    # provider, and every provider_id in the log's facts) -> the name to show.
    names: dict[str, str] = {}
    track_page: TrackStatus | None = None  # the beneficiary's live page, once sent


class AttendanceList(msgspec.Struct):
    attendances: list[Attendance]


class ServiceList(msgspec.Struct):
    services: list[ServiceType]


async def services(request: Request) -> Response:
    """The service catalogue (the form offers avulso services from it)."""
    return JSON(ServiceList(sorted(CATALOGUE.values(), key=lambda s: s.code)))


async def plan_usage(request: Request) -> Response:
    """Every service of the beneficiary's plan, with its limit, what was used and remains."""
    records = services_of(request).records
    beneficiary = await records.beneficiaries.get(path_id(request, "beneficiary_id"))
    if beneficiary is None:
        raise NotFound("no such beneficiary")
    plan = await records.plans.get(beneficiary.plan_id)
    assert plan is not None  # a foreign key
    now = now_ms()
    rows = [
        usage(code, limit, await records.attendances.covered_uses(beneficiary.id, code), now)
        for code, limit in sorted(plan.coverage.items())
    ]
    return JSON(UsageList(plan.id, rows))


async def register(request: Request) -> Response:
    actor = actor_of(request)
    records = services_of(request).records
    event = await records.events.get(path_id(request, "event_id"))
    if event is None:
        raise NotFound("no such event")
    if event.state is not EventState.OPEN:
        raise Conflict("the event is closed: reopen it first", code="event_closed")
    new = await body_as(request, NewAttendance)
    beneficiary = await records.beneficiaries.get(event.beneficiary_id)
    assert beneficiary is not None  # a foreign key
    plan = await records.plans.get(beneficiary.plan_id)
    assert plan is not None  # a foreign key
    now = now_ms()
    used = None
    code = new.service
    if new.kind is Kind.ASSISTANCE and code is not None and code in plan.coverage:
        uses = await records.attendances.covered_uses(beneficiary.id, code)
        used = usage(code, plan.coverage[code], uses, now)
    checked = checked_attendance(new, plan, used, now, services_of(request).settings.road_factor)
    created = await records.attendances.add(
        event, checked, first_state(checked.kind), actor.subject, now
    )
    dispatcher = services_of(request).dispatcher
    await dispatcher.announce(created, "create", actor.subject)
    if new.track_page if new.track_page is not None else new.kind is Kind.ASSISTANCE:
        try:
            await send_page(services_of(request), created)
        except HubError as exc:  # registered all the same: the operator can send it again
            log.warning(
                "live page link not sent", extra={"attendance": created.id, "err": exc.message}
            )
    client = await records.clients.get(event.client_id)
    if created.kind is Kind.ASSISTANCE and client is not None and client.rules.automatic:
        created = await dispatcher.automatic(created.id, actor.subject)
    return JSON(created, status_code=201)


async def of_beneficiary(request: Request) -> Response:
    """The beneficiary's attendances, newest first: the history the form shows."""
    records = services_of(request).records
    found = await records.attendances.of_beneficiary(path_id(request, "beneficiary_id"))
    return JSON(AttendanceList(found))


async def of_event(request: Request) -> Response:
    records = services_of(request).records
    return JSON(AttendanceList(await records.attendances.of_event(path_id(request, "event_id"))))


async def one(request: Request) -> Response:
    records = services_of(request).records
    found = await records.attendances.get(path_id(request, "attendance_id"))
    if found is None:
        raise NotFound("no such attendance")
    timing = services_of(request).forecast(found, now_ms())
    log = await records.attendances.log(found.id)
    link = await records.track_pages.get(found.id)
    page = None if link is None else status(link, found, now_ms())
    return JSON(AttendanceView(found, log, timing, await _names(records, found, log), page))


async def _names(
    records: OperationsRecords, attendance: Attendance, log: list[AttendanceLogEntry]
) -> dict[str, str]:
    """The names of the users and providers an attendance's view mentions."""
    actors = {entry.actor for entry in log}
    actors |= {f"provider:{e.facts['provider_id']}" for e in log if "provider_id" in e.facts}
    if attendance.provider_id is not None:
        actors.add(f"provider:{attendance.provider_id}")
    names: dict[str, str] = {}
    for actor in sorted(actors):
        kind, _, number = actor.partition(":")
        if not number.isdigit():
            continue
        who: User | Provider | None = None
        if kind == "user":
            who = await records.users.get(int(number))
        elif kind == "provider":
            who = await records.providers.get(int(number))
        if who is not None:
            names[actor] = who.name
    return names


operations = [
    Operation(
        "GET",
        "/services",
        "The service catalogue",
        ServiceList,
        endpoint=services,
        role=Role.OPERATOR,
    ),
    Operation(
        "GET",
        "/beneficiaries/{beneficiary_id}/usage",
        "The plan's services with limits, used and remaining",
        UsageList,
        errors=(404,),
        endpoint=plan_usage,
        role=Role.OPERATOR,
    ),
    Operation(
        "GET",
        "/beneficiaries/{beneficiary_id}/attendances",
        "The beneficiary's attendances, newest first",
        AttendanceList,
        endpoint=of_beneficiary,
        role=Role.OPERATOR,
    ),
    Operation(
        "POST",
        "/events/{event_id}/attendances",
        "Register an attendance (assistance, question or theft)",
        Attendance,
        201,
        NewAttendance,
        errors=(404, 409),
        endpoint=register,
        role=Role.OPERATOR,
    ),
    Operation(
        "GET",
        "/events/{event_id}/attendances",
        "The event's attendances",
        AttendanceList,
        endpoint=of_event,
        role=Role.OPERATOR,
    ),
    Operation(
        "GET",
        "/attendances/{attendance_id}",
        "An attendance with its log",
        AttendanceView,
        errors=(404,),
        endpoint=one,
        role=Role.OPERATOR,
    ),
]
