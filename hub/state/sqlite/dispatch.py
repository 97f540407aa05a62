"""SQLite: dispatch records (hub/state/ledger.py holds the SQL both engines share)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import aiosqlite

from hub.state.ledger import (
    NOTIFY_SQL,
    OFFER_COLUMNS,
    DispatchQueries,
    Ledger,
    Notification,
    notify_args,
    offer_from,
)
from hub.state.records import ATTENDANCE_READ, attendance_from

if TYPE_CHECKING:
    from hub.state.sqlite.store import SqliteRecords


class _Statements:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def execute(self, sql: str, *args: Any) -> int:
        cursor = await self.db.execute(sql, args)
        return int(cursor.rowcount)

    async def insert(self, sql: str, *args: Any) -> int:
        cursor = await self.db.execute(sql, args)
        return int(cursor.lastrowid or 0)

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        return list(await self.db.execute_fetchall(sql, args))


class SqliteDispatch(DispatchQueries):
    def __init__(self, store: SqliteRecords) -> None:
        super().__init__(store.fetch)
        self.store = store

    @asynccontextmanager
    async def locked(
        self, attendance_id: int, *, skip_locked: bool = False
    ) -> AsyncIterator[Ledger | None]:
        # One writer at a time (the store's lock and BEGIN IMMEDIATE): nothing to skip.
        async with self.store.transaction() as db:
            run = _Statements(db)
            rows = await run.fetch(
                f"SELECT {ATTENDANCE_READ} FROM attendances WHERE id = ?", attendance_id
            )
            if not rows:
                yield None
            else:
                offers = await run.fetch(
                    f"SELECT {OFFER_COLUMNS} FROM offers WHERE attendance_id = ? ORDER BY id",
                    attendance_id,
                )
                yield Ledger(run, attendance_from(rows[0]), [offer_from(o) for o in offers])

    async def notify(self, note: Notification) -> int:
        async with self.store.transaction() as db:
            return await _Statements(db).insert(NOTIFY_SQL, *notify_args(note))
