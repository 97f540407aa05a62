"""The embedded store's two connections: reads beside the writer, checkpoints off it,
decisions on the loop's thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from hub.state.sqlite.store import BUSY_TIMEOUT_MS, CHECKPOINT_EVERY_S, SqliteRecords


def rows(found):
    """Result rows (read by name in the hub) as plain tuples."""
    return [tuple(row) for row in found]


async def test_reads_see_what_is_committed_without_waiting_for_the_writer(tmp_path):
    records = await SqliteRecords(str(tmp_path / "hub.sqlite3")).open()
    try:
        async with records.transaction() as db:
            await db.execute("CREATE TABLE scratch (x INTEGER)")
        async with records.transaction() as db:
            await db.execute("INSERT INTO scratch VALUES (1)")
            # the writer holds its transaction open: a read neither waits nor sees it
            inside = await asyncio.wait_for(records.fetch("SELECT count(*) FROM scratch"), 2)
        after = await records.fetch("SELECT count(*) FROM scratch")
        assert (inside[0][0], after[0][0]) == (0, 1)
    finally:
        await records.close()


async def test_the_wal_is_copied_back_into_the_file_off_the_writers_thread(tmp_path):
    path: Path = tmp_path / "hub.sqlite3"
    records = await SqliteRecords(str(path)).open()
    try:
        assert rows(await records.db.execute_fetchall("PRAGMA wal_autocheckpoint")) == [(0,)]
        async with records.transaction() as db:
            await db.execute("CREATE TABLE scratch (x TEXT)")
        before = _size(path)
        for _ in range(20):
            async with records.transaction() as db:
                await db.executemany("INSERT INTO scratch VALUES (?)", [("x" * 200,)] * 100)
        await asyncio.sleep(CHECKPOINT_EVERY_S * 3)
        # the writer never checkpoints; the pages reached the file all the same
        assert _size(path) > before + 200 * 100 * 20 // 2
    finally:
        await records.close()


def _size(path: Path) -> int:
    """One file's size (the database file's leaves out the WAL beside it)."""
    return path.stat().st_size


async def test_the_wal_starts_over_under_a_steady_stream_of_commits(tmp_path):
    path: Path = tmp_path / "hub.sqlite3"
    limit = 1024 * 1024
    records = await SqliteRecords(str(path), checkpoint_every_s=0.05, wal_limit_bytes=limit).open()
    wal = Path(f"{path}-wal")
    try:
        async with records.transaction() as db:
            await db.execute("CREATE TABLE scratch (x TEXT)")
        written, largest = 0, 0
        loop = asyncio.get_running_loop()
        until = loop.time() + 2.0
        while loop.time() < until:  # commits back to back: the WAL is never idle
            async with records.transaction() as db:
                await db.executemany("INSERT INTO scratch VALUES (?)", [("x" * 1000,)] * 100)
            written += 100 * 1000
            largest = max(largest, _size(wal))
        assert written > 40 * limit
        assert largest < 12 * limit  # bounded: without the held checkpoint, tens of MB
    finally:
        await records.close()


def _insert(conn: sqlite3.Connection, x: int) -> int:
    return int(conn.execute("INSERT INTO scratch VALUES (?)", (x,)).rowcount)


def _insert_then_fail(conn: sqlite3.Connection, x: int) -> int:
    _insert(conn, x)
    raise LookupError("the work changed its mind")


async def test_a_decision_commits_on_the_loops_thread_or_not_at_all(tmp_path):
    records = await SqliteRecords(str(tmp_path / "hub.sqlite3")).open()
    try:
        async with records.transaction() as db:
            await db.execute("CREATE TABLE scratch (x INTEGER)")
        threads: list[int] = []

        def _insert_noting_thread(conn: sqlite3.Connection, x: int) -> int:
            threads.append(threading.get_ident())
            return _insert(conn, x)

        assert await records.at_once(_insert_noting_thread, 1) == 1
        with pytest.raises(LookupError):
            await records.at_once(_insert_then_fail, 2)
        assert threads == [threading.get_ident()]
        assert rows(await records.fetch("SELECT x FROM scratch")) == [(1,)]
        # the connection is left outside any transaction, its busy timeout restored
        assert rows(await records.db.execute_fetchall("PRAGMA busy_timeout")) == [
            (BUSY_TIMEOUT_MS,)
        ]
        assert await records.execute("INSERT INTO scratch VALUES (3)") == 1
    finally:
        await records.close()


async def test_a_decision_never_holds_the_loop_while_another_process_writes(tmp_path):
    """Another connection (the CLI, say) holds the write lock: the decision waits for it
    on the writer's thread while the loop goes on, and commits once the lock is free."""
    path = str(tmp_path / "hub.sqlite3")
    records = await SqliteRecords(path).open()
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        async with records.transaction() as db:
            await db.execute("CREATE TABLE scratch (x INTEGER)")
        other.execute("BEGIN IMMEDIATE")
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, other.execute, "COMMIT")  # only the loop can let go of it
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(tick())
        started = loop.time()
        assert await asyncio.wait_for(records.at_once(_insert, 7), 4) == 1
        waited = loop.time() - started
        ticking.cancel()
        assert waited >= 0.25  # it did wait for the lock ...
        assert ticks >= 10  # ... with the loop running meanwhile
        assert rows(await records.fetch("SELECT x FROM scratch")) == [(7,)]
    finally:
        other.close()
        await records.close()
