"""The hub on a real 3-primary Redis Cluster (started by the tests): two nodes, the app on
one, the operator and the console on the other. Ingest, matching on the other node, an
offer across nodes (sharded pub/sub), the accept, the status stream followed live and
resumed after a reconnect, and the dashboards, all through the cluster."""

from __future__ import annotations

import asyncio

import pytest

from hub.state.live import offset_key
from tests.channels.test_console_socket import console
from tests.client import ProviderClient, fixes
from tests.dispatch.test_nodes import ORIGIN_LAT, two_nodes


@pytest.mark.postgres
async def test_two_nodes_dispatch_through_a_redis_cluster(tmp_path, redis_cluster_url):
    async with two_nodes(tmp_path, {}, redis_url=redis_cluster_url) as (scene, _, http_b, port):
        pid = await scene.provider("App", channels=["app"])
        query = {
            "origin": {"lat": ORIGIN_LAT, "lng": -46.63},
            "service": "light_tow",
            "mode": "app",
        }
        token = await scene.token(pid)
        url_b = f"ws://127.0.0.1:{port}/ws/provider"
        async with ProviderClient.connect(url_b, token) as app, console(scene) as panel:
            await app.welcome()
            await app.send({"type": "duty", "on": True})
            await app.send({"type": "fixes", "fixes": fixes(1, 3, lat=ORIGIN_LAT)})
            await app.acked(3)
            async with asyncio.timeout(5):  # node A learns B's session and position
                while pid not in [
                    c["provider_id"]
                    for c in (await scene.http.post("/match", json=query)).json()["candidates"]
                ]:
                    await asyncio.sleep(0.1)
            live = (await scene.http.get(f"/admin/providers/{pid}/live")).json()
            assert live["presence"]["connectivity"] == "online"
            assert live["presence"]["owner"]["node"] != scene.hub.node

            snapshot = await panel.subscribe("dispatch")
            tow = await scene.tow()
            await panel.until(lambda f: f["type"] == "update" and f.get("row"))
            made = await scene.http.post(  # on A, for B's session: sharded pub/sub
                f"/attendances/{tow['id']}/offers", json={"provider_id": pid, "mode": "app"}
            )
            assert made.status_code == 201, made.text
            offer = await app.until(lambda f: f["type"] == "offer")
            assert offer["offer_id"] == made.json()["id"]
            await app.send({"type": "accept", "offer_id": offer["offer_id"], "eta_min": 9})
            await app.until(lambda f: f["type"] == "assignment")
            left = await panel.until(lambda f: f["type"] == "update" and f.get("removed"))
            assert left["removed"] == tow["id"]  # decided on B, seen on A's console
            last = left["offset"]
            assert offset_key(last) > offset_key(snapshot["offset"])

        missed = await scene.tow()  # while the console is away
        async with console(scene) as again:
            await again.send({"type": "subscribe", "topic": "dispatch", "since": last})
            got = await again.until(lambda f: f["type"] == "update" and f.get("row"))
            assert got["row"]["attendance_id"] == missed["id"]
            assert not [f for f in again.seen if f["type"] == "snapshot"]
        b_ready = (await http_b.get("/readyz")).json()
        assert b_ready["status"] == "ready", b_ready
