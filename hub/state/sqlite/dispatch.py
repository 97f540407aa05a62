"""SQLite: dispatch records (hub/state/ledger.py holds the SQL both engines share).

A decision takes two trips to the connection's thread: one begins and reads the
attendance with its offers, one sends every kept write and commits (``in_thread``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import aiosqlite

from hub.errors import Conflict
from hub.state.ledger import (
    NOTIFY_SQL,
    OFFER_COLUMNS,
    DispatchQueries,
    Ledger,
    Lost,
    Notification,
    Write,
    notify_args,
    offer_from,
)
from hub.state.records import ATTENDANCE_READ, attendance_from

if TYPE_CHECKING:
    from hub.state.sqlite.store import SqliteRecords

_ATTENDANCE = f"SELECT {ATTENDANCE_READ} FROM attendances WHERE id = ?"
_OFFERS = f"SELECT {OFFER_COLUMNS} FROM offers WHERE attendance_id = ? ORDER BY id"


def _open(conn: sqlite3.Connection, attendance_id: int) -> tuple[Any, list[Any]] | None:
    """Begin, and read the attendance with its offers (None, rolled back, if unknown)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(_ATTENDANCE, (attendance_id,)).fetchone()
        if row is None:
            conn.execute("ROLLBACK")
            return None
        return row, conn.execute(_OFFERS, (attendance_id,)).fetchall()
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _commit(conn: sqlite3.Connection, writes: list[Write]) -> list[int]:
    """Send the kept writes and commit; roll back whole if one fails its expectation."""
    ids: list[int] = []
    try:
        for write in writes:
            cursor = conn.execute(write.sql, write.args)
            if write.expect == "id":
                ids.append(int(cursor.lastrowid or 0))
            elif cursor.rowcount != 1:
                raise Lost(write.sql)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return ids


def _rollback(conn: sqlite3.Connection) -> None:
    conn.execute("ROLLBACK")


class _Statements:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def insert(self, sql: str, *args: Any) -> int:
        cursor = await self.db.execute(sql, args)
        return int(cursor.lastrowid or 0)


class SqliteDispatch(DispatchQueries):
    def __init__(self, store: SqliteRecords) -> None:
        super().__init__(store.fetch)
        self.store = store

    @asynccontextmanager
    async def locked(
        self, attendance_id: int, *, skip_locked: bool = False
    ) -> AsyncIterator[Ledger | None]:
        # One writer at a time (the store's lock and BEGIN IMMEDIATE): nothing to skip.
        store = self.store
        async with store.writing() as db:
            found = await store.in_thread(_open, attendance_id)
            if found is None:
                yield None
                return
            row, offers = found
            ledger = Ledger(_Statements(db), attendance_from(row), [offer_from(o) for o in offers])
            try:
                yield ledger
            except BaseException:
                await store.in_thread(_rollback)
                raise
            try:
                ledger.committed(await store.in_thread(_commit, ledger.writes()))
            except Lost:
                raise Conflict("another decision changed this offer first") from None

    async def notify(self, note: Notification) -> int:
        async with self.store.transaction() as db:
            cursor = await db.execute(NOTIFY_SQL, notify_args(note))
            return int(cursor.lastrowid or 0)
