"""The cross-node bus (pub/sub; sharded on a cluster) and the status streams (Redis Streams)
of the redis live state, and the helper every part of it uses: Redis errors become
StoreUnavailable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from redis.exceptions import RedisError

from hub.errors import StoreUnavailable
from hub.state.keys import STREAM_APPEND, Keys
from hub.state.live import STREAM_KEPT, StreamEntry, offset_key
from hub.state.redis_client import RedisClient, Scripts, publish, subscribe
from hub.tasks import stop_if_cancelled

FOLLOW_BLOCK_MS = 5000


async def call(awaitable: Any) -> Any:
    """Await a Redis command; its failure as StoreUnavailable."""
    try:
        return await awaitable
    except RedisError as exc:
        raise StoreUnavailable(f"Redis failed: {exc}") from None


class RedisBus:
    def __init__(self, client: RedisClient, keys: Keys) -> None:
        self.client = client
        self.keys = keys

    async def publish(self, channel: str, payload: bytes) -> int:
        return int(await call(publish(self.client, self.keys.channel(channel), payload)))

    async def listen(self, channel: str) -> AsyncIterator[bytes]:
        async for data in subscribe(self.client, self.keys.channel(channel)):
            yield data


class RedisStreams:
    """Redis Streams with offsets "0-<n>", n counting from 1 with no gaps (a script picks
    the next id), so a reader knows exactly whether what followed its offset was trimmed.
    XADD trims to ``kept``; XRANGE resumes; XREAD follows."""

    def __init__(self, scripts: Scripts, keys: Keys, kept: int = STREAM_KEPT) -> None:
        self.client = scripts.client
        self.keys = keys
        self.kept = kept
        self._append = scripts.register(STREAM_APPEND)
        self.newest: dict[str, int] = {}  # per stream: the newest offset seen here

    def _saw(self, name: str, offset: str) -> None:
        n = offset_key(offset)[1]
        if n > self.newest.get(name, 0):
            self.newest[name] = n

    async def append(self, name: str, payload: bytes) -> str:
        floor = self.newest.get(name, 0) + 1
        key = self.keys.stream(name)
        n = await call(self._append(keys=[key], args=[payload, self.kept, floor]))
        offset = f"0-{int(n)}"
        self._saw(name, offset)
        return offset

    async def after(self, name: str, offset: str, *, limit: int = 1000) -> list[StreamEntry] | None:
        key = self.keys.stream(name)
        ms, seen = offset_key(offset)
        if ms != 0:
            return None
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.xrange(key, "-", "+", 1)
            pipe.xrevrange(key, "+", "-", 1)
            pipe.xrange(key, f"(0-{seen}", "+", limit)
            first, newest, entries = await call(pipe.execute())
        count = offset_key(newest[0][0].decode())[1] if newest else 0
        first_kept = offset_key(first[0][0].decode())[1] if first else count + 1
        if seen > count or seen < first_kept - 1:
            return None  # trimmed since, or an offset this stream never gave
        return [StreamEntry(i.decode(), fields[b"d"]) for i, fields in entries]

    async def last(self, name: str) -> str:
        newest = await call(self.client.xrevrange(self.keys.stream(name), "+", "-", 1))
        offset = str(newest[0][0].decode()) if newest else f"0-{self.newest.get(name, 0)}"
        self._saw(name, offset)
        return offset

    async def follow(self, name: str, offset: str) -> AsyncIterator[StreamEntry]:
        key, seen = self.keys.stream(name), offset
        while True:
            found = await call(self.client.xread({key: seen}, count=1000, block=FOLLOW_BLOCK_MS))
            stop_if_cancelled()
            for _, entries in found or []:
                for entry_id, fields in entries:
                    seen = entry_id.decode()
                    self._saw(name, seen)
                    yield StreamEntry(seen, fields[b"d"])
