"""Road ETAs from an OSRM table service: a local stand-in speaking OSRM's format."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.config import ConfigError
from hub.geo import distance_m
from hub.matching.queries import parse_weights
from hub.matching.routing import OsrmRouter, RoutingUnavailable
from tests.conftest import engine_settings, serve

ORIGIN = (-23.55, -46.63)


def osrm_app(behaviour: dict[str, str]) -> Starlette:
    """Answers /table/v1/driving like OSRM: 10 m/s along the straight line."""

    async def table(request: Request) -> Response:
        mode = behaviour.get("mode", "ok")
        if mode == "slow":
            await asyncio.sleep(2)
        if mode == "error":
            return JSONResponse({"code": "InvalidQuery", "message": "bad"}, status_code=400)
        if mode == "garbage":
            return Response("<html>", media_type="text/html")
        points = [tuple(map(float, c.split(","))) for c in request.path_params["coords"].split(";")]
        sources = [int(i) for i in request.query_params["sources"].split(";")]
        target = points[int(request.query_params["destinations"])]
        behaviour["last_query"] = str(request.url)
        durations = [
            [
                None
                if mode == "unroutable"
                else distance_m(points[i][1], points[i][0], target[1], target[0]) / 10
            ]
            for i in sources
        ]
        return JSONResponse({"code": "Ok", "durations": durations})

    return Starlette(routes=[Route("/table/v1/driving/{coords:path}", table)])


@asynccontextmanager
async def stand_in(behaviour: dict[str, str]) -> AsyncIterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(
            osrm_app(behaviour), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_minutes_from_each_point_to_the_origin():
    behaviour: dict[str, str] = {}
    async with stand_in(behaviour) as url:
        router = OsrmRouter(url, 1.0)
        minutes = await router.minutes(ORIGIN, [(-23.56, -46.63), (-23.60, -46.63)])
        await router.close()
    assert minutes[0] == pytest.approx(1112 / 10 / 60, rel=0.01)
    assert minutes[1] == pytest.approx(5560 / 10 / 60, rel=0.01)
    assert "annotations=duration" in behaviour["last_query"]


@pytest.mark.parametrize("mode", ["error", "garbage", "slow"])
async def test_a_failing_backend_is_reported(mode):
    async with stand_in({"mode": mode}) as url:
        router = OsrmRouter(url, 0.5)
        with pytest.raises(RoutingUnavailable):
            await router.minutes(ORIGIN, [(-23.56, -46.63)])
        await router.close()


async def test_unroutable_points_have_no_minutes():
    async with stand_in({"mode": "unroutable"}) as url:
        router = OsrmRouter(url, 1.0)
        assert await router.minutes(ORIGIN, [(-23.56, -46.63)]) == [None]
        assert await router.minutes(ORIGIN, []) == []
        await router.close()


def test_ranking_weights_from_configuration():
    assert parse_weights('{"partner_bonus": 5}').partner_bonus == 5
    assert parse_weights("").per_km == 1.0
    with pytest.raises(ConfigError, match="HUB_RANKING_WEIGHTS"):
        parse_weights('{"partner_bonus": "lots"}')
    with pytest.raises(ConfigError, match="HUB_RANKING_WEIGHTS"):
        parse_weights('{"colour": 1}')


@pytest.mark.parametrize("mode", ["ok", "error"])
async def test_match_shows_road_etas_or_keeps_straight_ones(tmp_path, mode):
    async with (
        stand_in({"mode": mode}) as url,
        engine_settings("embedded", tmp_path, routing_url=url) as settings,
        serve(settings) as running,
    ):
        token = running.hub.tokens.admin_token("tests", int(time.time()))
        async with httpx.AsyncClient(
            base_url=running.http, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            profile = {"services": ["locksmith"], "channels": ["link"], "base": [-23.56, -46.63]}
            await http.post(
                "/admin/providers",
                json={"name": "C", "phone": "+5511999990000", "profile": profile},
            )
            query = {
                "origin": {"lat": ORIGIN[0], "lng": ORIGIN[1]},
                "service": "locksmith",
                "mode": "link",
            }
            found = (await http.post("/match", json=query)).json()["candidates"]
    assert len(found) == 1
    if mode == "ok":
        assert found[0]["eta_source"] == "road"
        assert found[0]["eta_min"] == pytest.approx(1112 / 10 / 60, abs=0.1)
    else:
        assert found[0]["eta_source"] == "straight"
