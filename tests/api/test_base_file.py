"""A client's base file over REST: every beneficiary with vehicles and plan, or none."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import engine_settings, serve

GOOD = "\n".join(
    [
        "cpf;name;plan;phones;street;number;district;city;state;cep;lat;lng;active_from;"
        "plate;model;year;colour",
        "529.982.247-25;João da Silva;Ouro;11 99999-0000|11 3333-4444;Rua Harmonia;10;"
        "Vila Madalena;São Paulo;sp;05435-000;-23.556;-46.69;2026-01-01;ABC-1234;Onix;2020;prata",
        "52998224725;;;;;;;;;;;;;BRA2E19;HB20;2022;branco",
        "111.444.777-35;Maria Souza;ouro;;;;;;;;;;;XYZ9A87;Kwid;2019;vermelho",
    ]
)


@pytest.fixture
async def http(engine_kind, tmp_path):
    async with engine_settings(engine_kind, tmp_path) as settings, serve(settings) as running:
        token = running.hub.tokens.admin_token("tests", int(time.time()))
        async with httpx.AsyncClient(
            base_url=running.http, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            made = (await client.post("/clients", json={"name": "Associação"})).json()
            await client.post(
                "/plans",
                json={"client_id": made["id"], "name": "Ouro", "coverage": {"light_tow": {}}},
            )
            client.client_id = made["id"]
            yield client


async def test_a_base_file_is_imported_whole(http):
    done = await http.post(f"/clients/{http.client_id}/beneficiaries/import", content=GOOD)
    assert done.status_code == 201, done.text
    assert done.json()["imported"] == 2
    found = (await http.get("/beneficiaries/search", params={"q": "BRA-2E19"})).json()["results"]
    (joao,) = found
    person = joao["beneficiary"]
    assert person["name"] == "João da Silva" and person["address"]["state"] == "SP"
    assert sorted(v["plate"] for v in person["vehicles"]) == ["ABC1234", "BRA2E19"]
    assert person["phones"] == ["11 99999-0000", "11 3333-4444"]
    assert joao["plan"]["name"] == "Ouro"
    again = await http.post(f"/clients/{http.client_id}/beneficiaries/import", content=GOOD)
    assert again.status_code == 422
    assert {(r["row"], r["column"]) for r in again.json()["error"]["details"]["rows"]} == {
        (2, "cpf"),
        (4, "cpf"),
    }


async def test_a_file_with_errors_imports_nothing_and_names_every_one(http):
    bad = (
        "cpf,name,plan,plate,year,lat\n"
        "529.982.247-25,João,Ouro,ABC1234,2020,-23.5\n"
        "123.456.789-00,Falso,Ouro,,,\n"
        "111.444.777-35,Maria,Prata,,,\n"
        "11144477735,Maria,Ouro,NOTAPLATE!,19x,\n"
    )
    refused = await http.post(f"/clients/{http.client_id}/beneficiaries/import", content=bad)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["error"]["code"] == "csv_rows_invalid"
    where = {(r["row"], r["column"]) for r in body["error"]["details"]["rows"]}
    assert {(3, "cpf"), (4, "plan"), (5, "year")} <= where
    assert any(r["row"] == 2 for r in body["error"]["details"]["rows"])  # lat without lng
    nothing = await http.get("/beneficiaries/search", params={"q": "52998224725"})
    assert nothing.json()["results"] == []
    unknown = await http.post(
        f"/clients/{http.client_id}/beneficiaries/import", content="cpf;name;plan;shoe\n"
    )
    assert unknown.json()["error"]["details"]["rows"][0]["column"] == "shoe"
    missing = await http.post("/clients/999/beneficiaries/import", content=GOOD)
    assert missing.status_code == 404
