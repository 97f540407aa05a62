"""PostgreSQL: console users and the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.operations.users import AuditEntry, NewUser, Role, User
from hub.state.postgres.sql import MS

if TYPE_CHECKING:
    from hub.state.postgres.conn import PostgresConn

_USER_COLUMNS = (
    "id, login, name, role, active, token_version,"
    " (extract(epoch from created_at) * 1000)::bigint AS created_ms"
)


def _user(row: Any) -> User:
    fields = {k: row[k] for k in User.__struct_fields__}
    fields["role"] = Role(fields["role"])
    return User(**fields)


class PostgresUsers:
    def __init__(self, store: PostgresConn) -> None:
        self.store = store

    async def add(self, new: NewUser, password_hash: str, now_ms: int) -> User:
        rows = await self.store.fetch(
            "INSERT INTO users (login, name, role, password_hash, created_at)"
            f" VALUES ($1, $2, $3, $4, {MS.format('$5::bigint')}) RETURNING {_USER_COLUMNS}",
            new.login,
            new.name,
            new.role.value,
            password_hash,
            now_ms,
        )
        return _user(rows[0])

    async def get(self, user_id: int) -> User | None:
        rows = await self.store.fetch(f"SELECT {_USER_COLUMNS} FROM users WHERE id = $1", user_id)
        return _user(rows[0]) if rows else None

    async def credentials(self, login: str) -> tuple[User, str] | None:
        rows = await self.store.fetch(
            f"SELECT {_USER_COLUMNS}, password_hash FROM users WHERE login = $1", login
        )
        return (_user(rows[0]), str(rows[0]["password_hash"])) if rows else None

    async def page(self, *, after_id: int = 0, limit: int = 100) -> list[User]:
        rows = await self.store.fetch(
            f"SELECT {_USER_COLUMNS} FROM users WHERE id > $1 ORDER BY id LIMIT $2",
            after_id,
            limit,
        )
        return [_user(row) for row in rows]


class PostgresAudit:
    def __init__(self, store: PostgresConn) -> None:
        self.store = store

    async def append(self, entry: AuditEntry) -> None:
        async with self.store.connection() as conn:
            await conn.execute(
                "INSERT INTO audit_log (at, actor, action, target, detail)"
                f" VALUES ({MS.format('$1::bigint')}, $2, $3, $4, $5)",
                entry.at_ms,
                entry.actor,
                entry.action,
                entry.target,
                entry.detail,
            )

    async def recent(self, *, limit: int = 100) -> list[AuditEntry]:
        rows = await self.store.fetch(
            "SELECT (extract(epoch from at) * 1000)::bigint AS at_ms, actor, action, target,"
            " detail FROM audit_log ORDER BY id DESC LIMIT $1",
            limit,
        )
        return [AuditEntry(**dict(row)) for row in rows]
