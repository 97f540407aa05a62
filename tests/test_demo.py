"""The demo: loaded once, and its app providers move and are matchable."""

from __future__ import annotations

import asyncio

import httpx

from hub.demo import ADMIN_LOGIN, ADMIN_PASSWORD, load
from hub.engines import open_records
from tests.conftest import engine_settings, serve


async def test_demo_data_loads_once_and_providers_move(tmp_path):
    async with engine_settings("embedded", tmp_path, demo=True) as settings:
        records = await open_records(settings)
        first = await load(records, beneficiaries=40, providers=40)
        assert first["loaded"] is True
        assert (first["beneficiaries"], first["providers"]) == (40, 40)
        assert (await load(records))["loaded"] is False
        await records.close()
        async with serve(settings) as running, httpx.AsyncClient(base_url=running.http) as http:
            session = await http.post(
                "/auth/login", json={"login": ADMIN_LOGIN, "password": ADMIN_PASSWORD}
            )
            headers = {"Authorization": f"Bearer {session.json()['token']}"}
            found = (
                await http.get("/beneficiaries/search", params={"q": "silva"}, headers=headers)
            ).json()["results"]
            assert found  # the fictional names include Silvas
            client_id = found[0]["beneficiary"]["client_id"]
            partners = (await http.get(f"/clients/{client_id}/partners", headers=headers)).json()
            assert len(partners["partners"]) == 3  # garages for the form's destination
            query = {
                "origin": {"lat": -23.5505, "lng": -46.6333},
                "service": "taxi",
                "radius_km": 60,
            }
            online: list[dict] = []
            async with asyncio.timeout(10):  # the simulator ticks every 2 s
                while not online:
                    await asyncio.sleep(0.2)
                    reply = await http.post("/match", json=query, headers=headers)
                    online = [
                        c
                        for c in reply.json()["candidates"]
                        if c["source"] == "gps" and c["connectivity"] == "online"
                    ]
            assert all("app" in c["channels"] for c in online)


async def test_the_demo_apps_answer_offers_and_report_their_steps(tmp_path):
    """`make run` shows the whole loop: an app offer to a simulated provider is answered
    a few seconds later, and a job taken goes on through its steps."""
    async with engine_settings("embedded", tmp_path, demo=True) as settings:
        records = await open_records(settings)
        await load(records, beneficiaries=10, providers=30)
        await records.close()
        async with serve(settings) as running, httpx.AsyncClient(base_url=running.http) as http:
            session = await http.post(
                "/auth/login", json={"login": ADMIN_LOGIN, "password": ADMIN_PASSWORD}
            )
            http.headers["Authorization"] = f"Bearer {session.json()['token']}"
            who = (await http.get("/beneficiaries/search", params={"q": "silva"})).json()
            beneficiary = who["results"][0]["beneficiary"]
            event = await http.post(
                "/events", json={"beneficiary_id": beneficiary["id"], "type": "battery"}
            )
            place = {"address": {"street": "Praça da Sé", "city": "São Paulo"}}
            job = {
                "kind": "assistance",
                "service": "taxi",
                "avulso": True,
                "avulso_reason": "demo",
                "requester_name": "Demo",
                "requester_phone": "11999990000",
                "origin": {**place, "lat": -23.5505, "lng": -46.6333},
                "destination": {**place, "lat": -23.56, "lng": -46.64},
            }
            origin = {"lat": -23.5505, "lng": -46.6333}
            query = {"origin": origin, "service": "taxi", "radius_km": 60, "mode": "app"}
            answered: dict = {}
            async with asyncio.timeout(60):
                while answered.get("state") != "accepted":  # now and then one refuses
                    made = await http.post(
                        f"/events/{event.json()['event']['id']}/attendances", json=job
                    )
                    assert made.status_code == 201, made.text
                    attendance = made.json()["id"]
                    candidates: list = []
                    while not candidates:
                        await asyncio.sleep(0.2)
                        candidates = (await http.post("/match", json=query)).json()["candidates"]
                    offer = await http.post(
                        f"/attendances/{attendance}/offers",
                        json={"provider_id": candidates[0]["provider_id"], "mode": "app"},
                    )
                    assert offer.status_code == 201, offer.text
                    while True:
                        await asyncio.sleep(0.5)
                        offers = (await http.get(f"/attendances/{attendance}/offers")).json()
                        answered = offers["offers"][0]
                        if answered["state"] != "pending":
                            break
                    assert answered["decided_by"] == f"provider:{answered['provider_id']}"
                while (await http.get(f"/attendances/{attendance}")).json()["attendance"][
                    "state"
                ] != "en_route":
                    await asyncio.sleep(0.5)
