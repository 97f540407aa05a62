"""Redis killed and started again empty under two running nodes, apps connected: within
seconds every session is owned again, on duty, on every node; an offer made on the other
node reaches its app; a second session on the other node closes the first with 4004; no
acked fix is lost."""

from __future__ import annotations

import asyncio
import time

import pytest

from hub import lifespan
from hub.errors import Close
from tests.client import ProviderClient, fixes
from tests.dispatch.test_nodes import two_nodes
from tests.faults import private_redis, rest_of_outage


@pytest.mark.postgres
async def test_nodes_heal_presence_after_redis_restarts_empty(tmp_path, monkeypatch):
    monkeypatch.setattr(lifespan, "HEARTBEAT_S", 0.5)  # node A (in process) beats faster
    async with (
        private_redis() as redis,
        two_nodes(tmp_path, {}, redis_url=redis.url) as (scene, _, http_b, port_b),
    ):
        hub = scene.hub
        pid = await scene.provider("App", channels=["app"])
        token = await scene.token(pid)
        async with ProviderClient.connect(scene.running.ws, token) as app:
            welcome = await app.welcome()
            await app.send({"type": "duty", "on": True})
            await app.send({"type": "fixes", "fixes": fixes(1, 3)})
            await app.acked(3)
            await asyncio.sleep(1.5)  # node A has seen the store's epoch

            await redis.kill()
            await rest_of_outage(time.monotonic())
            await redis.start()  # back, and empty

            async def healed() -> bool:
                live = (await http_b.get(f"/admin/providers/{pid}/live")).json()["presence"]
                owner = live["owner"]
                ready = (await scene.http.get("/readyz")).status_code == 200  # subscribed
                online = live["connectivity"] == "online"  # its position is back too
                mine = owner is not None and owner["node"] == hub.node
                return ready and online and live["on_duty"] and mine

            async with asyncio.timeout(10):
                while not await healed():
                    await asyncio.sleep(0.2)
            assert (await http_b.get(f"/admin/providers/{pid}/live")).json()["presence"]["owner"][
                "session_id"
            ] == welcome["session_id"]

            tow = await scene.tow()
            offered = await http_b.post(  # made on node B, delivered on node A
                f"/attendances/{tow['id']}/offers", json={"provider_id": pid, "mode": "app"}
            )
            assert offered.status_code == 201, offered.text
            frame = await app.until(lambda f: f["type"] == "offer", timeout=10)
            assert frame["offer_id"] == offered.json()["id"]

            await app.send({"type": "fixes", "fixes": fixes(4, 2)})
            await app.acked(5)
            url_b = f"ws://127.0.0.1:{port_b}/ws/provider"
            async with ProviderClient.connect(url_b, token) as second:
                await second.welcome()
                assert await app.closed(timeout=10) == Close.SESSION_REPLACED
        assert await hub.records.tracks.count([pid]) == 5
