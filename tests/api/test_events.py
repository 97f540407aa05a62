"""Events over REST: open with the history, the TMA clock, close and reopen with reasons."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import engine_settings, serve

BENEFICIARY = {
    "name": "João",
    "cpf": "529.982.247-25",
    "vehicles": [{"plate": "ABC1234", "model": "Gol"}],
}


@pytest.fixture
async def http(engine_kind, tmp_path):
    async with engine_settings(engine_kind, tmp_path) as settings, serve(settings) as running:
        admin = running.hub.tokens.admin_token("tests", int(time.time()))
        async with httpx.AsyncClient(
            base_url=running.http, headers={"Authorization": f"Bearer {admin}"}
        ) as client:
            c = (await client.post("/clients", json={"name": "Seguradora"})).json()
            plan = (
                await client.post(
                    "/plans", json={"client_id": c["id"], "name": "P", "coverage": {}}
                )
            ).json()
            ben = (
                await client.post(
                    "/beneficiaries",
                    json={**BENEFICIARY, "client_id": c["id"], "plan_id": plan["id"]},
                )
            ).json()
            client.beneficiary = ben["beneficiary"]
            yield client


async def test_an_event_from_opening_to_reopening(http):
    ben = http.beneficiary
    body = {
        "beneficiary_id": ben["id"],
        "vehicle_id": ben["vehicles"][0]["id"],
        "type": "out_of_fuel",
    }
    first = await http.post("/events", json=body)
    assert first.status_code == 201, first.text
    opened = first.json()
    assert (opened["event"]["state"], opened["history"]) == ("open", [])
    event_id = opened["event"]["id"]
    done = (await http.post(f"/events/{event_id}/finish-intake")).json()
    assert done["event"]["intake_done_ms"] is not None
    assert done["tma_ms"] >= 0
    again = await http.post(f"/events/{event_id}/finish-intake")
    assert again.status_code == 409
    no_reason = await http.post(f"/events/{event_id}/close", json={"reason": ""})
    assert no_reason.status_code == 400
    closed = await http.post(f"/events/{event_id}/close", json={"reason": "resolvido"})
    assert closed.json()["event"]["state"] == "closed"
    assert (await http.post(f"/events/{event_id}/close", json={"reason": "x"})).status_code == 409
    reopened = await http.post(f"/events/{event_id}/reopen", json={"reason": "falhou de novo"})
    assert [e["action"] for e in reopened.json()["log"]] == [
        "open",
        "finish_intake",
        "close",
        "reopen",
    ]
    second = (await http.post("/events", json=body)).json()
    assert [e["id"] for e in second["history"]] == [event_id]
    listed = await http.get(f"/beneficiaries/{ben['id']}/events")
    assert [e["id"] for e in listed.json()["events"]] == [second["event"]["id"], event_id]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"type": "out_of_fuel", "beneficiary_id": 999}, "no beneficiary"),
        ({"type": "meteor", "beneficiary_id": 1}, "Invalid enum value"),
        ({"type": "other", "beneficiary_id": 1, "vehicle_id": 999}, "not the beneficiary's"),
    ],
)
async def test_bad_events_are_refused(http, body, fragment):
    if body.get("beneficiary_id") == 1:
        body = {**body, "beneficiary_id": http.beneficiary["id"]}
    response = await http.post("/events", json=body)
    assert response.status_code == 400
    assert fragment in response.json()["error"]["message"]
    assert (await http.get("/events/999")).status_code == 404
