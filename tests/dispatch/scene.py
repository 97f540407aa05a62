"""A dispatch scene over real uvicorn: a client, a beneficiary, an event, providers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.client import ProviderClient, now_ms
from tests.conftest import engine_settings, serve

ORIGIN = {
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
# A light tow from ORIGIN to GARAGE, as the operator registers it.
TOW = {
    "kind": "assistance",
    "service": "light_tow",
    "requester_name": "Ana",
    "requester_phone": "11999990000",
    "origin": ORIGIN,
    "destination": GARAGE,
}
PROFILE = {"services": ["light_tow"], "channels": ["app", "web", "link", "verbal"]}


class Scene:
    def __init__(self, running: Any, http: httpx.AsyncClient) -> None:
        self.running = running
        self.http = http
        self.event_id = 0
        self.client_id = 0

    @property
    def hub(self) -> Any:
        return self.running.hub

    async def setup(self, rules: dict[str, Any] | None = None) -> None:
        http = self.http
        client = await http.post("/clients", json={"name": "Seguradora", "rules": rules or {}})
        self.client_id = client.json()["id"]
        plan = await http.post(
            "/plans",
            json={"client_id": self.client_id, "name": "P", "coverage": {"light_tow": {}}},
        )
        ben = await http.post(
            "/beneficiaries",
            json={
                "client_id": self.client_id,
                "plan_id": plan.json()["id"],
                "name": "João",
                "cpf": "52998224725",
            },
        )
        event = await http.post(
            "/events",
            json={"beneficiary_id": ben.json()["beneficiary"]["id"], "type": "out_of_fuel"},
        )
        self.event_id = event.json()["event"]["id"]

    async def provider(self, name: str, **profile: Any) -> int:
        created = await self.http.post(
            "/admin/providers",
            json={"name": name, "phone": "+5511988880000", "profile": {**PROFILE, **profile}},
        )
        assert created.status_code == 201, created.text
        return int(created.json()["id"])

    async def token(self, provider_id: int) -> str:
        return str((await self.http.post(f"/admin/providers/{provider_id}/token")).json()["token"])

    async def tow(self, **extra: Any) -> dict[str, Any]:
        made = await self.http.post(
            f"/events/{self.event_id}/attendances",
            json={**TOW, **extra},
        )
        assert made.status_code == 201, made.text
        return dict(made.json())

    async def attendance(self, attendance_id: int) -> dict[str, Any]:
        return dict((await self.http.get(f"/attendances/{attendance_id}")).json())

    @asynccontextmanager
    async def app(
        self,
        provider_id: int,
        lat: float = -23.565,
        lng: float = -46.65,
        url: str = "",
        fix_age_ms: int = 500,
    ):
        """The provider's app: connected, on duty, one fix near the origin."""
        token = await self.token(provider_id)
        async with ProviderClient.connect(url or self.running.ws, token) as app:
            await app.welcome()
            await app.send({"type": "duty", "on": True})
            await app.until(lambda f: f["type"] == "duty")
            fix = {"seq": 1, "t": now_ms() - fix_age_ms, "lat": lat, "lng": lng, "acc": 5.0}
            await app.send({"type": "fixes", "fixes": [fix]})
            await app.acked(1)
            yield app


@asynccontextmanager
async def scene_on(
    engine_kind: str, tmp_path: Path, rules: dict[str, Any] | None = None, **settings: Any
) -> AsyncIterator[Scene]:
    """A hub on the engine pair (with ``settings`` overridden) and a scene set up in it
    for a client with ``rules``."""
    async with (
        engine_settings(engine_kind, tmp_path, **settings) as st,
        serve(st) as running,
        admin_client(running) as http,
    ):
        scene = Scene(running, http)
        await scene.setup(rules)
        yield scene


def admin_client(running: Any) -> httpx.AsyncClient:
    token = running.hub.tokens.admin_token("tests", int(time.time()))
    return httpx.AsyncClient(base_url=running.http, headers={"Authorization": f"Bearer {token}"})


def link_path(text: str) -> str:
    """The API path of the link at the end of an SMS or e-mail text (the page's fragment)."""
    url = text.rsplit(" ", 1)[-1]
    assert "/console/link.html#" in url, url
    return "/links/" + url.split("#", 1)[1]
