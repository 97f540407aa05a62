"""Providers and their GPS track chunks, one statement set for both engines."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from itertools import islice
from typing import Any

import msgspec

from hub.ingest.tracks import Chunk, TrackPoint, distinct_count, merged
from hub.operations.providers import DispatchProfile, NewProvider, Provider, device_key_hash
from hub.state.db import IDS_AT_ONCE, Db, marks
from hub.state.rows import encode_json, provider_from


class Providers:
    def __init__(self, db: Db) -> None:
        self.db = db
        d = db.dialect
        self.columns = (
            "id, name, phone, active, token_version,"
            f" {d.read_ms('providers', 'created_ms')}, profile"
        )
        self.insert = (
            "INSERT INTO providers (name, phone, active, device_key,"
            f" {d.column('providers', 'created_ms')}, profile)"
            f" VALUES (?, ?, ?, ?, {d.ms_value('providers', 'created_ms')}, ?) RETURNING id"
        )

    def _values(self, new: NewProvider, device_key: str, now_ms: int) -> tuple[Any, ...]:
        kept = device_key_hash(device_key)
        return (new.name, new.phone, new.active, kept, now_ms, encode_json(new.profile))

    async def add(self, new: NewProvider, device_key: str, now_ms: int) -> Provider:
        async with self.db.transaction() as tx:
            (row,) = await tx.fetch(self.insert, *self._values(new, device_key, now_ms))
        found = await self.get(int(row["id"]))
        assert found is not None
        return msgspec.structs.replace(found, device_key=device_key)

    async def add_many(
        self, news: Sequence[NewProvider], device_keys: Sequence[str], now_ms: int
    ) -> list[Provider]:
        ids = []
        async with self.db.transaction() as tx:
            for new, key in zip(news, device_keys, strict=True):
                (row,) = await tx.fetch(self.insert, *self._values(new, key, now_ms))
                ids.append(int(row["id"]))
        if not ids:
            return []
        made = await self.page(after_id=ids[0] - 1, limit=len(ids))
        return [
            msgspec.structs.replace(p, device_key=key)
            for p, key in zip(made, device_keys, strict=True)
        ]

    async def _one(self, where: str, *args: Any) -> Provider | None:
        rows = await self.db.fetch(f"SELECT {self.columns} FROM providers WHERE {where}", *args)
        return provider_from(rows[0]) if rows else None

    async def get(self, provider_id: int) -> Provider | None:
        return await self._one("id = ?", provider_id)

    async def by_device_key(self, device_key: str) -> Provider | None:
        return await self._one("device_key = ?", device_key_hash(device_key))

    async def page(self, *, after_id: int = 0, limit: int = 100) -> list[Provider]:
        rows = await self.db.fetch(
            f"SELECT {self.columns} FROM providers WHERE id > ? ORDER BY id LIMIT ?",
            after_id,
            limit,
        )
        return [provider_from(row) for row in rows]

    async def standing(self, provider_ids: Sequence[int]) -> dict[int, tuple[int, bool]]:
        found: dict[int, tuple[int, bool]] = {}
        for start in range(0, len(provider_ids), IDS_AT_ONCE):
            part = provider_ids[start : start + IDS_AT_ONCE]
            rows = await self.db.fetch(
                f"SELECT id, token_version, active FROM providers WHERE id IN ({marks(len(part))})",
                *part,
            )
            found.update({r["id"]: (r["token_version"], bool(r["active"])) for r in rows})
        return found

    async def _changed(self, provider_id: int, sql: str, *args: Any) -> Provider | None:
        await self.db.execute(sql, *args)
        return await self.get(provider_id)

    async def bump_token_version(self, provider_id: int) -> Provider | None:
        return await self._changed(
            provider_id,
            "UPDATE providers SET token_version = token_version + 1 WHERE id = ?",
            provider_id,
        )

    async def set_device_key(
        self, provider_id: int, device_key: str, *, revoke_tokens: bool
    ) -> Provider | None:
        bump = ", token_version = token_version + 1" if revoke_tokens else ""
        changed = await self._changed(
            provider_id,
            f"UPDATE providers SET device_key = ?{bump} WHERE id = ?",
            device_key_hash(device_key),
            provider_id,
        )
        return None if changed is None else msgspec.structs.replace(changed, device_key=device_key)

    async def set_active(self, provider_id: int, active: bool) -> Provider | None:
        return await self._changed(
            provider_id, "UPDATE providers SET active = ? WHERE id = ?", active, provider_id
        )

    async def set_profile(self, provider_id: int, profile: DispatchProfile) -> Provider | None:
        return await self._changed(
            provider_id,
            "UPDATE providers SET profile = ? WHERE id = ?",
            encode_json(profile),
            provider_id,
        )


AppendChunks = Callable[[Sequence[Chunk]], Awaitable[None]]


class Tracks:
    """The track store.  Appending is the hottest write of all, so each engine brings its
    own bulk insert (``append``): SQLite's executemany in one trip to its writer, and
    PostgreSQL's single INSERT ... SELECT FROM unnest of column arrays."""

    def __init__(self, db: Db, append: AppendChunks) -> None:
        self.db = db
        self._append = append
        d = db.dialect
        self.since = (
            "SELECT data FROM track_chunks WHERE provider_id = ?"
            f" AND {d.column('track_chunks', 't_last_ms')}"
            f" >= {d.ms_value('track_chunks', 't_last_ms')} ORDER BY id"
        )

    async def append(self, chunks: Sequence[Chunk]) -> None:
        if chunks:
            await self._append(chunks)

    async def history(
        self, provider_id: int, *, since_ms: int = 0, limit: int = 1000
    ) -> list[TrackPoint]:
        rows = await self.db.fetch(self.since, provider_id, since_ms)
        return list(islice(merged((row["data"] for row in rows), since_ms), limit))

    async def count(self, provider_ids: Sequence[int] | None = None) -> int:
        where, args = "", tuple[int, ...]()
        if provider_ids is not None:
            where = f" WHERE provider_id IN ({marks(len(provider_ids))})"
            args = tuple(provider_ids)
        rows = await self.db.fetch(
            f"SELECT provider_id, data FROM track_chunks{where} ORDER BY provider_id, id", *args
        )
        return distinct_count(rows)
