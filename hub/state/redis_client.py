"""Connecting to Redis: one server, or a Redis Cluster, told apart by asking it (``INFO
cluster``), so ``HUB_REDIS_URL`` may name either (for a cluster, any of its nodes).

A cluster gets redis-py's cluster client: each command goes to the primary holding its key's
slot (every key the hub writes is single-slot: hub/state/keys.py) and pipelines are split by
primary.  What else differs is here: a cluster has database 0 only; the hub's scripts are
loaded on every primary up front, because a cluster pipeline does not load them on demand
(``NoScriptError``); and the bus is sharded pub/sub (``SPUBLISH``/``SSUBSCRIBE``), each
channel living on the primary of its slot instead of every message going to every node.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any, cast
from urllib.parse import urlparse

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline, RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, RedisError

from hub.config import ConfigError
from hub.errors import StoreUnavailable

RedisClient = aioredis.Redis | RedisCluster


async def connect(url: str, *, pool_size: int, timeout_s: float) -> RedisClient:
    """A client for the server or the cluster at ``url``."""
    parsed = urlparse(url)
    database = parsed.path.strip("/") or "0"
    probe = aioredis.Redis.from_url(  # database 0: a cluster refuses to SELECT another
        parsed._replace(path="/0").geturl(),
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
    )
    try:
        clustered = bool((await probe.info("cluster")).get("cluster_enabled"))
    except (RedisError, OSError) as exc:
        raise StoreUnavailable(f"Redis does not answer: {exc}") from None
    finally:
        await probe.aclose()
    if not clustered:
        # A blocking pool: a burst of calls (many sessions closing at once) waits for a
        # free connection rather than failing with "Too many connections".
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=pool_size, timeout=timeout_s, socket_timeout=timeout_s
        )
        return aioredis.Redis.from_pool(pool)  # closes the pool too
    if database != "0":
        raise ConfigError(
            f"HUB_REDIS_URL names database {database}, but a Redis Cluster has database 0 only"
        )
    cluster = RedisCluster.from_url(url, max_connections=pool_size, socket_timeout=timeout_s)
    try:
        await cluster.initialize()
    except (RedisError, OSError) as exc:
        await cluster.aclose()
        raise StoreUnavailable(f"Redis Cluster does not answer: {exc}") from None
    return cluster


class Scripts:
    """The hub's Lua scripts on a client.  A single call loads its script on demand; a
    pipeline on one server too, but not a cluster pipeline: on a cluster they are loaded on
    every primary at start, and again when a pipeline meets a primary without them (one
    restarted or promoted), that pipeline failing as a store outage, tried again."""

    def __init__(self, client: RedisClient) -> None:
        self.client = client
        self.sources: list[str] = []

    def register(self, source: str) -> AsyncScript:
        self.sources.append(source)
        return self.client.register_script(source)

    async def load(self) -> None:
        if isinstance(self.client, RedisCluster):
            for source in self.sources:
                await self.client.execute_command(
                    "SCRIPT LOAD", source, target_nodes=RedisCluster.PRIMARIES
                )

    async def execute(self, pipe: Pipeline | ClusterPipeline) -> list[Any]:
        """Run a pipeline that calls scripts."""
        try:
            return await pipe.execute()
        except NoScriptError:
            await self.load()
            raise StoreUnavailable(
                "a Redis primary had lost the hub's scripts (loaded again)"
            ) from None

    @staticmethod
    def queue(
        script: AsyncScript, pipe: Pipeline | ClusterPipeline, keys: list[str], args: list[Any]
    ) -> Awaitable[Any]:
        """Queue a script call on a pipeline (a cluster pipeline takes it as a client would;
        redis-py types only its own Pipeline as one)."""
        return script(keys=keys, args=args, client=cast(aioredis.Redis, pipe))


async def publish(client: RedisClient, channel: str, payload: bytes) -> int:
    """Publish on the bus; how many listeners it reached."""
    if isinstance(client, RedisCluster):
        return int(await client.spublish(channel, payload))
    return int(await client.publish(channel, payload))


async def subscribe(client: RedisClient, channel: str) -> AsyncIterator[bytes]:
    """Messages of one bus channel, from now on; Redis errors become StoreUnavailable (the
    caller subscribes again, to the primary that holds the channel's slot then)."""
    if isinstance(client, RedisCluster):
        node = client.get_node_from_key(channel)
        if node is None:
            raise StoreUnavailable(f"no Redis Cluster primary holds {channel} now")
        owner = aioredis.Redis(host=node.host, port=int(node.port))
        pubsub = owner.pubsub(ignore_subscribe_messages=True)
        kind = "smessage"
    else:
        owner = None
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        kind = "message"
    try:
        if kind == "smessage":
            await pubsub.ssubscribe(channel)
        else:
            await pubsub.subscribe(channel)
        async for message in pubsub.listen():
            if message["type"] == kind:
                yield message["data"]
    except RedisError as exc:
        raise StoreUnavailable(f"Redis subscription failed: {exc}") from None
    finally:
        await pubsub.aclose()
        if owner is not None:
            await owner.aclose()
