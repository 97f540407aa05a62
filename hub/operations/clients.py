"""Clients: the insurers and associations whose beneficiaries call. Pure.

A client carries the script operators read, and its dispatch rules: automatic or manual
dispatch, the radius providers are searched in, how long an offer stays open, how many
attempts before the attendance goes back to the panel, and the cascade style.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec

from hub.errors import BadRequest
from hub.operations.beneficiaries import Address, check_street


class Cascade(StrEnum):
    SEQUENTIAL = "sequential"  # one offer at a time; the next on refusal or expiry
    STAGGERED = "staggered"  # a new offer every stagger_s while earlier ones stay open


class DispatchRules(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    automatic: bool = False
    radius_km: Annotated[float, msgspec.Meta(gt=0, le=500)] = 50.0
    offer_deadline_s: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 60
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=50)] = 5
    cascade: Cascade = Cascade.SEQUENTIAL
    stagger_s: Annotated[int, msgspec.Meta(ge=1, le=600)] = 30
    # After a round with no taker the radius doubles, at most this many times.
    widen_rounds: Annotated[int, msgspec.Meta(ge=0, le=5)] = 2
    # A scheduled attendance is dispatched this long before its time.
    schedule_lead_min: Annotated[int, msgspec.Meta(ge=0, le=24 * 60)] = 30


class NewClient(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    script: Annotated[str, msgspec.Meta(max_length=20_000)] = ""
    rules: DispatchRules = DispatchRules()
    active: bool = True


class Client(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    script: str
    rules: DispatchRules
    active: bool
    created_ms: int


class NewPartner(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A client's partner establishment (a garage, a dealer): a destination for tows."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    address: Address
    lat: Annotated[float, msgspec.Meta(ge=-85.05112878, le=85.05112878)]
    lng: Annotated[float, msgspec.Meta(ge=-180, le=180)]


class Partner(NewPartner, frozen=True, kw_only=True):
    id: int
    client_id: int


def checked_partner(new: NewPartner) -> NewPartner:
    name = " ".join(new.name.split())
    if not name:
        raise BadRequest("name must not be blank")
    check_street(new.address)
    return msgspec.structs.replace(new, name=name)


def checked_client(new: NewClient) -> NewClient:
    name = " ".join(new.name.split())
    if not name:
        raise BadRequest("name must not be blank")
    return msgspec.structs.replace(new, name=name)
