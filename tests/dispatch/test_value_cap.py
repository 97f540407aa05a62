"""The plan's value cap: a provider whose standard price for the job is over it is not
offered the job, unless the attendance is avulso (the plan does not pay it)."""

from __future__ import annotations

import pytest

from tests.conftest import engine_settings, serve
from tests.dispatch.scene import GARAGE, ORIGIN, Scene, admin_client


def priced(base_reais: int) -> dict:
    return {"light_tow": {"base_fee_cents": base_reais * 100, "per_km_cents": 0, "included_km": 0}}


@pytest.fixture
async def scene(engine_kind, tmp_path):
    async with (
        engine_settings(engine_kind, tmp_path) as settings,
        serve(settings) as running,
        admin_client(running) as http,
    ):
        s = Scene(running, http)
        client = await http.post("/clients", json={"name": "C", "rules": {"automatic": True}})
        s.client_id = client.json()["id"]
        plan = await http.post(
            "/plans",
            json={
                "client_id": s.client_id,
                "name": "Básico",
                "coverage": {"light_tow": {"value_cap_cents": 10_000}},
            },
        )
        ben = await http.post(
            "/beneficiaries",
            json={
                "client_id": s.client_id,
                "plan_id": plan.json()["id"],
                "name": "J",
                "cpf": "52998224725",
            },
        )
        event = await http.post(
            "/events", json={"beneficiary_id": ben.json()["beneficiary"]["id"], "type": "other"}
        )
        s.event_id = event.json()["event"]["id"]
        yield s


async def register(scene, **extra):
    made = await scene.http.post(
        f"/events/{scene.event_id}/attendances",
        json={
            "kind": "assistance",
            "service": "light_tow",
            "requester_name": "A",
            "requester_phone": "11999990000",
            "origin": ORIGIN,
            "destination": GARAGE,
            **extra,
        },
    )
    assert made.status_code == 201, made.text
    return made.json()


async def test_the_cascade_skips_a_provider_over_the_cap(scene):
    dear = await scene.provider("Caro", prices=priced(150))
    cheap = await scene.provider("Barato", prices=priced(80))
    async with (
        scene.app(dear, lat=-23.562, lng=-46.656) as near_app,
        scene.app(cheap, lat=-23.58, lng=-46.656) as far_app,
    ):
        tow = await register(scene)
        offer = await far_app.until(lambda f: f["type"] == "offer")
        assert offer["attendance_id"] == tow["id"]
        assert not [f for f in near_app.seen if f["type"] == "offer"]
        manual = await scene.http.post(
            f"/attendances/{tow['id']}/offers", json={"provider_id": dear, "mode": "app"}
        )
        assert (manual.status_code, manual.json()["error"]["code"]) == (409, "over_value_cap")
        assert "R$ 150.00" in manual.json()["error"]["message"]
        verbal = await scene.http.post(
            f"/attendances/{tow['id']}/verbal", json={"provider_id": dear, "eta_min": 10}
        )
        assert verbal.json()["error"]["code"] == "over_value_cap"


async def test_an_avulso_attendance_is_not_capped(scene):
    dear = await scene.provider("Caro", prices=priced(150))
    async with scene.app(dear, lat=-23.562, lng=-46.656) as app:
        tow = await register(scene, avulso=True, avulso_reason="cliente paga")
        offer = await app.until(lambda f: f["type"] == "offer")
        assert offer["attendance_id"] == tow["id"]
        await app.send({"type": "accept", "offer_id": offer["offer_id"], "eta_min": 10})
        await app.until(lambda f: f["type"] == "assignment")
    done = (await scene.attendance(tow["id"]))["attendance"]
    assert (done["avulso"], done["price_cents"]) == (True, 15_000)  # the standard table's
