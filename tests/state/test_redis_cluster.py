"""What only a Redis Cluster asks of the live state (tests/faults.py starts a real one; the
whole live-state contract runs on it too, in test_live_contract.py)."""

from __future__ import annotations

import time

import pytest
from redis.asyncio.cluster import RedisCluster

from hub.config import ConfigError
from hub.errors import StoreUnavailable
from hub.presence import LivePosition
from tests.conftest import redis_live, redis_prefix


async def test_a_primary_that_lost_the_scripts_gets_them_again(redis_cluster_url):
    async with redis_prefix(redis_cluster_url) as prefix:
        live = redis_live(prefix, "node-a", url=redis_cluster_url)
        await live.start()
        try:
            assert isinstance(live.client, RedisCluster)
            await live.client.execute_command("SCRIPT FLUSH", target_nodes=RedisCluster.PRIMARIES)
            now = int(time.time() * 1000)
            live.positions.put(LivePosition(5, -23.5, -46.6, now, now))
            with pytest.raises(StoreUnavailable, match="scripts"):
                await live.positions.flush()  # the pipeline met them missing: loaded again
            await live.positions.flush()  # the kept position, written on the next tick
            assert (await live.positions.get(5)).t_ms == now
        finally:
            await live.close()


async def test_a_cluster_url_naming_another_database_is_refused(redis_cluster_url):
    live = redis_live("x", "node-a", url=redis_cluster_url.removesuffix("/0") + "/3")
    with pytest.raises(ConfigError, match="database 0 only"):
        await live.start()
