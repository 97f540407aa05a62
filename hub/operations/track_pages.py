"""The beneficiary's live page: one link per attendance, sent to the requester's phone.

The link (``/console/track.html#<attendance id>.<secret>``) is the credential; the store
keeps only the secret's SHA-256, as for offer links, and opening it (GET) changes nothing,
because message scanners open links.  It shows the request, lets the beneficiary confirm
or correct their position before dispatch, then the provider's first name, live position
and ETA, the steps as a timeline, and at the end takes a 1-5 rating.  It works until
``KEPT_AFTER_END_MS`` after the attendance ends, or until the operator revokes it; then,
like a link that never was, it answers ``link_invalid``.  No provider phone, no other
attendance, nothing about the plan: only what ``TrackView`` holds.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from hub.errors import Conflict, NotFound
from hub.geo import distance_m
from hub.operations.attendances import Attendance, AttendanceLogEntry, AttendanceState, Place
from hub.operations.beneficiaries import Address

TRACK_PATH = "/track/"  # the API of a page; people open TRACK_PAGE, which calls it
TRACK_PAGE = "/console/track.html#"
KEPT_AFTER_END_MS = 6 * 3_600_000  # the page still answers this long after the end
BEFORE_DISPATCH = frozenset({AttendanceState.AWAITING_DISPATCH, AttendanceState.OFFERING})
MOVING = frozenset({AttendanceState.ASSIGNED, AttendanceState.EN_ROUTE})

# The timeline the page shows, from the attendance's log: action -> step.
TIMELINE = {
    "create": "registered",
    "assign": "assigned",
    "depart": "en_route",
    "arrive": "on_site",
    "start": "in_service",
    "complete": "completed",
    "cancel": "cancelled",
    "gone": "gone_on_arrival",
    "fail": "unsuccessful",
}


class Confirmed(msgspec.Struct, frozen=True, kw_only=True):
    """Where the beneficiary says they are, and how far that is from the origin entered."""

    lat: float
    lng: float
    at_ms: int
    distance_m: float | None  # None: no origin was entered


class TrackLink(msgspec.Struct, frozen=True, kw_only=True):
    attendance_id: int
    secret_hash: str
    created_ms: int
    revoked_ms: int | None = None
    confirmed: Confirmed | None = None
    accepted_ms: int | None = None  # when the operator took the confirmed position as origin
    rating: int | None = None
    comment: str = ""


class TrackStatus(msgspec.Struct, frozen=True, kw_only=True):
    """What the operator sees of an attendance's page."""

    active: bool
    created_ms: int
    confirmed: Confirmed | None
    accepted_ms: int | None
    rating: int | None
    comment: str


class PositionReport(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Where the beneficiary is (bounded as a Place, which it may become)."""

    lat: Annotated[float, msgspec.Meta(ge=-85.05112878, le=85.05112878)]
    lng: Annotated[float, msgspec.Meta(ge=-180, le=180)]


class Rating(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    stars: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class TrackSent(msgspec.Struct, frozen=True, kw_only=True):
    """A page's link sent to the requester's phone (the link itself only in the SMS)."""

    attendance_id: int
    phone: str
    outcome: str  # the SMS's: "sent", "outbox" (no gateway configured) or "failed: ..."


class TimelineStep(msgspec.Struct, frozen=True, kw_only=True):
    step: str  # registered, assigned, en_route, on_site, in_service, completed, ...
    at_ms: int


class MapSpot(msgspec.Struct, frozen=True, kw_only=True):
    lat: float
    lng: float
    at_ms: int | None = None


class Helper(msgspec.Struct, frozen=True, kw_only=True):
    first_name: str
    service: str | None


class TrackView(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the page shows, and nothing else."""

    service: str | None
    kind: str
    state: str
    origin: Address | None  # as entered
    origin_point: MapSpot | None
    steps: list[TimelineStep]
    helper: Helper | None  # once a provider has it
    helper_position: MapSpot | None  # while the provider is on the way
    eta_ms: int | None
    confirmed: Confirmed | None
    can_confirm: bool  # before dispatch only
    can_rate: bool  # once completed, until rated
    rating: int | None
    comment: str
    expires_ms: int | None  # None: while the attendance lasts


def expires_ms(attendance: Attendance) -> int | None:
    return None if attendance.finished_ms is None else attendance.finished_ms + KEPT_AFTER_END_MS


def opened(
    link: TrackLink | None, attendance: Attendance | None, now_ms: int
) -> tuple[TrackLink, Attendance]:
    """The link and its attendance, unless the link is revoked or past its time: NotFound
    (link_invalid) then, as for a link that never was."""
    if link is None or attendance is None or link.revoked_ms is not None:
        raise NotFound("this link is not valid", code="link_invalid")
    until = expires_ms(attendance)
    if until is not None and now_ms >= until:
        raise NotFound("this link is not valid", code="link_invalid")
    return link, attendance


def confirmation(attendance: Attendance, report: PositionReport, now_ms: int) -> Confirmed:
    """The beneficiary's position, accepted before dispatch only."""
    if attendance.state not in BEFORE_DISPATCH:
        raise Conflict(
            "a provider already has the attendance: the position can no longer change",
            code="illegal_transition",
            step="confirm_position",
            state=attendance.state.value,
        )
    origin = attendance.origin
    far = None if origin is None else distance_m(origin.lat, origin.lng, report.lat, report.lng)
    return Confirmed(lat=report.lat, lng=report.lng, at_ms=now_ms, distance_m=far)


def checked_rating(attendance: Attendance, link: TrackLink, rating: Rating) -> Rating:
    if attendance.state is not AttendanceState.COMPLETED:
        raise Conflict(
            "the attendance is not completed yet",
            code="illegal_transition",
            step="rate",
            state=attendance.state.value,
        )
    if link.rating is not None and (link.rating, link.comment) != (rating.stars, rating.comment):
        raise Conflict("the attendance was already rated", code="conflict")
    return msgspec.structs.replace(rating, comment=" ".join(rating.comment.split()))


def accepted_origin(attendance: Attendance, link: TrackLink | None) -> tuple[Place, Confirmed]:
    """The origin the operator takes from the beneficiary's confirmed position (the
    address as entered, the coordinates confirmed), and that position."""
    if link is None or link.confirmed is None:
        raise Conflict("the beneficiary has not confirmed a position", code="conflict")
    if attendance.state not in BEFORE_DISPATCH:
        raise Conflict(
            "a provider already has the attendance",
            code="illegal_transition",
            step="accept_position",
            state=attendance.state.value,
        )
    address = attendance.origin.address if attendance.origin is not None else Address()
    at = link.confirmed
    return Place(address=address, lat=at.lat, lng=at.lng), at


def timeline(log: list[AttendanceLogEntry]) -> list[TimelineStep]:
    return [
        TimelineStep(step=TIMELINE[e.action], at_ms=e.at_ms) for e in log if e.action in TIMELINE
    ]


def page_text(attendance: Attendance, service_name: str, url: str) -> str:
    """The SMS that carries the page's link (in Portuguese: the beneficiary's language)."""
    what = service_name or "atendimento"
    return f"Acompanhe seu atendimento #{attendance.id} ({what}): {url}"


def first_name(name: str) -> str:
    return name.split()[0] if name.split() else ""


def status(link: TrackLink, attendance: Attendance, now_ms: int) -> TrackStatus:
    until = expires_ms(attendance)
    return TrackStatus(
        active=link.revoked_ms is None and (until is None or now_ms < until),
        created_ms=link.created_ms,
        confirmed=link.confirmed,
        accepted_ms=link.accepted_ms,
        rating=link.rating,
        comment=link.comment,
    )
