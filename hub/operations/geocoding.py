"""Addresses from outside sources, as the form needs them. Pure.

Two formats at the boundary: Nominatim's ``jsonv2`` search results (OpenStreetMap's
geocoder, or any server speaking its API) and ViaCEP's postal-code lookup (Brazil's CEP).
Both are read into the hub's own ``Address``; the street keeps only the street's name.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from hub.errors import BadRequest
from hub.operations.beneficiaries import Address


class Found(msgspec.Struct, frozen=True, kw_only=True):
    """A geocoder's answer: an address with coordinates, and how the geocoder names it."""

    address: Address
    lat: float
    lng: float
    label: str


def cep_digits(text: str) -> str:
    """The 8 digits of a CEP typed with or without the hyphen; BadRequest otherwise."""
    written = text.strip()
    digits = re.sub(r"\D", "", written, flags=re.ASCII)
    if not re.fullmatch(r"\d{2}\.?\d{3}-?\d{3}", written, re.ASCII) or digits == "00000000":
        raise BadRequest(f"CEP {text!r} is not 8 digits (as 01310-100)", code="invalid_cep")
    return digits


def formatted_cep(digits: str) -> str:
    return f"{digits[:5]}-{digits[5:]}"


def _first(values: dict[str, Any], *names: str) -> str:
    for name in names:
        value = values.get(name)
        if value:
            return str(value)
    return ""


def from_nominatim(results: list[dict[str, Any]]) -> list[Found]:
    """Nominatim ``format=jsonv2&addressdetails=1`` results, in its order."""
    found = []
    for item in results:
        parts = item.get("address") or {}
        region = _first(parts, "ISO3166-2-lvl4")
        postcode = re.sub(r"\D", "", _first(parts, "postcode"))
        address = Address(
            street=_first(parts, "road", "pedestrian", "footway"),
            number=_first(parts, "house_number"),
            district=_first(parts, "suburb", "neighbourhood", "city_district", "quarter"),
            city=_first(parts, "city", "town", "village", "municipality"),
            state=region.split("-", 1)[1][:2] if region.startswith("BR-") else "",
            cep=formatted_cep(postcode) if len(postcode) == 8 else "",
            lat=float(item["lat"]),
            lng=float(item["lon"]),
        )
        found.append(
            Found(
                address=address,
                lat=address.lat or 0.0,
                lng=address.lng or 0.0,
                label=str(item.get("display_name", "")),
            )
        )
    return found


def from_viacep(answer: dict[str, Any]) -> Address | None:
    """ViaCEP's ``/ws/<cep>/json/`` answer; None when the CEP does not exist."""
    if answer.get("erro"):
        return None
    cep = re.sub(r"\D", "", str(answer.get("cep", "")))
    return Address(
        street=str(answer.get("logradouro", "")),
        complement=str(answer.get("complemento", "")),
        district=str(answer.get("bairro", "")),
        city=str(answer.get("localidade", "")),
        state=str(answer.get("uf", ""))[:2],
        cep=formatted_cep(cep) if len(cep) == 8 else "",
    )
