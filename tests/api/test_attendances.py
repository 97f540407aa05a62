"""Attendances over REST: the seed's light tow, then a taxi, inside one event."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import engine_settings, serve

ORIGIN = {
    "address": {"street": "Avenida Nove de Julho", "number": "150", "city": "São Paulo"},
    "lat": -23.55,
    "lng": -46.64,
}
GARAGE = {
    "address": {"street": "Rua Augusta", "number": "900", "city": "São Paulo"},
    "lat": -23.556,
    "lng": -46.66,
}
TOW = {
    "kind": "assistance",
    "service": "light_tow",
    "requester_name": "Ana",
    "requester_phone": "11999990000",
    "origin": ORIGIN,
    "destination": GARAGE,
    "notes": "carro sem combustível",
}


@pytest.fixture
async def event(engine_kind, tmp_path):
    async with engine_settings(engine_kind, tmp_path) as settings, serve(settings) as running:
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
                        "name": "P",
                        "coverage": {"light_tow": {"uses_per_period": 1}, "taxi": {}},
                    },
                )
            ).json()
            ben = (
                await http.post(
                    "/beneficiaries",
                    json={
                        "client_id": client["id"],
                        "plan_id": plan["id"],
                        "name": "João",
                        "cpf": "52998224725",
                    },
                )
            ).json()["beneficiary"]
            opened = (
                await http.post(
                    "/events", json={"beneficiary_id": ben["id"], "type": "out_of_fuel"}
                )
            ).json()
            http.event_id = opened["event"]["id"]
            http.beneficiary_id = ben["id"]
            yield http


async def test_a_tow_then_a_taxi_in_one_event(event):
    http = event
    tow = await http.post(f"/events/{http.event_id}/attendances", json=TOW)
    assert tow.status_code == 201, tow.text
    assert (tow.json()["state"], tow.json()["service"]) == ("awaiting_dispatch", "light_tow")
    usage = (await http.get(f"/beneficiaries/{http.beneficiary_id}/usage")).json()["usage"]
    assert {u["service"]: u["remaining"] for u in usage} == {"light_tow": 0, "taxi": None}
    # the plan's single tow is used: a second needs avulso with a reason
    again = await http.post(f"/events/{http.event_id}/attendances", json=TOW)
    assert again.status_code == 409
    avulso = await http.post(
        f"/events/{http.event_id}/attendances",
        json={**TOW, "avulso": True, "avulso_reason": "segundo reboque"},
    )
    assert avulso.json()["avulso"] is True
    taxi = await http.post(
        f"/events/{http.event_id}/attendances",
        json={**TOW, "service": "taxi", "origin": GARAGE, "destination": ORIGIN},
    )
    assert taxi.status_code == 201
    listed = (await http.get(f"/events/{http.event_id}/attendances")).json()["attendances"]
    assert [a["service"] for a in listed] == ["light_tow", "light_tow", "taxi"]
    view = (await http.get(f"/attendances/{tow.json()['id']}")).json()
    assert [e["action"] for e in view["log"]] == ["create"]


async def test_a_closed_event_takes_no_attendance_and_bad_forms_are_refused(event):
    http = event
    theft = await http.post(
        f"/events/{http.event_id}/attendances",
        json={
            "kind": "theft",
            "requester_name": "Ana",
            "requester_phone": "11999990000",
            "police_report": "BO 1/2026",
        },
    )
    assert theft.json()["state"] == "registered"
    bad = await http.post(f"/events/{http.event_id}/attendances", json={**TOW, "destination": None})
    assert bad.status_code == 400
    assert "destination" in bad.json()["error"]["message"]
    missing_phone = {k: v for k, v in TOW.items() if k != "requester_phone"}
    assert (
        await http.post(f"/events/{http.event_id}/attendances", json=missing_phone)
    ).status_code == 400
    await http.post(f"/events/{http.event_id}/close", json={"reason": "resolvido"})
    closed = await http.post(f"/events/{http.event_id}/attendances", json=TOW)
    assert closed.status_code == 409
    assert (await http.post("/events/999/attendances", json=TOW)).status_code == 404
    assert (await http.get("/attendances/999")).status_code == 404


async def test_a_cancelled_tow_gives_its_use_back(event):
    http = event
    tow = await http.post(f"/events/{http.event_id}/attendances", json=TOW)
    assert tow.status_code == 201
    usage = (await http.get(f"/beneficiaries/{http.beneficiary_id}/usage")).json()["usage"]
    assert {u["service"]: u["remaining"] for u in usage}["light_tow"] == 0
    await http.post(
        f"/attendances/{tow.json()['id']}/steps", json={"step": "cancel", "reason": "o carro pegou"}
    )
    usage = (await http.get(f"/beneficiaries/{http.beneficiary_id}/usage")).json()["usage"]
    assert {u["service"]: u["remaining"] for u in usage}["light_tow"] == 1
    again = await http.post(f"/events/{http.event_id}/attendances", json=TOW)
    assert again.status_code == 201  # the plan's one tow is available again


async def test_a_tow_over_the_plans_km_limit_needs_avulso(engine_kind, tmp_path):
    async with engine_settings(engine_kind, tmp_path) as settings, serve(settings) as running:
        admin = running.hub.tokens.admin_token("tests", int(time.time()))
        async with httpx.AsyncClient(
            base_url=running.http, headers={"Authorization": f"Bearer {admin}"}
        ) as http:
            client = (await http.post("/clients", json={"name": "C"})).json()
            plan = (
                await http.post(
                    "/plans",
                    json={
                        "client_id": client["id"],
                        "name": "P",
                        "coverage": {"light_tow": {"km_limit": 50}},
                    },
                )
            ).json()
            ben = (
                await http.post(
                    "/beneficiaries",
                    json={
                        "client_id": client["id"],
                        "plan_id": plan["id"],
                        "name": "J",
                        "cpf": "52998224725",
                    },
                )
            ).json()
            event = (
                await http.post(
                    "/events",
                    json={"beneficiary_id": ben["beneficiary"]["id"], "type": "collision"},
                )
            ).json()
            far = {**GARAGE, "lat": -22.9, "lng": -47.06}  # Campinas: ~95 km x 1.3
            long_tow = {**TOW, "destination": far}
            refused = await http.post(f"/events/{event['event']['id']}/attendances", json=long_tow)
            assert (refused.status_code, refused.json()["error"]["code"]) == (409, "over_km_limit")
            assert "50 km" in refused.json()["error"]["message"]
            details = refused.json()["error"]["details"]  # for a client to word it
            assert (details["service"], details["limit_km"]) == ("light_tow", 50)
            assert 100 < details["km"] < 150
            avulso = {**long_tow, "avulso": True, "avulso_reason": "destino fora do limite"}
            made = await http.post(f"/events/{event['event']['id']}/attendances", json=avulso)
            assert made.status_code == 201 and made.json()["avulso"] is True
            near = await http.post(f"/events/{event['event']['id']}/attendances", json=TOW)
            assert near.status_code == 201


async def test_an_address_without_coordinates_is_a_clear_400(event):
    http = event
    blind = {**TOW, "origin": {"address": ORIGIN["address"]}}
    refused = await http.post(f"/events/{http.event_id}/attendances", json=blind)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "bad_request"
    assert "lat" in refused.json()["error"]["message"]
    unknown = await http.post(
        f"/events/{http.event_id}/attendances", json={**TOW, "service": "helicopter"}
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "unknown_service")
    past = await http.post(
        f"/events/{http.event_id}/attendances", json={**TOW, "scheduled_ms": 1_000_000}
    )
    assert past.status_code == 400 and "past" in past.json()["error"]["message"]


async def test_the_beneficiarys_attendance_history_newest_first(event):
    http = event
    first = (await http.post(f"/events/{http.event_id}/attendances", json=TOW)).json()
    question = {"kind": "question", "requester_name": "Ana", "requester_phone": "11999990000"}
    second = (await http.post(f"/events/{http.event_id}/attendances", json=question)).json()
    history = (await http.get(f"/beneficiaries/{http.beneficiary_id}/attendances")).json()
    assert [a["id"] for a in history["attendances"]] == [second["id"], first["id"]]
    assert (await http.get("/beneficiaries/999/attendances")).json() == {"attendances": []}
