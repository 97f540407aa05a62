"""/console/config.json: what the console learns from the hub instead of hard-coding it."""

from __future__ import annotations

import httpx

from hub.errors import RECONNECT, Close
from tests.conftest import engine_settings, serve


async def test_the_console_learns_every_close_code_and_whether_to_dial_again(tmp_path):
    async with (
        engine_settings("embedded", tmp_path) as settings,
        serve(settings) as running,
        httpx.AsyncClient(base_url=running.http) as http,
    ):
        config = (await http.get("/console/config.json")).json()
    closes = config["closes"]
    assert closes["auth_failed"] == {"code": 4001, "reconnect": False}
    assert closes["slow_consumer"] == {"code": 4008, "reconnect": True}
    assert {c["code"]: c["reconnect"] for c in closes.values()} == {
        close.value: RECONNECT[close] for close in Close
    }


async def test_only_the_consoles_own_files_are_served(tmp_path):
    async with (
        engine_settings("embedded", tmp_path) as settings,
        serve(settings) as running,
        httpx.AsyncClient(base_url=running.http) as http,
    ):
        for path in (
            "/console/",
            "/console/app.js",
            "/console/console.css",
            "/console/messages/pt-BR.js",
            "/vendor/leaflet/leaflet.js",
        ):
            assert (await http.get(path)).status_code == 200, path
        for path in (
            "/console/package.json",
            "/console/package-lock.json",
            "/console/node_modules/leaflet/package.json",
            "/console/../pyproject.toml",
        ):
            assert (await http.get(path)).status_code == 404, path
