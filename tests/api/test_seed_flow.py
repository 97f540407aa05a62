"""The seed's intake through the REST API, on both stores: find the beneficiary, open an
event, a light tow with origin and destination, a taxi, a question and a theft in it, the
TMA recorded; and each role does only its part."""

from __future__ import annotations

import time

import httpx
import pytest

from hub.operations import accounts
from hub.operations.users import NewUser, Role
from tests.conftest import engine_settings, serve

PAULISTA = {
    "address": {
        "street": "Avenida Paulista",
        "number": "1000",
        "district": "Bela Vista",
        "city": "São Paulo",
    },
    "lat": -23.5614,
    "lng": -46.6559,
}
GARAGE = {
    "address": {"street": "Rua Augusta", "number": "900", "city": "São Paulo"},
    "lat": -23.556,
    "lng": -46.66,
}


async def session(http: httpx.AsyncClient, login: str) -> dict[str, str]:
    token = await http.post("/auth/login", json={"login": login, "password": "s3nha-forte"})
    return {"Authorization": f"Bearer {token.json()['token']}"}


@pytest.fixture
async def desk(engine_kind, tmp_path):
    async with engine_settings(engine_kind, tmp_path) as settings, serve(settings) as running:
        for login, role in (("ana", Role.OPERATOR), ("sara", Role.SUPERVISOR)):
            await accounts.add_user(
                running.hub.records,
                NewUser(login=login, name=login.title(), role=role, password="s3nha-forte"),
            )
        admin = running.hub.tokens.admin_token("tests", int(time.time()))
        async with httpx.AsyncClient(
            base_url=running.http, headers={"Authorization": f"Bearer {admin}"}
        ) as http:
            client = (await http.post("/clients", json={"name": "Seguradora"})).json()
            plan = (
                await http.post(
                    "/plans",
                    json={
                        "client_id": client["id"],
                        "name": "Ouro",
                        "coverage": {"light_tow": {"uses_per_period": 2}, "taxi": {}},
                    },
                )
            ).json()
            http.ids = {"client": client["id"], "plan": plan["id"]}
            yield http


async def test_the_seed_intake_end_to_end(desk):
    http = desk
    supervisor = await session(http, "sara")
    made = await http.post(
        "/beneficiaries",
        headers=supervisor,
        json={
            "client_id": http.ids["client"],
            "plan_id": http.ids["plan"],
            "name": "Maria Souza",
            "cpf": "111.444.777-35",
            "phones": ["11988887777"],
            "vehicles": [{"plate": "ABC1D23", "model": "Onix"}],
        },
    )
    assert made.status_code == 201, made.text
    operator = await session(http, "ana")
    found = (
        await http.get("/beneficiaries/search", params={"q": "abc-1d23"}, headers=operator)
    ).json()["results"]
    person = found[0]["beneficiary"]
    opened = await http.post(
        "/events",
        headers=operator,
        json={
            "beneficiary_id": person["id"],
            "vehicle_id": person["vehicles"][0]["id"],
            "type": "out_of_fuel",
        },
    )
    assert opened.status_code == 201, opened.text
    event_id = opened.json()["event"]["id"]
    common = {"requester_name": "Maria", "requester_phone": "11988887777"}
    kinds = [
        {
            "kind": "assistance",
            "service": "light_tow",
            "origin": PAULISTA,
            "destination": GARAGE,
            **common,
        },
        {
            "kind": "assistance",
            "service": "taxi",
            "origin": GARAGE,
            "destination": PAULISTA,
            **common,
        },
        {"kind": "question", **common, "notes": "quer saber a cobertura de chaveiro"},
        {"kind": "theft", **common, "police_report": "BO 123/2026", "last_seen": PAULISTA},
    ]
    states = []
    for body in kinds:
        done = await http.post(f"/events/{event_id}/attendances", json=body, headers=operator)
        assert done.status_code == 201, done.text
        states.append(done.json()["state"])
    assert states == ["awaiting_dispatch", "awaiting_dispatch", "registered", "registered"]
    listed = (await http.get(f"/events/{event_id}/attendances", headers=operator)).json()
    assert [a["kind"] for a in listed["attendances"]] == [
        "assistance",
        "assistance",
        "question",
        "theft",
    ]
    finished = await http.post(f"/events/{event_id}/finish-intake", json={}, headers=operator)
    tma = finished.json()["tma_ms"]
    assert finished.json()["event"]["intake_done_ms"] is not None and tma >= 0
    assert (await http.get(f"/events/{event_id}", headers=operator)).json()["tma_ms"] == tma
    usage = (await http.get(f"/beneficiaries/{person['id']}/usage", headers=operator)).json()
    assert {u["service"]: u["remaining"] for u in usage["usage"]}["light_tow"] == 1


async def test_each_role_does_only_its_part(desk):
    http = desk
    operator = await session(http, "ana")
    supervisor = await session(http, "sara")
    body = {
        "client_id": http.ids["client"],
        "plan_id": http.ids["plan"],
        "name": "X",
        "cpf": "52998224725",
    }
    assert (await http.post("/beneficiaries", json=body, headers=operator)).status_code == 403
    assert (await http.post("/beneficiaries", json=body, headers=supervisor)).status_code == 201
    assert (await http.post("/clients", json={"name": "Y"}, headers=supervisor)).status_code == 403
    assert (
        await http.post(
            "/admin/users",
            headers=supervisor,
            json={"login": "eve", "name": "Eve", "role": "admin", "password": "x" * 12},
        )
    ).status_code == 403
    assert (await http.get("/clients", headers=operator)).status_code == 200
    me = (await http.get("/auth/me", headers=operator)).json()
    assert me["role"] == "operator"
    forged = operator["Authorization"][:-3] + "abc"
    assert (await http.get("/auth/me", headers={"Authorization": forged})).status_code == 401
