"""The beneficiary's live page over REST (hub/operations/track_pages.py).

Public routes, the token in the path being the credential: ``GET /track/{token}`` (the
page's view; opening it changes nothing), ``GET /track/{token}/stream`` (the same view as
server-sent events whenever it changes, at most every ``PUSH_S``: a read-only stream, no
privileged socket), ``POST /track/{token}/position`` and ``POST /track/{token}/rating``.
The operator's: send (again) or revoke an attendance's link, and take the position the
beneficiary confirmed as the origin.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from hub.api.auth import actor_of
from hub.api.openapi import Operation
from hub.api.responses import JSON, body_as, path_id
from hub.clock import now_ms
from hub.errors import Conflict, NotFound, StoreUnavailable
from hub.operations.attendances import Attendance, AttendanceState
from hub.operations.link_tokens import link_token, new_secret, parse_token, secret_hash
from hub.operations.services import CATALOGUE
from hub.operations.track_pages import (
    BEFORE_DISPATCH,
    MOVING,
    TRACK_PAGE,
    TRACK_PATH,
    Helper,
    MapSpot,
    PositionReport,
    Rating,
    TrackLink,
    TrackSent,
    TrackStatus,
    TrackView,
    accepted_origin,
    checked_rating,
    confirmation,
    expires_ms,
    first_name,
    opened,
    page_text,
    status,
    timeline,
)
from hub.operations.users import Role
from hub.services import Services, services_of

PUSH_S = 3.0  # the stream looks for changes this often
STREAM_S = 300.0  # then it ends; the browser's EventSource opens it again
_encode = msgspec.json.Encoder().encode


async def send_page(hub: Services, attendance: Attendance) -> TrackSent:
    """A new link for the attendance's page (an earlier one stops working), by SMS to the
    requester's phone."""
    secret = new_secret()
    await hub.records.track_pages.put(attendance.id, secret_hash(secret), now_ms())
    url = hub.settings.public_url.rstrip("/") + TRACK_PAGE + link_token(attendance.id, secret)
    kind = CATALOGUE.get(attendance.service or "")
    text = page_text(attendance, kind.name_pt if kind else "", url)
    note = await hub.notifier.sms_to(attendance.requester_phone, text, None)
    return TrackSent(attendance_id=attendance.id, phone=note.recipient, outcome=note.outcome)


async def _opened(request: Request) -> tuple[Services, TrackLink, Attendance]:
    attendance_id, digest = parse_token(request.path_params["token"])
    hub = services_of(request)
    link = await hub.records.track_pages.get(attendance_id)
    if link is not None and not hmac.compare_digest(link.secret_hash, digest):
        link = None
    attendance = await hub.records.attendances.get(attendance_id)
    return (hub, *opened(link, attendance, now_ms()))


async def _view(hub: Services, link: TrackLink, a: Attendance) -> TrackView:
    now = now_ms()
    helper = position = eta = None
    if a.provider_id is not None:
        provider = await hub.records.providers.get(a.provider_id)
        if provider is not None:
            helper = Helper(first_name=first_name(provider.name), service=a.service)
        if a.state in MOVING:
            here = await hub.live.positions.get(a.provider_id)
            if here is not None:
                position = MapSpot(lat=here.lat, lng=here.lng, at_ms=here.t_ms)
            timing = hub.forecast(a, now)
            eta = None if timing is None else timing.current_eta_ms
    origin = a.origin
    return TrackView(
        service=a.service,
        kind=a.kind.value,
        state=a.state.value,
        origin=None if origin is None else origin.address,
        origin_point=None if origin is None else MapSpot(lat=origin.lat, lng=origin.lng),
        steps=timeline(await hub.records.attendances.log(a.id)),
        helper=helper,
        helper_position=position,
        eta_ms=eta,
        confirmed=link.confirmed,
        can_confirm=a.state in BEFORE_DISPATCH,
        can_rate=a.state is AttendanceState.COMPLETED and link.rating is None,
        rating=link.rating,
        comment=link.comment,
        expires_ms=expires_ms(a),
    )


async def page(request: Request) -> Response:
    hub, link, attendance = await _opened(request)
    return JSON(await _view(hub, link, attendance), headers={"Cache-Control": "no-store"})


async def stream(request: Request) -> Response:
    hub, _, _ = await _opened(request)  # a bad link is refused as a plain answer

    async def views() -> AsyncIterator[bytes]:
        last, started = b"", asyncio.get_running_loop().time()
        while asyncio.get_running_loop().time() - started < STREAM_S:
            if hub.drain.draining:
                return
            try:
                shown = _encode(await _view(*await _opened(request)))
            except NotFound as exc:  # expired or revoked meanwhile: the page says so
                yield b"event: closed\ndata: " + _encode({"code": exc.code}) + b"\n\n"
                return
            except StoreUnavailable:  # a store outage: the page keeps what it shows
                shown = last
            yield b"data: " + shown + b"\n\n" if shown != last else b": unchanged\n\n"
            last = shown
            await asyncio.sleep(PUSH_S)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}  # nginx: no buffering
    return StreamingResponse(views(), media_type="text/event-stream", headers=headers)


async def position(request: Request) -> Response:
    hub, _, attendance = await _opened(request)
    report = await body_as(request, PositionReport)
    confirmed = confirmation(attendance, report, now_ms())
    await hub.records.track_pages.confirm(attendance.id, confirmed)
    await hub.dispatcher.announce(attendance, "position_confirmed", "beneficiary")
    return await _answer(hub, attendance.id)


async def rating(request: Request) -> Response:
    hub, link, attendance = await _opened(request)
    rated = checked_rating(attendance, link, await body_as(request, Rating))
    stored = await hub.records.track_pages.rate(attendance.id, rated, now_ms())  # replay: no
    if stored and attendance.provider_id is not None:  # the provider's figures, every node
        await hub.matching_feed.kpis_changed(attendance.provider_id)
    return await _answer(hub, attendance.id)


async def _answer(hub: Services, attendance_id: int) -> Response:
    link = await hub.records.track_pages.get(attendance_id)
    attendance = await hub.records.attendances.get(attendance_id)
    return JSON(await _view(hub, *opened(link, attendance, now_ms())))


async def _attendance(request: Request) -> tuple[Services, Attendance]:
    hub = services_of(request)
    found = await hub.records.attendances.get(path_id(request, "attendance_id"))
    if found is None:
        raise NotFound("no such attendance")
    return hub, found


async def send(request: Request) -> Response:
    hub, attendance = await _attendance(request)
    return JSON(await send_page(hub, attendance), status_code=201)


async def revoke(request: Request) -> Response:
    hub, attendance = await _attendance(request)
    now = now_ms()
    await hub.records.track_pages.revoke(attendance.id, now)
    link = await hub.records.track_pages.get(attendance.id)
    if link is None:
        raise NotFound("the attendance has no live page")
    return JSON(status(link, attendance, now))


async def accept_position(request: Request) -> Response:
    hub, attendance = await _attendance(request)
    actor = actor_of(request)
    link = await hub.records.track_pages.get(attendance.id)
    origin, confirmed = accepted_origin(attendance, link)
    facts = {"lat": origin.lat, "lng": origin.lng, "distance_m": confirmed.distance_m}
    if not await hub.records.track_pages.accept(
        attendance.id, origin, actor.subject, facts, now_ms()
    ):
        raise Conflict(
            "a provider already has the attendance",
            code="illegal_transition",
            step="accept_position",
            state="assigned",
        )
    moved = await hub.records.attendances.get(attendance.id)
    assert moved is not None
    await hub.dispatcher.announce(moved, "origin_confirmed", actor.subject)
    return JSON(moved)


TOKEN = TRACK_PATH + "{token}"
ONE = "/attendances/{attendance_id}/track-page"

operations = [
    Operation(
        "GET",
        TOKEN,
        "The beneficiary's live page: the request, the steps, the provider's first name,"
        " live position and ETA; opening it changes nothing",
        TrackView,
        errors=(404,),
        endpoint=page,
    ),
    Operation(
        "GET",
        TOKEN + "/stream",
        "The same view as server-sent events (text/event-stream: a `data:` line with the"
        f" view whenever it changed, looked at every {PUSH_S:g} s; `event: closed` when the"
        f" link expires or is revoked; the stream ends after {STREAM_S:g} s and the browser"
        " opens it again)",
        TrackView,
        errors=(404,),
        endpoint=stream,
    ),
    Operation(
        "POST",
        TOKEN + "/position",
        "The beneficiary confirms or corrects their position, before dispatch only",
        TrackView,
        body=PositionReport,
        errors=(400, 404, 409),
        endpoint=position,
    ),
    Operation(
        "POST",
        TOKEN + "/rating",
        "A 1-5 rating and an optional comment, once the attendance is completed (once)",
        TrackView,
        body=Rating,
        errors=(400, 404, 409),
        endpoint=rating,
    ),
    Operation(
        "POST",
        ONE,
        "Send the requester a new link to the attendance's live page by SMS (an earlier"
        " link stops working)",
        TrackSent,
        status=201,
        errors=(404,),
        endpoint=send,
        role=Role.OPERATOR,
    ),
    Operation(
        "DELETE",
        ONE,
        "Revoke the attendance's live page: its link answers link_invalid from now on",
        TrackStatus,
        errors=(404,),
        endpoint=revoke,
        role=Role.OPERATOR,
    ),
    Operation(
        "POST",
        ONE + "/accept-position",
        "Take the position the beneficiary confirmed as the origin (logged), before dispatch",
        Attendance,
        errors=(404, 409),
        endpoint=accept_position,
        role=Role.OPERATOR,
    ),
]
