"""SQLite: console users and the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.operations.users import AuditEntry, NewUser, Role, User

if TYPE_CHECKING:
    from hub.state.sqlite.conn import SqliteConn


_USER_COLUMNS = "id, login, name, role, active, token_version, created_ms"


def _user(row: Any) -> User:
    return User(
        id=row[0],
        login=row[1],
        name=row[2],
        role=Role(row[3]),
        active=bool(row[4]),
        token_version=row[5],
        created_ms=row[6],
    )


class SqliteUsers:
    def __init__(self, store: SqliteConn) -> None:
        self.store = store

    async def add(self, new: NewUser, password_hash: str, now_ms: int) -> User:
        async with self.store.transaction() as db:
            cursor = await db.execute(
                "INSERT INTO users (login, name, role, password_hash, created_ms)"
                " VALUES (?, ?, ?, ?, ?)",
                (new.login, new.name, new.role.value, password_hash, now_ms),
            )
            user_id = cursor.lastrowid
        found = await self.get(int(user_id or 0))
        assert found is not None
        return found

    async def get(self, user_id: int) -> User | None:
        rows = await self.store.fetch(f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", user_id)
        return _user(rows[0]) if rows else None

    async def credentials(self, login: str) -> tuple[User, str] | None:
        rows = await self.store.fetch(
            f"SELECT {_USER_COLUMNS}, password_hash FROM users WHERE login = ?", login
        )
        return (_user(rows[0]), str(rows[0][7])) if rows else None

    async def page(self, *, after_id: int = 0, limit: int = 100) -> list[User]:
        rows = await self.store.fetch(
            f"SELECT {_USER_COLUMNS} FROM users WHERE id > ? ORDER BY id LIMIT ?", after_id, limit
        )
        return [_user(row) for row in rows]


class SqliteAudit:
    def __init__(self, store: SqliteConn) -> None:
        self.store = store

    async def append(self, entry: AuditEntry) -> None:
        async with self.store.transaction() as db:
            await db.execute(
                "INSERT INTO audit_log (at_ms, actor, action, target, detail)"
                " VALUES (?, ?, ?, ?, ?)",
                (entry.at_ms, entry.actor, entry.action, entry.target, entry.detail),
            )

    async def recent(self, *, limit: int = 100) -> list[AuditEntry]:
        rows = await self.store.fetch(
            "SELECT at_ms, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT ?",
            limit,
        )
        return [
            AuditEntry(at_ms=r[0], actor=r[1], action=r[2], target=r[3], detail=r[4]) for r in rows
        ]
