"""Two hub processes on Redis + PostgreSQL: a fix ingested on node A is matchable on node B."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from hub.engines import open_records, token_issuer
from tests.client import ProviderClient, fixes, now_ms
from tests.conftest import engine_settings
from tests.processes import environment, free_port, start, stop

QUERY = {"origin": {"lat": -23.55, "lng": -46.63}, "service": "light_tow", "limit": 5}
PROFILE = {"services": ["light_tow"], "channels": ["app"]}


@asynccontextmanager
async def admin_client(settings, port: int) -> AsyncIterator[httpx.AsyncClient]:
    records = await open_records(settings)
    try:
        tokens = await token_issuer(settings, records)
    finally:
        await records.close()
    headers = {"Authorization": f"Bearer {tokens.admin_token('tests', int(time.time()))}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as http:
        yield http


@asynccontextmanager
async def provider_on_duty(on_a: httpx.AsyncClient, port_a: int) -> AsyncIterator[int]:
    """A provider whose app is connected to node A, on duty, with one acked fix."""
    created = await on_a.post(
        "/admin/providers",
        json={"name": "Guincho", "phone": "+5511999990000", "profile": PROFILE},
    )
    pid = created.json()["id"]
    token = (await on_a.post(f"/admin/providers/{pid}/token")).json()["token"]
    async with ProviderClient.connect(f"ws://127.0.0.1:{port_a}/ws/provider", token) as app:
        await app.welcome()
        await app.send({"type": "duty", "on": True})
        await app.until(lambda f: f["type"] == "duty")
        await app.send({"type": "fix", **fixes(1, 1, t0=now_ms(), lat=-23.5505)[0]})
        await app.acked(1)
        yield pid


async def test_a_fix_on_node_a_is_matchable_on_node_b_within_100_ms(tmp_path):
    async with engine_settings("distributed", tmp_path) as settings:
        port_a, port_b = free_port(), free_port()
        node_a = await start(environment(settings, HUB_NODE_ID="node-a"), port_a)
        node_b = await start(environment(settings, HUB_NODE_ID="node-b"), port_b)
        try:
            async with (
                admin_client(settings, port_a) as on_a,
                admin_client(settings, port_b) as on_b,
            ):
                async with provider_on_duty(on_a, port_a) as pid:
                    acked_at = time.perf_counter()
                    async with asyncio.timeout(5):
                        while not (
                            found := (await on_b.post("/match", json=QUERY)).json()["candidates"]
                        ):
                            pass
                    delay_ms = (time.perf_counter() - acked_at) * 1000
                    assert [c["provider_id"] for c in found] == [pid]
                    assert (found[0]["source"], found[0]["connectivity"]) == ("gps", "online")
                    assert delay_ms < 100, f"matchable on node B {delay_ms:.0f} ms after the ack"
                # the session ended on A: B stops offering it
                async with asyncio.timeout(5):
                    while (await on_b.post("/match", json=QUERY)).json()["candidates"]:
                        await asyncio.sleep(0.01)
        finally:
            await stop(node_a)
            await stop(node_b)


async def test_a_starting_node_rebuilds_its_index_from_the_engines(tmp_path):
    async with engine_settings("distributed", tmp_path) as settings:
        port_a, port_b = free_port(), free_port()
        node_a = await start(environment(settings, HUB_NODE_ID="node-a"), port_a)
        try:
            async with (
                admin_client(settings, port_a) as on_a,
                provider_on_duty(on_a, port_a) as pid,
            ):
                await asyncio.sleep(0.2)  # the position is flushed to Redis
                # node B starts now: it learns everything from Redis and PostgreSQL
                node_b = await start(environment(settings, HUB_NODE_ID="node-b"), port_b)
                try:
                    async with admin_client(settings, port_b) as on_b:
                        found = (await on_b.post("/match", json=QUERY)).json()["candidates"]
                    assert [(c["provider_id"], c["connectivity"]) for c in found] == [
                        (pid, "online")
                    ]
                finally:
                    await stop(node_b)
        finally:
            await stop(node_a)
