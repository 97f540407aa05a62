"""Address search over REST against local stand-ins speaking Nominatim's and ViaCEP's
formats, and short Maps links followed through a local redirector.  No internet."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

from hub.errors import BadRequest
from hub.operations.geocoding import cep_digits, from_nominatim, from_viacep
from tests.conftest import engine_settings, serve
from tests.processes import free_port

PAULISTA = {
    "lat": "-23.5613",
    "lon": "-46.6565",
    "display_name": "1000, Avenida Paulista, Bela Vista, São Paulo, 01310-100, Brasil",
    "address": {
        "house_number": "1000",
        "road": "Avenida Paulista",
        "suburb": "Bela Vista",
        "city": "São Paulo",
        "ISO3166-2-lvl4": "BR-SP",
        "postcode": "01310-100",
    },
}
VIACEP = {
    "cep": "01310-100",
    "logradouro": "Avenida Paulista",
    "complemento": "de 612 a 1510",
    "bairro": "Bela Vista",
    "localidade": "São Paulo",
    "uf": "SP",
}


def test_formats_read_into_addresses():
    (found,) = from_nominatim([PAULISTA])
    a = found.address
    assert (a.street, a.number, a.district, a.city, a.state, a.cep) == (
        "Avenida Paulista",
        "1000",
        "Bela Vista",
        "São Paulo",
        "SP",
        "01310-100",
    )
    assert (found.lat, found.lng) == (-23.5613, -46.6565)
    cep = from_viacep(VIACEP)
    assert (cep.street, cep.district, cep.state, cep.cep) == (
        "Avenida Paulista",
        "Bela Vista",
        "SP",
        "01310-100",
    )
    assert from_viacep({"erro": True}) is None
    assert cep_digits("01310-100") == cep_digits("01310100") == "01310100"
    for bad in ("0131-0100", "abc", "00000000", "013101000"):
        with pytest.raises(BadRequest):
            cep_digits(bad)


@contextlib.asynccontextmanager
async def stand_in():
    """Nominatim, ViaCEP and a link shortener on one local server."""
    seen: list[dict] = []

    async def search(request: Request) -> JSONResponse:
        seen.append({"params": dict(request.query_params), "agent": request.headers["user-agent"]})
        if request.query_params.get("street", "").endswith("Nowhere"):
            return JSONResponse([])
        return JSONResponse([PAULISTA])

    async def viacep(request: Request) -> JSONResponse:
        if request.path_params["cep"] == "99999999":
            return JSONResponse({"erro": True})
        return JSONResponse(VIACEP)

    async def short(request: Request) -> RedirectResponse:
        return RedirectResponse(
            "https://www.google.com/maps/place/Av.+Paulista/@-23.5614,-46.6559,17z", 302
        )

    async def hop(request: Request) -> RedirectResponse:
        return RedirectResponse("/short", 301)

    app = Starlette(
        routes=[
            Route("/search", search),
            Route("/ws/{cep}/json/", viacep),
            Route("/short", short, methods=["GET", "HEAD"]),
            Route("/hop", hop, methods=["GET", "HEAD"]),
        ]
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def http(tmp_path):
    async with (
        stand_in() as (base, seen),
        engine_settings(
            "embedded",
            tmp_path,
            geocoder_url=base,
            cep_url=f"{base}/ws",
            maps_short_hosts="127.0.0.1",
        ) as settings,
        serve(settings) as running,
    ):
        token = running.hub.tokens.admin_token("tests", int(time.time()))
        async with httpx.AsyncClient(
            base_url=running.http, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            client.seen, client.base = seen, base
            yield client


async def test_search_by_street_and_city(http):
    found = await http.get(
        "/places/search",
        params={"street": "Avenida Paulista", "number": "1000", "city": "São Paulo"},
    )
    assert found.status_code == 200, found.text
    (hit,) = found.json()["results"]
    assert (hit["address"]["district"], hit["lat"]) == ("Bela Vista", -23.5613)
    asked = http.seen[-1]
    assert asked["params"]["street"] == "1000 Avenida Paulista"
    assert (asked["params"]["countrycodes"], asked["params"]["format"]) == ("br", "jsonv2")
    assert asked["agent"].startswith("dispatch-hub/")
    none = await http.get("/places/search", params={"street": "Rua Nowhere"})
    assert none.json() == {"results": []}
    bad = await http.get("/places/search", params={"city": "São Paulo"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "bad_request")


async def test_cep_lookup_then_coordinates(http):
    answer = await http.get("/places/cep/01310-100")
    assert answer.status_code == 200, answer.text
    assert answer.json()["address"]["street"] == "Avenida Paulista"
    assert answer.json()["results"][0]["lat"] == -23.5613
    assert http.seen[-1]["params"]["postalcode"] == "01310-100"
    missing = await http.get("/places/cep/99999999")
    assert missing.status_code == 404
    bad = await http.get("/places/cep/123")
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_cep")


async def test_a_short_maps_link_is_followed_without_fetching_google(http):
    found = await http.post("/places/maps-url", json={"url": f"{http.base}/hop"})
    assert found.status_code == 200, found.text
    assert found.json() == {"lat": -23.5614, "lng": -46.6559}


async def test_a_geocoder_that_does_not_answer_is_a_clear_503(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    async with (
        engine_settings(
            "embedded", tmp_path, geocoder_url=dead, cep_url=dead, outside_timeout_s=1.0
        ) as settings,
        serve(settings) as running,
    ):
        token = running.hub.tokens.admin_token("tests", int(time.time()))
        async with httpx.AsyncClient(
            base_url=running.http, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            down = await http.get("/places/search", params={"street": "Avenida Paulista"})
            assert (down.status_code, down.json()["error"]["code"]) == (503, "geocoder_unavailable")
            cep = await http.get("/places/cep/01310100")
            assert cep.status_code == 503
