"""Plans, beneficiaries and their vehicles: who is covered for what. Pure.

A plan belongs to a client and lists the services it covers with their usage limits.  A
beneficiary belongs to a client and a plan, is identified by CPF, and has vehicles
(plates in the old or the Mercosul format).  ``search_kind`` decides how an operator's
search box is read: a valid CPF, a plate, or a piece of a name.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

import msgspec

from hub.errors import BadRequest
from hub.operations.bounds import Instant, RecordId
from hub.operations.documents import address_cep, address_state, cpf_digits, folded, plate
from hub.operations.services import service

Cents = Annotated[int, msgspec.Meta(ge=0, le=10**9)]


class Limit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How much of one service a plan covers; None means no limit of that kind."""

    uses_per_period: Annotated[int, msgspec.Meta(ge=0, le=1000)] | None = None
    period_days: Annotated[int, msgspec.Meta(ge=1, le=3660)] = 365
    km_limit: Annotated[float, msgspec.Meta(ge=0, le=10_000)] | None = None
    value_cap_cents: Cents | None = None


class NewPlan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    client_id: RecordId
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    coverage: dict[str, Limit]


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    client_id: int
    name: str
    coverage: dict[str, Limit]


class Address(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The seed's rule: ``street`` holds only the street's name; the number has its field."""

    street: Annotated[str, msgspec.Meta(max_length=200)] = ""
    number: Annotated[str, msgspec.Meta(max_length=20)] = ""
    complement: Annotated[str, msgspec.Meta(max_length=200)] = ""
    district: Annotated[str, msgspec.Meta(max_length=200)] = ""
    city: Annotated[str, msgspec.Meta(max_length=200)] = ""
    state: Annotated[str, msgspec.Meta(max_length=2)] = ""
    cep: Annotated[str, msgspec.Meta(max_length=9)] = ""
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    lng: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None


class NewVehicle(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    plate: Annotated[str, msgspec.Meta(max_length=10)]
    model: Annotated[str, msgspec.Meta(max_length=200)] = ""
    year: Annotated[int, msgspec.Meta(ge=1900, le=2100)] | None = None
    colour: Annotated[str, msgspec.Meta(max_length=50)] = ""


class Vehicle(NewVehicle, frozen=True, kw_only=True):
    id: int


class NewBeneficiary(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    client_id: RecordId
    plan_id: RecordId
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    cpf: Annotated[str, msgspec.Meta(max_length=20)]
    phones: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=32)]], msgspec.Meta(max_length=5)
    ] = []
    address: Address = Address()
    active_from_ms: Instant | None = None
    active_until_ms: Instant | None = None
    vehicles: Annotated[list[NewVehicle], msgspec.Meta(max_length=20)] = []


class Beneficiary(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    client_id: int
    plan_id: int
    name: str
    cpf: str
    phones: list[str]
    address: Address
    active_from_ms: int | None
    active_until_ms: int | None
    vehicles: list[Vehicle]


MIN_SEARCH = 3  # a name piece is found through its trigrams


class SearchKind(StrEnum):
    CPF = "cpf"
    PLATE = "plate"
    NAME = "name"


def search_kind(term: str) -> tuple[SearchKind, str]:
    """How to read the search box: (kind, canonical term)."""
    text = term.strip()
    if len(text) < MIN_SEARCH:
        raise BadRequest(
            f"type at least {MIN_SEARCH} characters to search",
            field="q",
            problem="too_short",
            min_length=MIN_SEARCH,
        )
    try:
        return SearchKind.CPF, cpf_digits(text)
    except BadRequest:
        pass
    try:
        return SearchKind.PLATE, plate(text)
    except BadRequest:
        pass
    return SearchKind.NAME, folded(text)


_TRAILING_NUMBER = re.compile(r",\s*(n[º°o.]?\s*)?\d+\w?\s*$", re.IGNORECASE)


def check_street(address: Address) -> None:
    """The seed's rule: "Avenida Nove de Julho, 150" goes as street and number apart."""
    if _TRAILING_NUMBER.search(address.street):
        raise BadRequest(
            f"street {address.street!r} holds a number: put only the street's name in street"
            " and the number in number",
            field="street",
            problem="has_number",
        )


def checked_plan(new: NewPlan) -> NewPlan:
    for code in new.coverage:
        service(code)
    name = " ".join(new.name.split())
    if not name:
        raise BadRequest("name must not be blank")
    return msgspec.structs.replace(new, name=name)


def checked_beneficiary(new: NewBeneficiary) -> NewBeneficiary:
    name = " ".join(new.name.split())
    if not name:
        raise BadRequest("name must not be blank")
    if (new.address.lat is None) != (new.address.lng is None):
        raise BadRequest("address lat and lng go together")
    check_street(new.address)
    if (
        new.active_from_ms is not None
        and new.active_until_ms is not None
        and new.active_until_ms < new.active_from_ms
    ):
        raise BadRequest("active_until is before active_from")
    vehicles = [msgspec.structs.replace(v, plate=plate(v.plate)) for v in new.vehicles]
    plates = [v.plate for v in vehicles]
    if len(set(plates)) != len(plates):
        raise BadRequest("the same plate twice")
    address = msgspec.structs.replace(
        new.address, state=address_state(new.address.state), cep=address_cep(new.address.cep)
    )
    return msgspec.structs.replace(
        new, name=name, cpf=cpf_digits(new.cpf), vehicles=vehicles, address=address
    )
