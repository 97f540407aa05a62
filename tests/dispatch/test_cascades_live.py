"""Automatic dispatch over real uvicorn: the cascade moves on refusal and on expiry, and
gives up back to the panel with the reason."""

from __future__ import annotations

import asyncio

import pytest

from tests.dispatch.scene import scene_on


@pytest.fixture
async def scene(engine_kind, tmp_path):
    rules = {"automatic": True, "offer_deadline_s": 1, "max_attempts": 3}
    async with scene_on(engine_kind, tmp_path, rules, sweep_grace_s=0.2, sweep_interval_s=0.2) as s:
        yield s


async def wait_state(scene, attendance_id, state, timeout=5.0):
    async with asyncio.timeout(timeout):
        while True:
            found = (await scene.attendance(attendance_id))["attendance"]
            if found["state"] == state:
                return found
            await asyncio.sleep(0.05)


async def test_refused_then_expired_then_accepted_by_the_third(scene):
    near = await scene.provider("Perto")
    mid = await scene.provider("Meio")
    far = await scene.provider("Longe")
    async with (
        scene.app(near, lat=-23.562, lng=-46.656) as a1,
        scene.app(mid, lat=-23.57, lng=-46.656) as a2,
        scene.app(far, lat=-23.60, lng=-46.656) as a3,
    ):
        tow = await scene.tow()
        assert tow["state"] == "offering"
        first = await a1.until(lambda f: f["type"] == "offer")
        await a1.send({"type": "refuse", "offer_id": first["offer_id"], "reason": "busy"})
        await a1.until(lambda f: f["type"] == "offer_closed")
        second = await a2.until(lambda f: f["type"] == "offer")  # then let it expire
        closed = await a2.until(lambda f: f["type"] == "offer_closed", timeout=5)
        assert (closed["offer_id"], closed["state"]) == (second["offer_id"], "expired")
        third = await a3.until(lambda f: f["type"] == "offer", timeout=5)
        await a3.send({"type": "accept", "offer_id": third["offer_id"], "eta_min": 30})
        await a3.until(lambda f: f["type"] == "assignment")
        late = {"type": "accept", "offer_id": second["offer_id"], "eta_min": 5}
        await a2.send(late)
        refused = await a2.until(lambda f: f["type"] == "error")
        assert (refused["code"], refused["ref"]) == ("offer_expired", second["offer_id"])
    found = await wait_state(scene, tow["id"], "assigned")
    assert found["provider_id"] == far
    offers = (await scene.http.get(f"/attendances/{tow['id']}/offers")).json()["offers"]
    assert [(o["provider_id"], o["state"]) for o in offers] == [
        (near, "refused"),
        (mid, "expired"),
        (far, "accepted"),
    ]


async def test_nobody_takes_it_and_it_returns_to_the_panel_with_the_reason(scene):
    only = await scene.provider("Único")
    async with scene.app(only) as app:
        tow = await scene.tow()
        await app.until(lambda f: f["type"] == "offer")
        found = await wait_state(scene, tow["id"], "awaiting_dispatch")
    assert found["dispatch_note"] == "none_eligible"
    assert not found["automatic"]
    actions = [e["action"] for e in (await scene.attendance(tow["id"]))["log"]]
    assert actions[-2:] == ["expired", "no_provider"]


async def test_a_busy_provider_is_not_offered_a_second_job(scene):
    pid = await scene.provider("Ocupado")
    async with scene.app(pid) as app:
        first = await scene.tow()
        offer = await app.until(lambda f: f["type"] == "offer")
        await app.send({"type": "accept", "offer_id": offer["offer_id"], "eta_min": 10})
        await app.until(lambda f: f["type"] == "assignment")
        second = await scene.tow()
        assert second["state"] == "awaiting_dispatch"
        assert second["dispatch_note"] == "none_eligible"
        assert first["id"] != second["id"]
