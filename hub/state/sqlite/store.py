"""Records engine on one SQLite file: the embedded default, nothing to install.

A writer connection in WAL mode with ``synchronous=FULL``: a commit that returned survives
a crash of the process and of the machine.  Writers take an asyncio lock so that
transactions of concurrent coroutines never interleave on the shared connection.  Reads
outside a transaction (``fetch``) go to a second, read-only connection with its own
thread: WAL lets it read while the writer writes, and a decision's trips to the writer's
thread never queue behind a panel's or a ranking's queries.

A decision's transaction (a few single-row statements and one fsync) runs on the event
loop's own thread instead (``at_once``): the trip to the writer's thread and back costs
about as much as the work itself, and more at the tail.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aiosqlite

from hub.clock import now_ms
from hub.errors import StoreUnavailable
from hub.ingest.tracks import Chunk
from hub.state.conflicts import conflict
from hub.state.db import Row
from hub.state.dialect import SQLITE
from hub.state.migrations import scripts
from hub.state.roles import RecordRoles
from hub.state.sqlite.dispatch import SqliteDispatch

T = TypeVar("T")
log = logging.getLogger(__name__)
CHECKPOINT_EVERY_S = 0.5
WAL_LIMIT_BYTES = 64 * 1024 * 1024
CATCH_UP_PASSES, CATCH_UP_S = 4, 0.01  # before the checkpoint that holds the writer
BUSY_TIMEOUT_MS = 5000  # how long a write waits for another process's write lock
_CHECKPOINT = "PRAGMA wal_checkpoint(PASSIVE)"


def _sha256_hex(text: str) -> str:
    """SQL ``hub_sha256(text)``, for the migration that hashes device keys."""
    return hashlib.sha256(text.encode()).hexdigest()


class SqliteRecords(RecordRoles):
    dialect = SQLITE

    def __init__(
        self,
        path: str,
        *,
        checkpoint_every_s: float = CHECKPOINT_EVERY_S,
        wal_limit_bytes: int = WAL_LIMIT_BYTES,
    ) -> None:
        self.path = path
        self.checkpoint_every_s = checkpoint_every_s
        self.wal_limit_bytes = wal_limit_bytes
        self._db: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._checkpoints: asyncio.Task[None] | None = None
        self._write_lock = asyncio.Lock()
        super().__init__(self, self._append_chunks)
        self.dispatch = SqliteDispatch(self)

    async def open(self) -> SqliteRecords:
        try:
            # used from the loop's thread too (``at_once``), never by two at a time
            db = await aiosqlite.connect(self.path, isolation_level=None, check_same_thread=False)
            db.row_factory = sqlite3.Row  # columns by name
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=FULL")
            await db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            await db.execute("PRAGMA foreign_keys=ON")
            await db.create_function("hub_sha256", 1, _sha256_hex, deterministic=True)
            await db.execute("PRAGMA wal_autocheckpoint=0")
            await db.execute(f"PRAGMA journal_size_limit={int(self.wal_limit_bytes)}")
            reader = await aiosqlite.connect(self.path, isolation_level=None)
            reader.row_factory = sqlite3.Row
            await reader.execute("PRAGMA query_only=ON")
            await reader.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite file {self.path}: {exc}") from None
        self._db, self._reader = db, reader
        self._checkpoints = asyncio.create_task(self._checkpoint_forever())
        return self

    async def _checkpoint_forever(self) -> None:
        """Copy the WAL back into the database file, off the writer's thread.

        A checkpoint that finishes with nothing written meanwhile lets the next write start
        the WAL over; under a steady stream of commits that never happens and the WAL
        would grow without end (2 GB in 25 s of bench ingest).  So once it is past its
        limit, checkpoints run again until one is short (what came meanwhile is little),
        then once more holding the writer's turn: writers wait a few milliseconds, the WAL
        starts over, and ``journal_size_limit`` cuts the file back.  Checkpoints never wait
        for readers (PASSIVE): one a reader holds back is tried again next time.
        """
        wal = f"{self.path}-wal"
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.checkpoint_every_s)
            reader = self._reader
            if reader is None:
                continue
            try:
                await reader.execute_fetchall(_CHECKPOINT)
                if _size(wal) <= self.wal_limit_bytes:
                    continue
                for _ in range(CATCH_UP_PASSES):
                    started = loop.time()
                    await reader.execute_fetchall(_CHECKPOINT)
                    if loop.time() - started < CATCH_UP_S:
                        break
                async with self._write_lock:
                    await reader.execute_fetchall(_CHECKPOINT)
            except sqlite3.Error as exc:
                log.warning("WAL checkpoint failed", extra={"err": str(exc)})

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreUnavailable("SQLite records store is not open")
        return self._db

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[aiosqlite.Connection]:
        """The single writer's turn (no transaction begun yet), SQLite errors mapped."""
        async with self._write_lock:
            try:
                yield self.db
            except sqlite3.IntegrityError as exc:
                raise conflict(str(exc), missing="FOREIGN KEY" in str(exc)) from None
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"SQLite failed: {exc}") from None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Tx]:
        async with self.writing() as db:
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield _Tx(db)
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")

    async def atomically(self, work: Callable[..., T], *args: Any) -> T:
        """``work(sqlite3.Connection, *args)`` as one transaction, in one trip to the
        connection's thread: the single writer is held for the database's time only."""
        async with self.writing():
            return await self.in_thread(_in_transaction, work, *args)

    async def at_once(self, work: Callable[..., T], *args: Any) -> T:
        """``work(sqlite3.Connection, *args)`` as one transaction on the event loop's own
        thread, for a decision: a few single-row statements and one fsync.

        The loop stops for the transaction's time (~0.3 ms here).  The trip to the
        writer's thread and back that this saves is two thread wake-ups: ~0.15 ms at the
        median, the way there 0.35-0.55 ms and the way back 0.16-0.31 at p99.  Bulk
        writes (track chunks) still go to the writer's thread.  The loop never waits for
        another process's write lock: if the file is busy, the work goes to the writer's
        thread (as ``atomically``), which waits up to BUSY_TIMEOUT_MS.
        """
        async with self.writing() as db:
            conn: sqlite3.Connection = db._conn
            if _begin_unless_busy(conn):
                return _then_commit(conn, work, *args)
            return await self.in_thread(_in_transaction, work, *args)

    async def finish(self, work: Callable[..., T], *args: Any) -> T:
        """``work`` inside the transaction an earlier trip began, then COMMIT, in one trip
        to the writer's thread (ROLLBACK if either raised)."""
        return await self.in_thread(_then_commit, work, *args)

    async def in_thread(self, work: Callable[..., T], *args: Any) -> T:
        """``work(sqlite3.Connection, *args)`` on the connection's own thread, in one trip.

        Each aiosqlite call is a trip to that thread and back (~0.1 ms here); a decision
        that begins, writes and commits in one trip instead of eight holds the single
        writer an eighth as long.  aiosqlite offers no public way to run several
        statements in one trip; ``Connection._execute`` (unchanged since 0.11) is that way
        and is used here only.
        """
        db = self.db
        result: T = await db._execute(work, db._conn, *args)  # type: ignore[no-untyped-call]
        return result

    async def execute(self, sql: str, *args: Any) -> int:
        """One statement as its own transaction, in one trip; the rows it changed."""
        return await self.atomically(_rowcount, sql, args)

    async def _append_chunks(self, chunks: Sequence[Chunk]) -> None:
        rows = [(c.provider_id, c.t_first_ms, c.t_last_ms, c.count, c.data) for c in chunks]
        await self.atomically(_insert_chunks, rows)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        """Rows of a query, read outside any transaction (what is committed)."""
        reader = self._reader
        if reader is None:
            raise StoreUnavailable("SQLite records store is not open")
        try:  # one trip to the reader's thread (execute + fetchall + close)
            return list(await reader.execute_fetchall(sql, args))
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite failed: {exc}") from None

    async def migrate(self) -> list[str]:
        await self.db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_ms INT)"
        )
        applied = {row[0] for row in await self.fetch("SELECT name FROM schema_migrations")}
        done = []
        for name, sql in scripts("sqlite"):
            if name in applied:
                continue
            async with self.transaction() as tx:
                for statement in _statements(sql):
                    await tx.execute(statement)
                await tx.execute("INSERT INTO schema_migrations VALUES (?, ?)", name, now_ms())
            done.append(name)
        return done

    async def replace_secret(self, name: str, value: str) -> None:
        await self.execute("INSERT OR REPLACE INTO secrets VALUES (?, ?)", name, value)

    async def secret(self, name: str, candidate: str) -> str:
        await self.execute("INSERT OR IGNORE INTO secrets VALUES (?, ?)", name, candidate)
        rows = await self.fetch("SELECT value FROM secrets WHERE name = ?", name)
        return str(rows[0]["value"])

    async def ping(self) -> None:
        await self.fetch("SELECT 1")

    async def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.cancel()
        for db in (self._reader, self._db):
            if db is not None:
                await db.close()
        self._db = self._reader = None


class _Tx:
    """Statements inside the single writer's transaction (hub/state/db.py)."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return list(await self.db.execute_fetchall(sql, args))

    async def execute(self, sql: str, *args: Any) -> int:
        cursor = await self.db.execute(sql, args)
        return int(cursor.rowcount)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self.db.executemany(sql, rows)


def _insert_chunks(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    conn.executemany(
        "INSERT INTO track_chunks (provider_id, t_first_ms, t_last_ms, points, data)"
        " VALUES (?, ?, ?, ?, ?)",
        rows,
    )


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:  # not there (yet)
        return 0


def _rowcount(conn: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> int:
    return int(conn.execute(sql, args).rowcount)


def _in_transaction(conn: sqlite3.Connection, work: Callable[..., T], *args: Any) -> T:
    conn.execute("BEGIN IMMEDIATE")
    return _then_commit(conn, work, *args)


def _begin_unless_busy(conn: sqlite3.Connection) -> bool:
    """BEGIN IMMEDIATE without waiting: False if another connection holds the write lock."""
    conn.execute("PRAGMA busy_timeout=0")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode == sqlite3.SQLITE_BUSY:
            return False
        raise
    finally:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return True


def _then_commit(conn: sqlite3.Connection, work: Callable[..., T], *args: Any) -> T:
    """``work`` inside the transaction begun earlier, then COMMIT; ROLLBACK if either
    raised (unless SQLite already rolled the transaction back itself)."""
    try:
        result = work(conn, *args)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def _statements(script: str) -> list[str]:
    """Split a script into statements the way SQLite does (comments and quotes respected)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    return statements
