"""Console users and the audit log: the actions shared by the CLI and the REST API."""

from __future__ import annotations

import asyncio
import time

import msgspec

from hub.clock import now_ms
from hub.errors import Unauthorized
from hub.operations.records import OperationsRecords
from hub.operations.users import AuditEntry, NewUser, User, checked_user
from hub.passwords import hash_password, verify_password
from hub.tokens import TokenIssuer

# Verifying against this when the login is unknown costs the same time as a real check,
# so response times do not tell which logins exist.
_DUMMY_HASH = hash_password("not-a-real-password-at-all")


class Session(msgspec.Struct, frozen=True):
    token: str
    expires_at_s: int
    user: User


async def add_user(records: OperationsRecords, new: NewUser) -> User:
    checked = checked_user(new)
    password_hash = await asyncio.to_thread(hash_password, checked.password)
    return await records.users.add(checked, password_hash, now_ms())


async def log_in(
    records: OperationsRecords, tokens: TokenIssuer, login: str, password: str
) -> Session:
    """A session token for valid credentials of an active user; one vague error otherwise."""
    found = await records.users.credentials(login.strip().lower())
    stored = found[1] if found else _DUMMY_HASH
    valid = await asyncio.to_thread(verify_password, stored, password)
    if found is None or not valid or not found[0].active:
        raise Unauthorized("login or password is wrong", code="login_failed")
    user = found[0]
    now = int(time.time())
    return Session(
        tokens.operator_token(user.id, user.token_version, now), now + tokens.operator_ttl_s, user
    )


async def audit(
    records: OperationsRecords, actor: str, action: str, target: str, detail: str = ""
) -> None:
    await records.audit.append(
        AuditEntry(at_ms=now_ms(), actor=actor, action=action, target=target, detail=detail)
    )
