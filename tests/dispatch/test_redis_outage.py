"""Redis down under a running hub (a private instance, killed): a decision PostgreSQL
committed is answered as the success it is, never as store_unavailable, and an idempotent
retry gets the first answer back, not a second effect."""

from __future__ import annotations

import asyncio
import time

import pytest

from hub import lifespan
from tests.channels.test_console_socket import console
from tests.dispatch.scene import link_path, scene_on
from tests.dispatch.test_nodes import two_nodes
from tests.faults import private_redis, rest_of_outage


@pytest.mark.postgres
async def test_decisions_committed_while_redis_is_down_are_answered_as_done(tmp_path):
    async with (
        private_redis() as redis,
        scene_on("distributed", tmp_path, redis_url=redis.url) as scene,
    ):
        pid = await scene.provider("Link", channels=["link"])
        first, second = await scene.tow(), await scene.tow()
        made = await scene.http.post(
            f"/attendances/{first['id']}/offers", json={"provider_id": pid, "mode": "link"}
        )
        assert made.status_code == 201, made.text
        sms = (await scene.http.get("/notifications")).json()["notifications"]
        path = link_path(next(n for n in sms if n["offer_id"] == made.json()["id"])["body"])

        await redis.kill()
        won = await scene.http.post(path + "/accept", json={"eta_min": 15})
        assert won.status_code == 200, won.text  # committed: said so
        stored = (await scene.attendance(first["id"]))["attendance"]
        assert (stored["state"], stored["provider_id"]) == ("assigned", pid)

        key = {"Idempotency-Key": "outage-offer-1"}
        body = {"provider_id": pid, "mode": "link"}
        offer = await scene.http.post(f"/attendances/{second['id']}/offers", json=body, headers=key)
        again = await scene.http.post(f"/attendances/{second['id']}/offers", json=body, headers=key)
        assert (offer.status_code, again.status_code) == (201, 201), offer.text
        assert again.json()["id"] == offer.json()["id"]
        offers = (await scene.http.get(f"/attendances/{second['id']}/offers")).json()["offers"]
        assert len(offers) == 1
        text = (await scene.http.get("/metrics")).text
        assert 'hub_after_commit_failures_total{what="status-stream"}' in text


@pytest.mark.postgres
async def test_what_committed_decisions_tell_reaches_apps_and_consoles_once_redis_is_back(
    tmp_path, monkeypatch
):
    """Two nodes, the apps on B, the console and the operator on A; Redis is killed during
    an accept and an operator's offer, and comes back empty: the console on A gets the
    accept B decided, and the app on B gets the offer A made."""
    monkeypatch.setattr(lifespan, "HEARTBEAT_S", 0.5)
    async with (
        private_redis() as redis,
        two_nodes(tmp_path, {"offer_deadline_s": 60}, redis_url=redis.url) as (
            scene,
            _,
            http_b,
            port_b,
        ),
    ):
        url_b = f"ws://127.0.0.1:{port_b}/ws/provider"
        winner, loser = await scene.provider("Um"), await scene.provider("Dois")
        first, second = await scene.tow(), await scene.tow()
        async with (
            scene.app(winner, url=url_b) as app,
            scene.app(loser, url=url_b) as other,
            console(scene) as panel,
        ):
            await panel.subscribe(f"attendance:{first['id']}")
            for pid in (winner, loser):
                made = await scene.http.post(
                    f"/attendances/{first['id']}/offers", json={"provider_id": pid, "mode": "app"}
                )
                assert made.status_code == 201, made.text
            offer = await app.until(lambda f: f["type"] == "offer")
            await other.until(lambda f: f["type"] == "offer")

            await redis.kill()
            down = time.monotonic()
            await app.send({"type": "accept", "offer_id": offer["offer_id"], "eta_min": 12})
            assigned = await app.until(lambda f: f["type"] == "assignment")  # B: local
            assert assigned["attendance_id"] == first["id"]
            await other.until(lambda f: f["type"] == "offer_closed")
            key = {"Idempotency-Key": "outage-app-offer"}
            body = {"provider_id": loser, "mode": "app"}
            path = f"/attendances/{second['id']}/offers"
            made = await scene.http.post(path, json=body, headers=key)  # on A, for B's app
            again = await scene.http.post(path, json=body, headers=key)
            assert (made.status_code, again.status_code) == (201, 201), made.text
            assert again.json()["id"] == made.json()["id"]

            await rest_of_outage(down)
            await redis.start()  # back, and empty
            late = await other.until(lambda f: f["type"] == "offer", timeout=20)
            assert late["offer_id"] == made.json()["id"]
            told = await panel.until(
                lambda f: f["type"] == "update" and f["line"]["action"] == "assign", timeout=20
            )
            assert told["line"]["state"] == "assigned"
            offers = (await scene.http.get(f"{path}")).json()["offers"]
            assert [o["id"] for o in offers] == [made.json()["id"]]

            async with asyncio.timeout(10):
                while "hub_after_commit_waiting 0.0" not in (await http_b.get("/metrics")).text:
                    await asyncio.sleep(0.2)


@pytest.mark.postgres
async def test_a_node_killed_during_the_outage_leaves_its_steps_to_another(tmp_path, monkeypatch):
    """Node B decides while Redis is down (an accept of its app, an operator's offer), so
    what the decisions must tell A's app and console waits on B, journaled; B is killed
    (-9) and Redis comes back empty: A claims B's steps once B's heartbeat has lapsed, and
    its app gets offer_closed then the new offer, its console the assignment."""
    monkeypatch.setattr(lifespan, "HEARTBEAT_S", 0.5)
    async with (
        private_redis() as redis,
        two_nodes(tmp_path, {"offer_deadline_s": 60}, redis_url=redis.url) as (
            scene,
            node_b,
            http_b,
            port_b,
        ),
    ):
        journal = scene.hub.records.after_commit
        winner, loser = await scene.provider("Um"), await scene.provider("Dois")
        first, second = await scene.tow(), await scene.tow()
        async with (
            scene.app(winner, url=f"ws://127.0.0.1:{port_b}/ws/provider") as app,
            scene.app(loser) as other,  # on A
            console(scene) as panel,
        ):
            await panel.subscribe(f"attendance:{first['id']}")
            for pid in (winner, loser):
                made = await scene.http.post(
                    f"/attendances/{first['id']}/offers", json={"provider_id": pid, "mode": "app"}
                )
                assert made.status_code == 201, made.text
            offer = await app.until(lambda f: f["type"] == "offer")
            lost = await other.until(lambda f: f["type"] == "offer")

            await redis.kill()
            down = time.monotonic()
            await app.send({"type": "accept", "offer_id": offer["offer_id"], "eta_min": 12})
            await app.until(lambda f: f["type"] == "assignment")  # decided on B
            key = {"Idempotency-Key": "outage-b-offer"}
            body = {"provider_id": loser, "mode": "app"}
            path = f"/attendances/{second['id']}/offers"
            made = await http_b.post(path, json=body, headers=key)  # B, for A's app
            assert made.status_code == 201, made.text
            async with asyncio.timeout(10):  # the stream entries and A's app's two frames
                while len(await journal.db.fetch("SELECT id FROM after_commit")) < 4:
                    await asyncio.sleep(0.05)
            node_b.kill()
            await node_b.wait()

            await rest_of_outage(down)
            await redis.start()  # back, and empty; B is gone
            closed = await other.until(lambda f: f["type"] == "offer_closed", timeout=20)
            assert (closed["offer_id"], closed["state"]) == (lost["offer_id"], "taken")
            late = await other.until(lambda f: f["type"] == "offer", timeout=10)
            assert late["offer_id"] == made.json()["id"]
            told = await panel.until(
                lambda f: f["type"] == "update" and f["line"]["action"] == "assign", timeout=10
            )
            assert told["line"]["state"] == "assigned"
            again = await scene.http.post(path, json=body, headers=key)  # the retry, on A
            assert (again.status_code, again.json()["id"]) == (201, made.json()["id"])
            offers = (await scene.http.get(path)).json()["offers"]
            assert [o["id"] for o in offers] == [made.json()["id"]]
            async with asyncio.timeout(10):
                while await journal.holders():
                    await asyncio.sleep(0.1)
            claimed = scene.hub.metrics.registry.get_sample_value("hub_after_commit_claimed_total")
            assert claimed is not None and claimed >= 4  # the two frames, the stream entries
