"""Redis restarted empty under a running node: the node asserts its sessions and their
duty again within seconds, without the apps reconnecting (and yields to a newer session
that claimed a provider meanwhile)."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from hub import lifespan
from hub.presence import Owner
from hub.state.keys import Keys
from tests.channels.test_provider_socket import new_provider
from tests.client import ProviderClient, fixes, now_ms
from tests.conftest import engine_settings, serve


async def lose_everything(url: str, prefix: str, then: dict[str, dict] | None = None) -> None:
    """What a Redis without persistence holds after a restart: nothing (of this hub's),
    or only ``then`` (hashes written by whoever came first), in one transaction."""
    client = aioredis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(f"{prefix}*")]
        async with client.pipeline(transaction=True) as pipe:
            if keys:
                pipe.delete(*keys)
            for key, fields in (then or {}).items():
                pipe.hset(key, mapping=fields)
            await pipe.execute()
    finally:
        await client.aclose()


async def until(check, timeout_s: float = 10.0):
    async with asyncio.timeout(timeout_s):
        while not (found := await check()):
            await asyncio.sleep(0.05)
        return found


@pytest.mark.redis
async def test_sessions_and_duty_come_back_after_redis_lost_its_data(tmp_path, monkeypatch):
    monkeypatch.setattr(lifespan, "HEARTBEAT_S", 0.2)
    async with engine_settings("distributed", tmp_path) as settings, serve(settings) as running:
        hub = running.hub
        pid, token = await new_provider(running)
        async with ProviderClient.connect(running.ws, token) as app:
            welcome = await app.welcome()
            await app.send({"type": "duty", "on": True})
            await app.send({"type": "fixes", "fixes": fixes(1, 1)})
            await app.acked(1)
            await until(lambda: hub.live.presence.view(pid, now_ms()))
            await asyncio.sleep(0.5)  # the node has seen the store's epoch
            await lose_everything(settings.redis_url, settings.redis_prefix)
            assert (await hub.live.presence.view(pid, now_ms())).owner is None

            async def back():
                view = await hub.live.presence.view(pid, now_ms())
                return view if view.owner is not None and view.on_duty else None

            view = await until(back)
            assert view.owner == Owner(welcome["session_id"], hub.node)
            await app.alive()  # the app never noticed


@pytest.mark.redis
async def test_a_newer_session_claimed_meanwhile_replaces_the_reasserted_one(tmp_path, monkeypatch):
    monkeypatch.setattr(lifespan, "HEARTBEAT_S", 0.2)
    async with engine_settings("distributed", tmp_path) as settings, serve(settings) as running:
        pid, token = await new_provider(running)
        async with ProviderClient.connect(running.ws, token) as app:
            await app.welcome()
            await asyncio.sleep(0.5)
            # emptied, and another node's newer session claims the provider at once
            newer = {"session": "newer", "node": "node-elsewhere", "opened": now_ms()}
            key = Keys(settings.redis_prefix).provider(pid)
            await lose_everything(settings.redis_url, settings.redis_prefix, {key: newer})
            assert await app.closed(timeout=10) == 4004
