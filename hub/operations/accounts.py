"""Console users and the audit log: the actions shared by the CLI and the REST API."""

from __future__ import annotations

import asyncio
import time

import msgspec

from hub.clock import now_ms
from hub.errors import BadRequest, NotFound, Unauthorized
from hub.operations.records import OperationsRecords
from hub.operations.users import AuditEntry, NewUser, Role, User, checked_user
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


class UserPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What an admin changes of a user: its role, whether it may log in, or both."""

    role: Role | None = None
    active: bool | None = None


async def change_user(records: OperationsRecords, user_id: int, patch: UserPatch) -> User:
    """A new role takes effect at the user's next call and subscription; deactivating
    also ends every session the user has (a later reactivation does not revive them)."""
    if patch.role is None and patch.active is None:
        raise BadRequest("nothing to change: send role and/or active")
    changed = await records.users.change(user_id, role=patch.role, active=patch.active)
    if changed is not None and patch.active is False:
        changed = await records.users.end_sessions(user_id)
    if changed is None:
        raise NotFound(f"no user {user_id}")
    return changed


async def end_sessions(records: OperationsRecords, user_id: int) -> User:
    """Log out: every session token of the user stops working at once."""
    ended = await records.users.end_sessions(user_id)
    if ended is None:
        raise NotFound(f"no user {user_id}")
    return ended


async def delete_user(records: OperationsRecords, user_id: int) -> None:
    if not await records.users.delete(user_id):
        raise NotFound(f"no user {user_id}")


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
