"""Records engine on PostgreSQL through an asyncpg pool: the distributed mode.

Every table lives in ``schema`` (the tests give each test its own).  asyncpg and OS errors
are mapped here to the hub's own errors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from hub.errors import StoreUnavailable
from hub.ingest.tracks import Chunk
from hub.state.conflicts import conflict
from hub.state.db import Row
from hub.state.dialect import POSTGRES, numbered
from hub.state.migrations import scripts
from hub.state.postgres.dispatch import PostgresDispatch
from hub.state.roles import RecordRoles

_MIGRATION_LOCK = 7_201_004
# Chunks in one statement from column arrays: one round trip and one plan for the lot.
_INSERT_CHUNKS = (
    "INSERT INTO track_chunks (provider_id, t_first, t_last, points, data)"
    " SELECT p, to_timestamp(f / 1000.0), to_timestamp(l / 1000.0), n, d"
    " FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::int[], $5::bytea[])"
    " AS u(p, f, l, n, d)"
)


async def _reset(conn: asyncpg.Connection) -> None:
    """What a connection needs when it returns to the pool: nothing, unless a transaction
    was left open.  asyncpg's default reset (unlisten, unlock, close cursors, RESET ALL)
    is a round trip on every release, and the hub sets no session state to undo."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


class PostgresRecords(RecordRoles):
    dialect = POSTGRES

    def __init__(self, url: str, *, schema: str = "public", pool_size: int = 10) -> None:
        self.url = url
        self.schema = schema
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        super().__init__(self, self._append_chunks)
        self.dispatch = PostgresDispatch(self)

    async def open(self) -> PostgresRecords:
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=self.pool_size,
                server_settings={"search_path": self.schema},
                reset=_reset,
            )
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreUnavailable(f"cannot connect to PostgreSQL: {exc}") from None
        return self

    @asynccontextmanager
    async def connection(self, *, transaction: bool = False) -> AsyncIterator[Any]:
        if self._pool is None:
            raise StoreUnavailable("PostgreSQL records store is not open")
        try:
            async with self._pool.acquire() as conn:
                if transaction:
                    async with conn.transaction():
                        yield conn
                else:
                    yield conn
        except asyncpg.UniqueViolationError as exc:
            raise conflict(f"{exc.constraint_name} {exc.detail}") from None
        except asyncpg.ForeignKeyViolationError as exc:
            raise conflict(str(exc.detail), missing=True) from None
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreUnavailable(f"PostgreSQL failed: {exc}") from None

    async def execute(self, sql: str, *args: Any) -> int:
        """One statement written with ``?`` placeholders; the rows it changed."""
        async with self.connection() as conn:
            return _changed(await conn.execute(numbered(sql), *args))

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        """Rows of a query written with ``?`` placeholders (or already numbered)."""
        async with self.connection() as conn:
            return list(await conn.fetch(numbered(sql), *args))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Tx]:
        async with self.connection(transaction=True) as conn:
            yield _Tx(conn)

    async def _append_chunks(self, chunks: Sequence[Chunk]) -> None:
        async with self.connection() as conn:
            await conn.execute(
                _INSERT_CHUNKS,
                [c.provider_id for c in chunks],
                [c.t_first_ms for c in chunks],
                [c.t_last_ms for c in chunks],
                [c.count for c in chunks],
                [c.data for c in chunks],
            )

    async def migrate(self) -> list[str]:
        done = []
        async with self.connection(transaction=True) as conn:
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations"
                " (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            applied = {r[0] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            for name, sql in scripts("postgres"):
                if name not in applied:
                    async with conn.transaction():
                        await conn.execute(sql)
                        await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                    done.append(name)
        return done

    async def secret(self, name: str, candidate: str) -> str:
        async with self.connection() as conn:
            await conn.execute(
                "INSERT INTO secrets VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", name, candidate
            )
            return str(await conn.fetchval("SELECT value FROM secrets WHERE name = $1", name))

    async def replace_secret(self, name: str, value: str) -> None:
        await self.execute(
            "INSERT INTO secrets VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = ?",
            name,
            value,
            value,
        )

    async def ping(self) -> None:
        await self.fetch("SELECT 1")

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()


class _Tx:
    """Statements inside one transaction on one pooled connection (hub/state/db.py)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return list(await self.conn.fetch(numbered(sql), *args))

    async def execute(self, sql: str, *args: Any) -> int:
        return _changed(await self.conn.execute(numbered(sql), *args))

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self.conn.executemany(numbered(sql), rows)


def _changed(status: str) -> int:
    """The rows a statement changed, from its command tag ("UPDATE 1", "INSERT 0 3")."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0
