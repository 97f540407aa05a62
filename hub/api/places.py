"""Places for the attendance form: coordinates out of a pasted Google Maps URL."""

from __future__ import annotations

from typing import Annotated

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.api.auth import require
from hub.api.openapi import Operation
from hub.api.responses import JSON, body_as
from hub.errors import BadRequest
from hub.operations.maps_url import coordinates, is_short_link
from hub.operations.users import Role


class MapsUrl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class Coordinates(msgspec.Struct, frozen=True):
    lat: float
    lng: float


async def from_maps_url(request: Request) -> Response:
    await require(request, Role.OPERATOR)
    body = await body_as(request, MapsUrl)
    if is_short_link(body.url):
        raise BadRequest(
            "a short link (maps.app.goo.gl) must be opened first: paste the full URL it leads to"
        )
    lat, lng = coordinates(body.url)
    return JSON(Coordinates(lat, lng))


routes = [Route("/places/maps-url", from_maps_url, methods=["POST"])]

operations = [
    Operation(
        "POST",
        "/places/maps-url",
        "Coordinates out of a Google Maps URL as operators paste it",
        Coordinates,
        body=MapsUrl,
        admin=True,
        errors=(400,),
    )
]
