"""PostgreSQL stopped under a running hub (a private cluster): clear 503s, a session that
opens is told to retry later, /readyz JSON 503 every time, and recovery without a restart;
no acked fix is lost."""

from __future__ import annotations

import asyncio
import time

import pytest

from hub.errors import Close
from tests.client import ProviderClient, fixes
from tests.conftest import engine_settings, serve
from tests.dispatch.scene import admin_client
from tests.faults import private_postgres, rest_of_outage


@pytest.mark.redis
async def test_postgres_down_then_back(tmp_path):
    async with (
        private_postgres() as postgres,
        engine_settings("distributed", tmp_path, database_url=postgres.url) as settings,
        serve(settings) as running,
        admin_client(running) as http,
    ):
        made = await http.post("/admin/providers", json={"name": "P", "phone": "+5511999990000"})
        pid = made.json()["id"]
        token = (await http.post(f"/admin/providers/{pid}/token")).json()["token"]
        async with ProviderClient.connect(running.ws, token) as app:
            await app.welcome()
            stream = fixes(1, 4)
            await app.send({"type": "fixes", "fixes": stream[:2]})
            await app.acked(2)

            await postgres.stop()
            down = time.monotonic()
            await app.send({"type": "fixes", "fixes": stream[2:]})  # held, not acked
            refused = await http.get("/clients")
            assert refused.status_code == 503
            assert refused.json()["error"]["code"] == "store_unavailable"
            for _ in range(3):
                ready = await http.get("/readyz")
                assert ready.status_code == 503 and ready.json()["checks"]["records"] != "ok"
            async with ProviderClient.connect(running.ws, token) as late:
                assert (await late.error("store_unavailable"))["type"] == "error"
                assert await late.closed() == Close.INTERNAL_ERROR

            await rest_of_outage(down)
            await postgres.start()
            await app.acked(4, timeout=30)  # the writer retried: stored, then acked
            async with asyncio.timeout(15):
                while (await http.get("/readyz")).status_code != 200:
                    await asyncio.sleep(0.2)
            assert (await http.get("/clients")).status_code == 200
        assert await running.hub.records.tracks.count([pid]) == 4
