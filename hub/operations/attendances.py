"""Attendances: what is done inside an event (a tow, a taxi, a question, a theft). Pure.

An assistance names a service of the catalogue; the beneficiary's plan says whether it is
covered and how much of it remains.  A service the plan does not cover, or has used up,
can still be opened as *avulso* (out of plan), flagged, with a reason.  Questions and
thefts are registered without dispatch; a theft records the police report.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import msgspec

from hub.errors import BadRequest, Conflict
from hub.geo import distance_m
from hub.operations.beneficiaries import Address, Limit, Plan, check_street
from hub.operations.bounds import Instant
from hub.operations.providers import normalise_phone
from hub.operations.services import service

DAY_MS = 86_400_000


class Kind(StrEnum):
    ASSISTANCE = "assistance"
    QUESTION = "question"
    THEFT = "theft"


class AttendanceState(StrEnum):
    """Where an attendance is; hub/dispatch/lifecycle.py holds the transition table."""

    REGISTERED = "registered"  # a question or a theft: nothing to dispatch
    AWAITING_DISPATCH = "awaiting_dispatch"  # an assistance without a provider (the panel)
    OFFERING = "offering"  # offers are out, none accepted yet
    ASSIGNED = "assigned"  # a provider accepted
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    IN_SERVICE = "in_service"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    GONE_ON_ARRIVAL = "gone_on_arrival"  # the provider arrived; nobody was there
    UNSUCCESSFUL = "unsuccessful"  # the provider could not do the job


class Place(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An address that dispatch can use: it must have coordinates."""

    address: Address
    lat: Annotated[float, msgspec.Meta(ge=-85.05112878, le=85.05112878)]
    lng: Annotated[float, msgspec.Meta(ge=-180, le=180)]


class NewAttendance(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Kind
    service: str | None = None  # required for an assistance
    avulso: bool = False
    avulso_reason: Annotated[str, msgspec.Meta(max_length=500)] = ""
    requester_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    requester_phone: Annotated[str, msgspec.Meta(min_length=8, max_length=32)]
    notes: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    at_ms: Instant | None = None  # when it happened; defaults to now
    scheduled_ms: Instant | None = None
    origin: Place | None = None
    destination: Place | None = None
    police_report: Annotated[str, msgspec.Meta(max_length=100)] = ""
    last_seen: Place | None = None  # theft: the vehicle's last known position
    # Send the requester the live page's link by SMS (None: for an assistance, not else).
    track_page: bool | None = None


class Attendance(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    event_id: int
    beneficiary_id: int
    kind: Kind
    service: str | None
    avulso: bool
    avulso_reason: str
    requester_name: str
    requester_phone: str
    notes: str
    at_ms: int
    scheduled_ms: int | None
    origin: Place | None
    destination: Place | None
    police_report: str
    last_seen: Place | None
    state: AttendanceState
    created_by: str
    # dispatch (hub/dispatch/): who has the job, what was promised, what happened
    provider_id: int | None = None
    assigned_ms: int | None = None
    promised_ms: int | None = None  # when the provider promised to arrive
    arrived_ms: int | None = None
    finished_ms: int | None = None
    automatic: bool = False  # an automatic cascade is running
    due_ms: int | None = None  # when dispatch looks at it again (a deadline, a stagger)
    dispatch_note: str = ""  # why no provider was found: one of dispatch/cascade.py NOTES
    price_cents: int | None = None  # avulso: the assigned provider's standard-table price
    client_id: int = 0  # the event's client (what the reports filter by)


class AttendanceLogEntry(msgspec.Struct, frozen=True, kw_only=True):
    at_ms: int
    actor: str  # user:<id>, provider:<id>, system, gps
    action: str  # create, auto, offer, refused, expired, withdrawn, assign, no_provider, a step
    detail: str = ""  # in English
    facts: dict[str, Any] = msgspec.field(default_factory=dict)  # offer_id, provider_id, ...


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    service: str
    limit: Limit
    used: int  # attendances of this service within the limit's period
    remaining: int | None  # None: no limit on uses


def usage(code: str, limit: Limit, past_ms: list[int], now_ms: int) -> Usage:
    """How much of a service the beneficiary used in the limit's period up to now."""
    since = now_ms - limit.period_days * DAY_MS
    used = sum(1 for at in past_ms if since <= at <= now_ms)
    remaining = None if limit.uses_per_period is None else max(0, limit.uses_per_period - used)
    return Usage(service=code, limit=limit, used=used, remaining=remaining)


def checked_attendance(
    new: NewAttendance, plan: Plan, used: Usage | None, now_ms: int, road_factor: float = 1.3
) -> NewAttendance:
    """Refuse what the form must not let through; fill the defaults.

    A tow longer than the plan's km limit (straight line times the road factor, origin to
    destination) is refused unless opened as avulso, like a service used up.
    """
    name = " ".join(new.requester_name.split())
    if not name:
        raise BadRequest("requester name is required", problem="required", field="requester_name")
    phone = normalise_phone(new.requester_phone)
    for place in (new.origin, new.destination, new.last_seen):
        if place is not None:
            check_street(place.address)
    if new.kind is Kind.ASSISTANCE:
        if new.service is None:
            raise BadRequest("an assistance needs a service", problem="required", field="service")
        kind = service(new.service)
        if new.origin is None:
            raise BadRequest("an assistance needs an origin", problem="required", field="origin")
        if kind.needs_destination and new.destination is None:
            raise BadRequest(
                f"{new.service} needs a destination", problem="required", field="destination"
            )
        covered = new.service in plan.coverage
        exhausted = used is not None and used.remaining == 0
        if not new.avulso and (not covered or exhausted):
            why = "is not covered by the plan" if not covered else "is used up in the plan"
            raise Conflict(
                f"{new.service} {why}: open it as avulso, with a reason",
                code="service_not_covered" if not covered else "service_used_up",
                service=new.service,
            )
        limit = plan.coverage.get(new.service)
        if limit is not None and limit.km_limit is not None and new.destination is not None:
            km = job_km(new.origin, new.destination, road_factor)
            if km > limit.km_limit and not new.avulso:
                raise Conflict(
                    f"the {new.service} is about {km:.0f} km and the plan covers"
                    f" {limit.km_limit:g} km: open it as avulso, with a reason",
                    code="over_km_limit",
                    service=new.service,
                    km=round(km),
                    limit_km=limit.km_limit,
                )
        if new.avulso and not new.avulso_reason.strip():
            raise BadRequest(
                "an avulso attendance needs a reason", problem="required", field="avulso_reason"
            )
    else:
        if new.service is not None or new.avulso:
            raise BadRequest(
                f"a {new.kind.value} is not dispatched: no service, no avulso",
                field="kind",
                problem="not_dispatched",
                kind=new.kind.value,
            )
        if new.kind is Kind.THEFT and not new.police_report.strip():
            raise BadRequest(
                "a theft needs the police report number",
                problem="required",
                field="police_report",
            )
    if new.scheduled_ms is not None and new.scheduled_ms < now_ms - 60_000:
        raise BadRequest("the schedule is in the past", field="scheduled_ms", problem="in_past")
    return msgspec.structs.replace(
        new,
        requester_name=name,
        requester_phone=phone,
        at_ms=new.at_ms if new.at_ms is not None else now_ms,
    )


def job_km(origin: Place, destination: Place, road_factor: float) -> float:
    """The road distance a tow will drive, estimated: straight line times the road factor."""
    return distance_m(origin.lat, origin.lng, destination.lat, destination.lng) / 1000 * road_factor


def first_state(kind: Kind) -> AttendanceState:
    return (
        AttendanceState.AWAITING_DISPATCH
        if kind is Kind.ASSISTANCE
        else (AttendanceState.REGISTERED)
    )
