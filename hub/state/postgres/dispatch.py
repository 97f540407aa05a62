"""PostgreSQL: dispatch records (hub/state/ledger.py holds the SQL both engines share).

``locked`` takes the attendance row with ``SELECT ... FOR UPDATE``; the sweeper passes
``skip_locked`` so that a node never waits on an attendance another node is working on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

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
    numbered,
    offer_from,
)
from hub.state.postgres.operations import PG_ATTENDANCE_COLUMNS
from hub.state.records import attendance_from

if TYPE_CHECKING:
    from hub.state.postgres.store import PostgresRecords


class _Statements:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def insert(self, sql: str, *args: Any) -> int:
        return int(await self.conn.fetchval(numbered(sql + " RETURNING id"), *args))

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        return list(await self.conn.fetch(numbered(sql), *args))

    async def commit(self, writes: list[Write]) -> list[int]:
        """Send the kept writes (the transaction commits after); Lost if one fails."""
        ids = []
        for write in writes:
            if write.expect == "id":
                ids.append(await self.insert(write.sql, *write.args))
                continue
            status = await self.conn.execute(numbered(write.sql), *write.args)
            if int(status.rsplit(" ", 1)[-1]) != 1:
                raise Lost(write.sql)
        return ids


class PostgresDispatch(DispatchQueries):
    def __init__(self, store: PostgresRecords) -> None:
        super().__init__(self._fetch)
        self.store = store

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        return await self.store.fetch(numbered(sql), *args)

    @asynccontextmanager
    async def locked(
        self, attendance_id: int, *, skip_locked: bool = False
    ) -> AsyncIterator[Ledger | None]:
        skip = " SKIP LOCKED" if skip_locked else ""
        try:
            async with self.store.connection(transaction=True) as conn:
                run = _Statements(conn)
                rows = await run.fetch(
                    f"SELECT {PG_ATTENDANCE_COLUMNS} FROM attendances WHERE id = ?"
                    f" FOR UPDATE{skip}",
                    attendance_id,
                )
                if not rows:
                    yield None
                    return
                offers = await run.fetch(
                    f"SELECT {OFFER_COLUMNS} FROM offers WHERE attendance_id = ? ORDER BY id",
                    attendance_id,
                )
                ledger = Ledger(run, attendance_from(rows[0]), [offer_from(o) for o in offers])
                yield ledger
                ledger.committed(await run.commit(ledger.writes()))
        except Lost:
            raise Conflict("another decision changed this offer first") from None

    async def notify(self, note: Notification) -> int:
        async with self.store.connection() as conn:
            return await _Statements(conn).insert(NOTIFY_SQL, *notify_args(note))
