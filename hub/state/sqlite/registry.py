"""SQLite: providers and their GPS track chunks."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from hub.ingest.tracks import Chunk, TrackPoint, distinct_count, merged
from hub.operations.providers import DispatchProfile, NewProvider, Provider
from hub.state.records import decode_profile, encode_profile

if TYPE_CHECKING:
    from hub.state.sqlite.conn import SqliteConn

_PROVIDER_COLUMNS = "id, name, phone, active, device_key, token_version, created_ms, profile"


def _provider(row: Any) -> Provider:
    return Provider(
        id=row[0],
        name=row[1],
        phone=row[2],
        active=bool(row[3]),
        device_key=row[4],
        token_version=row[5],
        created_ms=row[6],
        profile=decode_profile(row[7]),
    )


_INSERT_PROVIDER = (
    "INSERT INTO providers (name, phone, active, device_key, created_ms, profile)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def _provider_row(new: NewProvider, device_key: str, now_ms: int) -> tuple[Any, ...]:
    return (new.name, new.phone, int(new.active), device_key, now_ms, encode_profile(new.profile))


class SqliteProviders:
    def __init__(self, store: SqliteConn) -> None:
        self.store = store

    async def add(self, new: NewProvider, device_key: str, now_ms: int) -> Provider:
        async with self.store.transaction() as db:
            cursor = await db.execute(_INSERT_PROVIDER, _provider_row(new, device_key, now_ms))
            provider_id = cursor.lastrowid
        found = await self.get(int(provider_id or 0))
        assert found is not None
        return found

    async def add_many(
        self, news: Sequence[NewProvider], device_keys: Sequence[str], now_ms: int
    ) -> list[Provider]:
        async with self.store.transaction() as db:
            first = None
            for new, key in zip(news, device_keys, strict=True):
                cursor = await db.execute(_INSERT_PROVIDER, _provider_row(new, key, now_ms))
                first = cursor.lastrowid if first is None else first
        if first is None:
            return []
        return await self.page(after_id=first - 1, limit=len(news))

    async def _one(self, where: str, *args: Any) -> Provider | None:
        rows = await self.store.fetch(f"SELECT {_PROVIDER_COLUMNS} FROM providers {where}", *args)
        return _provider(rows[0]) if rows else None

    async def get(self, provider_id: int) -> Provider | None:
        return await self._one("WHERE id = ?", provider_id)

    async def by_device_key(self, device_key: str) -> Provider | None:
        return await self._one("WHERE device_key = ?", device_key)

    async def page(self, *, after_id: int = 0, limit: int = 100) -> list[Provider]:
        rows = await self.store.fetch(
            f"SELECT {_PROVIDER_COLUMNS} FROM providers WHERE id > ? ORDER BY id LIMIT ?",
            after_id,
            limit,
        )
        return [_provider(row) for row in rows]

    async def _update(self, sql: str, *args: Any) -> None:
        async with self.store.transaction() as db:
            await db.execute(sql, args)

    async def bump_token_version(self, provider_id: int) -> Provider | None:
        await self._update(
            "UPDATE providers SET token_version = token_version + 1 WHERE id = ?", provider_id
        )
        return await self.get(provider_id)

    async def set_active(self, provider_id: int, active: bool) -> Provider | None:
        await self._update("UPDATE providers SET active = ? WHERE id = ?", int(active), provider_id)
        return await self.get(provider_id)

    async def set_profile(self, provider_id: int, profile: DispatchProfile) -> Provider | None:
        await self._update(
            "UPDATE providers SET profile = ? WHERE id = ?", encode_profile(profile), provider_id
        )
        return await self.get(provider_id)


def _insert_chunks(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    conn.executemany(
        "INSERT INTO track_chunks (provider_id, t_first_ms, t_last_ms, points, data)"
        " VALUES (?, ?, ?, ?, ?)",
        rows,
    )


class SqliteTracks:
    def __init__(self, store: SqliteConn) -> None:
        self.store = store

    async def append(self, chunks: Sequence[Chunk]) -> None:
        rows = [(c.provider_id, c.t_first_ms, c.t_last_ms, c.count, c.data) for c in chunks]
        if not rows:
            return
        await self.store.atomically(_insert_chunks, rows)

    async def history(
        self, provider_id: int, *, since_ms: int = 0, limit: int = 1000
    ) -> list[TrackPoint]:
        rows = await self.store.fetch(
            "SELECT data FROM track_chunks WHERE provider_id = ? AND t_last_ms >= ? ORDER BY id",
            provider_id,
            since_ms,
        )
        return list(islice(merged((row[0] for row in rows), since_ms), limit))

    async def count(self, provider_ids: Sequence[int] | None = None) -> int:
        if provider_ids is None:
            rows = await self.store.fetch(
                "SELECT provider_id, data FROM track_chunks ORDER BY provider_id, id"
            )
        else:
            marks = ",".join("?" * len(provider_ids)) or "NULL"
            rows = await self.store.fetch(
                "SELECT provider_id, data FROM track_chunks"
                f" WHERE provider_id IN ({marks}) ORDER BY provider_id, id",
                *provider_ids,
            )
        return distinct_count(rows)
