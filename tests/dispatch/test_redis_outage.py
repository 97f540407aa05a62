"""Redis down under a running hub (a private instance, killed): a decision PostgreSQL
committed is answered as the success it is, never as store_unavailable, and an idempotent
retry gets the first answer back, not a second effect."""

from __future__ import annotations

import pytest

from tests.dispatch.scene import link_path, scene_on
from tests.faults import private_redis


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
