"""Operators' accounts: who may use the console and the API, with which role. Pure.

Roles are ordered: an admin may do what a supervisor may, a supervisor what an operator
may.  Passwords are hashed by hub/passwords.py (Argon2id); only the hash is stored.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

import msgspec
from zxcvbn import zxcvbn

from hub.errors import BadRequest

_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_SCORE = 3  # zxcvbn's 0-4: 3 is "safely unguessable" against an online attack
MIN_PASSWORD = 10


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANK = {Role.OPERATOR: 0, Role.SUPERVISOR: 1, Role.ADMIN: 2}


class User(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    login: str
    name: str
    role: Role
    active: bool
    token_version: int
    created_ms: int


class NewUser(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    login: Annotated[str, msgspec.Meta(min_length=3, max_length=64)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    role: Role
    password: Annotated[str, msgspec.Meta(max_length=1024)]


def checked_user(new: NewUser) -> NewUser:
    login = new.login.strip().lower()
    if not _LOGIN.match(login):
        raise BadRequest(
            f"login {new.login!r}: 3-64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit"
        )
    name = " ".join(new.name.split())
    if not name:
        raise BadRequest("name must not be blank")
    if len(new.password) < MIN_PASSWORD:
        raise BadRequest(
            f"password must have at least {MIN_PASSWORD} characters",
            field="password",
            problem="weak",
            min_length=MIN_PASSWORD,
        )
    guessable(new.password, login, name)
    return msgspec.structs.replace(new, login=login, name=name)


def guessable(password: str, *personal: str) -> None:
    """BadRequest for a password an attacker would try early: common ones, keyboard runs,
    repeats, the user's login or name (the zxcvbn estimator; no composition rules, as
    NIST SP 800-63B advises)."""
    found = zxcvbn(password[:100], user_inputs=[p for p in personal if p])
    if found["score"] < MIN_SCORE:
        hint = found["feedback"].get("warning") or "it is too easy to guess"
        raise BadRequest(
            f"password refused: {hint}; a few uncommon words work well",
            field="password",
            problem="weak",
            min_length=MIN_PASSWORD,
        )


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """Who did what to what, when: appended, never changed."""

    at_ms: int
    actor: str  # "user:<id>" or "cli:<subject>"
    action: str  # e.g. provider.add, provider.revoke, user.add
    target: str  # e.g. provider:42
    detail: str = ""
