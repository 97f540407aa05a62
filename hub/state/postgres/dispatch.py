"""PostgreSQL: dispatch records (hub/state/dispatch_sql.py holds the SQL both engines share).

A snapshot is one query.  A commit is one statement (``one_statement``) outside any
explicit transaction: PostgreSQL runs it whole or not at all, so a decision costs one
round trip and one WAL flush, like a single UPDATE.  ``locked`` takes the attendance row
with ``SELECT ... FOR UPDATE``, then reads it with its offers in a statement of its own
(which sees every decision committed before the lock was granted); the sweeper passes
``skip_locked`` so that a node never waits on an attendance another node is working on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import asyncpg

from hub.dispatch.book import Change, DispatchSnapshot
from hub.dispatch.records import Lost, Stale
from hub.state.dialect import POSTGRES, numbered
from hub.state.dispatch_sql import DispatchQueries, Write, snapshot_from, snapshot_sql, writes

if TYPE_CHECKING:
    from hub.state.postgres.conn import PostgresConn

_READ = snapshot_sql(POSTGRES)
_LOCK = "SELECT id FROM attendances WHERE id = $1 FOR UPDATE"
_OFFER_IDS = "SELECT nextval(pg_get_serial_sequence('offers', 'id')) FROM generate_series(1, $1)"
_STALE, _LOST = "stale", "lost"  # hub_abort's reasons (migration 0014)


def one_statement(writes: list[Write]) -> tuple[str, list[Any]]:
    """The writes as one statement of data-modifying CTEs, answering one row: the id of
    each INSERT asked for, 0 for each conditional write.  A conditional write that changed
    no row calls ``hub_abort``, which undoes the whole statement.  The CTEs run on one
    snapshot, so they must not touch a row twice (a decision writes the attendance, each
    offer and each log entry once)."""
    parts: list[str] = []
    answers: list[str] = []
    args: list[Any] = []
    for n, write in enumerate(writes):
        parts.append(f"w{n} AS ({write.sql} RETURNING id)")
        if write.expect == "id":
            answers.append(f"(SELECT id FROM w{n})")
        else:
            reason = _STALE if write.expect == "version" else _LOST
            answers.append(
                f"CASE WHEN (SELECT count(*) FROM w{n}) = 1 THEN 0 ELSE hub_abort('{reason}') END"
            )
        args.extend(write.args)
    return numbered(f"WITH {', '.join(parts)} SELECT {', '.join(answers)}"), args


async def _send(conn: Any, writes: list[Write]) -> list[int]:
    """The writes in one round trip; the ids of the INSERTs asked for."""
    if not writes:
        return []
    sql, args = one_statement(writes)
    try:
        row = await conn.fetchrow(sql, *args)
    except asyncpg.RaiseError as exc:
        if str(exc) == _STALE:
            raise Stale() from None
        raise Lost() from None
    return [int(value) for write, value in zip(writes, row, strict=True) if write.expect == "id"]


class PostgresDispatch(DispatchQueries):
    def __init__(self, store: PostgresConn) -> None:
        super().__init__(store)
        self.store = store

    async def offer_ids(self, count: int) -> list[int]:
        async with self.store.connection() as conn:
            return await _offer_ids(conn, count)

    async def snapshot(self, attendance_id: int) -> DispatchSnapshot | None:
        rows = await self.store.fetch(_READ, attendance_id)
        return snapshot_from(rows[0]) if rows else None

    async def commit(self, change: Change) -> list[int]:
        async with self.store.connection() as conn:
            return await _send(conn, writes(change))

    @asynccontextmanager
    async def locked(
        self, attendance_id: int, *, skip_locked: bool = False
    ) -> AsyncIterator[_Held | None]:
        skip = " SKIP LOCKED" if skip_locked else ""
        async with self.store.connection() as conn:
            transaction = conn.transaction()
            await transaction.start()
            held = None
            try:
                # The lock first, the read after, in a statement of its own: under READ
                # COMMITTED each statement reads what was committed when it began, so the
                # read sees every decision committed before the lock was granted (a
                # subquery of the locking statement would not).
                if await conn.fetchval(_LOCK + skip, attendance_id) is not None:
                    rows = await conn.fetch(_READ, attendance_id)
                    held = _Held(conn, transaction, snapshot_from(rows[0]))
                yield held
            finally:
                if held is None or not held.done:
                    await transaction.rollback()


async def _offer_ids(conn: Any, count: int) -> list[int]:
    return [int(row[0]) for row in await conn.fetch(_OFFER_IDS, count)]


class _Held:
    """The attendance locked by the block's transaction; ``commit`` sends the change and
    commits (the block's end rolls back if it was never called).  New offers' ids come on
    the same connection (a second one from the pool could wait forever behind decisions
    that hold the rest)."""

    def __init__(self, conn: Any, transaction: Any, snapshot: DispatchSnapshot) -> None:
        self.conn = conn
        self.transaction = transaction
        self.snapshot = snapshot
        self.done = False

    async def offer_ids(self, count: int) -> list[int]:
        return await _offer_ids(self.conn, count)

    async def commit(self, change: Change) -> list[int]:
        assert not self.done, "a locked decision commits once"
        ids = await _send(self.conn, writes(change))
        await self.transaction.commit()
        self.done = True
        return ids
