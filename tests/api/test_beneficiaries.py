"""Plans and beneficiaries over REST: the search box of a new event."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import engine_settings, serve

BENEFICIARY = {
    "name": "João da Conceição",
    "cpf": "529.982.247-25",
    "phones": ["+55 11 99999-0000"],
    "address": {
        "street": "Avenida Nove de Julho",
        "number": "150",
        "city": "São Paulo",
        "state": "SP",
        "cep": "01313-000",
        "lat": -23.55,
        "lng": -46.64,
    },
    "vehicles": [{"plate": "ABC-1234", "model": "Gol", "year": 2015, "colour": "prata"}],
}


@pytest.fixture
async def http(engine_kind, tmp_path):
    async with engine_settings(engine_kind, tmp_path) as settings, serve(settings) as running:
        admin = running.hub.tokens.admin_token("tests", int(time.time()))
        async with httpx.AsyncClient(
            base_url=running.http, headers={"Authorization": f"Bearer {admin}"}
        ) as client:
            c = (await client.post("/clients", json={"name": "Seguradora"})).json()
            plan = await client.post(
                "/plans",
                json={
                    "client_id": c["id"],
                    "name": "Básico",
                    "coverage": {
                        "light_tow": {"uses_per_period": 2, "km_limit": 100},
                        "taxi": {"value_cap_cents": 15000},
                    },
                },
            )
            assert plan.status_code == 201, plan.text
            client.ids = {"client_id": c["id"], "plan_id": plan.json()["id"]}
            yield client


async def test_register_then_find_by_name_plate_or_cpf(http):
    created = await http.post("/beneficiaries", json={**BENEFICIARY, **http.ids})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["beneficiary"]["cpf"] == "52998224725"
    assert body["beneficiary"]["vehicles"][0]["plate"] == "ABC1234"
    assert body["plan"]["coverage"]["light_tow"]["km_limit"] == 100
    for term, kind in [
        ("conceicao", "name"),
        ("joão DA", "name"),
        ("abc1234", "plate"),
        ("ABC1C34", "plate"),
        ("529.982.247-25", "cpf"),
    ]:
        found = (await http.get("/beneficiaries/search", params={"q": term})).json()
        assert found["kind"] == kind, term
        assert [r["beneficiary"]["id"] for r in found["results"]] == [body["beneficiary"]["id"]]
        assert found["results"][0]["plan"]["name"] == "Básico"
    nobody = await http.get("/beneficiaries/search", params={"q": "maria"})
    assert nobody.json()["results"] == []
    plans = await http.get(f"/clients/{http.ids['client_id']}/plans")
    assert [p["name"] for p in plans.json()["plans"]] == ["Básico"]


@pytest.mark.parametrize(
    ("changes", "status", "fragment"),
    [
        ({"cpf": "529.982.247-24"}, 400, "check digits"),
        ({"vehicles": [{"plate": "AB-12"}]}, 400, "Mercosul"),
        ({"address": {"street": "Avenida Nove de Julho, 150"}}, 400, "street"),
        ({"plan_id": 999}, 400, "not a plan of client"),
        ({"name": "   "}, 400, "blank"),
        ({"colour": "x"}, 400, "unknown field"),
    ],
)
async def test_bad_beneficiaries_are_refused(http, changes, status, fragment):
    response = await http.post("/beneficiaries", json={**BENEFICIARY, **http.ids, **changes})
    assert response.status_code == status, response.text
    assert fragment in response.json()["error"]["message"]


async def test_a_cpf_twice_for_one_client_conflicts(http):
    assert (await http.post("/beneficiaries", json={**BENEFICIARY, **http.ids})).status_code == 201
    again = await http.post("/beneficiaries", json={**BENEFICIARY, **http.ids})
    assert again.status_code == 409
    message = again.json()["error"]["message"]
    assert message == "a beneficiary with this CPF is already registered for this client"


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"q": "ab"}, "3 characters"),
        ({}, "3 characters"),
        ({"q": "ana", "limit": "0"}, "limit"),
        ({"q": "ana", "client_id": "x"}, "client_id"),
    ],
)
async def test_bad_searches_are_refused(http, params, fragment):
    response = await http.get("/beneficiaries/search", params=params)
    assert response.status_code == 400
    assert fragment in response.json()["error"]["message"]


async def test_plans_name_catalogue_services(http):
    refused = await http.post(
        "/plans", json={"client_id": http.ids["client_id"], "name": "X", "coverage": {"rocket": {}}}
    )
    assert refused.json()["error"]["code"] == "unknown_service"
    missing = await http.post("/plans", json={"client_id": 999, "name": "X", "coverage": {}})
    assert missing.status_code == 409
    assert (await http.get("/beneficiaries/999")).status_code == 404
