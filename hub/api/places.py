"""Places for the attendance form: address search (geocoder), CEP lookup, and coordinates
out of a pasted Google Maps URL (short links followed to the full one)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from hub.api.openapi import Operation, Param
from hub.api.responses import JSON, body_as
from hub.errors import BadRequest, NotFound
from hub.geocoders import GeocoderUnavailable, Nominatim, final_url
from hub.operations.beneficiaries import Address
from hub.operations.geocoding import Found, cep_digits, formatted_cep
from hub.operations.maps_url import coordinates
from hub.operations.users import Role
from hub.services import Services, services_of


class MapsUrl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class Coordinates(msgspec.Struct, frozen=True):
    lat: float
    lng: float


class FoundList(msgspec.Struct):
    results: list[Found]


class CepAnswer(msgspec.Struct):
    address: Address  # as the CEP lookup knows it (no coordinates)
    results: list[Found]  # the geocoder's candidates for it, with coordinates


async def from_maps_url(request: Request) -> Response:
    body = await body_as(request, MapsUrl)
    hub: Services = services_of(request)
    url = body.url.strip()
    short_hosts = {h.strip() for h in hub.settings.maps_short_hosts.split(",") if h.strip()}
    if (urlparse(url).hostname or "") in short_hosts:
        url = await final_url(url, hub.settings.outside_timeout_s)
    lat, lng = coordinates(url)
    return JSON(Coordinates(lat, lng))


def _geocoder(hub: Services) -> Nominatim:
    if hub.geocoder is None:
        raise GeocoderUnavailable("no geocoder is configured (HUB_GEOCODER_URL)")
    return hub.geocoder


async def search(request: Request) -> Response:
    q = request.query_params
    fields = {
        name: q.get(name, "").strip()[:200]
        for name in ("street", "number", "district", "city", "state", "cep")
    }
    if fields["cep"]:
        fields["cep"] = formatted_cep(cep_digits(fields["cep"]))
    if not (fields["street"] or fields["cep"]):
        raise BadRequest("search needs a street or a CEP")
    address = Address(
        street=fields["street"],
        number=fields["number"],
        district=fields["district"],
        city=fields["city"],
        state=fields["state"][:2],
        cep=fields["cep"],
    )
    return JSON(FoundList(await _geocoder(services_of(request)).search(address)))


async def by_cep(request: Request) -> Response:
    hub: Services = services_of(request)
    digits = cep_digits(request.path_params["cep"])
    if hub.cep is None:
        raise GeocoderUnavailable("no CEP lookup is configured (HUB_CEP_URL)")
    address = await hub.cep.lookup(digits)
    if address is None:
        raise NotFound(f"no CEP {formatted_cep(digits)}")
    results = await hub.geocoder.search(address) if hub.geocoder is not None else []
    return JSON(CepAnswer(address, results))


operations = [
    Operation(
        "POST",
        "/places/maps-url",
        "Coordinates out of a Google Maps URL as operators paste it (short links followed)",
        Coordinates,
        body=MapsUrl,
        errors=(400, 503),
        endpoint=from_maps_url,
        role=Role.OPERATOR,
    ),
    Operation(
        "GET",
        "/places/search",
        "Addresses with coordinates from the geocoder (street, number, district, city, state, cep)",
        FoundList,
        query=tuple(
            Param(name, f"the address's {name}", kind="string")
            for name in ("street", "number", "district", "city", "state", "cep")
        ),
        errors=(400, 503),
        endpoint=search,
        role=Role.OPERATOR,
    ),
    Operation(
        "GET",
        "/places/cep/{cep}",
        "The address of a CEP, and the geocoder's candidates for it",
        CepAnswer,
        errors=(400, 404, 503),
        endpoint=by_cep,
        role=Role.OPERATOR,
    ),
]
