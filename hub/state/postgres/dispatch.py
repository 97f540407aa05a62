"""PostgreSQL: dispatch records (hub/state/ledger.py holds the SQL both engines share).

A snapshot is one query.  A commit is one statement (``one_statement``) outside any
explicit transaction: PostgreSQL runs it whole or not at all, so a decision costs one
round trip and one WAL flush, like a single UPDATE.  ``locked`` takes the attendance row
with ``SELECT ... FOR UPDATE``; the sweeper passes ``skip_locked`` so that a node never
waits on an attendance another node is working on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import asyncpg

from hub.state.ledger import (
    NOTIFY_SQL,
    OFFER_COLUMNS,
    DispatchQueries,
    Ledger,
    Lost,
    Notification,
    Snapshot,
    Stale,
    Write,
    notify_args,
    numbered,
    snapshot_from,
)
from hub.state.postgres.operations import PG_ATTENDANCE_COLUMNS

if TYPE_CHECKING:
    from hub.state.postgres.store import PostgresRecords

# The attendance, its version and its offers (as one JSON array of rows): one query.
_READ = (
    f"SELECT {PG_ATTENDANCE_COLUMNS}, version, (SELECT coalesce(json_agg(json_build_array("
    f"{OFFER_COLUMNS}) ORDER BY id), '[]')::text FROM offers"
    " WHERE attendance_id = attendances.id) FROM attendances WHERE id = $1"
)
_NEXT_OFFER_ID = "SELECT nextval(pg_get_serial_sequence('offers', 'id'))"
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
    def __init__(self, store: PostgresRecords) -> None:
        super().__init__(self._fetch)
        self.store = store

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        return await self.store.fetch(numbered(sql), *args)

    async def next_offer_id(self) -> int:
        async with self.store.connection() as conn:
            return int(await conn.fetchval(_NEXT_OFFER_ID))

    async def snapshot(self, attendance_id: int) -> Snapshot | None:
        rows = await self.store.fetch(_READ, attendance_id)
        return snapshot_from(rows[0]) if rows else None

    async def commit(self, ledger: Ledger) -> Snapshot:
        async with self.store.connection() as conn:
            ids = await _send(conn, ledger.writes())
        return ledger.committed(ids)

    @asynccontextmanager
    async def locked(
        self, attendance_id: int, *, skip_locked: bool = False
    ) -> AsyncIterator[Ledger | None]:
        skip = " SKIP LOCKED" if skip_locked else ""
        async with self.store.connection(transaction=True) as conn:
            rows = await conn.fetch(_READ + " FOR UPDATE" + skip, attendance_id)
            if not rows:
                yield None
                return
            ledger = Ledger(_Numbering(conn), snapshot_from(rows[0]))
            yield ledger
            ledger.committed(await _send(conn, ledger.writes()))

    async def notify(self, note: Notification) -> int:
        async with self.store.connection() as conn:
            return int(
                await conn.fetchval(numbered(NOTIFY_SQL + " RETURNING id"), *notify_args(note))
            )


class _Numbering:
    """New offers' ids on the locked decision's own connection (a second one from the pool
    could wait forever behind decisions that hold the rest)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def next_offer_id(self) -> int:
        return int(await self.conn.fetchval(_NEXT_OFFER_ID))
