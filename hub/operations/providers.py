"""The provider registry's records and the rules for creating them. Pure.

Identity, contact, the active flag, the secret device key used by off-the-shelf GPS apps,
the token version that revokes every token issued before it, and the dispatch profile
(services and prices, channels, working hours, client relations, track record).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from enum import StrEnum
from typing import Annotated

import msgspec

from hub.errors import BadRequest
from hub.geo import GEO_LAT_LIMIT
from hub.operations.bounds import Instant, RecordId
from hub.operations.pricing import PriceRule
from hub.operations.services import service

_PHONE = re.compile(r"^\+?[0-9]{8,15}$")


class Channel(StrEnum):
    """How an offer can reach a provider (the seed's four dispatch modes)."""

    APP = "app"  # the provider app's websocket ("GPS" in the seed)
    WEB = "web"  # the provider web portal
    LINK = "link"  # a signed link by SMS or e-mail
    VERBAL = "verbal"  # by phone, recorded by the operator


# Modes whose offers reach the provider's own session (app or portal): duty and
# connectivity apply to them, and offers go out on the session.
SESSION_MODES = frozenset({Channel.APP, Channel.WEB})


Minutes = Annotated[int, msgspec.Meta(ge=0, le=24 * 60)]


class WorkingHours(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Opening intervals per weekday (0 = Monday), in minutes of local time.

    An interval whose end is before its start runs past midnight (22:00-06:00).  A provider
    without working hours works around the clock.
    """

    days: Annotated[list[list[tuple[Minutes, Minutes]]], msgspec.Meta(min_length=7, max_length=7)]

    def open_at(self, weekday: int, minute: int) -> bool:
        for start, end in self.days[weekday]:
            if start <= end:
                if start <= minute < end:
                    return True
            elif minute >= start:
                return True
        # the tail of yesterday's interval that ran past midnight
        return any(end < start and minute < end for start, end in self.days[(weekday - 1) % 7])


class DispatchProfile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What dispatch needs to know of a provider beyond its identity (stored as JSON)."""

    services: frozenset[str] = frozenset()
    prices: dict[str, PriceRule] = {}
    city: str = ""
    email: Annotated[str, msgspec.Meta(max_length=254)] = ""  # offer links, besides SMS
    base: tuple[float, float] | None = None  # (lat, lng) of the base address
    channels: frozenset[Channel] = frozenset({Channel.APP})
    preferred: bool = False
    partner_of: frozenset[RecordId] = frozenset()  # client ids
    excluded_by: frozenset[RecordId] = frozenset()  # client ids
    working_hours: WorkingHours | None = None
    suspended_until_ms: Instant | None = None
    suspension_reason: str = ""
    on_time_pct: Annotated[float, msgspec.Meta(ge=0, le=100)] = 100.0
    acceptance_pct: Annotated[float, msgspec.Meta(ge=0, le=100)] = 100.0


class Provider(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    phone: str
    active: bool
    token_version: int
    created_ms: int
    profile: DispatchProfile = DispatchProfile()
    # The device key in clear: only in the answer that created or rotated it (the records
    # keep its hash), empty everywhere else.
    device_key: str = ""


class NewProvider(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What an admin sends to register a provider (REST body and CLI arguments)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    phone: Annotated[str, msgspec.Meta(min_length=8, max_length=32)]
    active: bool = True
    profile: DispatchProfile = DispatchProfile()


def normalise_phone(phone: str) -> str:
    """Keep digits and a leading +; refuse what cannot be a phone number."""
    compact = re.sub(r"[\s().-]", "", phone)
    if not _PHONE.match(compact):
        raise BadRequest(
            f"phone {phone!r} is not a phone number (8-15 digits, optional +)",
            field="phone",
            problem="invalid",
        )
    return compact


def checked(new: NewProvider) -> NewProvider:
    name = " ".join(new.name.split())
    if not name:
        raise BadRequest("name must not be blank")
    return msgspec.structs.replace(
        new, name=name, phone=normalise_phone(new.phone), profile=checked_profile(new.profile)
    )


def checked_profile(profile: DispatchProfile) -> DispatchProfile:
    """Refuse a profile naming unknown services, prices for services not offered, a base
    address off the globe, or a client both partner and excluder."""
    for code in profile.services:
        service(code)
    strays = set(profile.prices) - set(profile.services)
    if strays:
        raise BadRequest(f"prices for services not offered: {', '.join(sorted(strays))}")
    if profile.base is not None:
        lat, lng = profile.base
        if not (-GEO_LAT_LIMIT <= lat <= GEO_LAT_LIMIT and -180 <= lng <= 180):
            raise BadRequest(f"base address coordinates out of range: {lat}, {lng}")
    both = profile.partner_of & profile.excluded_by
    if both:
        raise BadRequest(f"clients both partner and excluding: {sorted(both)}")
    city = " ".join(profile.city.split())
    return msgspec.structs.replace(profile, city=city)


def new_device_key() -> str:
    """An unguessable key an off-the-shelf GPS app uses as its device id."""
    return secrets.token_urlsafe(18)


def device_key_hash(key: str) -> str:
    """What the records keep of a device key: its SHA-256 (the key is 144 random bits, so
    no salt or stretching is needed to make the stored value useless to a reader)."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
