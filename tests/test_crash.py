"""An acked fix survives kill -9 of the hub process (the ack follows the commit)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

import httpx

from hub.app import open_records, token_issuer
from hub.operations import registry
from hub.operations.providers import NewProvider
from tests.client import ProviderClient, fixes
from tests.conftest import engine_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    for name in ("sqlite_path", "database_url", "postgres_schema", "redis_url", "redis_prefix"):
        value = getattr(settings, name)
        if value:
            env[f"HUB_{name.upper()}"] = str(value)
    env["HUB_LOG_LEVEL"] = "warning"
    return env


async def start(env: dict[str, str], port: int) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", "serve", "--port", str(port), env=env
    )
    async with asyncio.timeout(20), httpx.AsyncClient() as http:
        while True:
            try:
                if (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return process
            except httpx.HTTPError:
                await asyncio.sleep(0.05)


async def test_acked_fixes_survive_kill_9(engine_kind, tmp_path):
    async with engine_settings(engine_kind, tmp_path) as settings:
        env, port = environment(settings), free_port()
        process = await start(env, port)
        try:
            records = await open_records(settings)
            provider = await registry.register(
                records, NewProvider(name="Guincho", phone="+5511999990000")
            )
            token = (
                await registry.issue_token(
                    records, await token_issuer(settings, records), provider.id
                )
            ).token
            url = f"ws://127.0.0.1:{port}/ws/provider"
            acked = 0
            async with ProviderClient.connect(url, token) as app:
                await app.welcome()
                stream = fixes(1, 400, step_s=0.1)
                for start_at in range(0, 400, 20):
                    await app.send({"type": "fixes", "fixes": stream[start_at : start_at + 20]})
                acked = (await app.acked(100))["seq"]
                process.send_signal(signal.SIGKILL)  # mid-stream, no shutdown at all
                await process.wait()
            assert acked >= 100
            restarted = await start(env, port)
            try:
                stored = await records.tracks.history(provider.id, limit=1000)
                assert len(stored) >= acked
                assert [p.t_ms for p in stored[:acked]] == [f["t"] for f in stream[:acked]]
            finally:
                restarted.terminate()
                await restarted.wait()
            await records.close()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
