"""PostgreSQL: providers and their GPS track chunks (one INSERT ... unnest per batch)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from hub.ingest.tracks import Chunk, TrackPoint, distinct_count, merged
from hub.operations.providers import DispatchProfile, NewProvider, Provider
from hub.state.postgres.sql import MS
from hub.state.records import decode_profile, encode_profile

if TYPE_CHECKING:
    from hub.state.postgres.conn import PostgresConn

_PROVIDER_COLUMNS = (
    "id, name, phone, active, device_key, token_version,"
    " (extract(epoch from created_at) * 1000)::bigint AS created_ms, profile::text AS profile"
)


def _provider(row: Any) -> Provider:
    fields = dict(row)
    fields["profile"] = decode_profile(fields["profile"])
    return Provider(**fields)


class PostgresProviders:
    def __init__(self, store: PostgresConn) -> None:
        self.store = store

    async def _one(self, sql: str, *args: Any) -> Provider | None:
        rows = await self.store.fetch(sql, *args)
        return _provider(rows[0]) if rows else None

    async def add(self, new: NewProvider, device_key: str, now_ms: int) -> Provider:
        found = await self._one(
            "INSERT INTO providers (name, phone, active, device_key, created_at, profile)"
            f" VALUES ($1, $2, $3, $4, {MS.format('$5::bigint')}, $6::jsonb)"
            f" RETURNING {_PROVIDER_COLUMNS}",
            new.name,
            new.phone,
            new.active,
            device_key,
            now_ms,
            encode_profile(new.profile),
        )
        assert found is not None
        return found

    async def add_many(
        self, news: Sequence[NewProvider], device_keys: Sequence[str], now_ms: int
    ) -> list[Provider]:
        async with self.store.connection(transaction=True) as conn:
            rows = await conn.fetch(
                "INSERT INTO providers (name, phone, active, device_key, created_at, profile)"
                f" SELECT n, p, a, k, {MS.format('$5::bigint')}, j::jsonb"
                " FROM unnest($1::text[], $2::text[], $3::bool[], $4::text[], $6::text[])"
                " WITH ORDINALITY AS u(n, p, a, k, j, i) ORDER BY i"
                f" RETURNING {_PROVIDER_COLUMNS}",
                [n.name for n in news],
                [n.phone for n in news],
                [n.active for n in news],
                list(device_keys),
                now_ms,
                [encode_profile(n.profile) for n in news],
            )
        return sorted((_provider(row) for row in rows), key=lambda p: p.id)

    async def get(self, provider_id: int) -> Provider | None:
        return await self._one(
            f"SELECT {_PROVIDER_COLUMNS} FROM providers WHERE id = $1", provider_id
        )

    async def by_device_key(self, device_key: str) -> Provider | None:
        return await self._one(
            f"SELECT {_PROVIDER_COLUMNS} FROM providers WHERE device_key = $1", device_key
        )

    async def page(self, *, after_id: int = 0, limit: int = 100) -> list[Provider]:
        rows = await self.store.fetch(
            f"SELECT {_PROVIDER_COLUMNS} FROM providers WHERE id > $1 ORDER BY id LIMIT $2",
            after_id,
            limit,
        )
        return [_provider(row) for row in rows]

    async def bump_token_version(self, provider_id: int) -> Provider | None:
        return await self._one(
            "UPDATE providers SET token_version = token_version + 1 WHERE id = $1"
            f" RETURNING {_PROVIDER_COLUMNS}",
            provider_id,
        )

    async def set_active(self, provider_id: int, active: bool) -> Provider | None:
        return await self._one(
            f"UPDATE providers SET active = $2 WHERE id = $1 RETURNING {_PROVIDER_COLUMNS}",
            provider_id,
            active,
        )

    async def set_profile(self, provider_id: int, profile: DispatchProfile) -> Provider | None:
        return await self._one(
            f"UPDATE providers SET profile = $2::jsonb WHERE id = $1 RETURNING {_PROVIDER_COLUMNS}",
            provider_id,
            encode_profile(profile),
        )


class PostgresTracks:
    def __init__(self, store: PostgresConn) -> None:
        self.store = store

    async def append(self, chunks: Sequence[Chunk]) -> None:
        if not chunks:
            return
        async with self.store.connection() as conn:
            await conn.execute(
                "INSERT INTO track_chunks (provider_id, t_first, t_last, points, data)"
                f" SELECT p, {MS.format('f')}, {MS.format('l')}, n, d"
                " FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::int[], $5::bytea[])"
                " AS u(p, f, l, n, d)",
                [c.provider_id for c in chunks],
                [c.t_first_ms for c in chunks],
                [c.t_last_ms for c in chunks],
                [c.count for c in chunks],
                [c.data for c in chunks],
            )

    async def history(
        self, provider_id: int, *, since_ms: int = 0, limit: int = 1000
    ) -> list[TrackPoint]:
        rows = await self.store.fetch(
            "SELECT data FROM track_chunks"
            f" WHERE provider_id = $1 AND t_last >= {MS.format('$2::bigint')} ORDER BY id",
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
            rows = await self.store.fetch(
                "SELECT provider_id, data FROM track_chunks WHERE provider_id = ANY($1::bigint[])"
                " ORDER BY provider_id, id",
                list(provider_ids),
            )
        return distinct_count(rows)
