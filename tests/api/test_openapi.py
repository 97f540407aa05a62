"""The OpenAPI document: generated from the routes, valid, complete, and true to responses."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import jsonschema
from openapi_spec_validator import validate
from starlette.routing import Route

from hub.api.openapi import render
from hub.app import rest_operations, routes
from tests.client import ProviderClient, fixes
from tests.conftest import engine_settings, serve

DOCS = Path(__file__).parent.parent.parent / "docs"


def test_committed_document_is_the_generated_one():
    assert (DOCS / "openapi.json").read_text() == render(rest_operations()), (
        "run `hub openapi > docs/openapi.json`"
    )


def test_document_is_valid_openapi():
    validate(json.loads(render(rest_operations())))


def test_every_route_is_documented_and_nothing_else():
    served = {
        (method, route.path)
        for route in routes()
        if isinstance(route, Route)
        for method in (route.methods or set()) - {"HEAD"}
    }
    documented = {(op.method, op.path) for op in rest_operations()}
    assert served == documented


async def test_real_responses_match_their_schemas(tmp_path):
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        token = running.hub.tokens.admin_token("tests", int(time.time()))
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=running.http, headers=headers) as http:
            doc = (await http.get("/openapi.json")).json()

            def check(path: str, method: str, response: httpx.Response) -> None:
                spec = doc["paths"][path][method]["responses"][str(response.status_code)]
                schema = spec["content"]["application/json"]["schema"]
                jsonschema.validate(response.json(), {**schema, "components": doc["components"]})

            created = await http.post(
                "/admin/providers", json={"name": "P", "phone": "+5511999990000"}
            )
            check("/admin/providers", "post", created)
            pid = created.json()["id"]
            one = "/admin/providers/{provider_id}"
            issued = await http.post(f"/admin/providers/{pid}/token")
            check(one + "/token", "post", issued)
            async with ProviderClient.connect(running.ws, issued.json()["token"]) as app:
                await app.welcome()
                await app.send({"type": "fixes", "fixes": fixes(1, 3)})
                await app.acked(3)
                check(one + "/live", "get", await http.get(f"/admin/providers/{pid}/live"))
            check(one + "/track", "get", await http.get(f"/admin/providers/{pid}/track"))
            check("/admin/providers", "get", await http.get("/admin/providers"))
            check(one, "get", await http.get("/admin/providers/999"))  # the 404 body
            check("/readyz", "get", await http.get("/readyz"))
            check("/healthz", "get", await http.get("/healthz"))
