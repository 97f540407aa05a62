"""/match over real uvicorn: a provider app streams GPS, the operator's query finds it."""

from __future__ import annotations

import time

import httpx
import pytest

from hub.operations import registry
from hub.operations.providers import DispatchProfile, NewProvider
from tests.client import ProviderClient, fixes
from tests.conftest import engine_settings, serve

PROFILE = {
    "services": ["light_tow"],
    "prices": {"light_tow": {"base_fee_cents": 15000, "per_km_cents": 350, "included_km": 40}},
    "channels": ["app", "link"],
}
QUERY = {"origin": {"lat": -23.55, "lng": -46.63}, "service": "light_tow", "limit": 5}


@pytest.fixture
async def operator(engine_kind, tmp_path):
    async with engine_settings(engine_kind, tmp_path) as settings, serve(settings) as running:
        token = running.hub.tokens.admin_token("tests", int(time.time()))
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=running.http, headers=headers) as client:
            client.running = running
            yield client


async def add(operator, name: str, **profile) -> int:
    created = await operator.post(
        "/admin/providers",
        json={"name": name, "phone": "+5511999990000", "profile": {**PROFILE, **profile}},
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def test_a_streaming_app_is_the_first_candidate(operator):
    app_id = await add(operator, "Guincho App")
    base_id = await add(operator, "Guincho Base", base=[-23.56, -46.63], channels=["link"])
    token = (await operator.post(f"/admin/providers/{app_id}/token")).json()["token"]
    async with ProviderClient.connect(operator.running.ws, token) as app:
        await app.welcome()
        await app.send({"type": "duty", "on": True})
        await app.until(lambda f: f["type"] == "duty")
        await app.send({"type": "fixes", "fixes": fixes(1, 3, lat=-23.5505)})
        await app.acked(3)
        found = (await operator.post("/match", json=QUERY)).json()["candidates"]
        assert [c["provider_id"] for c in found] == [app_id]
        assert (found[0]["source"], found[0]["connectivity"]) == ("gps", "online")
        assert found[0]["price_cents"] == 15000
        by_link = (await operator.post("/match", json={**QUERY, "mode": "link"})).json()
        ids = [c["provider_id"] for c in by_link["candidates"]]
        assert ids == [app_id, base_id]
        assert by_link["candidates"][1]["source"] == "base"
        why = await operator.post("/match/explain", json={**QUERY, "provider_id": base_id})
        assert [r["rule"] for r in why.json()["reasons"]] == ["on_duty", "channel", "connectivity"]
    # the session ended: the app is offline now
    gone = (await operator.post("/match", json=QUERY)).json()["candidates"]
    assert gone == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"origin": {"lat": 91, "lng": 0}}, "bad_request"),
        ({"origin": {"lat": 0, "lng": 181}}, "bad_request"),
        ({"service": "rocket"}, "unknown_service"),
        ({"limit": 0}, "bad_request"),
        ({"limit": 101}, "bad_request"),
        ({"radius_km": 0}, "bad_request"),
        ({"radius_km": 501}, "bad_request"),
        ({"offset": 45, "limit": 10}, "bad_request"),
        ({"mode": "pigeon"}, "bad_request"),
        ({"colour": "red"}, "bad_request"),
        ({"client_id": 0}, "bad_request"),
    ],
)
async def test_bad_queries_are_refused(operator, changes, code):
    response = await operator.post("/match", json={**QUERY, **changes})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == code


async def test_match_needs_credentials_and_explain_a_known_provider(operator):
    async with httpx.AsyncClient(base_url=operator.running.http) as anonymous:
        assert (await anonymous.post("/match", json=QUERY)).status_code == 401
    missing = await operator.post("/match/explain", json={**QUERY, "provider_id": 999})
    assert missing.status_code == 404


async def test_a_provider_registered_outside_the_api_is_matchable_once_its_app_connects(
    operator,
):
    """The CLI writes straight to the store: the running hub learns at the first session."""
    hub = operator.running.hub
    outside = await registry.register(
        hub.records,
        NewProvider(
            name="Pelo CLI",
            phone="+5511999990000",
            profile=DispatchProfile(services=frozenset({"light_tow"})),
        ),
    )
    assert outside.id not in hub.matching.known
    token = (await operator.post(f"/admin/providers/{outside.id}/token")).json()["token"]
    async with ProviderClient.connect(operator.running.ws, token) as app:
        await app.welcome()
        await app.send({"type": "duty", "on": True})
        await app.until(lambda f: f["type"] == "duty")
        await app.send({"type": "fixes", "fixes": fixes(1, 2, lat=-23.5505)})
        await app.acked(2)
        found = (await operator.post("/match", json=QUERY)).json()["candidates"]
        assert [c["provider_id"] for c in found] == [outside.id]
