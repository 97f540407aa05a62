"""Partner establishments and Google Maps URLs over REST: the form's address sources."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import engine_settings, serve

GARAGE = {
    "name": "Oficina do Zé",
    "address": {"street": "Rua Augusta", "number": "900"},
    "lat": -23.556,
    "lng": -46.66,
}


@pytest.fixture
async def http(tmp_path):
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        token = running.hub.tokens.admin_token("tests", int(time.time()))
        async with httpx.AsyncClient(
            base_url=running.http, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            yield client


async def test_partners_are_added_listed_and_checked(http):
    client = (await http.post("/clients", json={"name": "Seguradora"})).json()
    made = await http.post(f"/clients/{client['id']}/partners", json=GARAGE)
    assert made.status_code == 201, made.text
    listed = (await http.get(f"/clients/{client['id']}/partners")).json()["partners"]
    assert [(p["name"], p["lat"]) for p in listed] == [("Oficina do Zé", -23.556)]
    for body, status in [
        ({**GARAGE, "lat": 91}, 400),
        ({**GARAGE, "name": "   "}, 400),
        ({**GARAGE, "address": {"street": "Rua Augusta, 900"}}, 400),  # number in the street
        ({**GARAGE, "extra": 1}, 400),
    ]:
        assert (
            await http.post(f"/clients/{client['id']}/partners", json=body)
        ).status_code == status
    assert (await http.post("/clients/999/partners", json=GARAGE)).status_code == 404
    async with httpx.AsyncClient(base_url=str(http.base_url)) as anonymous:
        assert (await anonymous.get(f"/clients/{client['id']}/partners")).status_code == 401


async def test_coordinates_from_a_pasted_maps_url(http):
    url = "https://www.google.com/maps/place/Av.+Paulista/@-23.5614,-46.6559,17z/data=!3d-23.5613!4d-46.6558"
    found = await http.post("/places/maps-url", json={"url": url})
    assert found.json() == {"lat": -23.5613, "lng": -46.6558}
    nothing = await http.post("/places/maps-url", json={"url": "https://example.com/"})
    assert nothing.status_code == 400
