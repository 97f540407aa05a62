"""Records engine on PostgreSQL through an asyncpg pool: the distributed mode.

Every table lives in ``schema`` (the tests give each test its own).  asyncpg and OS errors
are mapped here to the hub's own errors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from hub.errors import Conflict, StoreUnavailable
from hub.state.dispatch_sql import numbered
from hub.state.idempotency import IdempotencyKeys
from hub.state.migrations import scripts
from hub.state.postgres.accounts import PostgresAudit, PostgresUsers
from hub.state.postgres.dispatch import PostgresDispatch
from hub.state.postgres.operations import (
    PostgresAttendances,
    PostgresBeneficiaries,
    PostgresClients,
    PostgresEvents,
    PostgresPlans,
)
from hub.state.postgres.registry import PostgresProviders, PostgresTracks

_MIGRATION_LOCK = 7_201_004


async def _reset(conn: asyncpg.Connection) -> None:
    """What a connection needs when it returns to the pool: nothing, unless a transaction
    was left open.  asyncpg's default reset (unlisten, unlock, close cursors, RESET ALL)
    is a round trip on every release, and the hub sets no session state to undo."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


class PostgresRecords:
    def __init__(self, url: str, *, schema: str = "public", pool_size: int = 10) -> None:
        self.url = url
        self.schema = schema
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self.providers = PostgresProviders(self)
        self.tracks = PostgresTracks(self)
        self.users = PostgresUsers(self)
        self.audit = PostgresAudit(self)
        self.clients = PostgresClients(self)
        self.plans = PostgresPlans(self)
        self.beneficiaries = PostgresBeneficiaries(self)
        self.events = PostgresEvents(self)
        self.attendances = PostgresAttendances(self)
        self.dispatch = PostgresDispatch(self)
        self.idempotency = IdempotencyKeys(self.fetch_numbered, self.execute)

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
            raise Conflict(f"record conflicts with an existing one: {exc.detail}") from None
        except asyncpg.ForeignKeyViolationError as exc:
            raise Conflict(f"refers to a record that does not exist: {exc.detail}") from None
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreUnavailable(f"PostgreSQL failed: {exc}") from None

    async def execute(self, sql: str, *args: Any) -> int:
        """One statement written with ``?`` placeholders; the rows it changed."""
        async with self.connection() as conn:
            status: str = await conn.execute(numbered(sql), *args)
        return int(status.rsplit(" ", 1)[-1])

    async def fetch_numbered(self, sql: str, *args: Any) -> list[Any]:
        """``fetch`` for SQL written with ``?`` placeholders."""
        return await self.fetch(numbered(sql), *args)

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        async with self.connection() as conn:
            return list(await conn.fetch(sql, *args))

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

    async def ping(self) -> None:
        await self.fetch("SELECT 1")

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
