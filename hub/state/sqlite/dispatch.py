"""SQLite: dispatch records (hub/state/dispatch_sql.py holds the SQL both engines share).

A snapshot is one query on the reader connection.  A commit runs on the loop's thread
(``at_once``): begin, the guarded writes, commit.  ``locked`` holds the single writer from
the read to the commit (two trips to the writer's thread), so nothing else commits
meanwhile.

New offers are numbered here, from the largest id stored: the embedded engine has one
hub process per file, and a number it gives twice would fail the commit, not overwrite.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from hub.dispatch.book import Change, DispatchSnapshot
from hub.dispatch.records import Lost, Stale
from hub.state.dialect import SQLITE
from hub.state.dispatch_sql import DispatchQueries, Write, snapshot_from, snapshot_sql, writes

if TYPE_CHECKING:
    from hub.state.sqlite.conn import SqliteConn

_READ = snapshot_sql(SQLITE)


def _read(conn: sqlite3.Connection, attendance_id: int) -> Any:
    """Begin, and read the attendance (None, rolled back, if unknown)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(_READ, (attendance_id,)).fetchone()
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    if row is None:
        conn.execute("ROLLBACK")
    return row


def _send(conn: sqlite3.Connection, writes: list[Write]) -> list[int]:
    """The kept writes, inside the caller's transaction; the ids of the INSERTs asked for."""
    ids: list[int] = []
    for write in writes:
        cursor = conn.execute(write.sql, write.args)
        if write.expect == "id":
            ids.append(int(cursor.lastrowid or 0))
        elif cursor.rowcount != 1:
            raise Stale() if write.expect == "version" else Lost()
    return ids


def _rollback(conn: sqlite3.Connection) -> None:
    conn.execute("ROLLBACK")


class SqliteDispatch(DispatchQueries):
    def __init__(self, store: SqliteConn) -> None:
        super().__init__(store)
        self.store = store
        self._last_offer_id: int | None = None

    async def offer_ids(self, count: int) -> list[int]:
        if self._last_offer_id is None:
            rows = await self.store.fetch("SELECT coalesce(max(id), 0) FROM offers")
            if self._last_offer_id is None:  # nobody seeded it while this one read
                self._last_offer_id = int(rows[0][0])
        first = self._last_offer_id + 1
        self._last_offer_id += count
        return list(range(first, first + count))

    async def snapshot(self, attendance_id: int) -> DispatchSnapshot | None:
        rows = await self.store.fetch(_READ, attendance_id)
        return snapshot_from(rows[0]) if rows else None

    async def commit(self, change: Change) -> list[int]:
        return await self.store.at_once(_send, writes(change))

    @asynccontextmanager
    async def locked(
        self, attendance_id: int, *, skip_locked: bool = False
    ) -> AsyncIterator[_Held | None]:
        # One writer at a time (the store's lock and BEGIN IMMEDIATE): nothing to skip.
        store = self.store
        async with store.writing():
            row = await store.in_thread(_read, attendance_id)
            if row is None:
                yield None
                return
            held = _Held(self, snapshot_from(row))
            try:
                yield held
            finally:
                if not held.done:
                    await store.in_thread(_rollback)


class _Held:
    """The attendance read inside the single writer's transaction; ``commit`` sends the
    change and commits in one trip (the block's end rolls back if it was never called)."""

    def __init__(self, dispatch: SqliteDispatch, snapshot: DispatchSnapshot) -> None:
        self.dispatch = dispatch
        self.snapshot = snapshot
        self.done = False

    async def offer_ids(self, count: int) -> list[int]:
        return await self.dispatch.offer_ids(count)

    async def commit(self, change: Change) -> list[int]:
        assert not self.done, "a locked decision commits once"
        self.done = True  # the trip commits, or rolls back if it raises
        return await self.dispatch.store.finish(_send, writes(change))
