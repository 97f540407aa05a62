"""PostgreSQL: dispatch records (hub/state/ledger.py holds the SQL both engines share).

``locked`` takes the attendance row with ``SELECT ... FOR UPDATE``; the sweeper passes
``skip_locked`` so that a node never waits on an attendance another node is working on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import msgspec

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


# The attendance, locked, with its offers (as one JSON array of rows): one round trip.
_LOCK = (
    f"SELECT {PG_ATTENDANCE_COLUMNS}, (SELECT coalesce(json_agg(json_build_array("
    f"{OFFER_COLUMNS}) ORDER BY id), '[]')::text FROM offers"
    " WHERE attendance_id = attendances.id) FROM attendances WHERE id = ? FOR UPDATE"
)
_decode_offers = msgspec.json.Decoder(list[list[Any]]).decode


class _Statements:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def insert(self, sql: str, *args: Any) -> int:
        return int(await self.conn.fetchval(numbered(sql + " RETURNING id"), *args))

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        return list(await self.conn.fetch(numbered(sql), *args))

    async def commit(self, writes: list[Write]) -> list[int]:
        """Send the kept writes in one round trip (the transaction commits after); Lost if
        a conditional one changed no row."""
        if not writes:
            return []
        sql, args = one_statement(writes)
        row = await self.conn.fetchrow(numbered(sql), *args)
        ids = []
        for write, value in zip(writes, row, strict=True):
            if write.expect == "id":
                ids.append(int(value))
            elif value != 1:
                raise Lost(write.sql)
        return ids


def one_statement(writes: list[Write]) -> tuple[str, list[Any]]:
    """The writes as one statement of data-modifying CTEs, answering one row: the id of
    each INSERT, the count of rows each UPDATE changed.  The CTEs run on one snapshot, so
    they must not touch a row twice (a decision writes each offer, the attendance and each
    log entry once)."""
    parts: list[str] = []
    answers: list[str] = []
    args: list[Any] = []
    for n, write in enumerate(writes):
        parts.append(f"w{n} AS ({write.sql} RETURNING id)")
        answers.append(
            f"(SELECT id FROM w{n})" if write.expect == "id" else f"(SELECT count(*) FROM w{n})"
        )
        args.extend(write.args)
    return f"WITH {', '.join(parts)} SELECT {', '.join(answers)}", args


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
                rows = await run.fetch(_LOCK + skip, attendance_id)
                if not rows:
                    yield None
                    return
                offers = _decode_offers(rows[0][-1])
                ledger = Ledger(run, attendance_from(rows[0]), [offer_from(o) for o in offers])
                yield ledger
                ledger.committed(await run.commit(ledger.writes()))
        except Lost:
            raise Conflict("another decision changed this offer first") from None

    async def notify(self, note: Notification) -> int:
        async with self.store.connection() as conn:
            return await _Statements(conn).insert(NOTIFY_SQL, *notify_args(note))
