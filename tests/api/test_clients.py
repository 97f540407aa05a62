"""Clients over REST: admins write, any console user reads; matching uses their radius."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import engine_settings, serve

RULES = {
    "automatic": True,
    "radius_km": 30,
    "offer_deadline_s": 60,
    "max_attempts": 4,
    "cascade": "staggered",
    "stagger_s": 20,
}


@pytest.fixture
async def http(tmp_path):
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        admin = running.hub.tokens.admin_token("tests", int(time.time()))
        async with httpx.AsyncClient(
            base_url=running.http, headers={"Authorization": f"Bearer {admin}"}
        ) as client:
            await client.post(
                "/admin/users",
                json={
                    "login": "ana",
                    "name": "Ana",
                    "role": "operator",
                    "password": "s3cret-enough",
                },
            )
            token = await client.post(
                "/auth/login", json={"login": "ana", "password": "s3cret-enough"}
            )
            client.operator = {"Authorization": f"Bearer {token.json()['token']}"}
            yield client


async def test_admin_writes_operator_reads(http):
    created = await http.post(
        "/clients", json={"name": " Seguradora  X ", "script": "Olá!", "rules": RULES}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["name"], body["rules"]["cascade"]) == ("Seguradora X", "staggered")
    read = await http.get(f"/clients/{body['id']}", headers=http.operator)
    assert read.json() == body
    listed = await http.get("/clients", headers=http.operator)
    assert [c["id"] for c in listed.json()["clients"]] == [body["id"]]
    refused = await http.post("/clients", json={"name": "Z"}, headers=http.operator)
    assert refused.status_code == 403
    replaced = await http.put(f"/clients/{body['id']}", json={"name": "Y", "active": False})
    assert replaced.json()["active"] is False
    # matching refuses an inactive client
    query = {"origin": {"lat": -23.55, "lng": -46.63}, "service": "taxi", "client_id": body["id"]}
    refused_match = await http.post("/match", json=query, headers=http.operator)
    assert refused_match.json()["error"]["code"] == "unknown_client"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/clients", {"name": ""}, 400),
        ("post", "/clients", {"name": "X", "rules": {"radius_km": 0}}, 400),
        ("post", "/clients", {"name": "X", "rules": {"cascade": "random"}}, 400),
        ("post", "/clients", {"name": "X", "rules": {"offer_deadline_s": 0}}, 400),
        ("post", "/clients", {"name": "X", "colour": "red"}, 400),
        ("get", "/clients/abc", None, 400),
        ("get", "/clients/999", None, 404),
        ("put", "/clients/999", {"name": "X"}, 404),
    ],
)
async def test_bad_client_requests(http, method, path, body, status):
    response = await getattr(http, method)(path, **({} if body is None else {"json": body}))
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]
