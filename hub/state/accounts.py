"""Console users and the audit log, one statement set for both engines."""

from __future__ import annotations

from hub.operations.users import AuditEntry, NewUser, Role, User
from hub.state.db import Db
from hub.state.rows import user_from


class Users:
    def __init__(self, db: Db) -> None:
        self.db = db
        d = db.dialect
        self.columns = (
            f"id, login, name, role, active, token_version, {d.read_ms('users', 'created_ms')}"
        )
        self.insert = (
            "INSERT INTO users (login, name, role, password_hash,"
            f" {d.column('users', 'created_ms')})"
            f" VALUES (?, ?, ?, ?, {d.ms_value('users', 'created_ms')}) RETURNING id"
        )

    async def add(self, new: NewUser, password_hash: str, now_ms: int) -> User:
        async with self.db.transaction() as tx:
            (row,) = await tx.fetch(
                self.insert, new.login, new.name, new.role.value, password_hash, now_ms
            )
        found = await self.get(int(row["id"]))
        assert found is not None
        return found

    async def get(self, user_id: int) -> User | None:
        rows = await self.db.fetch(f"SELECT {self.columns} FROM users WHERE id = ?", user_id)
        return user_from(rows[0]) if rows else None

    async def credentials(self, login: str) -> tuple[User, str] | None:
        rows = await self.db.fetch(
            f"SELECT {self.columns}, password_hash FROM users WHERE login = ?", login
        )
        return (user_from(rows[0]), str(rows[0]["password_hash"])) if rows else None

    async def page(self, *, after_id: int = 0, limit: int = 100) -> list[User]:
        rows = await self.db.fetch(
            f"SELECT {self.columns} FROM users WHERE id > ? ORDER BY id LIMIT ?", after_id, limit
        )
        return [user_from(row) for row in rows]

    async def change(
        self, user_id: int, *, role: Role | None = None, active: bool | None = None
    ) -> User | None:
        if role is not None:
            await self.db.execute("UPDATE users SET role = ? WHERE id = ?", role.value, user_id)
        if active is not None:
            await self.db.execute("UPDATE users SET active = ? WHERE id = ?", active, user_id)
        return await self.get(user_id)

    async def end_sessions(self, user_id: int) -> User | None:
        await self.db.execute(
            "UPDATE users SET token_version = token_version + 1 WHERE id = ?", user_id
        )
        return await self.get(user_id)

    async def delete(self, user_id: int) -> bool:
        found = await self.get(user_id)
        if found is not None:
            await self.db.execute("DELETE FROM users WHERE id = ?", user_id)
        return found is not None


class Audit:
    def __init__(self, db: Db) -> None:
        self.db = db
        d = db.dialect
        self.insert = (
            f"INSERT INTO audit_log ({d.column('audit_log', 'at_ms')}, actor, action, target,"
            f" detail) VALUES ({d.ms_value('audit_log', 'at_ms')}, ?, ?, ?, ?)"
        )
        self.newest = (
            f"SELECT {d.read_ms('audit_log', 'at_ms')}, actor, action, target, detail"
            " FROM audit_log ORDER BY id DESC LIMIT ?"
        )

    async def append(self, entry: AuditEntry) -> None:
        await self.db.execute(
            self.insert, entry.at_ms, entry.actor, entry.action, entry.target, entry.detail
        )

    async def recent(self, *, limit: int = 100) -> list[AuditEntry]:
        rows = await self.db.fetch(self.newest, limit)
        return [
            AuditEntry(
                at_ms=r["at_ms"],
                actor=r["actor"],
                action=r["action"],
                target=r["target"],
                detail=r["detail"],
            )
            for r in rows
        ]
