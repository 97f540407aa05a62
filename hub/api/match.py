"""Matching over REST: the ranked candidates for a job, and why a provider is not one.

Any console user (operator role and up) may ask.  Every query is answered from memory (the
in-process index), never a store.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from hub.api.openapi import Operation, Param
from hub.api.responses import JSON, body_as, int_param
from hub.clock import now_ms
from hub.errors import BadRequest
from hub.matching.queries import (
    CandidatePage,
    ExplainQuery,
    Explanation,
    MatchQuery,
    NamedProviders,
    checked_query,
    with_road_etas,
)
from hub.matching.routing import RoutingUnavailable
from hub.operations.users import Role
from hub.services import services_of

log = logging.getLogger(__name__)

MIN_NAME = 2  # characters of a provider's name to search by


async def candidates(request: Request) -> Response:
    hub = services_of(request)
    query = checked_query(await body_as(request, MatchQuery))
    page = hub.matching.candidates(query, now_ms())
    if hub.router is not None and page.candidates:
        points = [(c.lat, c.lng) for c in page.candidates]
        try:
            minutes = await hub.router.minutes((query.origin.lat, query.origin.lng), points)
        except RoutingUnavailable as exc:
            log.warning("road ETAs unavailable; straight-line ETAs kept", extra={"err": str(exc)})
        else:
            page = with_road_etas(page, minutes)
    return JSON(page)


async def named(request: Request) -> Response:
    piece = request.query_params.get("q", "")
    if len(piece.strip()) < MIN_NAME:
        raise BadRequest(
            f"type at least {MIN_NAME} characters of the name",
            field="q",
            problem="too_short",
            min_length=MIN_NAME,
        )
    limit = int_param(request, "limit", 20, 1, 100)
    return JSON(services_of(request).matching.named(piece[:200], limit))


async def explain(request: Request) -> Response:
    query = await body_as(request, ExplainQuery)
    return JSON(services_of(request).matching.explain(query, now_ms()))


operations = [
    Operation(
        "POST",
        "/match",
        "Ranked candidates for a job: nearest eligible first, then by score, paginated",
        CandidatePage,
        body=MatchQuery,
        endpoint=candidates,
        role=Role.OPERATOR,
    ),
    Operation(
        "GET",
        "/match/providers",
        "Active providers by a piece of their name (case and accents ignored), by name: to"
        " pick one for /match/explain",
        NamedProviders,
        query=(
            Param("q", f"a piece of the name (at least {MIN_NAME} characters)", kind="string"),
            Param("limit", "at most this many (20 by default)", 1, 100),
        ),
        endpoint=named,
        role=Role.OPERATOR,
    ),
    Operation(
        "POST",
        "/match/explain",
        "Why one provider is, or is not, a candidate (every failed rule)",
        Explanation,
        body=ExplainQuery,
        errors=(404,),
        endpoint=explain,
        role=Role.OPERATOR,
    ),
]
