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
