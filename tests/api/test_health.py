"""/healthz, /readyz and /metrics."""

from __future__ import annotations

import asyncio
import gc
import time
from urllib.parse import urlsplit

import httpx

from tests.channels.test_provider_socket import new_provider
from tests.client import ProviderClient, fixes
from tests.conftest import engine_settings, need, serve
from tests.faults import TcpProxy


async def test_health_ready_and_metrics(engine_kind, tmp_path):
    async with engine_settings(engine_kind, tmp_path) as settings, serve(settings) as running:
        _, token = await new_provider(running)
        async with ProviderClient.connect(running.ws, token) as app:
            await app.welcome()
            await app.send({"type": "fixes", "fixes": fixes(1, 4)})
            await app.send({"type": "fix", **fixes(5, 1)[0], "lat": 91})
            await app.acked(5)
            async with httpx.AsyncClient(base_url=running.http) as http:
                assert (await http.get("/healthz")).json() == {"status": "ok"}
                ready = (await http.get("/readyz")).json()
                assert ready["status"] == "ready"
                assert ready["checks"] == {"records": "ok", "live": "ok", "background": "ok"}
                text = (await http.get("/metrics")).text
        assert "hub_provider_connections 1.0" in text
        assert 'hub_fixes_accepted_total{kind="live"} 4.0' in text
        assert 'hub_fixes_rejected_total{reason="lat_out_of_range"} 1.0' in text
        assert "hub_ack_latency_seconds_count" in text


async def test_readyz_names_a_failing_engine(tmp_path):
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        await running.hub.records.close()  # the store goes away under the running hub
        async with httpx.AsyncClient(base_url=running.http) as http:
            response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["records"] != "ok"
        assert response.json()["checks"]["live"] == "ok"


async def test_what_startup_built_is_frozen_while_the_hub_serves(tmp_path):
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        assert running.hub is not None
        # modules, routes, the engines: out of the full collections' way
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0  # given back when the hub stops


async def test_readyz_names_a_background_loop_that_is_failing(tmp_path):
    """The store goes away under a running hub: the deadline sweeper fails, is counted, and
    /readyz says so (JSON 503) until it runs well again."""
    async with (
        engine_settings("embedded", tmp_path, sweep_interval_s=0.05) as settings,
        serve(settings) as running,
    ):
        await running.hub.records.close()
        async with httpx.AsyncClient(base_url=running.http) as http:
            async with asyncio.timeout(10):
                while "deadline-sweeper" not in running.hub.supervisor.failing:
                    await asyncio.sleep(0.02)
            response = await http.get("/readyz")
            text = (await http.get("/metrics")).text
        assert response.status_code == 503
        assert "deadline-sweeper" in response.json()["checks"]["background"]
        assert 'hub_background_failures_total{task="deadline-sweeper"}' in text


async def test_readyz_answers_in_bounded_time_when_the_redis_link_goes_silent(tmp_path):
    """Not a hang of ~10 s (the socket timeout): JSON 503 naming the live state, within
    the readiness timeout."""
    target = urlsplit(need("redis"))
    async with TcpProxy(target.hostname or "127.0.0.1", target.port or 6379) as proxy:
        url = f"redis://127.0.0.1:{proxy.port}/0"
        async with (
            engine_settings("distributed", tmp_path, redis_url=url) as settings,
            serve(settings) as running,
            httpx.AsyncClient(base_url=running.http, timeout=10) as http,
        ):
            assert (await http.get("/readyz")).status_code == 200
            proxy.mode = "silent"
            started = time.monotonic()
            response = await http.get("/readyz")
            took = time.monotonic() - started
            proxy.mode = "pass"
            proxy.reset()  # the hub's connections were cut mid-reply: it reconnects
    assert response.status_code == 503
    assert response.json()["checks"]["live"] == "no answer within 2 s"
    assert took < 3.5
