"""The provider registry's records and the rules for creating them. Pure.

What sessions need now: identity, contact, the active flag, the secret device key used by
off-the-shelf GPS apps, and the token version that revokes every token issued before it.
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated

import msgspec

from hub.errors import BadRequest

_PHONE = re.compile(r"^\+?[0-9]{8,15}$")


class Provider(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    phone: str
    active: bool
    device_key: str
    token_version: int
    created_ms: int


class NewProvider(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What an admin sends to register a provider (REST body and CLI arguments)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    phone: Annotated[str, msgspec.Meta(min_length=8, max_length=32)]
    active: bool = True


def normalise_phone(phone: str) -> str:
    """Keep digits and a leading +; refuse what cannot be a phone number."""
    compact = re.sub(r"[\s().-]", "", phone)
    if not _PHONE.match(compact):
        raise BadRequest(f"phone {phone!r} is not a phone number (8-15 digits, optional +)")
    return compact


def checked(new: NewProvider) -> NewProvider:
    name = " ".join(new.name.split())
    if not name:
        raise BadRequest("name must not be blank")
    return msgspec.structs.replace(new, name=name, phone=normalise_phone(new.phone))


def new_device_key() -> str:
    """An unguessable key an off-the-shelf GPS app uses as its device id."""
    return secrets.token_urlsafe(18)
